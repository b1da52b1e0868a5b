"""Signing in from the command line: ``--user`` plus a password from a safe place.

The password never goes on the command line (it would land in shell history and in
``ps``). It comes, in this order, from the first line of standard input when
``--password-stdin`` is given, from ``$FORMULARY_PASSWORD``, or from a hidden prompt
on the terminal. Without any of them a script gets one clear error instead of a
prompt that blocks forever.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from tui.cli.errors import EXIT_IO, EXIT_SAVED_CHECKPOINT_FAILED, fail

if TYPE_CHECKING:
    from db.database import Database
    from db.store import Actor, Store

#: Environment variable a script may put the password in (prefer --password-stdin).
PASSWORD_ENV = "FORMULARY_PASSWORD"  # noqa: S105 - the variable's name

UserOption = Annotated[
    str | None,
    typer.Option("--user", "-u", envvar="FORMULARY_USER", help="Your username."),
]

PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input.",
    ),
]


def stdin_line(what: str) -> str | None:
    """The next line of standard input without its line ending (None at its end).

    A line that is not UTF-8 (a password typed in another encoding) is one line of
    refusal naming ``what``, not an unexpected error where the text is first encoded.
    """
    # Bytes, decoded a line at a time: the text layer decodes ahead in blocks, so a bad
    # second line would fail the read of the first and the message name the wrong one.
    stream = getattr(sys.stdin, "buffer", None)
    raw = stream.readline() if stream is not None else sys.stdin.readline().encode()
    if not raw:
        return None
    try:
        line: str = raw.decode("utf-8")
    except UnicodeDecodeError:
        fail(f"{what} on standard input is not UTF-8 text; send it as UTF-8")
    return line.rstrip("\r\n")


def read_password(password_stdin: bool, *, prompt: str = "Password") -> str:
    """The password from stdin, ``$FORMULARY_PASSWORD`` or a hidden prompt."""
    if password_stdin:
        line = stdin_line("the password")
        if line is None:
            fail("--password-stdin was given but standard input is empty; pipe the password in")
        return line
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        fail(
            "no password: give --password-stdin, set FORMULARY_PASSWORD, "
            "or run the command in a terminal to be asked"
        )
    value: str = typer.prompt(prompt, hide_input=True)
    return value


def read_new_password(password_stdin: bool, *, who: str, from_env: bool = False) -> str:
    """A new password for ``who``: from stdin, or typed twice at a hidden prompt.

    ``$FORMULARY_PASSWORD`` is the signed-in user's own password, so it is never taken
    as someone else's new one (two accounts would share a password and their
    signatures could not be told apart); only ``init``, where there is no one signed
    in yet, passes ``from_env`` to let it name the first administrator's.
    """
    if from_env and not password_stdin and os.environ.get(PASSWORD_ENV):
        return read_password(False, prompt=f"Password for {who}")
    if password_stdin or not sys.stdin.isatty():
        line = stdin_line(f"the new password for {who}")
        if line is None:
            fail(
                f"no new password for {who}: pipe it in on standard input, or run the "
                "command in a terminal to be asked (FORMULARY_PASSWORD is your own "
                "password, never another account's)"
            )
        return line
    value: str = typer.prompt(
        f"New password for {who}", hide_input=True, confirmation_prompt=True
    )
    return value


@contextmanager
def store_errors() -> Iterator[None]:
    """Turn any error the persistence layer reports into one line on stderr."""
    from db.errors import CheckpointFailed, FileNotWritten, StoreError

    try:
        yield
    except CheckpointFailed as exc:
        fail(f"saved, but the checkpoint failed: {exc}", EXIT_SAVED_CHECKPOINT_FAILED)
    except FileNotWritten as exc:
        fail(str(exc), EXIT_IO)
    except StoreError as exc:
        fail(str(exc))


def open_db(db: str | None, *, create: bool = False) -> Database:
    """Open the database named by ``--db`` (one clear error when it cannot be)."""
    from db.database import open_database

    with store_errors():
        return open_database(db, create=create)


def sign_in(store: Store, user: str | None, password_stdin: bool) -> Actor:
    """Authenticate ``--user`` with a password read by :func:`read_password`."""
    return sign_in_with_password(store, user, password_stdin)[0]


def sign_in_with_password(
    store: Store, user: str | None, password_stdin: bool
) -> tuple[Actor, str]:
    """:func:`sign_in`, also returning the password given (a witness signs with it again)."""
    if not user:
        fail("who is this? give --user NAME (or set FORMULARY_USER)")
    password = read_password(password_stdin, prompt=f"Password for {user}")
    with store_errors():
        return store.authenticate(user, password), password


@contextmanager
def signed_in(
    db: str | None, user: str | None, password_stdin: bool
) -> Iterator[tuple[Store, Actor]]:
    """Open the database named by ``--db`` and sign ``--user`` in, for one command's work.

    The database is closed when the block ends, however it ends: every command that
    works as a signed-in user runs ``with signed_in(...) as (store, actor):``.
    """
    with signed_in_with_password(db, user, password_stdin) as (store, actor, _):
        yield store, actor


@contextmanager
def signed_in_with_password(
    db: str | None, user: str | None, password_stdin: bool
) -> Iterator[tuple[Store, Actor, str]]:
    """:func:`signed_in`, with the password given (for a command that signs with it again)."""
    from db.store import Store

    database = open_db(db)
    try:
        store = Store(database)
        actor, password = sign_in_with_password(store, user, password_stdin)
        yield store, actor, password
    finally:
        database.dispose()
