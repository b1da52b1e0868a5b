"""``formulary lots recall LOT``: every patient and session that received a lot."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tui.cli.login import PasswordStdinOption, UserOption, open_db, sign_in, store_errors
from tui.cli.options import DbOption, JsonOption

lots_app = typer.Typer(help="Stock lots: recalls.", no_args_is_help=True)


@lots_app.command("recall")
def recall(
    ctx: typer.Context,
    lot: Annotated[str, typer.Argument(help="The lot number on the recall notice.")],
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List every patient and signed session that received LOT, alone or in a mix."""
    from db.ops.recall import recall_lot
    from db.store import Store
    from formulary.units import format_amount

    database = open_db(db or (ctx.find_root().obj or {}).get("db"))
    try:
        store = Store(database)
        actor = sign_in(store, user, password_stdin)
        with store_errors():
            report = recall_lot(store, actor, lot)
    finally:
        database.dispose()
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        return
    for found in report.lots:
        typer.echo(
            f"Lot {report.lot_number} of {found.product_name}, expiry "
            f"{found.expiry.isoformat()}, {found.status}."
        )
    if not report.patients:
        typer.echo("No signed session drew from this lot.")
        return
    typer.echo(
        f"{len(report.patients)} patient(s) received it in {report.session_count} "
        "signed session(s):"
    )
    for patient in report.patients:
        typer.echo(f"  {patient.chart_number}  {patient.name}")
        for s in patient.sessions:
            drawn = "" if s.drawn is None else f"  {format_amount(s.drawn)} drawn"
            zones = ", ".join(z.replace("_", " ") for z in s.zones)
            typer.echo(
                f"    session {s.session_id}  {s.performed_at:%Y-%m-%d %H:%M} UTC"
                f"{drawn}  ({zones})"
            )
