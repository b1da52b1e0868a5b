"""``formulary init``: create the database and its first administrator, or a demo clinic."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from tui.cli.errors import fail
from tui.cli.login import PasswordStdinOption, open_db, read_new_password, store_errors
from tui.cli.options import DbOption, JsonOption

if TYPE_CHECKING:
    from db.auth_ahead import PasswordsAhead
    from db.ops.demo_data import DemoUser


def _today(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--today {value!r} is not a date; write it as YYYY-MM-DD")


def init(
    ctx: typer.Context,
    db: DbOption = None,
    admin: Annotated[
        str | None, typer.Option("--admin", help="Username of the first administrator.")
    ] = None,
    full_name: Annotated[
        str | None,
        typer.Option("--full-name", help="Name printed on the administrator's signatures."),
    ] = None,
    password_stdin: PasswordStdinOption = False,
    demo: Annotated[
        bool, typer.Option("--demo", help="Fill the new database with a demo clinic.")
    ] = False,
    patients: Annotated[
        int | None,
        typer.Option(
            "--patients",
            min=1,
            max=1_000_000,
            help="With --demo: a synthetic clinic of N patients (about ten sessions each).",
        ),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help="With --demo: the date the demo is built around."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="With --demo: the random seed.")] = 2026,
    clinic_id: Annotated[
        str | None,
        typer.Option(
            "--clinic-id",
            help="The clinic's identifier in exports (letters, digits, . _ -); "
            "default: the database id. An administrator can change it later.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create the database with its first administrator (or, with --demo, a demo clinic)."""
    location = db or (ctx.obj or {}).get("db")
    if patients is not None and not demo:
        fail("--patients builds a synthetic demo clinic; add --demo")
    if demo and admin:
        fail("--demo creates its own accounts (printed at the end); leave out --admin")
    if not demo and not admin:
        fail("name the first administrator: formulary init --admin NAME")
    if clinic_id is not None:
        from formulary.clinic import IDENTIFIER, IDENTIFIER_RULE

        if not IDENTIFIER.fullmatch(clinic_id):
            fail(f"--clinic-id {clinic_id!r} is not allowed: use {IDENTIFIER_RULE}")
    day = _today(today)
    # The demo's argon2 work (its accounts' hashes, sign-ins and signing runs) starts
    # now on another core, while this one creates the database and writes the clinic.
    ahead = _demo_passwords_ahead() if demo and patients is None else None
    try:
        database = open_db(location, create=True)
    except BaseException:
        if ahead is not None:
            ahead.close()
        raise
    try:
        from db.store import Store

        store = Store(database)
        with store_errors():
            if store.has_users():
                where = database.path or "the database"
                # A server URL may carry a password: it is not echoed back.
                command = ("formulary" if not location else f"formulary --db {database.path}"
                           if database.path else "formulary --db <the same URL>")
                fail(
                    f"{where} is already set up with accounts, so init changes nothing: open "
                    f"it with `{command}` and sign in (an administrator adds users there or with "
                    "`formulary user add`), or give --db a new file to start another clinic"
                )
        if demo:
            _demo(database, patients, day, seed, as_json, clinic_id, ahead)
            return
        assert admin is not None
        password = read_new_password(password_stdin, who=admin, from_env=True)
        with store_errors():
            actor = store.create_first_admin(admin, full_name or admin, password)
            if clinic_id is not None:
                store.set_clinic_settings(actor, identifier=clinic_id)
            recovery = store.issue_recovery_code(actor)
            checkpoint = _checkpoint(database)
        where = str(database.path) if database.path else database.url
        if as_json:
            typer.echo(json.dumps({"db": where, "db_id": database.db_id,
                                   "admin": actor.username, "checkpoint": checkpoint,
                                   "recovery_code": recovery}))
        else:
            typer.echo(f"Created {where} (database {database.db_id}).")
            typer.echo(f"First administrator: {actor.username} ({actor.full_name}).")
            typer.echo(
                f"Recovery code (shown once; write it down and keep it locked away): {recovery}"
            )
            typer.echo(
                "  If every administrator is locked out: formulary user recover NAME"
            )
            typer.echo(checkpoint)
    finally:
        if ahead is not None:
            ahead.close()
        database.dispose()


def _demo_passwords_ahead() -> PasswordsAhead:
    from db.auth_ahead import PasswordsAhead
    from db.ops.demo_data import password_steps

    return PasswordsAhead(password_steps())


def _checkpoint(database: object) -> str:
    from db.audit.service import checkpoint_database
    from db.database import Database

    assert isinstance(database, Database)
    return checkpoint_database(database).line


def _demo(
    database: object,
    patients: int | None,
    day: date | None,
    seed: int,
    as_json: bool,
    clinic_id: str | None,
    ahead: PasswordsAhead | None,
) -> None:
    from db.database import Database
    from db.ops.demo_data import DEMO_PASSWORD_NOTE

    assert isinstance(database, Database)
    progress = None if as_json else _progress_line
    with store_errors():
        if patients is None:
            from db.ops.demo import build_demo

            report = build_demo(database, today=day, seed=seed, progress=progress,
                                passwords=ahead)
            summary = {
                "patients": report.patients,
                "products": report.products,
                "lots": report.lots,
                "formulations": report.formulations,
                "courses": report.courses,
                "signed_sessions": report.sessions,
                "outcomes": report.outcomes,
            }
            users, seconds = report.users, report.seconds
        else:
            from db.ops.demo_scale import build_synthetic_clinic

            big = build_synthetic_clinic(database, patients, today=day, seed=seed,
                                         progress=progress)
            summary = big.counts
            users, seconds = big.users, big.seconds
        if clinic_id is not None:
            _set_demo_clinic_id(database, clinic_id, users)
        checkpoint = _checkpoint(database)
    if progress is not None:
        typer.echo("", err=True)  # end the progress line
    where = str(database.path) if database.path else database.url
    if as_json:
        typer.echo(json.dumps({
            "db": where,
            "db_id": database.db_id,
            "counts": summary,
            "seconds": round(seconds, 2),
            "logins": [{"username": u.username, "role": u.role.value, "password": u.password}
                       for u in users],
            "checkpoint": checkpoint,
        }))
        return
    typer.echo(f"Built the demo clinic in {where} in {seconds:.1f} s:")
    typer.echo("  " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in summary.items()))
    typer.echo("Demo logins (" + DEMO_PASSWORD_NOTE + "):")
    for user in users:
        typer.echo(f"  {user.username:<12} {user.role.value:<13} password: {user.password}")
    typer.echo(checkpoint)


def _set_demo_clinic_id(database: object, clinic_id: str, users: Sequence[DemoUser]) -> None:
    from db.database import Database
    from db.store import Store
    from formulary.records import Role

    assert isinstance(database, Database)
    store = Store(database)
    admin = next(u for u in users if u.role is Role.ADMIN)
    actor = store.authenticate(admin.username, admin.password)
    store.set_clinic_settings(actor, identifier=clinic_id)


def _progress_line(message: str) -> None:
    typer.echo(f"\rbuilding demo: {message}" + " " * 20, nl=False, err=True)
