"""A new clinic's first week, from ``formulary init`` on an empty database, in the app alone.

No demo and no Store call writes anything here: every record is made through the app's
screens (the Store is only read, to check what the screens wrote). The administrator
creates a practitioner and an assistant, adds three products (one from a scanned GS1
code) and receives their lots, adds a clinic ingredient with a clinic limit; the
practitioner adds a patient with a weight and an allergy, builds a cocktail of products
and library and clinic ingredients, plans a course, has the patient sign the clinic's
default consent for it, records and signs two sessions two
weeks apart with their lots; then the stock has gone down by what was drawn and the
exported PDF lists every component with its lot (or, for an ingredient added by amount,
that no lot was recorded and who acknowledged it).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader
from textual.pilot import Pilot
from textual.widgets import Input, Select

from formulary.records import Presentation, Role, SessionStatus, Sex, Technique
from formulary.safety.lots import NO_LOT
from tests.tui.clinic_helpers import add_patient, create_user, open_users, type_into
from tests.tui.consent_helpers import sign_consent_in_app
from tests.tui.fixture_types import user_of
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tests.tui.stock_helpers import (
    ADMIN_NAME,
    ADMIN_PASSWORD,
    add_clinic_ingredient,
    add_clinic_limit,
    add_product,
    empty_clinic,
    open_stock,
    receive_lot,
)
from tui.app import FormularyApp
from tui.keymap import Settings

DOCTOR = ("dr.okafor", "Dr Samuel Okafor", "okafor-first-week-1")
NURSE = ("nurse.lind", "Nurse Maja Lind", "lind-first-week-1")
GTIN_DEX = "09506000134352"

#: Monday of the first week, mid-morning (the app's clock; the Store stamps real time).
MONDAY = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def _app(db: Path, clock: list[datetime]) -> FormularyApp:
    return FormularyApp(db, settings=Settings(), clock=lambda: clock[0])


async def _back_to_patients(pilot: Pilot[None]) -> None:
    from tui.screens.patients import PatientsScreen

    while not isinstance(pilot.app.screen, PatientsScreen):
        await pilot.press("escape")
        await settle(pilot)


async def _sign_out(pilot: Pilot[None]) -> None:
    from tui.screens.sign_in import SignInScreen

    pilot.app.run_command("sign_out")  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(pilot.app.screen, SignInScreen))


async def _add(pilot: Pilot[None], name: str, amount: str) -> None:
    """In the formulation editor: type a name, take the first suggestion, type the amount."""
    screen = pilot.app.screen
    before = len(screen.components)  # type: ignore[attr-defined]
    screen.query_one("#picker-input", Input).focus()
    await pilot.press(*[c if c != " " else "space" for c in name])
    await pilot.pause(0.3)
    await pilot.press("down", "enter")
    await pilot.pause()
    amount_field = screen.query_one("#add-amount", Input)
    amount_field.focus()
    amount_field.value = amount
    await pilot.press("enter")
    await until(pilot, lambda: len(screen.components) == before + 1)  # type: ignore[attr-defined]


async def _record_and_sign(
    pilot: Pilot[None], clock: list[datetime], when: datetime, zones: dict[str, str]
) -> int:
    """From the chart: ctrl+n, zones and technique, review, acknowledge, password, sign."""
    from tui.screens.session import SessionScreen
    from tui.screens.sign_session import SignSessionScreen
    from tui.widgets.syringe_table import SyringeTable

    clock[0] = when
    await pilot.press("ctrl+n")
    await until(pilot, lambda: isinstance(pilot.app.screen, SessionScreen))
    screen = pilot.app.screen
    assert isinstance(screen, SessionScreen)
    await until(pilot, lambda: screen._ready)
    shown = screen.query_one(SyringeTable).syringe
    assert shown is not None
    for zone, volume in zones.items():
        screen.query_one(f"#zone-{zone}", Input).value = volume
    screen.query_one("#s-technique", Select).value = Technique.NAPPAGE
    await type_into(pilot, "#s-gauge", "32")
    await pilot.press("ctrl+g")
    await _until(pilot, lambda: isinstance(pilot.app.screen, SignSessionScreen))
    review = pilot.app.screen
    await settle(pilot)
    if review.query("#sign-acknowledge"):
        await pilot.click("#sign-acknowledge")
    review.query_one("#sign-password", Input).value = DOCTOR[2]
    await pilot.pause(0.3)
    await pilot.click("#sign-ok")
    await _until(pilot, lambda: screen.read_only)
    assert screen.session_id is not None
    return screen.session_id


async def _until_text(pilot: Pilot[None], wanted: str) -> None:
    await _until(pilot, lambda: wanted in screen_text(pilot))


async def _until(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 30) -> None:
    """:func:`until`, saying what the screen showed when it did not happen."""
    try:
        await until(pilot, condition, timeout)
    except AssertionError:
        notes = [f"{n.title}: {n.message}" for n in pilot.app._notifications]
        raise AssertionError(
            f"not reached; the screen shows:\n{screen_text(pilot)}\nnotifications: {notes}"
        ) from None


def _pdf_text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


async def test_the_first_week_of_a_new_clinic_in_the_app(tmp_path: Path) -> None:
    from tui.screens.export import ExportScreen
    from tui.screens.patient import PatientScreen
    from tui.screens.stock import StockScreen

    db = empty_clinic(tmp_path)
    clock = [MONDAY]
    app = _app(db, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        store = None

        # -- Monday: the administrator sets the clinic up ------------------------------
        await sign_in(pilot, ADMIN_NAME, ADMIN_PASSWORD)
        store, admin = app.store, user_of(app)
        assert store.list_products(admin) == [] and store.list_patients(admin, "") == []
        await open_users(pilot)
        await create_user(pilot, DOCTOR[0], DOCTOR[1], Role.PRACTITIONER, DOCTOR[2])
        await create_user(pilot, NURSE[0], NURSE[1], Role.ASSISTANT, NURSE[2])
        assert {(u.username, u.role) for u in store.list_users(admin)} >= {
            (DOCTOR[0], Role.PRACTITIONER),
            (NURSE[0], Role.ASSISTANT),
        }
        await _back_to_patients(pilot)

        await open_stock(pilot)
        await add_product(
            pilot,
            name="Biotin 5 mg/mL",
            presentation=Presentation.AMPOULE,
            volume="5 mL",
            ingredients=[("biotin", "5 mg/mL", "")],
            manufacturer="Aubrac Pharma",
        )
        await add_product(
            pilot,
            name="Sodium hyaluronate 10 mg/mL",
            presentation=Presentation.VIAL,
            volume="10 mL",
            ingredients=[("sodium-hyaluronate", "10 mg/mL", "")],
        )
        assert isinstance(app.screen, StockScreen)
        products = {p.name: p for p in store.list_products(admin)}
        biotin, hyaluronate = products["Biotin 5 mg/mL"], products["Sodium hyaluronate 10 mg/mL"]
        await receive_lot(pilot, product=biotin.id, lot="BT-1", expiry="2031-01-31", count=10)
        await receive_lot(
            pilot, product=hyaluronate.id, lot="HA-1", expiry="2030-06-30", volume="20 mL"
        )
        # The third box is scanned: its GTIN is new, so the app offers to create the product.
        await receive_lot(pilot, scan=f"]d201{GTIN_DEX}17301231\x1d10DX-77", save=False)
        await _until_text(pilot, f"No product has GTIN {GTIN_DEX}")
        await pilot.click("#confirm-ok")
        await add_product(
            pilot,
            name="Dexpanthenol 250 mg/mL",
            presentation=Presentation.AMPOULE,
            volume="2 mL",
            ingredients=[("dexpanthenol", "250 mg/mL", "")],
        )
        await receive_lot(pilot, count=5)
        assert isinstance(app.screen, StockScreen)
        dexpanthenol = store.product_by_gtin(admin, GTIN_DEX)
        assert dexpanthenol is not None
        on_hand = {lot.lot_number: lot.quantity_on_hand for lot in store.list_lots(admin)}
        assert on_hand == {
            "BT-1": on_hand["BT-1"],
            "HA-1": on_hand["HA-1"],
            "DX-77": on_hand["DX-77"],
        }
        assert [on_hand[n].value for n in ("BT-1", "HA-1", "DX-77")] == [50, 20, 10]

        # A clinic ingredient the library lacks, with the clinic's own limit.
        await add_clinic_ingredient(
            pilot, name="Adenosine", form="adenosine", molar_mass="267.24", source="PubChem"
        )
        await add_clinic_limit(
            pilot, ingredient="Adenosine", amount="3 mg", per="session", source="clinic protocol"
        )
        (limit,) = store.list_clinic_limits(admin)
        assert limit.ingredient_name == "Adenosine"
        await _back_to_patients(pilot)
        await _sign_out(pilot)

        # -- The practitioner: a patient, a cocktail, a course --------------------------
        await sign_in(pilot, DOCTOR[0], DOCTOR[2])
        doctor = app.user
        await add_patient(
            pilot,
            "MC-0001",
            "Haddad",
            "Karim",
            "1988-03-14",
            sex=Sex.MALE,
            weight="78 kg",
            allergies="procaine (urticaria)",
        )
        chart_screen = app.screen
        assert isinstance(chart_screen, PatientScreen)
        patient = chart_screen.chart.patient if chart_screen.chart else None
        assert patient is not None
        assert patient.weight_kg is not None and patient.weight_kg.value == Decimal(78)
        assert [a.substance for a in patient.allergies] == ["procaine"]
        await _until_text(pilot, "procaine")

        from tui.screens.formulation_editor import FormulationEditorScreen

        await pilot.press("ctrl+f")
        await until(pilot, lambda: getattr(app.screen, "data", None) is not None)
        editor = app.screen
        assert isinstance(editor, FormulationEditorScreen)
        await _add(pilot, "Biotin 5", "1 mL")
        await _add(pilot, "Sodium hyaluronate 10", "1 mL")
        await _add(pilot, "Dexpanthenol 250", "0.5 mL")
        await _add(pilot, "Dutasteride", "0.1 mg")  # a library ingredient, by amount
        await _add(pilot, "Adenosine", "1 mg")  # the clinic's own ingredient
        editor.query_one("#f-final", Input).value = "4 mL"
        await pilot.pause()
        assert [c.name for c in editor.components][:3] == [
            "Biotin 5 mg/mL",
            "Sodium hyaluronate 10 mg/mL",
            "Dexpanthenol 250 mg/mL",
        ]
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: bool(store.list_formulations(doctor, patient.id)))
        await _until_text(pilot, "Editing version 1 (not used yet)")
        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is chart_screen)
        await settle(pilot)
        (current,) = store.list_formulations(doctor, patient.id)
        (version,) = store.formulation_history(doctor, current.formulation_id)
        assert len(version.components) == 5
        assert {c.product_id is None for c in version.components} == {True, False}

        await pilot.press("f8")
        await until(pilot, lambda: app.screen is not chart_screen)
        app.screen.query_one("#c-name", Input).value = "Induction"
        app.screen.query_one("#c-sessions", Input).value = "6"
        app.screen.query_one("#c-interval", Input).value = "14"
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: app.screen is chart_screen)
        await _until_text(pilot, "Induction: session 1 of 6")
        (course,) = store.list_courses(doctor, patient.id)
        # The patient reads the clinic's default consent and types their name to sign it
        # for the course; the practitioner witnesses it with their password.
        await _until_text(pilot, "no consent signed for this course")
        await sign_consent_in_app(pilot, "Karim Haddad", DOCTOR[2])
        await _until_text(pilot, "consent signed for this course")
        (consent,) = store.consents(doctor, patient.id)
        assert consent.course_id == course.id and consent.witness_username == DOCTOR[0]

        # -- Two sessions, two weeks apart, each with its lots ---------------------------
        first = await _record_and_sign(
            pilot, clock, MONDAY + timedelta(hours=1), {"vertex": "2 mL", "mid_scalp": "2 mL"}
        )
        # The signed session shows what was in the syringe, every lot, and who signed.
        app.screen.query_one("#session-body").scroll_home(animate=False)
        await _until_text(pilot, "Signed by Dr Samuel Okafor")
        text = screen_text(pilot)
        for wanted in ("BT-1", "HA-1", "DX-77", "Dutasteride (ingredient)", NO_LOT):
            assert wanted in text, wanted
        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is chart_screen)
        second = await _record_and_sign(
            pilot, clock, MONDAY + timedelta(days=14, hours=1), {"vertex": "4 mL"}
        )
        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is chart_screen)
        await _until_text(pilot, "Induction: session 3 of 6")

        sessions = {s.id: s for s in store.list_sessions(doctor, patient.id)}
        assert set(sessions) == {first, second}
        for number, session_id in enumerate((first, second), start=1):
            session = sessions[session_id]
            assert session.status is SessionStatus.SIGNED and session.course_id == course.id
            assert session.session_number == number
            assert {u.lot_number for u in session.lots} == {"BT-1", "HA-1", "DX-77"}
            # The two ingredients added by amount have no lot: acknowledged, by name.
            acknowledged = [o for o in session.overrides if o.rule == "lot.missing"]
            assert sorted(o.message for o in acknowledged) == [
                "Adenosine: no lot recorded: traceability lost",
                "Dutasteride: no lot recorded: traceability lost",
            ]
            assert {o.by for o in acknowledged} == {DOCTOR[0]}

        # The stock went down by what the two sessions drew.
        after = {lot.lot_number: lot.quantity_on_hand.value for lot in store.list_lots(doctor)}
        assert after == {"BT-1": 48, "HA-1": 18, "DX-77": 9}

        # -- The chart exported as PDF from the app, read back -----------------------------
        out = tmp_path / "exports"
        await pilot.press("ctrl+x")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen))
        app.screen.query_one("#export-format", Select).value = "pdf"
        app.screen.query_one("#export-folder", Input).value = str(out)
        await settle(pilot)
        await pilot.press("ctrl+s")
        await _until_text(pilot, "Exported. Written:")
        (pdf,) = out.glob("*.pdf")
        text = _pdf_text(pdf)
        assert text.count("| SIGNED") == 2
        for row in (
            "Biotin 5 mg/mL BT-1 2031-01-31 1 mL",
            "Sodium hyaluronate 10 mg/mL HA-1 2030-06-30 1 mL",
            "Dexpanthenol 250 mg/mL DX-77 2030-12-31 0.5 mL",
            "Dutasteride no lot recorded (acknowledged by Dr Samuel Okafor)",
            "Adenosine no lot recorded (acknowledged by Dr Samuel Okafor)",
        ):
            assert text.count(row) == 2, row  # once per session
        assert "not recorded" not in text.replace("no lot recorded", "")
