"""A small clinic built through the Store API, for the app's tests and snapshots.

Everything goes through the Store (never SQL), exactly as the app would write it.
Times are fixed so that snapshots do not change from one day to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import patch

from formulary.records import (
    Allergy,
    Condition,
    GradeScale,
    LotStatus,
    Role,
    ScalpZone,
    Sex,
    Technique,
    ZoneVolume,
)
from formulary.units.amount import Amount
from tests.consent_helpers import sign_consent

ADMIN = ("admin", "Ada Admin", "admin-password-1")
PRACTITIONER = ("drmartin", "Dr Claire Martin", "martin-password-1")
ASSISTANT = ("assist", "Sam Assistant", "assist-password-1")

#: The moment the demo clinic was built (tests show dates relative to it).
BUILT_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def ml(text: str) -> Amount:
    return Amount(Decimal(text), "mL")


@dataclass
class Demo:
    """Ids of what the demo holds, for tests to refer to."""

    path: Path
    patients: dict[str, int]
    products: dict[str, int]
    lots: dict[str, int]
    formulation_id: int
    version_id: int
    course_id: int


def build_demo(path: Path) -> Demo:
    """Create the demo database at ``path`` (SQLite) and close it again."""
    import db.store.clock as store_clock
    from db.database import open_database
    from db.store import (
        ComponentSpec,
        LotChoice,
        PatientFields,
        SessionDraft,
        Store,
        StrengthSpec,
    )

    clock = [BUILT_AT - timedelta(days=60)]
    fixed_times = patch.object(store_clock, "now", lambda: clock[0])  # stable snapshots
    fixed_times.start()
    try:
        store = Store(open_database(path))
        admin = store.create_first_admin(*ADMIN)
        store.create_user(
            admin, PRACTITIONER[0], PRACTITIONER[1], Role.PRACTITIONER, PRACTITIONER[2]
        )
        store.create_user(admin, ASSISTANT[0], ASSISTANT[1], Role.ASSISTANT, ASSISTANT[2])
        doctor = store.authenticate(PRACTITIONER[0], PRACTITIONER[2])
        ids = {i.key: i.id for i in store.list_ingredients(admin)}

        def product(name: str, key: str, strength: Amount, volume: str, maker: str) -> int:
            return store.create_product(
                admin,
                name=name,
                ingredients=[StrengthSpec(ids[key], strength)],
                volume_per_unit=ml(volume),
                manufacturer=maker,
            ).id

        products = {
            "biotin": product(
                "Biotin 5 mg/mL ampoule", "biotin", Amount(Decimal(5), "mg/mL"), "2", "Mesolab"
            ),
            "ha": product(
                "Hyaluronic acid 1% vial",
                "sodium-hyaluronate",
                Amount(Decimal(1), "% w/v"),
                "5",
                "Hyalotec",
            ),
            "dexpanthenol": product(
                "Dexpanthenol 250 mg/mL ampoule",
                "dexpanthenol",
                Amount(Decimal(250), "mg/mL"),
                "2",
                "Mesolab",
            ),
        }

        def lot(key: str, number: str, expiry: date, qty: str) -> int:
            return store.receive_lot(
                admin,
                product_id=products[key],
                lot_number=number,
                expiry=expiry,
                quantity=ml(qty),
            ).id

        lots = {
            "biotin-old": lot("biotin", "BT-2301", date(2025, 12, 31), "20"),
            "biotin": lot("biotin", "BT-2412", date(2028, 6, 30), "40"),
            "biotin-late": lot("biotin", "BT-2502", date(2029, 3, 31), "40"),
            "ha": lot("ha", "HA-7781", date(2028, 1, 31), "50"),
            "ha-q": lot("ha", "HA-7702", date(2027, 9, 30), "25"),
            "dex": lot("dexpanthenol", "DX-0091", date(2028, 9, 30), "30"),
        }
        clock[0] += timedelta(minutes=5)
        store.set_lot_status(
            admin, lots["ha-q"], LotStatus.QUARANTINED, "particles seen in one vial"
        )

        def patient(chart: str, family: str, given: str, born: date, sex: Sex, **extra: Any) -> int:
            return store.create_patient(
                doctor,
                PatientFields(
                    chart_number=chart,
                    family_name=family,
                    given_name=given,
                    date_of_birth=born,
                    sex=sex,
                    **extra,
                ),
            ).id

        patients = {
            "moreau": patient(
                "C-1001",
                "Moreau",
                "Claire",
                date(1984, 3, 12),
                Sex.FEMALE,
                diagnosis="female pattern hair loss",
                grade_scale=GradeScale.LUDWIG,
                grade="I-2",
                allergies=(Allergy("lidocaine", reaction="urticaria"),),
                consent_on_file=True,
                consent_date=date(2026, 9, 1),
            ),
            "dubois": patient(
                "C-1002",
                "Dubois",
                "Marc",
                date(1979, 7, 30),
                Sex.MALE,
                diagnosis="androgenetic alopecia",
                grade_scale=GradeScale.NORWOOD,
                grade="III vertex",
                conditions=(Condition("anticoagulants", "anticoagulants"),),
                consent_on_file=True,
                consent_date=date(2026, 9, 3),
            ),
            "nguyen": patient(
                "C-1003",
                "Nguyen",
                "Linh",
                date(1991, 1, 5),
                Sex.FEMALE,
                diagnosis="telogen effluvium",
            ),
            "garcia": patient(
                "C-1004",
                "Garcia",
                "Pablo",
                date(1970, 11, 20),
                Sex.MALE,
                diagnosis="androgenetic alopecia",
                grade_scale=GradeScale.NORWOOD,
                grade="IV",
            ),
            "okafor": patient("C-1005", "Okafor", "Ada", date(1988, 5, 9), Sex.FEMALE),
        }
        # The patients whose consent is on paper sign it in the app (the consent rule).
        sign_consent(store, doctor, PRACTITIONER[2], patients["moreau"])

        version = store.save_formulation(
            doctor,
            patient_id=patients["dubois"],
            name="Dubois scalp cocktail",
            components=[
                ComponentSpec("Biotin 5 mg/mL ampoule", ml("1"), product_id=products["biotin"]),
                ComponentSpec("Hyaluronic acid 1% vial", ml("1.5"), product_id=products["ha"]),
                ComponentSpec(
                    "Dexpanthenol 250 mg/mL ampoule", ml("0.5"), product_id=products["dexpanthenol"]
                ),
            ],
            final_volume=ml("3"),
            note="first prescription",
        )
        course = store.start_course(
            doctor,
            patient_id=patients["dubois"],
            name="Autumn course",
            planned_sessions=8,
            interval_days=14,
            start_date=date(2026, 9, 7),
            formulation_id=version.formulation_id,
        )
        sign_consent(store, doctor, PRACTITIONER[2], patients["dubois"], course.id)
        for number, day in ((1, date(2026, 9, 7)), (2, date(2026, 9, 21))):
            clock[0] = datetime(day.year, day.month, day.day, 10, 30, tzinfo=UTC)
            draft = SessionDraft(
                patient_id=patients["dubois"],
                formulation_version_id=version.id,
                performed_at=clock[0] - timedelta(minutes=20),
                course_id=course.id,
                session_number=number,
                technique=Technique.NAPPAGE,
                needle_gauge=32,
                needle_length=Amount(Decimal(4), "mm"),
                depth=Amount(Decimal(1), "mm"),
                total_volume=ml("3"),
                zones=(
                    ZoneVolume(ScalpZone.VERTEX, ml("1.5")),
                    ZoneVolume(ScalpZone.MID_SCALP, ml("1")),
                    ZoneVolume(ScalpZone.FRONTAL, ml("0.5")),
                ),
                lots=(
                    LotChoice(1, lots["biotin"]),
                    LotChoice(2, lots["ha"]),
                    LotChoice(3, lots["dex"]),
                ),
                anaesthesia="none",
                pain_score=3,
                post_care="no washing for 12 hours",
            )
            saved = store.save_session_draft(doctor, draft)
            store.sign_session(doctor, saved.id, PRACTITIONER[2])
        for day, density in (
            (date(2026, 9, 7), "142"),
            (date(2026, 10, 5), "151"),
            (date(2026, 11, 2), "158"),
        ):
            clock[0] = datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)
            store.record_outcome(
                doctor,
                patient_id=patients["dubois"],
                measured_at=clock[0],
                density=Amount(Decimal(density), "hairs/cm2"),
                zone=ScalpZone.VERTEX,
                scale_grade="III vertex",
            )
        store.database.dispose()
    finally:
        fixed_times.stop()
    return Demo(
        path=path,
        patients=patients,
        products=products,
        lots=lots,
        formulation_id=version.formulation_id,
        version_id=version.id,
        course_id=course.id,
    )
