"""What the treatment room checks while preparing a session.

Pure rules the session and formulation screens ask: which lots may be drawn on a day,
which one to propose, whether the volumes given per scalp zone add up to what was
prepared, what a formulation comes to before it has a final volume, and what is in
the syringe of a session (every component, its amounts and the lot drawn).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from formulary.mixing import Addition, Draw, Mix, MixingError, Strength, mix
from formulary.records import Component, FormulationVersion, Lot, LotStatus, Product, ScalpZone
from formulary.safety.lots import NO_LOT
from formulary.safety.volumes import Prepared, in_ml, over_prepared, prepared_from
from formulary.units import UnitsError, convert, format_amount
from formulary.units.amount import Amount
from formulary.units.catalog import BY_CANONICAL, VOLUME
from formulary.units.parse import strip_decimal
from formulary.units.substance import Substance


def lot_state(lot: Lot, on: date) -> str:
    """What a lot is on ``on``, in one word: recalled, quarantined, expired, empty or available.

    The stored status says what a person decided (a recall, a quarantine); whether the
    lot has expired is worked out here from its expiry date, never stored, so that a
    lot list, a lot picker and the command line read the same word on the same day.
    """
    if lot.status is not LotStatus.AVAILABLE:
        return lot.status.value
    if lot.expiry < on:
        return "expired"
    if lot.quantity_on_hand.value <= 0:
        return "empty"
    return LotStatus.AVAILABLE.value


def lot_refusal(lot: Lot, on: date) -> str | None:
    """Why ``lot`` may not be drawn on ``on`` (None when it may)."""
    if lot.status is LotStatus.RECALLED:
        return f"lot {lot.lot_number} is recalled: never draw from it"
    if lot.status is LotStatus.QUARANTINED:
        return f"lot {lot.lot_number} is quarantined: choose another lot"
    if lot.expiry < on:
        return f"lot {lot.lot_number} expired on {lot.expiry.isoformat()}: choose another lot"
    if lot.quantity_on_hand.value <= 0:
        return f"lot {lot.lot_number} is empty: choose another lot"
    return None


def propose_lot(lots: Iterable[Lot], on: date) -> Lot | None:
    """The lot to draw from: the first to expire among those that may be drawn."""
    usable = [lot for lot in lots if lot_refusal(lot, on) is None]
    return min(usable, key=lambda lot: (lot.expiry, lot.id), default=None)


def total_volume(volumes: Iterable[Amount]) -> Amount:
    """The sum of volumes, in mL (a non-volume raises the units engine's error)."""
    total = Decimal(0)
    for volume in volumes:
        if BY_CANONICAL[volume.unit].kind != VOLUME:
            raise ValueError(f"{format_amount(volume)} is not a volume: write it in mL")
        total += convert(volume, "mL").value
    return Amount(total.normalize() if total else Decimal(0), "mL")


@dataclass(frozen=True, slots=True)
class ZoneCheck:
    """The zone volumes against the prepared volume."""

    total: Amount
    ok: bool  # the total may be signed (not more than prepared, at least one zone)
    message: str


def check_zones(zones: Mapping[ScalpZone, Amount], prepared: Amount | None) -> ZoneCheck:
    """Add up the zone volumes and compare them with the prepared volume.

    More than was prepared cannot have been injected: refused. Less is allowed (the
    rest was discarded) but said plainly.
    """
    total = total_volume(zones.values())
    shown = format_amount(total)
    if not zones:
        return ZoneCheck(total, False, "Enter the volume given in at least one zone.")
    if prepared is None:
        return ZoneCheck(total, True, f"Total {shown} (no prepared volume to compare with).")
    # The rule the Store signs by (formulary.safety.volumes), worded for the zone map.
    over = over_prepared(total, Prepared(prepared))
    if over is not None:
        return ZoneCheck(
            total,
            False,
            f"Total {shown} is {format_amount(over.excess)} MORE than the "
            f"{format_amount(prepared)} prepared: correct the zone volumes.",
        )
    try:
        prepared_ml = in_ml(prepared)
    except UnitsError:
        return ZoneCheck(
            total, True, f"Total {shown} ({format_amount(prepared)} prepared is not a volume)."
        )
    if total.value < prepared_ml:
        left = Amount(strip_decimal(prepared_ml - total.value), "mL")
        return ZoneCheck(
            total,
            True,
            f"Total {shown} of {format_amount(prepared)} prepared: {format_amount(left)} "
            "not injected (record why in the notes).",
        )
    return ZoneCheck(total, True, f"Total {shown} = the {format_amount(prepared)} prepared.")


@dataclass(frozen=True, slots=True)
class MixPreview:
    """A formulation worked out as typed: the mix, or what stops it, per component."""

    mix: Mix | None
    final_volume: Amount | None
    problems: dict[int, str]  # component position -> message
    general: str = ""  # a problem of the whole (e.g. nothing to mix)


def _part(component: Component, products: Mapping[int, Product]) -> Draw | Addition:
    if component.product_id is not None:
        product = products.get(component.product_id)
        if product is None:
            raise ValueError(f"product {component.product_id} is not in the formulary")
        return Draw(
            volume=component.amount,
            strengths=tuple(Strength(s.ingredient_id, s.strength) for s in product.ingredients),
            label=component.name,
        )
    if component.ingredient_id is None:
        raise ValueError(f"{component.name} is neither a stock product nor an ingredient")
    return Addition(component.ingredient_id, component.amount, label=component.name)


def preview_mix(
    components: Sequence[Component],
    products: Mapping[int, Product],
    final_volume: Amount | None,
    substances: Mapping[Hashable, Substance] | None = None,
) -> MixPreview:
    """Work out each ingredient's amount per session and final concentration.

    Without a final volume the mix is made up to the volume drawn (no diluent). A
    problem is reported beside the component that causes it, never raised.
    """
    if not components:
        return MixPreview(None, final_volume, {}, "Add a component to see the mix.")
    problems: dict[int, str] = {}
    parts: list[Draw | Addition] = []
    for component in components:
        try:
            parts.append(_part(component, products))
        except ValueError as exc:
            problems[component.position] = str(exc)
    if problems:
        return MixPreview(None, final_volume, problems)
    final = final_volume
    if final is None:
        drawn = [p.volume for p in parts if isinstance(p, Draw)]
        if not drawn:
            return MixPreview(None, None, {}, "Give the final volume the mix is made up to.")
        try:
            final = total_volume(drawn)
        except (ValueError, UnitsError) as exc:
            return MixPreview(None, None, {}, str(exc))
    try:
        return MixPreview(mix(parts, final, substances), final, {})
    except (MixingError, UnitsError) as whole:
        # Find the component that cannot be mixed by trying each one alone.
        for component, part in zip(components, parts, strict=True):
            try:
                mix([part], final if isinstance(part, Addition) else part.volume, substances)
            except (MixingError, UnitsError) as exc:
                problems[component.position] = str(exc)
        return MixPreview(None, final, problems, "" if problems else str(whole))


@dataclass(frozen=True, slots=True)
class DrawnLot:
    """The lot a component is drawn from (chosen on a draft, recorded on a signed one).

    ``state`` is set when the lot may not be drawn (``recalled``, ``quarantined``,
    ``expired``, ``empty``: :func:`lot_state`), so that a table showing the lot also
    shows that it is refused, instead of hiding the lot.
    """

    lot_number: str
    expiry: date
    state: str = ""


@dataclass(frozen=True, slots=True)
class SyringeIngredient:
    """One ingredient one component puts into the syringe."""

    name: str
    form: str
    amount: Amount  # in this session's preparation
    final_concentration: Amount


@dataclass(frozen=True, slots=True)
class SyringeLine:
    """One component of the formulation version as prepared for a session."""

    position: int
    name: str
    amount: Amount  # the volume drawn (a product) or the amount added (an ingredient)
    is_product: bool
    ingredients: tuple[SyringeIngredient, ...]
    lot: DrawnLot | None
    problem: str = ""  # why the ingredient amounts could not be worked out

    @property
    def lot_text(self) -> str:
        """The lot as the tables print it, or the loud :data:`NO_LOT`."""
        if self.lot is None:
            return NO_LOT
        text = f"{self.lot.lot_number} (exp {self.lot.expiry.isoformat()})"
        return f"{text} ✗ {self.lot.state.upper()}" if self.lot.state else text


@dataclass(frozen=True, slots=True)
class Syringe:
    """What is in the syringe: every component, products and ingredients alike."""

    lines: tuple[SyringeLine, ...]
    final_volume: Amount | None

    @property
    def without_lot(self) -> tuple[SyringeLine, ...]:
        """The components whose lot is not recorded (traceability lost)."""
        return tuple(line for line in self.lines if line.lot is None)


def prepared_volume(version: FormulationVersion) -> Amount | None:
    """The volume in the syringe: the final volume, or without one the volume drawn
    (no diluent). The zone volumes are checked against it (:func:`check_zones`); None
    when it cannot be worked out (:func:`formulary.safety.volumes.prepared_from`)."""
    prepared = prepared_from(version.final_volume, version.components)
    return None if prepared is None else prepared.volume


def _ingredients(
    component: Component, products: Mapping[int, Product], final: Amount | None
) -> tuple[tuple[SyringeIngredient, ...], str]:
    """What ``component`` alone puts into ``final``, or why it cannot be said."""
    if final is None:
        return (), "no final volume to work the concentrations out"
    names: dict[Hashable, tuple[str, str]] = {}
    part: Draw | Addition
    if component.product_id is not None:
        product = products.get(component.product_id)
        if product is None or not product.ingredients:
            return (), f"the strengths of {component.name} are not on record"
        strengths = []
        for index, item in enumerate(product.ingredients):
            names[index] = (item.ingredient_name, item.form)
            strengths.append(Strength(index, item.strength))
        part = Draw(component.amount, tuple(strengths), component.name)
    elif component.ingredient_id is not None:
        names[0] = (component.name, "")
        part = Addition(0, component.amount, component.name)
    else:
        return (), f"{component.name} is neither a stock product nor an ingredient"
    try:
        result = mix([part], final)
    except (MixingError, UnitsError) as exc:
        return (), str(exc)
    return (
        tuple(
            SyringeIngredient(*names[line.key], line.amount, line.final_concentration)
            for line in result.lines
        ),
        "",
    )


def syringe(
    version: FormulationVersion,
    products: Mapping[int, Product],
    lots: Mapping[int, DrawnLot],
) -> Syringe:
    """Every component of ``version`` with its amount, what it puts into the final
    volume (amount and final concentration per ingredient) and the lot drawn.

    ``lots`` maps a component position to its lot; a component missing from it (an
    ingredient added by amount, or a product whose lot was not chosen) has no lot, and
    says so (:data:`NO_LOT`).
    """
    final = prepared_volume(version)
    lines = []
    for component in sorted(version.components, key=lambda c: c.position):
        ingredients, problem = _ingredients(component, products, final)
        lines.append(
            SyringeLine(
                position=component.position,
                name=component.name,
                amount=component.amount,
                is_product=component.product_id is not None,
                ingredients=ingredients,
                lot=lots.get(component.position),
                problem=problem,
            )
        )
    return Syringe(tuple(lines), final)
