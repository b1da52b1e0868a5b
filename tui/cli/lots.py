"""``formulary lot receive`` (by count or volume, or from a scanned GS1 code) and
``formulary lot recall LOT`` (every patient and session that received a lot).

The group answers to ``lot`` and to ``lots``.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tui.cli.errors import fail
from tui.cli.login import PasswordStdinOption, UserOption, signed_in, store_errors
from tui.cli.options import DbOption, JsonOption

lots_app = typer.Typer(help="Stock lots: receive, recall.", no_args_is_help=True)


@lots_app.command("receive")
def receive(
    ctx: typer.Context,
    product: Annotated[
        str | None, typer.Option("--product", help="Product id, GTIN or name.")
    ] = None,
    lot: Annotated[str | None, typer.Option("--lot", help="The lot number on the box.")] = None,
    expiry: Annotated[str | None, typer.Option("--expiry", help="YYYY-MM-DD.")] = None,
    count: Annotated[
        int | None, typer.Option("--count", help="How many ampoules/vials/syringes arrived.")
    ] = None,
    quantity: Annotated[
        str | None, typer.Option("--quantity", help="Or the volume received, e.g. '50 mL'.")
    ] = None,
    supplier: Annotated[str, typer.Option("--supplier", help="Who delivered it.")] = "",
    scan: Annotated[
        str | None,
        typer.Option(
            "--scan",
            help="The GS1 code scanned from the box (GTIN, lot, expiry); "
            "'<GS>' may stand for the separator.",
        ),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Receive a lot of a product, counted in units (10 ampoules of 5 mL = 50 mL) or by volume."""
    from datetime import date

    from formulary.gs1 import ScanError, parse_scan
    from formulary.products import refuse_expired, units_text
    from formulary.units import UnitsError, format_amount, parse_quantity
    from tui.cli.product import describe, find_product, location

    scanned = None
    if scan is not None:
        try:
            scanned = parse_scan(scan)
        except ScanError as exc:
            fail(f"--scan: {exc}")
        for flag, given, read in (
            ("--lot", lot, scanned.lot_number),
            ("--expiry", expiry, scanned.expiry.isoformat() if scanned.expiry else ""),
        ):
            if given and read and given.strip() != read:
                fail(f"{flag} {given!r} differs from the scanned {read!r}; check the box")
        lot = lot or scanned.lot_number or None
        expiry = expiry or (scanned.expiry.isoformat() if scanned.expiry else None)
    if (count is None) == (quantity is None):
        fail("give either --count (units received) or --quantity (volume received)")
    if not lot:
        if scanned is not None:
            fail("the scan has no lot number (10): give it with --lot")
        fail("give the lot number with --lot (or --scan the box's code)")
    if not expiry:
        if scanned is not None:
            fail("the scan has no expiry date (17): give it with --expiry YYYY-MM-DD")
        fail("give the expiry with --expiry YYYY-MM-DD (or --scan the box's code)")
    try:
        expires = date.fromisoformat(expiry.strip())
    except ValueError:
        fail(f"--expiry {expiry!r} is not a date: write it as YYYY-MM-DD")
    refused = refuse_expired(expires, date.today())
    if refused:
        fail(refused)
    amount = None
    if quantity is not None:
        try:
            amount = parse_quantity(quantity, kind="volume")
        except UnitsError as exc:
            fail(f"--quantity: {exc}")
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor):
        if scanned is not None and scanned.gtin:
            with store_errors():
                by_gtin = store.product_by_gtin(actor, scanned.gtin)
            if by_gtin is None:
                fail(
                    f"no product has GTIN {scanned.gtin}; add it first with `formulary product "
                    f"add --gtin {scanned.gtin} …`"
                )
            if product is not None and find_product(store, actor, product).id != by_gtin.id:
                fail(f"--product {product!r} is not the scanned product ({by_gtin.name})")
            chosen = by_gtin
        elif product is not None:
            chosen = find_product(store, actor, product)
        else:
            fail("give --product (id, GTIN or name), or --scan the box's code")
        with store_errors():
            received = store.receive_lot(
                actor,
                product_id=chosen.id,
                lot_number=lot,
                expiry=expires,
                quantity=amount,
                count=count,
                supplier=supplier,
            )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "id": received.id,
                    "product_id": received.product_id,
                    "lot_number": received.lot_number,
                    "expiry": received.expiry.isoformat(),
                    "quantity_on_hand": format_amount(received.quantity_on_hand),
                    "units_received": received.units_received,
                    "supplier": received.supplier,
                },
                ensure_ascii=False,
            )
        )
        return
    counted = f" ({units_text(received.units_received)})" if received.units_received else ""
    typer.echo(
        f"Received lot {received.lot_number} of {describe(chosen)}: "
        f"{format_amount(received.quantity_on_hand)}{counted}, expires {received.expiry}."
    )


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
    from formulary.units import format_amount
    from tui.cli.product import location

    with signed_in(location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        report = recall_lot(store, actor, lot)
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
