"""Property tests: no mix and patient crash the rules, and input order never matters."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from formulary.records import (
    Allergy,
    Component,
    Condition,
    Course,
    Lot,
    LotStatus,
    ScalpZone,
    ZoneVolume,
)
from formulary.safety import (
    CONDITIONS,
    Contribution,
    Findings,
    Limit,
    LimitPer,
    LotDraw,
    PreviousSession,
    SafetyContext,
    check_formulation,
    check_session,
)
from formulary.units.amount import Amount
from tests.safety_fixtures import FACTS, patient

KEYS = [*sorted(FACTS), "not-in-library"]
UNITS = ["mg", "mcg", "g", "IU", "units", "mmol", "mL", "mg/mL", "kg"]
FORMS = ["", "zinc (element)", "RRR-alpha-tocopherol", "lidocaine base", "nonsense form"]
WORDS = [
    "biotin",
    "amino acids",
    "sulphite",
    "cobalt",
    "lidocaine",
    "zinc",
    "",
    "  ",
    "Ünïcode ß",
    "vitamin",
    "copper",
    "HairCocktail",
    "acid",
    "b12",
    "penicillin",
    "a",
]
CODES = [c.code for c in CONDITIONS] + ["Wilson's disease", "hypertension", "", "???"]
DAY0 = date(2026, 1, 1)

decimals = st.decimals(
    min_value=Decimal(0),
    max_value=Decimal(10) ** 6,
    places=4,
    allow_nan=False,
    allow_infinity=False,
)
days = st.integers(min_value=-400, max_value=400).map(lambda d: DAY0 + timedelta(days=d))


def amounts(units: list[str] = UNITS) -> st.SearchStrategy[Amount]:
    return st.builds(Amount, decimals, st.sampled_from(units))


components = st.builds(
    lambda cid, pid, bare: Component(
        cid,
        cid,
        f"Product {cid}",
        Amount(Decimal(1), "mL"),
        product_id=None if bare else pid,
        ingredient_id=pid if bare else None,
    ),
    st.integers(1, 5),
    st.integers(1, 60),
    st.booleans(),
)
contributions = st.builds(
    Contribution, st.integers(1, 5), st.sampled_from(KEYS), amounts(), st.sampled_from(FORMS)
)
limits = st.builds(
    Limit,
    st.sampled_from([*KEYS, "zinc", "copper", "lidocaine-base"]),
    amounts(["mg", "mcg", "IU", "units", "mL"]),
    st.sampled_from(list(LimitPer)),
    st.just("property test"),
    st.sampled_from(FORMS),
)
lots = st.builds(
    Lot,
    st.integers(1, 4),
    st.integers(1, 60),
    st.just("L"),
    days,
    amounts(["mL", "L", "mg"]),
    st.sampled_from(list(LotStatus)),
)
draws = st.builds(LotDraw, st.integers(1, 5), lots, st.none() | amounts(["mL", "L", "mg"]))
courses = st.builds(
    Course, st.just(1), st.just(1), st.just("course"), st.integers(0, 12), st.integers(0, 40), days
)
previous = st.builds(PreviousSession, days, st.lists(contributions, max_size=3).map(tuple))
zones = st.builds(ZoneVolume, st.sampled_from(list(ScalpZone)), amounts(["mL", "L", "mg"]))
patients = st.builds(
    lambda allergies, conditions, weight: patient(
        allergies=allergies, conditions=conditions, weight_kg=weight
    ),
    st.lists(
        st.builds(
            Allergy,
            st.sampled_from(WORDS),
            st.none() | st.integers(1, 60),
            st.just(""),
            st.sampled_from(["allergy", "intolerance", "other"]),
        ),
        max_size=4,
    ).map(tuple),
    st.lists(st.builds(Condition, st.sampled_from(CODES)), max_size=4).map(tuple),
    st.none() | amounts(["kg", "g", "mg"]),
)


def _consistent_lots(drawn: list[LotDraw]) -> tuple[LotDraw, ...]:
    # One lot id is one lot: the Store never hands two different lots the same id.
    first: dict[int, Lot] = {}
    for draw in drawn:
        first.setdefault(draw.lot.id, draw.lot)
    return tuple(dataclasses.replace(d, lot=first[d.lot.id]) for d in drawn)


contexts = st.builds(
    lambda p, comps, contribs, lims, drawn, crs, prev, when, total, final, zs: SafetyContext(
        patient=p,
        components=tuple({c.id: c for c in comps}.values()),
        ingredients=FACTS,
        contributions=tuple(contribs),
        limits=tuple(lims),
        final_volume=final,
        session_date=when,
        total_volume=total,
        zones=tuple(zs),
        lots=_consistent_lots(drawn),
        course=crs,
        previous_sessions=tuple(prev),
    ),
    patients,
    st.lists(components, max_size=5),
    st.lists(contributions, max_size=8),
    st.lists(limits, max_size=4),
    st.lists(draws, max_size=4),
    st.none() | courses,
    st.lists(previous, max_size=4),
    st.none() | days,
    st.none() | amounts(["mL", "L", "mg"]),
    st.none() | amounts(["mL", "L"]),
    st.lists(zones, max_size=4),
)


def _reversed(ctx: SafetyContext) -> SafetyContext:
    return dataclasses.replace(
        ctx,
        patient=dataclasses.replace(
            ctx.patient,
            allergies=ctx.patient.allergies[::-1],
            conditions=ctx.patient.conditions[::-1],
        ),
        components=ctx.components[::-1],
        ingredients=dict(reversed(list(ctx.ingredients.items()))),
        contributions=ctx.contributions[::-1],
        limits=ctx.limits[::-1],
        zones=ctx.zones[::-1],
        lots=ctx.lots[::-1],
        previous_sessions=tuple(
            dataclasses.replace(p, doses=p.doses[::-1]) for p in ctx.previous_sessions[::-1]
        ),
    )


def _shuffled(ctx: SafetyContext, rnd: st.DataObject) -> SafetyContext:
    def perm(items: tuple) -> tuple:  # type: ignore[type-arg]
        return tuple(rnd.draw(st.permutations(items))) if items else items

    return dataclasses.replace(
        ctx,
        patient=dataclasses.replace(
            ctx.patient,
            allergies=perm(ctx.patient.allergies),
            conditions=perm(ctx.patient.conditions),
        ),
        components=perm(ctx.components),
        contributions=perm(ctx.contributions),
        limits=perm(ctx.limits),
        zones=perm(ctx.zones),
        lots=perm(ctx.lots),
        previous_sessions=perm(ctx.previous_sessions),
    )


@given(contexts)
def test_rules_never_crash_and_findings_are_well_formed(ctx: SafetyContext) -> None:
    for found in (check_formulation(ctx), check_session(ctx)):
        assert isinstance(found, Findings)
        for finding in found:
            assert finding.rule and finding.message and finding.remedy
            assert finding.line()
        assert found.requires_override == bool(found.blocks)


@given(contexts)
def test_rules_do_not_depend_on_input_order(ctx: SafetyContext) -> None:
    turned = _reversed(ctx)
    assert check_session(turned) == check_session(ctx)
    assert check_formulation(turned) == check_formulation(ctx)


@given(contexts, st.data())
def test_rules_do_not_depend_on_any_permutation(ctx: SafetyContext, rnd: st.DataObject) -> None:
    assert check_session(_shuffled(ctx, rnd)) == check_session(ctx)
