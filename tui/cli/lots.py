"""Stock lots headless: ``receive`` (by count or volume, or from a scanned GS1 code),
``list`` (stock on hand), ``adjust`` (a counted correction), ``quarantine`` and
``release``, ``mark-recalled`` (a recall notice) and ``lift-recall`` (a recall recorded
by mistake, administrators), and ``recall LOT`` (every patient and session that
received a lot).

A lot is named on the command line as on its box and on a recall notice: by its lot
number, with ``--product`` (id, GTIN or name) when two products carry the same
number. The group answers to ``lot`` and to ``lots``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui.cli.errors import fail
from tui.cli.login import PasswordStdinOption, UserOption, signed_in, store_errors
from tui.cli.options import DbOption, JsonOption, ReasonOption

if TYPE_CHECKING:
    from db.store import Actor, Store
    from formulary.records import Lot, LotStatus, Product
    from formulary.units import Amount

lots_app = typer.Typer(
    help="Stock lots: receive, list, correct, adjust, quarantine, release, recall (look up, "
    "mark, lift).",
    no_args_is_help=True,
)

LotArgument = Annotated[str, typer.Argument(help="The lot number on the box.")]
ProductOption = Annotated[
    str | None,
    typer.Option("--product", help="Product id, GTIN or name (when two products share LOT)."),
]


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
    from formulary.text import same_key
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
            held = store.list_lots(actor, chosen.id, include_empty=True)
        typed = lot.strip()
        same = next((h for h in held if same_key(h.lot_number) == same_key(typed)), None)
        if same is not None:
            # The Store refuses it too; here the refusal can name the command that helps.
            spelt = f" (as {same.lot_number})" if same.lot_number != typed else ""
            fail(
                f"lot {typed} of {chosen.name} is already received{spelt}; correct its count "
                f"with `formulary lot adjust {same.lot_number} --product {chosen.id} "
                "--by '+N mL' --reason ...`"
            )
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


def lot_json(lot: Lot, product: Product | None, today: date) -> dict[str, Any]:
    """A lot as ``--json`` prints it: the stored status and what it is today."""
    from formulary.preparation import lot_state
    from formulary.units import format_amount

    return {
        "id": lot.id,
        "product_id": lot.product_id,
        "product": product.name if product else None,
        "lot_number": lot.lot_number,
        "expiry": lot.expiry.isoformat(),
        "quantity_on_hand": format_amount(lot.quantity_on_hand),
        "status": lot.status.value,
        "state": lot_state(lot, today),
        "supplier": lot.supplier,
        "units_received": lot.units_received,
    }


def _label(lot: Lot, products: dict[int, Product]) -> str:
    product = products.get(lot.product_id)
    return f"lot {lot.lot_number} of {product.name if product else f'product {lot.product_id}'}"


def find_lot(
    store: Store, actor: Actor, number: str, product: str | None
) -> tuple[Lot, dict[int, Product]]:
    """The lot numbered ``number`` (of ``--product`` when given), and the products by id.

    Lot numbers are matched exactly, as printed on the box: the app and ``lot recall``
    treat ``A1`` and ``a1`` as two lots, so a near miss is a hint, never a match.
    """
    from tui.cli.product import find_product

    wanted = number.strip()
    if not wanted:
        fail("give the lot number as it is printed on the box")
    with store_errors():
        products = {p.id: p for p in store.list_products(actor, include_retired=True)}
    product_id = find_product(store, actor, product, retired=True).id if product else None
    with store_errors():
        lots = store.list_lots(actor, product_id, include_empty=True)
    found = [lot for lot in lots if lot.lot_number == wanted]
    of = f" of {products[product_id].name}" if product_id is not None else ""
    if not found:
        folded = wanted.casefold()
        near = sorted({lot.lot_number for lot in lots if lot.lot_number.casefold() == folded})
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        fail(
            f"no lot {wanted}{of}{hint}; `formulary lot list --all` shows every lot received"
        )
    if len(found) > 1:
        choices = "; ".join(
            f"{products[lot.product_id].name if lot.product_id in products else lot.product_id}"
            f" (product id {lot.product_id}, expires {lot.expiry})"
            for lot in found
        )
        fail(f"{len(found)} products have a lot {wanted}: {choices}; add --product ID to choose")
    return found[0], products


@lots_app.command("list")
def list_lots(
    ctx: typer.Context,
    product: Annotated[
        str | None, typer.Option("--product", help="Only this product (id, GTIN or name).")
    ] = None,
    show_all: Annotated[
        bool,
        typer.Option("--all", help="Also empty, expired, quarantined and recalled lots."),
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Stock on hand per lot, soonest expiry first: the lots a session may draw today."""
    from formulary.preparation import lot_state
    from formulary.units import format_amount
    from tui.cli.product import find_product, location

    today = date.today()
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor):
        with store_errors():
            products = {p.id: p for p in store.list_products(actor, include_retired=True)}
        product_id = find_product(store, actor, product, retired=True).id if product else None
        with store_errors():
            lots = store.list_lots(actor, product_id, include_empty=True)
    if not show_all:
        lots = [lot for lot in lots if lot_state(lot, today) == "available"]
    if as_json:
        typer.echo(
            json.dumps(
                [lot_json(lot, products.get(lot.product_id), today) for lot in lots],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not lots:
        typer.echo(
            "No lots received yet."
            if show_all
            else "No usable lots; --all also lists empty, expired, quarantined and recalled ones."
        )
        return
    names = [products[x.product_id].name if x.product_id in products else "?" for x in lots]
    # Columns as wide as what they hold: product names run long ("… ampoule 2 mL").
    wide = max(map(len, names))
    number = max(len(x.lot_number) for x in lots)
    for lot, name in zip(lots, names, strict=True):
        typer.echo(
            f"{name:<{wide}}  {lot.lot_number:<{number}}  {lot.expiry.isoformat()}  "
            f"{format_amount(lot.quantity_on_hand):>10}  {lot_state(lot, today)}"
        )


def _signed_amount(text: str | None) -> tuple[int, Amount]:
    """``--by``: a sign then an amount (``-2 mL``, ``+0.5 mL``), read by the units parser."""
    from formulary.units import UnitsError, parse_quantity

    if text is None:
        fail("give the correction with --by, such as --by '-2 mL' ('+2 mL' when more was counted)")
    stripped = text.strip()
    sign = {"-": -1, "+": 1, "\N{MINUS SIGN}": -1}.get(stripped[:1])
    if sign is None:
        fail(
            f"--by {text!r}: say whether the count went up or down, with + or -, "
            "such as --by '-2 mL'"
        )
    try:
        return sign, parse_quantity(stripped[1:])
    except UnitsError as exc:
        fail(f"--by: {exc}")


def _in_lot_unit(amount: Amount, lot: Lot, label: str) -> Amount:
    """``amount`` in the unit ``lot`` is counted in (1 L on a lot counted in mL: 1000 mL)."""
    from formulary.units import UnitsError, convert, format_amount, unit_kind
    from formulary.units.catalog import KIND_NAMES

    unit = lot.quantity_on_hand.unit
    if amount.unit == unit:
        return amount
    if unit_kind(amount.unit) != unit_kind(unit):
        fail(
            f"--by: {label} is counted in {unit} ({KIND_NAMES[unit_kind(unit)]}), not in "
            f"{amount.unit} ({KIND_NAMES[unit_kind(amount.unit)]}): give the correction "
            f"in {unit}"
        )
    try:
        return convert(amount, unit)
    except UnitsError as exc:  # pragma: no cover - same kind converts
        fail(f"--by {format_amount(amount)}: {exc}")


def _need_reason(reason: str | None, what: str) -> str:
    if not (reason or "").strip():
        fail(f"give a reason with --reason: {what} is explained in the audit trail")
    return (reason or "").strip()


@lots_app.command("adjust")
def adjust(
    ctx: typer.Context,
    lot: LotArgument,
    by: Annotated[
        str | None,
        typer.Option("--by", help="The counted difference, signed: '-2 mL' or '+5 mL'."),
    ] = None,
    reason: ReasonOption = None,
    product: ProductOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Correct a lot's stock on hand after counting it (administrators, practitioners)."""
    from formulary.units import Amount, format_amount
    from tui.cli.product import location

    why = _need_reason(reason, "a stock correction")
    sign, amount = _signed_amount(by)
    today = date.today()
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor):
        found, products = find_lot(store, actor, lot, product)
        label = _label(found, products)
        counted = _in_lot_unit(amount, found, label)
        delta = Amount(sign * counted.value, counted.unit)
        on_hand = found.quantity_on_hand
        if on_hand.value + delta.value < 0:
            fail(
                f"{label} holds {format_amount(on_hand)}; removing {format_amount(counted)} "
                "would leave less than none: count it again (it can go down by "
                f"{format_amount(on_hand)} at most)"
            )
        with store_errors():
            saved = store.adjust_stock(actor, found.id, delta, why)
    if as_json:
        out = lot_json(saved, products.get(saved.product_id), today)
        out["was"] = format_amount(on_hand)
        out["by"] = ("+" if sign > 0 else "-") + format_amount(counted)
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    typer.echo(
        f"Adjusted {label} by {'+' if sign > 0 else '-'}{format_amount(counted)}: "
        f"{format_amount(saved.quantity_on_hand)} on hand (was {format_amount(on_hand)})."
    )


@lots_app.command("correct")
def correct(
    ctx: typer.Context,
    lot: LotArgument,
    number: Annotated[
        str | None, typer.Option("--number", help="The lot number as the box prints it.")
    ] = None,
    expiry: Annotated[
        str | None, typer.Option("--expiry", help="The expiry date on the box, YYYY-MM-DD.")
    ] = None,
    supplier: Annotated[str | None, typer.Option("--supplier", help="Who delivered it.")] = None,
    reason: ReasonOption = None,
    product: ProductOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Correct a lot's number, expiry or supplier as typed at receipt (administrators,
    practitioners): the sessions that drew from it then show the corrected lot."""
    from tui.cli.product import location

    why = _need_reason(reason, "a correction")
    if number is None and expiry is None and supplier is None:
        fail("give what to correct: --number, --expiry and/or --supplier")
    expires = None
    if expiry is not None:
        try:
            expires = date.fromisoformat(expiry.strip())
        except ValueError:
            fail(f"--expiry {expiry!r} is not a date: write it as YYYY-MM-DD")
    today = date.today()
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor):
        found, products = find_lot(store, actor, lot, product)
        label = _label(found, products)
        with store_errors():
            saved = store.correct_lot(
                actor, found.id, reason=why, lot_number=number, expiry=expires,
                supplier=supplier,
            )
    if as_json:
        out = lot_json(saved, products.get(saved.product_id), today)
        out["was"] = {"lot_number": found.lot_number, "expiry": found.expiry.isoformat(),
                      "supplier": found.supplier}
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    changes = [
        f"{what} {old} -> {new}"
        for what, old, new in (
            ("number", found.lot_number, saved.lot_number),
            ("expiry", found.expiry.isoformat(), saved.expiry.isoformat()),
            ("supplier", found.supplier or "(none)", saved.supplier or "(none)"),
        )
        if old != new
    ]
    typer.echo(f"Corrected {label}: {'; '.join(changes)}.")


def _set_status(
    ctx: typer.Context,
    lot: str,
    product: str | None,
    reason: str | None,
    db: str | None,
    user: str | None,
    password_stdin: bool,
    as_json: bool,
    *,
    target: LotStatus,
) -> None:
    """Quarantine, release or recall ``lot``; the Store keeps a recall final."""
    from formulary.preparation import lot_state
    from formulary.records import LotStatus
    from tui.cli.product import location

    verb = {"available": "release", "quarantined": "quarantine", "recalled": "recall"}[
        target.value
    ]
    why = _need_reason(reason, f"a lot's {verb}")
    today = date.today()
    received: tuple[int, int] | None = None  # patients and signed sessions given this lot
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor):
        found, products = find_lot(store, actor, lot, product)
        label = _label(found, products)
        if found.status is target:
            saved, changed = found, False
        else:
            with store_errors():
                saved = store.set_lot_status(actor, found.id, target, why)
            changed = True
        if target is LotStatus.RECALLED:
            from db.ops.recall import recall_lot

            with store_errors():
                report = recall_lot(store, actor, found.lot_number)
            # Another product's lot may carry the same number: count this one's only.
            given = [
                [s for s in p.sessions if s.lot_id == found.id] for p in report.patients
            ]
            received = (sum(1 for g in given if g), sum(len(g) for g in given))
    if as_json:
        out = lot_json(saved, products.get(saved.product_id), today)
        out["changed"] = changed
        if received is not None:
            out["patient_count"], out["session_count"] = received
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    if not changed:
        typer.echo(f"Nothing changed: {label} is already {target.value}; nothing saved.")
    elif target is LotStatus.QUARANTINED:
        typer.echo(f"Quarantined {label}: no session may draw from it until it is released.")
    elif target is LotStatus.RECALLED:
        typer.echo(f"Recalled {label}: no session may draw from it again.")
    else:
        state = lot_state(saved, today)
        still = "" if state == "available" else f"; it is {state}, so it still cannot be drawn"
        typer.echo(f"Released {label}: available again{still}.")
    if received is not None:
        typer.echo(
            f"{received[0]} patient(s) received it in {received[1]} signed session(s): "
            f"`formulary lot recall {found.lot_number}` lists them."
            if received[0]
            else "No signed session drew from it."
        )


@lots_app.command("quarantine")
def quarantine(
    ctx: typer.Context,
    lot: LotArgument,
    reason: ReasonOption = None,
    product: ProductOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Set a lot aside while it is checked: no session may draw from it."""
    from formulary.records import LotStatus

    _set_status(
        ctx, lot, product, reason, db, user, password_stdin, as_json,
        target=LotStatus.QUARANTINED,
    )


@lots_app.command("release")
def release(
    ctx: typer.Context,
    lot: LotArgument,
    reason: ReasonOption = None,
    product: ProductOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Release a quarantined lot: it may be drawn from again (a recalled lot stays so)."""
    from formulary.records import LotStatus

    _set_status(
        ctx, lot, product, reason, db, user, password_stdin, as_json, target=LotStatus.AVAILABLE
    )


@lots_app.command("mark-recalled")
def mark_recalled(
    ctx: typer.Context,
    lot: LotArgument,
    reason: ReasonOption = None,
    product: ProductOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Mark a lot recalled (a recall notice): no session may draw from it again.

    Says how many patients received it; `lot recall LOT` lists them.
    """
    from formulary.records import LotStatus

    _set_status(
        ctx, lot, product, reason, db, user, password_stdin, as_json, target=LotStatus.RECALLED
    )


@lots_app.command("lift-recall")
def lift_recall(
    ctx: typer.Context,
    lot: LotArgument,
    reason: ReasonOption = None,
    product: ProductOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Lift a recall recorded by mistake (administrators): the lot goes to quarantine
    until it is checked and released."""
    from tui.cli.product import location

    why = _need_reason(reason, "lifting a recall")
    today = date.today()
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor):
        found, products = find_lot(store, actor, lot, product)
        label = _label(found, products)
        with store_errors():
            saved = store.lift_recall(actor, found.id, why)
    if as_json:
        typer.echo(json.dumps(lot_json(saved, products.get(saved.product_id), today),
                              ensure_ascii=False))
        return
    typer.echo(
        f"Lifted the recall of {label}: it is {saved.status.value} until it is checked and "
        f"released (`formulary lot release {found.lot_number} --reason ...`)."
    )
