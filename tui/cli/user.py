"""``formulary user``: accounts (administrators only, except ``list`` for auditors).

The administrator signs in with ``--user``; the new password of ``add`` and
``reset-password`` is the *second* line of standard input with ``--password-stdin``
(the first is the administrator's own), or typed twice at a hidden prompt.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from tui.cli.errors import fail
from tui.cli.login import (
    PasswordStdinOption,
    UserOption,
    open_db,
    read_new_password,
    signed_in,
    stdin_line,
    store_errors,
)
from tui.cli.options import DbOption, JsonOption, ReasonOption

if TYPE_CHECKING:
    from db.store import Actor, Store, UserInfo

user_app = typer.Typer(help="Add, deactivate, unlock and list user accounts.", no_args_is_help=True)



def _require_reason(reason: str | None, what: str) -> str:
    """The reason of ``--reason``, or one line naming the flag (before any password)."""
    text = (reason or "").strip()
    if not text:
        fail(f"give a reason with --reason to {what}: the audit trail records why")
    return text


def _location(ctx: typer.Context, db: str | None) -> str | None:
    parent = ctx.find_root().obj or {}
    return db or parent.get("db")


def _new_password(password_stdin: bool, who: str) -> str:
    if password_stdin:
        line = stdin_line(f"{who}'s new password")
        if line is None:
            fail(
                f"give {who}'s new password as the second line of standard input "
                "(the first is your own)"
            )
        return line
    return read_new_password(False, who=who)


def _find(store: Store, actor: Actor, username: str) -> UserInfo:
    from db.auth import username_key

    key = username_key(username)
    with store_errors():
        for info in store.list_users(actor):
            if username_key(info.username) == key:
                return info
    fail(f"there is no user {username!r}; `formulary user list` shows the accounts")


def _show(info: UserInfo, as_json: bool, verb: str) -> None:
    if as_json:
        typer.echo(json.dumps(_info_json(info)))
    else:
        state = "active" if info.active else "deactivated"
        if info.locked:
            state += ", locked"
        typer.echo(f"{verb} {info.username} ({info.full_name}, {info.role.value}, {state}).")


def _info_json(info: UserInfo) -> dict[str, object]:
    return {
        "id": info.id,
        "username": info.username,
        "full_name": info.full_name,
        "role": info.role.value,
        "active": info.active,
        "locked": info.locked,
        "failed_logins": info.failed_logins,
    }


@user_app.command("add")
def add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The new account's username.")],
    role: Annotated[
        str, typer.Option("--role", help="admin, practitioner, assistant or auditor.")
    ] = "practitioner",
    full_name: Annotated[
        str | None, typer.Option("--full-name", help="Name printed on signatures.")
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add an account (you must be an administrator)."""
    from formulary.records import Role

    try:
        chosen = Role(role.strip().lower())
    except ValueError:
        fail(f"unknown role {role!r}; choose admin, practitioner, assistant or auditor")
    with signed_in(_location(ctx, db), user, password_stdin) as (store, actor):
        password = _new_password(password_stdin, username)
        with store_errors():
            info = store.create_user(actor, username, full_name or username, chosen, password)
        _show(info, as_json, "Added")


def _target(store: Store, actor: Actor, username: str, what: str) -> UserInfo:
    """``username``'s account, for an administrator to change (``what``: the change)."""
    from db.store.roles import ADMINS, require_role

    # Said before the account is looked up: finding it lists the users, and a
    # practitioner told she "cannot list users" does not learn that unlocking an
    # account is an administrator's job.
    with store_errors():
        require_role(actor, ADMINS, what)
    return _find(store, actor, username)


def _account_change(
    ctx: typer.Context,
    db: str | None,
    user: str | None,
    password_stdin: bool,
    username: str,
    reason: str | None,
    as_json: bool,
    method: str,
    verb: str,
) -> None:
    """Sign in, apply one reasoned Store change to ``username``'s account, report it."""
    infinitive = {"Deactivated": "deactivate", "Reactivated": "reactivate", "Unlocked": "unlock"}
    doing = infinitive.get(verb, "change")
    reason = _require_reason(reason, f"{doing} {username}")
    with signed_in(_location(ctx, db), user, password_stdin) as (store, actor):
        target = _target(store, actor, username, f"{doing} accounts")
        with store_errors():
            info = getattr(store, method)(actor, target.id, reason or "")
        _show(info, as_json, verb)


@user_app.command("deactivate")
def deactivate(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account to deactivate.")],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Deactivate an account (accounts are never deleted; their signatures stay valid)."""
    _account_change(
        ctx, db, user, password_stdin, username, reason, as_json, "deactivate_user", "Deactivated"
    )


@user_app.command("reactivate")
def reactivate(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account to reactivate.")],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Reactivate a deactivated account."""
    _account_change(
        ctx, db, user, password_stdin, username, reason, as_json, "reactivate_user", "Reactivated"
    )


@user_app.command("unlock")
def unlock(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account locked by failed logins.")],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Unlock an account that 5 failed logins locked."""
    _account_change(
        ctx, db, user, password_stdin, username, reason, as_json, "unlock_user", "Unlocked"
    )


@user_app.command("reset-password")
def reset_password(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account whose password is reset.")],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Set a new password for an account (also unlocks it)."""
    reason = _require_reason(reason, f"reset the password of {username}")
    with signed_in(_location(ctx, db), user, password_stdin) as (store, actor):
        target = _target(store, actor, username, "reset passwords")
        password = _new_password(password_stdin, target.username)
        with store_errors():
            info = store.reset_password(actor, target.id, password, reason or "")
        _show(info, as_json, "Reset the password of")


@user_app.command("list")
def list_users(
    ctx: typer.Context,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List every account (administrators and auditors)."""
    with signed_in(_location(ctx, db), user, password_stdin) as (store, actor):
        with store_errors():
            users = store.list_users(actor)
        if as_json:
            typer.echo(json.dumps([_info_json(u) for u in users], indent=2))
            return
        for info in users:
            flags = ("" if info.active else " deactivated") + (" locked" if info.locked else "")
            typer.echo(f"{info.username:<20} {info.role.value:<13} {info.full_name}{flags}")


@user_app.command("recover")
def recover(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The locked-out administrator.")],
    new_password: Annotated[
        bool,
        typer.Option("--new-password", help="Also set a new password for the administrator."),
    ] = False,
    code_stdin: Annotated[
        bool,
        typer.Option(
            "--code-stdin",
            help="Read the recovery code from the first line of standard input "
            "(and, with --new-password, the new password from the second).",
        ),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Unlock an administrator with the recovery code printed by init (then replaced)."""
    if code_stdin:
        code = stdin_line("the recovery code") or ""
        if not code:
            fail("--code-stdin was given but standard input is empty; pipe the code in")
    elif sys.stdin.isatty():
        code = typer.prompt("Recovery code", hide_input=True)
    else:
        fail("give the recovery code with --code-stdin, or run the command in a terminal")
    password: str | None = None
    if new_password:
        if code_stdin:
            password = stdin_line("the new password")
            if password is None:
                fail("give the new password as the second line of standard input")
        else:
            password = read_new_password(False, who=username)
    database = open_db(_location(ctx, db))
    try:
        from db.store import Store

        store = Store(database)
        with store_errors():
            actor, fresh = store.recover_admin(username, code, password)
    finally:
        database.dispose()
    if as_json:
        typer.echo(json.dumps({"recovered": actor.username, "recovery_code": fresh}))
        return
    done = ", new password set." if password else "."
    typer.echo(f"Recovered {actor.username}: unlocked{done}")
    typer.echo(f"The old recovery code is used up. New recovery code (keep it safe): {fresh}")
