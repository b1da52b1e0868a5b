"""``formulary import FILE``: load a ``formulary export json`` file into a new database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tui.cli.errors import fail
from tui.cli.login import PasswordStdinOption, UserOption, signed_in, store_errors
from tui.cli.options import DbOption, JsonOption


def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A file written by `formulary export json`.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything, write nothing.")
    ] = False,
    photo_files: Annotated[
        Path | None,
        typer.Option("--photo-files",
                     help="The folder of photo files 'export json' wrote (default: FILE.files "
                          "beside FILE)."),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import every record of FILE in one transaction (all or nothing) into a new database."""
    from db.ops.photo_files import discard, files_folder_for, stage_import_files
    from db.ops.transfer import import_file

    try:
        handle = file.open("rb")  # read as it is imported: a clinic's file can be large
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    where = db or (ctx.find_root().obj or {}).get("db")
    try:
        with signed_in(where, user, password_stdin) as (store, actor):
            database = store.database
            source_files = photo_files if photo_files is not None else files_folder_for(file)
            if photo_files is not None and not photo_files.is_dir():
                fail(f"--photo-files: {photo_files} is not a folder")
            created = []
            with store_errors():
                if source_files.is_dir() and not dry_run:
                    # Copied (each checked) before the transaction, which refuses any photo
                    # row whose file is not in place; removed again if the import fails.
                    created = stage_import_files(source_files, database)
                try:
                    report = import_file(database, actor, handle, source_name=file.name,
                                         dry_run=dry_run)
                except BaseException:
                    discard(database, created)
                    raise
    finally:
        handle.close()
    if as_json:
        typer.echo(json.dumps({
            "file": str(file),
            "sha256": report.sha256,
            "source_db_id": report.source_db_id,
            "dry_run": report.dry_run,
            "counts": report.counts,
            "audit_entries": report.audit_entries,
            "users_without_password": report.users_without_password,
        }, indent=2))
        return
    verb = "Checked (nothing written)" if dry_run else "Imported"
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in report.counts.items())
    typer.echo(f"{verb} {file}: {counts}; {report.audit_entries} audit entries.")
    if report.users_without_password:
        typer.echo(
            "These accounts came without passwords and are locked until an administrator "
            "sets one (formulary user reset-password NAME): "
            + ", ".join(report.users_without_password)
        )
