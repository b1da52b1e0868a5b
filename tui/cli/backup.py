"""``formulary backup PATH`` and ``formulary restore PATH`` (SQLite; administrators)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tui.cli.errors import fail
from tui.cli.login import (
    PasswordStdinOption,
    UserOption,
    open_db,
    read_password,
    sign_in,
    store_errors,
)
from tui.cli.options import DbOption, JsonOption


def backup(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The new backup file (never overwritten).")],
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Copy the database to PATH with SQLite's backup API, verify it, write PATH.manifest.json."""
    from db.ops.backup import backup_database, files_folder_of, refuse_postgresql
    from db.store import Store
    from db.store.roles import ADMINS, require_role

    database = open_db(db or (ctx.obj or {}).get("db"))
    try:
        with store_errors():
            refuse_postgresql(database)
        store = Store(database)
        actor = sign_in(store, user, password_stdin)
        with store_errors():
            require_role(actor, ADMINS, "make backups")
            result = backup_database(
                database, path, user=actor.username, workstation=store.workstation
            )
    finally:
        database.dispose()
    manifest = result.manifest
    if as_json:
        typer.echo(json.dumps({
            "path": str(result.path),
            "manifest": str(result.manifest_path),
            "verified_chain_rows": result.chain_rows,
            **manifest.to_json(),
        }, indent=2))
        return
    typer.echo(f"Backed up to {result.path} ({manifest.size} bytes) and verified it:")
    typer.echo(f"  integrity ok; audit chain intact ({result.chain_rows} entries)")
    typer.echo(f"  SHA-256 {manifest.sha256}")
    if manifest.files or manifest.files_missing:
        typer.echo(f"  {len(manifest.files)} photo file(s) copied, each checked against its "
                   f"SHA-256, into {files_folder_of(result.path)}")
    if manifest.files_missing:
        typer.echo(f"  WARNING: {len(manifest.files_missing)} photo file(s) were already "
                   "missing or altered and are NOT in this backup; run 'formulary audit verify'")
    typer.echo(f"  manifest {result.manifest_path}")
    typer.echo(manifest.checkpoint)


def restore(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A backup made by `formulary backup`.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace even a database with another id (kept aside)."),
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Check a backup against its manifest and chain, then put it in place of the database.

    Close Formulary on every workstation first. The current file is kept beside the
    restored one as NAME.before-restore-TIME.
    """
    from db.ops.backup import restore_database
    from db.workstation import workstation_name

    if not user:
        fail("who is this? give --user NAME (an administrator)")
    password = read_password(password_stdin, prompt=f"Password for {user}")
    with store_errors():
        result = restore_database(
            db or (ctx.obj or {}).get("db"),
            path,
            username=user,
            password=password,
            workstation=workstation_name(),
            force=force,
        )
    if as_json:
        typer.echo(json.dumps({
            "restored": str(result.target),
            "from": str(path),
            "previous_file_kept_at": None if result.set_aside is None else str(result.set_aside),
            "verified_chain_rows": result.chain_rows,
            "backup_checkpoint": result.manifest.checkpoint,
            "checkpoint": result.checkpoint,
        }, indent=2))
        return
    typer.echo(f"Restored {result.target} from {path} (backup of {result.manifest.created_at}).")
    if result.set_aside is not None:
        typer.echo(f"  the previous file is kept at {result.set_aside}")
    typer.echo(f"  audit chain intact ({result.chain_rows} entries)")
    if result.files_restored:
        typer.echo(f"  {result.files_restored} photo file(s) restored, each checked against "
                   "its SHA-256")
    typer.echo(result.checkpoint)
