"""The ``formulary export`` group. ``export json`` (the whole clinic) lives here.

Chart, session and bulk exports (``export chart|session|all``) are added to this same
group by their own module.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from tui.cli.login import PasswordStdinOption, UserOption, open_db, sign_in, store_errors
from tui.cli.options import DbOption

export_app = typer.Typer(help="Export records.", no_args_is_help=True)


@export_app.command("json")
def export_json(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this new file (0600) instead of stdout."),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Export every record of the clinic as one JSON file (format: docs/json-format.md)."""
    import sys

    from db.ops.transfer import write_document
    from db.store import Store
    from tui.cli.errors import EXIT_IO, fail

    if output is not None and output.exists():
        fail(f"{output} already exists; give a new file name (exports are never overwritten)")
    if output is not None and not output.parent.is_dir():
        # Checked before anything is exported or audited.
        fail(f"the folder {output.parent} does not exist; create it first", EXIT_IO)
    database = open_db(db or (ctx.find_root().obj or {}).get("db"))
    # Streamed record by record (memory stays flat however large the clinic), into a
    # 0600 partial file, fsynced and moved into place; only then is the export audited
    # (write_document's deliver), so a failed export is never recorded as made.
    partial = None
    delivered = False
    try:
        store = Store(database)
        actor = sign_in(store, user, password_stdin)
        if output is None:
            with store_errors():
                counts = write_document(database, actor, sys.stdout, deliver=sys.stdout.flush)
            typer.echo(str(counts["checkpoint"]), err=True)
            return
        partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
        fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", buffering=1 << 20) as handle:

            def deliver() -> None:
                nonlocal delivered
                assert partial is not None and output is not None
                handle.flush()
                os.fsync(handle.fileno())
                os.replace(partial, output)
                _fsync_dir(output.parent)
                delivered = True

            try:
                with store_errors():
                    counts = write_document(database, actor, handle, deliver=deliver)
            except BaseException:
                if delivered:  # written, but its audit entry failed: take it back
                    output.unlink(missing_ok=True)
                raise
    except OSError as exc:
        fail(
            f"{output} could not be written ({exc.strerror or exc}); nothing was left "
            "behind and no export was recorded: free space or pick another folder and "
            "export again",
            EXIT_IO,
        )
    finally:
        if partial is not None:
            partial.unlink(missing_ok=True)
        database.dispose()
    checkpoint = counts.pop("checkpoint")
    shown = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items())
    typer.echo(f"Exported to {output}: {shown}.")
    typer.echo(str(checkpoint))


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX; a no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
