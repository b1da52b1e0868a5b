"""A new clinic for the app's tests: ``formulary init`` on an empty file, then a few records.

The database starts exactly as a new clinic's does (``formulary init``, no demo); the
records a test needs before it opens the app (a practitioner, an assistant, a patient
with a weight, a product with its lots, a formulation) are written through the Store,
as the app's own screens would write them. Dates are relative to today, so the app
runs on the real clock (the Store stamps real time, and a session is never signed in
the future).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from textual.pilot import Pilot

from formulary.records import LotStatus, Role, Sex
from formulary.units.amount import Amount
from tests.tui.pilot_helpers import settle, sign_in, until
from tests.tui.stock_helpers import ADMIN_NAME, ADMIN_PASSWORD, empty_clinic
from tui.app import FormularyApp
from tui.keymap import Settings

DOCTOR = ("dr.ito", "Dr Kenji Ito", "ito-password-1")
NURSE = ("nurse.berg", "Nurse Lea Berg", "berg-password-1")
ADMIN = (ADMIN_NAME, "Ada Admin", ADMIN_PASSWORD)
WEIGHED_ON = date.today() - timedelta(days=10)


@dataclass(frozen=True)
class Clinic:
    """Where the new clinic is and the ids of what it holds."""

    path: Path
    patient_id: int
    product_id: int
    lot_id: int
    recalled_lot_id: int
    expired_lot_id: int


def new_clinic(tmp_path: Path) -> Clinic:
    """``formulary init``, then a practitioner, an assistant, a patient and her cocktail."""
    from db.database import open_database
    from db.store import ComponentSpec, PatientFields, Store, StrengthSpec

    path = empty_clinic(tmp_path)
    database = open_database(path)
    try:
        store = Store(database)
        admin = store.authenticate(ADMIN_NAME, ADMIN_PASSWORD)
        store.create_user(admin, DOCTOR[0], DOCTOR[1], Role.PRACTITIONER, DOCTOR[2])
        store.create_user(admin, NURSE[0], NURSE[1], Role.ASSISTANT, NURSE[2])
        doctor = store.authenticate(DOCTOR[0], DOCTOR[2])
        biotin = next(i.id for i in store.list_ingredients(admin) if i.key == "biotin")
        product = store.create_product(
            admin,
            name="Biotin 5 mg/mL ampoule",
            ingredients=[StrengthSpec(biotin, Amount(Decimal(5), "mg/mL"))],
            volume_per_unit=Amount(Decimal(2), "mL"),
        )
        today = date.today()

        def lot(number: str, expiry: date) -> int:
            return store.receive_lot(
                admin,
                product_id=product.id,
                lot_number=number,
                expiry=expiry,
                quantity=Amount(Decimal(20), "mL"),
            ).id

        good = lot("BT-GOOD", today + timedelta(days=400))
        recalled = lot("BT-RECALL", today + timedelta(days=300))
        expired = lot("BT-OLD", today - timedelta(days=5))
        store.set_lot_status(admin, recalled, LotStatus.RECALLED, "manufacturer recall notice")
        patient = store.create_patient(
            doctor,
            PatientFields(
                chart_number="N-0001",
                family_name="Sato",
                given_name="Yumi",
                date_of_birth=date(1985, 4, 2),
                sex=Sex.FEMALE,
                weight=Amount(Decimal("61.5"), "kg"),
                weight_measured_on=WEIGHED_ON,
                height=Amount(Decimal(164), "cm"),
            ),
        )
        store.save_formulation(
            doctor,
            patient_id=patient.id,
            name="Sato cocktail",
            components=[
                ComponentSpec("Biotin 5 mg/mL ampoule", Amount(Decimal(1), "mL"), product.id)
            ],
            final_volume=Amount(Decimal(1), "mL"),
        )
        # She signed the clinic's default consent (sessions outside a course need it).
        from tests.consent_helpers import sign_consent

        sign_consent(store, doctor, DOCTOR[2], patient)
    finally:
        database.dispose()
    return Clinic(path, patient.id, product.id, good, recalled, expired)


def clinic_app(clinic: Clinic) -> FormularyApp:
    """The app on the new clinic, on the real clock."""
    return FormularyApp(clinic.path, settings=Settings())


async def open_chart(pilot: Pilot[None], user: tuple[str, str, str] = DOCTOR) -> None:
    """Sign in as ``user`` and open the patient's chart from the patient list."""
    from tui.screens.patient import PatientScreen

    await sign_in(pilot, user[0], user[2])
    await pilot.press(*"Sato")
    await pilot.pause(0.3)
    await settle(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, PatientScreen))


async def open_new_session(pilot: Pilot[None], user: tuple[str, str, str] = DOCTOR) -> None:
    """From sign-in to a new session of the patient, ready to type in."""
    from tui.screens.session import SessionScreen

    await open_chart(pilot, user)
    await pilot.press("ctrl+n")
    await until(pilot, lambda: isinstance(pilot.app.screen, SessionScreen))
    await until(pilot, lambda: pilot.app.screen._ready)  # type: ignore[attr-defined]
