"""Options shared by every command, so that ``--db`` and ``--json`` mean one thing."""

from __future__ import annotations

from typing import Annotated

import typer

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="FORMULARY_DB",
        help="SQLite file path or postgresql+psycopg:// URL (default: the user data directory).",
    ),
]

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def db_location(ctx: typer.Context, db: str | None) -> str | None:
    """The database a command works on: its own ``--db``, else the one given before it."""
    return db or (ctx.find_root().obj or {}).get("db")

#: The reason a change or a retirement needs. Checked by each command (so that a
#: missing one is one line naming the flag, not Click's usage box), hence optional to
#: the parser but marked required in --help.
ReasonOption = Annotated[
    str | None,
    typer.Option("--reason", help="Why (recorded in the audit trail). Required."),
]
