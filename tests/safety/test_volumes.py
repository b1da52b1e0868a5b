"""No more is injected than the syringe held: the final volume, or without one the volume
drawn. One rule (formulary.safety.volumes) for the screen, the findings and the Store."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.preparation import check_zones, prepared_volume
from formulary.records import Component, ScalpZone
from formulary.safety import check_session
from formulary.safety.schedule import RULE_OVER_PREPARED
from formulary.safety.volumes import Prepared, over_prepared, prepared_from
from formulary.units.amount import Amount
from tests.safety_fixtures import SESSION_DAY, amt, context

#: Volume units and their size in mL.
UNITS = {"mL": Decimal(1), "mcL": Decimal("0.001"), "L": Decimal(1000)}

volumes_ml = st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal(100), places=3, allow_nan=False
)
units = st.sampled_from(sorted(UNITS))


def as_unit(value_ml: Decimal, unit: str) -> Amount:
    """``value_ml`` millilitres written in ``unit`` (exactly: the factors are powers of ten)."""
    return Amount(value_ml / UNITS[unit], unit)


def drawn(*volumes: str, ingredient: str | None = None) -> tuple[Component, ...]:
    found = [
        Component(i, i, f"Product {i}", amt(v), product_id=i)
        for i, v in enumerate(volumes, start=1)
    ]
    if ingredient is not None:
        found.append(Component(9, 9, "Added", amt(ingredient), ingredient_id=9))
    return tuple(found)


@given(prepared=volumes_ml, given_ml=volumes_ml, prepared_unit=units, given_unit=units,
       final=st.booleans())
def test_any_total_up_to_the_prepared_volume_passes_and_any_more_is_refused(
    prepared: Decimal, given_ml: Decimal, prepared_unit: str, given_unit: str, final: bool
) -> None:
    syringe = Prepared(as_unit(prepared, prepared_unit), drawn=not final)
    over = over_prepared(as_unit(given_ml, given_unit), syringe)
    if given_ml <= prepared:
        assert over is None
    else:
        assert over is not None
        assert over.excess.unit == "mL" and over.excess.value == given_ml - prepared
        message = over.message()
        assert "more than the syringe held cannot have been injected" in message
        assert ("no final volume" in message) is (not final)


@given(prepared=volumes_ml, unit=units)
def test_exactly_the_prepared_volume_passes_in_any_unit(prepared: Decimal, unit: str) -> None:
    for other in UNITS:
        assert over_prepared(as_unit(prepared, other), Prepared(as_unit(prepared, unit))) is None


def test_a_thousand_microlitres_is_one_millilitre() -> None:
    one = Prepared(amt("1 mL"))
    assert over_prepared(amt("1000 mcL"), one) is None
    over = over_prepared(amt("1001 mcL"), one)
    assert over is not None and over.excess == amt("0.001 mL")
    assert over.message().startswith(
        "the total volume injected (1001 mcL) is 0.001 mL more than the 1 mL prepared "
        "(the formulation's final volume)"
    )
    # The smallest excess still counts: nothing is rounded away.
    assert over_prepared(amt("1.000000000000000000001 mL"), one) is not None


def test_without_a_final_volume_the_syringe_holds_what_was_drawn() -> None:
    syringe = prepared_from(None, drawn("0.5 mL", "500 mcL", ingredient="5 mg"))
    assert syringe == Prepared(amt("1 mL"), drawn=True)
    over = over_prepared(amt("2 mL"), syringe)
    assert over is not None
    assert "1 mL more than the 1 mL drawn into the syringe (the formulation has no final " \
        "volume)" in over.message()
    # A final volume is the syringe's volume, whatever was drawn.
    assert prepared_from(amt("3 mL"), drawn("1 mL")) == Prepared(amt("3 mL"))


@pytest.mark.parametrize(
    "components",
    [
        (),  # nothing drawn
        drawn(ingredient="5 mg"),  # only an ingredient added by amount
        (Component(1, 1, "Odd", amt("5 mg"), product_id=1),),  # a draw that is no volume
    ],
)
def test_a_prepared_volume_that_cannot_be_worked_out_refuses_nothing(
    components: tuple[Component, ...],
) -> None:
    assert prepared_from(None, components) is None
    assert over_prepared(amt("2 mL"), None) is None
    # Nor does a figure that is not a volume crash the comparison.
    assert over_prepared(amt("2 mg"), Prepared(amt("1 mL"))) is None
    assert over_prepared(amt("2 mL"), Prepared(amt("1 mg"))) is None


def test_the_finding_and_the_zone_map_use_the_same_rule() -> None:
    components = drawn("1 mL")
    ctx = context(
        session_date=SESSION_DAY, components=components, total_volume=amt("1001 mcL")
    )
    found = [f for f in check_session(ctx) if f.rule == RULE_OVER_PREPARED]
    assert [f.message for f in found] == [
        "the total volume injected (1001 mcL) is more than the 1 mL drawn into the syringe "
        "(the formulation has no final volume)"
    ]
    ok = context(session_date=SESSION_DAY, components=components, total_volume=amt("1000 mcL"))
    assert not [f for f in check_session(ok) if f.rule == RULE_OVER_PREPARED]
    assert check_zones({ScalpZone.VERTEX: amt("1000 mcL")}, amt("1 mL")).ok
    refused = check_zones({ScalpZone.VERTEX: amt("1001 mcL")}, amt("1 mL"))
    assert not refused.ok and "0.001 mL MORE than the 1 mL prepared" in refused.message


def test_prepared_volume_of_a_version_is_the_rules_figure() -> None:
    from datetime import UTC, datetime

    from formulary.records import FormulationVersion

    version = FormulationVersion(
        1, 1, "Mix", 1, None, drawn("0.25 mL", "750 mcL"), datetime(2026, 1, 1, tzinfo=UTC), "x"
    )
    assert prepared_volume(version) == amt("1 mL")
