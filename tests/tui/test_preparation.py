"""Lots that may be drawn, the proposed lot, and the zone volumes check (pure domain)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from formulary.preparation import (
    DrawnLot,
    check_zones,
    lot_refusal,
    preview_mix,
    propose_lot,
    syringe,
    total_volume,
)
from formulary.records import (
    Component,
    FormulationVersion,
    IngredientStrength,
    Lot,
    LotStatus,
    Product,
    ScalpZone,
)
from formulary.safety.lots import NO_LOT
from formulary.units.amount import Amount

DAY = date(2026, 11, 2)


def _lot(lid: int, expiry: date, status: LotStatus = LotStatus.AVAILABLE, qty: str = "10") -> Lot:
    return Lot(lid, 1, f"L{lid}", expiry, Amount(Decimal(qty), "mL"), status)


def ml(text: str) -> Amount:
    return Amount(Decimal(text), "mL")


def test_expired_quarantined_recalled_and_empty_lots_are_refused() -> None:
    assert "expired on 2026-11-01" in (lot_refusal(_lot(1, date(2026, 11, 1)), DAY) or "")
    assert "quarantined" in (lot_refusal(_lot(2, DAY, LotStatus.QUARANTINED), DAY) or "")
    assert "recalled" in (lot_refusal(_lot(3, DAY, LotStatus.RECALLED), DAY) or "")
    assert "empty" in (lot_refusal(_lot(4, DAY, qty="0"), DAY) or "")
    assert lot_refusal(_lot(5, DAY), DAY) is None  # usable through its expiry day


def test_the_first_usable_lot_to_expire_is_proposed() -> None:
    lots = [
        _lot(1, date(2026, 1, 1)),  # expired
        _lot(2, date(2027, 1, 1), LotStatus.QUARANTINED),
        _lot(3, date(2028, 1, 1)),
        _lot(4, date(2027, 6, 1)),
    ]
    chosen = propose_lot(lots, DAY)
    assert chosen is not None and chosen.id == 4
    assert propose_lot(lots[:2], DAY) is None


def test_zone_total_against_prepared_volume() -> None:
    zones = {ScalpZone.VERTEX: ml("1.5"), ScalpZone.FRONTAL: ml("0.5")}
    check = check_zones(zones, ml("2"))
    assert check.ok and check.total == ml("2") and "= the 2 mL prepared" in check.message
    less = check_zones({ScalpZone.VERTEX: ml("1.5")}, ml("2"))
    assert less.ok and "0.5 mL not injected" in less.message
    more = check_zones({**zones, ScalpZone.OCCIPITAL: ml("0.25")}, ml("2"))
    assert not more.ok and "0.25 mL MORE" in more.message
    assert not check_zones({}, ml("2")).ok


def test_u100_marks_count_as_volume() -> None:
    assert total_volume([ml("0.5"), Amount(Decimal(50), "U-100 marks")]) == ml("1")


@given(st.lists(st.decimals(min_value="0.01", max_value="10", places=2), max_size=7))
def test_total_is_the_exact_sum(values: list[Decimal]) -> None:
    assert total_volume([ml(str(v)) for v in values]).value == sum(values, Decimal(0))


def _product(pid: int, ingredient_id: int, strength: Amount) -> Product:
    return Product(
        pid,
        f"P{pid}",
        "",
        ml("2"),
        (IngredientStrength(ingredient_id, f"ingredient {ingredient_id}", strength),),
    )


def test_preview_works_out_amounts_and_concentrations() -> None:
    products = {
        1: _product(1, 10, Amount(Decimal(5), "mg/mL")),
        2: _product(2, 20, Amount(Decimal(1), "% w/v")),
    }
    components = [
        Component(1, 1, "Biotin", ml("1"), product_id=1),
        Component(2, 2, "HA", ml("1"), product_id=2),
        Component(3, 3, "Extra biotin", Amount(Decimal(500), "mcg"), ingredient_id=10),
    ]
    preview = preview_mix(components, products, None)
    assert preview.mix is not None and preview.final_volume == ml("2")
    biotin = preview.mix.line(10)
    assert biotin.amount == Amount(Decimal("5.5"), "mg")
    assert biotin.final_concentration == Amount(Decimal("2.75"), "mg/mL")
    assert preview.mix.line(20).amount == Amount(Decimal(10), "mg")


def test_preview_puts_the_problem_beside_the_component() -> None:
    products = {1: _product(1, 10, Amount(Decimal(5), "mg/mL"))}
    components = [
        Component(1, 1, "Biotin", ml("1"), product_id=1),
        Component(2, 2, "Odd", Amount(Decimal(5), "mg/mL"), ingredient_id=11),
    ]
    preview = preview_mix(components, products, ml("3"))
    assert preview.mix is None and 2 in preview.problems and 1 not in preview.problems
    too_much = preview_mix(components[:1], products, ml("0.5"))
    assert too_much.mix is None and "more than the final volume" in too_much.general
    assert preview_mix([], products, None).general.startswith("Add a component")


def _version(components: list[Component], final: Amount | None) -> FormulationVersion:
    return FormulationVersion(
        1, 1, "Cocktail", 1, final, tuple(components), datetime(2026, 11, 1, tzinfo=UTC), "dr"
    )


def test_the_syringe_lists_products_and_ingredients_with_amounts_and_lots() -> None:
    products = {1: _product(1, 10, Amount(Decimal(5), "mg/mL"))}
    version = _version(
        [
            Component(2, 2, "Dutasteride", Amount(Decimal("0.1"), "mg"), ingredient_id=30),
            Component(1, 1, "Biotin", ml("1"), product_id=1),
        ],
        ml("4"),
    )
    lot = DrawnLot("BT-1", date(2027, 1, 31))
    shown = syringe(version, products, {1: lot})
    biotin, dutasteride = shown.lines  # in the order of the formulation
    assert biotin.is_product and biotin.lot == lot and biotin.lot_text == "BT-1 (exp 2027-01-31)"
    (line,) = biotin.ingredients
    assert line.name == "ingredient 10" and line.amount == Amount(Decimal(5), "mg")
    assert line.final_concentration == Amount(Decimal("1.25"), "mg/mL")
    # An ingredient added by amount is in the syringe too, and has no lot of its own.
    assert not dutasteride.is_product and dutasteride.lot is None
    assert dutasteride.lot_text == NO_LOT == "no lot recorded: traceability lost"
    (added,) = dutasteride.ingredients
    assert added.amount == Amount(Decimal("0.1"), "mg")
    assert added.final_concentration == Amount(Decimal("0.025"), "mg/mL")
    assert shown.without_lot == (dutasteride,)


def test_the_syringe_says_why_amounts_are_missing() -> None:
    version = _version([Component(1, 1, "Unknown box", ml("1"), product_id=9)], None)
    (line,) = syringe(version, {}, {}).lines
    assert line.ingredients == () and "not on record" in line.problem
    version = _version([Component(1, 1, "Biotin", Amount(Decimal(2), "mg"), ingredient_id=3)], None)
    (line,) = syringe(version, {}, {}).lines
    assert "no final volume" in line.problem
