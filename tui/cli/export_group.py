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
    from db.ops.transfer import dumps_document, export_document
    from db.store import Store

    if output is not None and output.exists():
        from tui.cli.errors import fail

        fail(f"{output} already exists; give a new file name (exports are never overwritten)")
    database = open_db(db or (ctx.find_root().obj or {}).get("db"))
    try:
        store = Store(database)
        actor = sign_in(store, user, password_stdin)
        with store_errors():
            document = export_document(database, actor)
    finally:
        database.dispose()
    text = dumps_document(document)
    if output is None:
        typer.echo(text, nl=False)
        typer.echo(document["source"]["checkpoint"], err=True)
        return
    partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    counts = ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in document["records"].items())
    typer.echo(f"Exported to {output}: {counts}.")
    typer.echo(document["source"]["checkpoint"])
