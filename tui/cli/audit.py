"""``formulary audit verify|checkpoint``: prove the audit trail intact, sign its head.

Exit status of ``verify``: 0 intact; 2 altered (the first bad seq is named);
3 truncated or rolled back behind a checkpoint, or the database id changed;
4 records altered (a table row or a signature disagrees with the intact chain);
1 when verification could not run (no database, a foreign or empty file, unreadable
or forged checkpoint, missing key) — one line on stderr.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui.cli.errors import fail
from tui.cli.login import PasswordStdinOption, UserOption, sign_in, store_errors
from tui.cli.options import DbOption, JsonOption

if TYPE_CHECKING:
    from db.database import Database

app = typer.Typer(
    help="Verify the hash-chained audit trail and print signed checkpoints.",
    no_args_is_help=True,
)

#: Exit status when verification cannot run at all (distinct from 2 and 3, which are verdicts).
EXIT_ERROR = 1

KeyDirOption = Annotated[
    Path | None,
    typer.Option(
        "--key-dir",
        help="Directory of the checkpoint key and log "
        "(default: $FORMULARY_KEY_DIR, else the user config directory).",
    ),
]


def _open(ctx: typer.Context, db: str | None) -> Database:
    from db.database import open_database
    from db.errors import StoreError

    location = db or (ctx.obj or {}).get("db")
    try:
        return open_database(location, create=False)
    except StoreError as exc:
        fail(str(exc), EXIT_ERROR)


def _os_user() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return f"os:{name}"


@app.command()
def verify(
    ctx: typer.Context,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A file holding FORMULARY-CHECKPOINT lines (an export, a backup report, "
            "a saved line). Repeat for several. The local checkpoint log is always used.",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="Who is verifying, as recorded in the audit trail (default: os:<login name>).",
        ),
    ] = None,
    key_dir: KeyDirOption = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            help="The installation's .ed25519.pub file, to check checkpoints on another machine.",
        ),
    ] = None,
) -> None:
    """Recompute the audit chain and check it against every checkpoint."""
    from db.audit.checkpoint import CheckpointError
    from db.audit.keys import CheckpointKeyError
    from db.audit.service import verify_database
    from db.errors import StoreError

    database = _open(ctx, db)
    try:
        with _Progress(enabled=not as_json) as progress:
            result = verify_database(
                database,
                user=user or _os_user(),
                checkpoint_files=checkpoint or (),
                key_dir=key_dir,
                public_key_file=public_key,
                progress=progress,
            )
    except (CheckpointError, CheckpointKeyError, StoreError, ValueError) as exc:
        fail(str(exc), EXIT_ERROR)
    finally:
        database.dispose()
    report = result.report
    if as_json:
        out: dict[str, Any] = report.to_json()
        out["checkpoint_sources"] = list(result.sources)
        out["recorded_seq"] = result.recorded_seq
        out["not_recorded"] = result.not_recorded
        typer.echo(json.dumps(out, indent=2, sort_keys=True))
    else:
        typer.echo(report.summary())
        if report.checkpoint is not None:
            typer.echo(f"checkpoint: {report.checkpoint.line}")
        if result.recorded_seq is not None:
            typer.echo(
                f"this verification was recorded as audit entry seq {result.recorded_seq}."
            )
        else:
            typer.echo(f"this verification was not recorded: {result.not_recorded}.")
    raise typer.Exit(report.exit_code)


@app.command("checkpoint")
def checkpoint_command(
    ctx: typer.Context,
    db: DbOption = None,
    as_json: JsonOption = False,
    key_dir: KeyDirOption = None,
) -> None:
    """Sign the audit chain's current head and print it as one line."""
    from db.audit.canonical import format_utc
    from db.audit.checkpoint import CheckpointError
    from db.audit.keys import CheckpointKeyError
    from db.audit.service import checkpoint_database
    from db.errors import StoreError

    database = _open(ctx, db)
    try:
        cp = checkpoint_database(database, key_dir=key_dir)
    except (CheckpointError, CheckpointKeyError, StoreError, OSError, ValueError) as exc:
        fail(str(exc), EXIT_ERROR)
    finally:
        database.dispose()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "db_id": cp.db_id, "seq": cp.seq, "head_hash": cp.head_hash,
                    "at": format_utc(cp.at), "key_id": cp.key_id,
                    "signature": cp.signature, "line": cp.line,
                },
                indent=2, sort_keys=True,
            )
        )
    else:
        typer.echo(cp.line)


ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why (recorded in the audit trail).")
]


@app.command("rekey")
def rekey(
    ctx: typer.Context,
    reason: ReasonOption,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
    key_dir: KeyDirOption = None,
) -> None:
    """Replace the checkpoint key (administrators; audited, signed by the old key if present)."""
    from db.store import Store

    database = _open(ctx, db)
    try:
        store = Store(database, key_dir=key_dir)
        actor = sign_in(store, user, password_stdin)
        with store_errors():
            old, new, checkpoint = store.rekey(actor, reason)
    finally:
        database.dispose()
    typer.echo(f"checkpoint key replaced: {old or 'none pinned'} -> {new}")
    typer.echo(checkpoint.line)


@app.command("accept-rollback")
def accept_rollback(
    ctx: typer.Context,
    reason: ReasonOption,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
    key_dir: KeyDirOption = None,
) -> None:
    """Carry on from a restored or rolled-back copy (administrators; audited)."""
    from db.store import Store

    database = _open(ctx, db)
    try:
        store = Store(database, key_dir=key_dir)
        actor = sign_in(store, user, password_stdin)
        with store_errors():
            count, checkpoint = store.accept_rollback(actor, reason)
    finally:
        database.dispose()
    typer.echo(
        f"rollback accepted: {count} checkpoint(s) of the log no longer apply; "
        "writing resumes from this copy."
    )
    typer.echo(checkpoint.line)


class _Progress:
    """A progress bar on stderr while a long chain is verified (only on a terminal)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import Progress

        self._bar = Progress(console=Console(stderr=True), transient=True)
        self._bar.__enter__()
        self._task = self._bar.add_task("verifying audit chain", total=None)

        def update(done: int, total: int) -> None:
            self._bar.update(self._task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
