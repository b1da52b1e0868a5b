"""How long the safety rules take on a large session (run on demand, prints figures).

A busy cocktail: 12 products of 4 ingredients each over the real library, the label
limits of every ingredient plus clinic limits on zinc and biotin, a patient with
allergies and conditions, lots for every component, and a course with 40 earlier
sessions whose doses count toward per-course limits.

    python benchmarks/safety_check.py          (from the repository root)
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from formulary.library import load_library
from formulary.records import (
    Allergy,
    Component,
    Condition,
    Course,
    IngredientStrength,
    Lot,
    Patient,
    Product,
    ScalpZone,
    Sex,
    ZoneVolume,
)
from formulary.safety import (
    Limit,
    LimitPer,
    LotDraw,
    PreviousSession,
    SafetyContext,
    check_formulation,
    check_session,
)
from formulary.safety.build import (
    contributions,
    facts_from_library,
    limits_from_library,
)
from formulary.units.amount import Amount


def ml(value: str) -> Amount:
    return Amount(Decimal(value), "mL")


def build() -> SafetyContext:
    lib = load_library()
    keys = [
        "biotin",
        "dexpanthenol",
        "pyridoxine",
        "zinc-sulfate",
        "cysteine",
        "methionine",
        "glycine",
        "proline",
        "lysine",
        "glutamine",
        "taurine",
        "ornithine",
        "copper-chloride",
        "selenium",
        "ascorbic-acid",
        "folic-acid",
        "thiamine",
        "riboflavin",
        "niacinamide",
        "lidocaine",
        "procaine",
        "minoxidil",
        "dutasteride",
        "cyanocobalamin",
    ]
    facts = {i: facts_from_library(lib.by_key(k), i) for i, k in enumerate(keys, start=1)}
    products = {}
    components = []
    for p in range(1, 13):
        strengths = tuple(
            IngredientStrength(i, facts[i].name, Amount(Decimal("0.5"), "mg/mL"))
            for i in range(1 + (p * 4) % len(keys), 1 + (p * 4) % len(keys) + 4)
            if i in facts
        )
        products[p] = Product(p, f"Product {p}", "Maker", ml("5"), strengths)
        components.append(Component(p, p, f"Product {p}", ml("0.5"), product_id=p))
    broken = contributions(components, products, facts)
    limits = [lim for f in facts.values() for lim in limits_from_library(lib.by_key(f.key))]
    limits += [
        Limit("zinc", Amount(Decimal(5), "mg"), LimitPer.SESSION, "clinic"),
        Limit("biotin", Amount(Decimal(50), "mg"), LimitPer.COURSE, "clinic"),
    ]
    patient = Patient(
        1,
        "C-1",
        "Doe",
        "Alex",
        date(1980, 1, 1),
        Sex.FEMALE,
        weight_kg=Amount(Decimal(60), "kg"),
        allergies=(Allergy("sulphites"), Allergy("amino acids", kind="intolerance")),
        conditions=(Condition("anticoagulant_therapy"), Condition("keloid_tendency")),
    )
    day = date(2026, 11, 24)
    previous = tuple(
        PreviousSession(day - timedelta(days=7 * (i + 1)), broken.contributions) for i in range(40)
    )
    lots = tuple(
        LotDraw(
            c.id,
            Lot(c.id, c.product_id or 0, f"L{c.id}", day + timedelta(days=30), ml("10")),
            ml("0.5"),
        )
        for c in components
    )
    return SafetyContext(
        patient=patient,
        components=tuple(components),
        ingredients={f.key: f for f in facts.values()},
        contributions=broken.contributions,
        problems=broken.problems,
        limits=tuple(limits),
        final_volume=ml("6"),
        session_date=day,
        total_volume=ml("4"),
        zones=(ZoneVolume(ScalpZone.FRONTAL, ml("2")), ZoneVolume(ScalpZone.VERTEX, ml("2"))),
        lots=lots,
        course=Course(1, 1, "long", 60, 7, day - timedelta(days=300)),
        previous_sessions=previous,
    )


def main() -> None:
    started = time.perf_counter()
    ctx = build()
    print(
        f"context built in {1000 * (time.perf_counter() - started):.1f} ms "
        f"({len(ctx.contributions)} contributions, {len(ctx.limits)} limits, "
        f"{len(ctx.previous_sessions)} earlier sessions)"
    )
    for name, check in (("check_formulation", check_formulation), ("check_session", check_session)):
        check(ctx)  # warm caches (unit factors)
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            found = check(ctx)
            times.append(time.perf_counter() - t0)
        print(
            f"{name}: median {1000 * statistics.median(times):.1f} ms, "
            f"max {1000 * max(times):.1f} ms, {len(found)} findings"
        )


if __name__ == "__main__":
    main()
