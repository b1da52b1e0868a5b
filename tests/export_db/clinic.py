"""A small clinic built through the Store, for the database-backed export tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from fhir.resources.R4B.bundle import Bundle

from db.store import (
    Actor,
    ComponentSpec,
    IngredientFields,
    LotChoice,
    PatientFields,
    SessionDraft,
    Store,
    StrengthSpec,
)
from formulary.records import (
    AdverseEvent,
    Allergy,
    Condition,
    GradeScale,
    Role,
    ScalpZone,
    Sex,
    Technique,
    ZoneVolume,
)
from formulary.units.amount import Amount
from tests.consent_helpers import sign_consent

PASSWORD = "correct horse battery"


def ml(text: str) -> Amount:
    return Amount(Decimal(text), "mL")


@dataclass
class Clinic:
    store: Store
    admin: Actor
    doctor: Actor
    chart_numbers: list[str]
    session_ids: list[int]
    #: Prepares (saves the draft of) each patient's first session; the doctor signs it.
    assistant: Actor


def build_clinic(store: Store, *, patients: int = 2, sessions: int = 3) -> Clinic:
    """Users, three products with lots, and ``patients`` patients with signed sessions
    (the first of each prepared by an assistant, every one signed by the doctor)."""
    admin = store.create_first_admin("admin", "Ada Admin", PASSWORD)
    store.create_user(admin, "drmartin", "Dr Ana Martín-Pérez", Role.PRACTITIONER, PASSWORD)
    doctor = store.authenticate("drmartin", PASSWORD)
    store.create_user(admin, "mlind", "Maja Lind, RN", Role.ASSISTANT, PASSWORD)
    assistant = store.authenticate("mlind", PASSWORD)
    products = {}
    for key, name, strength in (
        ("x-dexpanthenol", "Dexpanthenol", Amount(Decimal(250), "mg/mL")),
        ("x-biotin", "Biotin", Amount(Decimal(5), "mg/mL")),
        ("x-dutasteride", "Dutasteride", Amount(Decimal("0.01"), "% w/v")),
    ):
        ingredient = store.upsert_ingredient(admin, IngredientFields(key=key, name=name))
        product = store.create_product(
            admin, name=f"{name} stock", ingredients=[StrengthSpec(ingredient.id, strength)],
            volume_per_unit=ml("2"), manufacturer="Labor Süd",
        )
        lot = store.receive_lot(admin, product_id=product.id, lot_number=f"{key[2:5].upper()}-µ1",
                                expiry=date(2099, 12, 31), quantity=ml("500"))
        products[name] = (product.id, lot.id)
    now = datetime.now(UTC).replace(microsecond=0)
    charts: list[str] = []
    session_ids: list[int] = []
    for n in range(1, patients + 1):
        chart = f"C-{n:04d}"
        patient = store.create_patient(admin, PatientFields(
            chart, "Müller" if n == 1 else f"Fam{n}", "José", date(1980, 1, n), Sex.MALE,
            diagnosis="Androgenetic alopecia", grade_scale=GradeScale.NORWOOD, grade="III",
            allergies=(Allergy("Procaine", reaction="urticaria"),),
            conditions=(Condition("anticoagulant", "Apixaban 5 mg"),),
            consent_on_file=True, consent_date=date(2024, 1, 1),
        ))
        version = store.save_formulation(
            doctor, patient_id=patient.id, name="Scalp cocktail",
            components=[
                ComponentSpec("Dutasteride stock", ml("1"), product_id=products["Dutasteride"][0]),
                ComponentSpec("Dexpanthenol stock", ml("0.5"),
                              product_id=products["Dexpanthenol"][0]),
                ComponentSpec("Biotin stock", ml("0.5"), product_id=products["Biotin"][0]),
            ],
            final_volume=ml("2"),
        )
        course = store.start_course(doctor, patient_id=patient.id, name="Induction",
                                    planned_sessions=6, interval_days=14,
                                    start_date=(now - timedelta(days=14 * sessions)).date())
        sign_consent(store, doctor, PASSWORD, patient, course.id)
        for s in range(1, sessions + 1):
            draft = SessionDraft(
                patient_id=patient.id, formulation_version_id=version.id,
                performed_at=now - timedelta(days=14 * (sessions - s) + 1),
                course_id=course.id, session_number=s, technique=Technique.NAPPAGE,
                needle_gauge=30, needle_length=Amount(Decimal(4), "mm"),
                depth=Amount(Decimal("1.5"), "mm"), total_volume=ml("2"),
                zones=(ZoneVolume(ScalpZone.VERTEX, ml("1.2")),
                       ZoneVolume(ScalpZone.FRONTAL, ml("0.8"))),
                lots=(LotChoice(1, products["Dutasteride"][1]),
                      LotChoice(2, products["Dexpanthenol"][1]),
                      LotChoice(3, products["Biotin"][1])),
                anaesthesia="none", pain_score=3,
                adverse_events=(AdverseEvent("bruising", "mild", "vertex"),) if s == 2 else (),
                post_care="No washing for 24 h", notes="=1+1 tolerated" if s == 1 else "ok",
            )
            record = store.save_session_draft(assistant if s == 1 else doctor, draft)
            store.sign_session(doctor, record.id, PASSWORD)
            session_ids.append(record.id)
            if s == 2:
                store.add_addendum(doctor, record.id, "Bruise resolved by day 3.",
                                   "late entry", PASSWORD)
        for k in range(3):
            store.record_outcome(
                doctor, patient_id=patient.id,
                measured_at=now - timedelta(days=14 * sessions + 1 - 14 * k),
                density=Amount(Decimal(130 + 6 * k), "hairs/cm2"),
                shaft_diameter=Amount(Decimal("55") + k, "micrometre"),
                zone=ScalpZone.VERTEX, scale_grade="III",
            )
        charts.append(chart)
    return Clinic(store, admin, doctor, charts, session_ids, assistant)


def resource_types(bundle: Bundle) -> list[str]:
    """The resource type of each entry of ``bundle``, in order (ours all have one)."""
    assert bundle.entry is not None
    kinds = []
    for entry in bundle.entry:
        assert entry.resource is not None
        kinds.append(str(entry.resource.get_resource_type()))
    return kinds
