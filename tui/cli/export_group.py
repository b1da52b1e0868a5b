"""The ``formulary export`` group. ``export json`` (the whole clinic) lives here.

Chart, session and bulk exports (``export chart|session|all``) are added to this same
group by their own module.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated, Any

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
    photo_files: Annotated[
        Path | None,
        typer.Option("--photo-files",
                     help="Copy the photo files into this new folder (default with --output: "
                          "FILE.files beside it)."),
    ] = None,
    no_photo_files: Annotated[
        bool, typer.Option("--no-photo-files",
                           help="Leave the photo files out (the records still list their "
                                "SHA-256 and size).")
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Export every record of the clinic as one JSON file (format: docs/json-format.md).

    The photo records are the manifest of the photo files (SHA-256 and size each); the
    files themselves go into FILE.files/ beside --output (or --photo-files DIR), each
    checked against its hash, unless --no-photo-files.
    """
    import sys

    from db.ops.photo_files import files_folder_for
    from db.ops.transfer import write_document
    from db.store import Store
    from tui.cli.errors import EXIT_IO, fail

    if output is not None and output.exists():
        fail(f"{output} already exists; give a new file name (exports are never overwritten)")
    if output is not None and not output.parent.is_dir():
        # Checked before anything is exported or audited.
        fail(f"the folder {output.parent} does not exist; create it first", EXIT_IO)
    if no_photo_files and photo_files is not None:
        fail("--photo-files and --no-photo-files contradict each other; give one")
    files_dir = None if no_photo_files else (
        photo_files if photo_files is not None
        else files_folder_for(output) if output is not None else None
    )
    if files_dir is not None and files_dir.exists():
        fail(f"{files_dir} already exists; give a new name (exports are never overwritten)")
    files_partial = None if files_dir is None else files_dir.with_name(
        f".{files_dir.name}.{os.getpid()}.partial")
    photo_count = 0

    def deliver_photos() -> None:
        # Inside deliver, before the export is audited: a photo that cannot be copied
        # (missing, altered) stops the export, and nothing is recorded as exported.
        nonlocal photo_count
        if files_dir is None or files_partial is None:
            return
        photo_count = _copy_photo_files(database, files_partial)
        if photo_count:
            os.replace(files_partial, files_dir)
            _fsync_dir(files_dir.parent)
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
            def deliver_stdout() -> None:
                sys.stdout.flush()
                deliver_photos()

            with store_errors():
                counts = write_document(database, actor, sys.stdout, deliver=deliver_stdout)
            typer.echo(str(counts["checkpoint"]), err=True)
            if files_dir is None and counts.get("photos"):
                typer.echo("photo files not copied: give --photo-files DIR to carry them",
                           err=True)
            return
        partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
        fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", buffering=1 << 20) as handle:

            def deliver() -> None:
                nonlocal delivered
                assert partial is not None and output is not None
                handle.flush()
                os.fsync(handle.fileno())
                deliver_photos()
                os.replace(partial, output)
                _fsync_dir(output.parent)
                delivered = True

            try:
                with store_errors():
                    counts = write_document(database, actor, handle, deliver=deliver)
            except BaseException:
                if delivered:  # written, but its audit entry failed: take it back
                    output.unlink(missing_ok=True)
                    if files_dir is not None and photo_count:
                        shutil.rmtree(files_dir, ignore_errors=True)
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
        if files_partial is not None and files_partial.exists():
            shutil.rmtree(files_partial, ignore_errors=True)
        database.dispose()
    checkpoint = counts.pop("checkpoint")
    shown = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items())
    typer.echo(f"Exported to {output}: {shown}.")
    if photo_count:
        typer.echo(f"{photo_count} photo file(s), each checked against its SHA-256, in "
                   f"{files_dir}")
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


def _copy_photo_files(database: Any, into: Path) -> int:
    """Copy the photo files; a missing or altered one is exit 4 (as audit verify)."""
    from db.ops.photo_files import PhotoFilesError, export_files
    from tui.cli.errors import fail

    try:
        return export_files(database, into)
    except PhotoFilesError as exc:
        fail(f"{exc}; nothing was exported (run 'formulary audit verify')", 4)
