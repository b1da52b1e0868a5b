"""What a new user met in a new clinic (``formulary init``, no demo), and must not meet again.

Each test starts from an empty database made by ``formulary init`` (tests/tui/new_clinic.py)
and drives the app as the tester did.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, Static

from formulary.records import Technique
from tests.tui.fixture_types import screen_of
from tests.tui.new_clinic import (
    ADMIN,
    DOCTOR,
    NURSE,
    WEIGHED_ON,
    Clinic,
    clinic_app,
    new_clinic,
    open_chart,
    open_new_session,
)
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until

if TYPE_CHECKING:
    from tui.screens.sign_session import SignSessionScreen


async def test_the_chart_shows_the_latest_weight_with_its_date_and_the_height(
    tmp_path: Path,
) -> None:
    clinic = new_clinic(tmp_path)
    async with clinic_app(clinic).run_test(size=(120, 40)) as pilot:
        await open_chart(pilot)
        shown = screen_text(pilot)
        assert f"61.5 kg on {WEIGHED_ON.isoformat()}" in shown
        assert "164 cm" in shown


async def test_the_lot_list_says_expired_for_a_lot_past_its_expiry(tmp_path: Path) -> None:
    from textual.widgets import DataTable, TabbedContent

    from tests.tui.stock_helpers import open_stock

    clinic = new_clinic(tmp_path)
    async with clinic_app(clinic).run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await open_stock(pilot)
        pilot.app.screen.query_one(TabbedContent).active = "tab-lots"
        await settle(pilot)
        table = pilot.app.screen.query_one("#lots", DataTable)
        status = {
            str(table.get_row(key)[1]): str(table.get_row(key)[4]) for key in table.rows
        }
        assert status == {"BT-GOOD": "available", "BT-RECALL": "recalled", "BT-OLD": "expired"}


async def test_help_lists_the_apps_own_keys_by_screen_in_plain_words(tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from tui.screens.help import HelpScreen

    clinic = new_clinic(tmp_path)
    async with clinic_app(clinic).run_test(size=(120, 40)) as pilot:
        await open_chart(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        help_screen = pilot.app.screen
        titles = [str(s.render()) for s in help_screen.query(".help-title")]
        rows = [
            [str(cell) for cell in table.get_row(key)]
            for table in help_screen.query(DataTable)
            for key in table.rows
        ]
        assert titles[:3] == ["This screen: Patient chart", "Everywhere", "Patient list"]
        assert "Session" in titles and "Formulary and stock" in titles
        assert ["^n", "New session", "patient.new_session"] in rows
        assert ["f1", "Help", "help"] in rows
        shown = screen_text(pilot)
        assert "PatientScreen" not in shown
        # The text field's own keys are not the app's.
        assert not any("cursor" in row[1].lower() for row in rows)


async def _review_and_sign(pilot: Pilot[None]) -> SignSessionScreen:
    """From a new session: a zone and the technique, then ctrl+g to the signing dialog."""
    from tui.screens.sign_session import SignSessionScreen

    screen = pilot.app.screen
    screen.query_one("#zone-vertex", Input).value = "1 mL"
    screen.query_one("#s-technique", Select).value = Technique.NAPPAGE
    await settle(pilot)
    await pilot.press("ctrl+g")
    await until(pilot, lambda: isinstance(pilot.app.screen, SignSessionScreen))
    review = pilot.app.screen
    assert isinstance(review, SignSessionScreen)
    return review


async def test_a_wrong_signing_password_keeps_the_dialog_open_to_try_again(
    tmp_path: Path,
) -> None:
    from tui.screens.session import SessionScreen

    clinic = new_clinic(tmp_path)
    app = clinic_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new_session(pilot)
        session = app.screen
        assert isinstance(session, SessionScreen)
        review = await _review_and_sign(pilot)
        review.query_one("#sign-password", Input).value = "not-my-password"
        await pilot.press("enter")
        await until(pilot, lambda: "Wrong password" in _error(review))
        assert app.screen is review and not session.read_only
        assert "unknown username" not in _error(review)
        assert review.query_one("#sign-password", Input).value == ""
        assert review.query_one("#sign-password", Input).has_focus
        # Typed again, right: signed.
        review.query_one("#sign-password", Input).value = DOCTOR[2]
        await pilot.press("enter")
        await until(pilot, lambda: session.read_only)
        assert screen_of(app) is session


async def test_the_signing_dialog_stops_offering_once_the_account_locks(tmp_path: Path) -> None:
    from db.auth import MAX_FAILED_LOGINS

    clinic = new_clinic(tmp_path)
    app = clinic_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new_session(pilot)
        review = await _review_and_sign(pilot)
        for attempt in range(MAX_FAILED_LOGINS):
            review.query_one("#sign-password", Input).value = f"wrong-{attempt}"
            await pilot.press("enter")
            await until(pilot, lambda: "Signing" not in _error(review))
        assert "locked" in _error(review)
        assert review.query_one("#sign-password", Input).disabled
        assert app.screen is review


def _error(review: SignSessionScreen) -> str:
    return str(review.query_one("#sign-error", Static).render())


async def test_an_assistant_is_told_up_front_that_she_prepares_and_a_practitioner_signs(
    tmp_path: Path,
) -> None:
    from textual.widgets import Button

    from formulary.records import SessionStatus
    from tests.tui.fixture_types import user_of
    from tui.screens.session import SessionScreen
    from tui.screens.sign_session import SignSessionScreen

    clinic = new_clinic(tmp_path)
    app = clinic_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new_session(pilot, NURSE)
        session = app.screen
        assert isinstance(session, SessionScreen)
        # Said on the screen before anything is typed, and the sign button says who signs.
        note = str(session.query_one("#session-role-note", Static).render())
        assert "a practitioner or an administrator reviews and signs it" in note
        assert "You are signed in as an assistant" in screen_text(pilot)
        sign = session.query_one("#sign", Button)
        assert sign.disabled and "practitioner" in str(sign.label)
        assert session.check_action("sign", ()) is None  # greyed out in the footer
        # She still saves her draft; ctrl+g explains instead of asking for a password.
        session.query_one("#zone-vertex", Input).value = "1 mL"
        session.query_one("#s-technique", Select).value = Technique.NAPPAGE
        await pilot.press("ctrl+s")
        await settle(pilot)
        def who_signs() -> list[str]:
            return [n.message for n in app._notifications if n.title == "Who signs"]

        assert who_signs() == []
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert not isinstance(app.screen, SignSessionScreen)
        # The greyed-out key answers: a notice says who signs (not silence).
        await until(pilot, lambda: any("reviews and signs it" in m for m in who_signs()))
        assert session.session_id is not None
        draft = app.store.get_session(user_of(app), session.session_id)
        assert draft.status is SessionStatus.DRAFT and draft.technique is Technique.NAPPAGE


async def test_escape_on_a_session_asks_before_losing_a_value_it_cannot_keep(
    tmp_path: Path,
) -> None:
    from tests.tui.fixture_types import user_of
    from tui.screens.form_guard import DiscardChangesScreen
    from tui.screens.patient import PatientScreen
    from tui.screens.session import SessionScreen

    clinic = new_clinic(tmp_path)
    app = clinic_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new_session(pilot)
        session = app.screen
        assert isinstance(session, SessionScreen)
        session.query_one("#zone-vertex", Input).value = "1 mL"
        session.query_one("#s-gauge", Input).value = "32G"
        session.query_one("#zone-frontal", Input).value = "half"
        await pilot.press("ctrl+s")
        await settle(pilot)
        # The draft is saved, and says loudly what it could not keep.
        status = str(session.query_one("#session-status", Static).render())
        assert "NOT saved until corrected: Frontal volume, Needle gauge" in status
        # Escape asks, naming each value, what is wrong and how to go on.
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, DiscardChangesScreen))
        asked = screen_text(pilot)
        assert "Needle gauge" in asked and "32G" in asked and "A gauge from 18 to 34" in asked
        assert "Frontal volume" in asked and "half" in asked
        await pilot.press("escape")  # keep editing
        await settle(pilot)
        assert isinstance(screen_of(app), SessionScreen)
        assert session.query_one("#s-gauge", Input).value == "32G"
        # Corrected, Escape closes at once and the draft keeps everything.
        session.query_one("#s-gauge", Input).value = "32"
        session.query_one("#zone-frontal", Input).value = ""
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, PatientScreen))
        await settle(pilot)
        assert session.session_id is not None
        draft = app.store.get_session(user_of(app), session.session_id)
        assert draft.needle_gauge == 32


async def test_a_draft_the_store_refuses_on_close_is_a_notice_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from db.errors import StoreError
    from tui.screens.patient import PatientScreen
    from tui.screens.session import SessionScreen

    clinic = new_clinic(tmp_path)
    app = clinic_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new_session(pilot)
        session = app.screen
        assert isinstance(session, SessionScreen)
        session.query_one("#zone-vertex", Input).value = "1 mL"

        def refused(*args: object, **kwargs: object) -> None:
            raise StoreError("the database is read-only")

        monkeypatch.setattr(app.store, "save_session_draft", refused)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, PatientScreen))
        await settle(pilot)
        notices = [(n.title, n.message) for n in app._notifications]
        assert any(
            title == "Draft not saved" and "the database is read-only" in message
            for title, message in notices
        ), notices
        assert app.is_running


async def test_escape_on_an_addendum_asks_before_throwing_the_typed_text_away(
    tmp_path: Path,
) -> None:
    from tui.screens.addendum import AddendumScreen
    from tui.screens.form_guard import DiscardChangesScreen
    from tui.screens.session import SessionScreen

    clinic = new_clinic(tmp_path)
    app = clinic_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new_session(pilot)
        session = app.screen
        assert isinstance(session, SessionScreen)
        review = await _review_and_sign(pilot)
        review.query_one("#sign-password", Input).value = DOCTOR[2]
        await pilot.press("enter")
        await until(pilot, lambda: session.read_only)
        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(pilot.app.screen, AddendumScreen))
        addendum = pilot.app.screen
        assert addendum.query_one("#addendum-text", Input).has_focus
        await pilot.press(*"pain 3", "tab", *"misheard")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, DiscardChangesScreen))
        await pilot.press("escape")  # keep editing
        await settle(pilot)
        assert screen_of(app) is addendum
        assert addendum.query_one("#addendum-text", Input).value == "pain 3"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, DiscardChangesScreen))
        await pilot.press("d")
        await until(pilot, lambda: screen_of(app) is session)


async def test_a_lot_recalled_after_it_was_chosen_is_shown_with_its_recall(
    tmp_path: Path,
) -> None:
    from formulary.records import LotStatus
    from tests.tui.fixture_types import user_of
    from tui.screens.session import SessionScreen
    from tui.widgets.lot_picker import LotPicker
    from tui.widgets.syringe_table import SyringeTable

    clinic = new_clinic(tmp_path)
    app = clinic_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new_session(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        # The lot in the draft is recalled before the session is resumed.
        admin = app.store.authenticate(ADMIN[0], ADMIN[2])
        app.store.set_lot_status(admin, clinic.lot_id, LotStatus.RECALLED, "supplier recall")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(pilot.app.screen, SessionScreen))
        session = app.screen
        assert isinstance(session, SessionScreen)
        await until(pilot, lambda: session._ready)
        shown = session.query_one(SyringeTable).syringe
        assert shown is not None
        (line,) = shown.lines
        assert line.lot is not None and line.lot.state == "recalled"
        assert line.lot_text.startswith("BT-GOOD") and "RECALLED" in line.lot_text
        assert "no lot recorded" not in screen_text(pilot)
        picker = session.query_one(LotPicker)
        assert "recalled" in picker.message
        # Signing it is blocked by the safety rules (an override reason would be needed).
        review = await _review_and_sign(pilot)
        findings = str(review.query_one("#sign-findings", Static).render())
        assert "BLOCK" in findings and "BT-GOOD has been recalled" in findings
        assert user_of(app).username == DOCTOR[0]


def _signed_session_earlier_today(clinic: Clinic) -> None:
    """A course of the patient, and one session of it signed an hour ago (through the Store)."""
    from datetime import date, datetime, timedelta

    from db.database import open_database
    from db.store import LotChoice, SessionDraft, Store
    from formulary.records import ScalpZone, ZoneVolume
    from formulary.units.amount import Amount

    database = open_database(clinic.path)
    try:
        store = Store(database)
        doctor = store.authenticate(DOCTOR[0], DOCTOR[2])
        version = store.load_chart(doctor, clinic.patient_id).formulation_versions[-1]
        course = store.start_course(
            doctor,
            patient_id=clinic.patient_id,
            name="Winter course",
            planned_sessions=6,
            interval_days=14,
            start_date=date.today(),
            formulation_id=version.formulation_id,
        )
        from tests.consent_helpers import sign_consent

        sign_consent(store, doctor, DOCTOR[2], clinic.patient_id, course.id)
        one_ml = Amount(Decimal(1), "mL")
        draft = store.save_session_draft(
            doctor,
            SessionDraft(
                patient_id=clinic.patient_id,
                formulation_version_id=version.id,
                performed_at=datetime.now().astimezone() - timedelta(hours=1),
                course_id=course.id,
                session_number=1,
                technique=Technique.NAPPAGE,
                total_volume=one_ml,
                zones=(ZoneVolume(ScalpZone.VERTEX, one_ml),),
                lots=(LotChoice(1, clinic.lot_id),),
            ),
        )
        store.sign_session(doctor, draft.id, DOCTOR[2])
    finally:
        database.dispose()


async def test_a_same_day_second_session_is_signed_only_with_a_reason(tmp_path: Path) -> None:
    from tests.tui.fixture_types import user_of
    from tui.screens.session import SessionScreen

    clinic = new_clinic(tmp_path)
    _signed_session_earlier_today(clinic)
    app = clinic_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new_session(pilot)
        session = app.screen
        assert isinstance(session, SessionScreen)
        review = await _review_and_sign(pilot)
        findings = str(review.query_one("#sign-findings", Static).render())
        assert "WARNING (needs a reason): a second session on" in findings
        review.query_one("#sign-acknowledge", Checkbox).value = True
        review.query_one("#sign-password", Input).value = DOCTOR[2]
        review.query_one("#sign-password", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        # Ticking is not enough: the reason is asked for, and nothing is signed yet.
        assert "write why it is right to proceed" in _error(review)
        assert not session.read_only
        why = "patient flies abroad tomorrow for a month"
        review.query_one("#sign-reason", Input).value = why
        review.query_one("#sign-password", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: session.read_only)
        assert session.session_id is not None
        signed = app.store.get_session(user_of(app), session.session_id)
        (ack,) = [o for o in signed.overrides if o.rule == "schedule.interval"]
        assert ack.reason == why and ack.severity == "warning"


async def test_typing_on_after_a_scan_stays_in_the_field_typed_in(tmp_path: Path) -> None:
    """A scan without Enter, then tab at once: the scan is read as the field is left, and
    the keys typed next stay where the user typed them (the focus is not pulled away)."""
    from db.database import open_database
    from db.store import ProductFields, Store, StrengthSpec
    from formulary.records import Presentation
    from formulary.units.amount import Amount
    from tests.tui.stock_helpers import open_stock
    from tui.screens.receive_lot import ReceiveLotScreen

    clinic = new_clinic(tmp_path)
    database = open_database(clinic.path)
    try:
        store = Store(database)
        admin = store.authenticate(ADMIN[0], ADMIN[2])
        dex = next(i.id for i in store.list_ingredients(admin) if i.key == "dexpanthenol")
        store.add_product(
            admin,
            ProductFields(
                "Dexpanthenol 250 mg/mL",
                Presentation.AMPOULE,
                Amount(Decimal(2), "mL"),
                (StrengthSpec(dex, Amount(Decimal(250), "mg/mL")),),
                gtin="09506000134352",
            ),
        )
    finally:
        database.dispose()
    app = clinic_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await open_stock(pilot)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReceiveLotScreen))
        form = pilot.app.screen
        form.query_one("#lot-number", Input).focus()
        await pilot.press(*"]d20109506000134352173012311", "0", *"DX-77")
        await pilot.press("tab", "tab")  # past the product, to the expiry
        await pilot.pause(0.6)  # longer than the scanner's pause
        assert form.query_one("#lot-expiry", Input).has_focus
        assert form.query_one("#lot-number", Input).value == "DX-77"
        assert form.query_one("#lot-expiry", Input).value == "2030-12-31"
        await pilot.press("ctrl+u")  # clear the expiry the scan filled
        await pilot.press(*"2030-11-30")
        await settle(pilot)
        assert form.query_one("#lot-expiry", Input).value == "2030-11-30"
        assert form.query_one("#lot-quantity", Input).value == ""
        # Typing a lot by hand after the scan: the scan's note goes with it.
        assert "Scanned" in str(form.query_one("#scan-note", Static).render())
        form.query_one("#lot-number", Input).focus()
        await pilot.press("end", "8")
        await settle(pilot)
        assert str(form.query_one("#scan-note", Static).render()) == ""


async def test_a_failed_checkpoint_after_signing_says_the_session_is_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import db.audit.service as service
    from tui.screens.session import SessionScreen

    def no_log(*_args: object, **_kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    clinic = new_clinic(tmp_path)
    app = clinic_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new_session(pilot)
        session = app.screen
        assert isinstance(session, SessionScreen)
        review = await _review_and_sign(pilot)
        monkeypatch.setattr(service, "checkpoint_database", no_log)
        review.query_one("#sign-password", Input).value = DOCTOR[2]
        await pilot.press("enter")
        await until(pilot, lambda: "SIGNED" in _error(review))
        shown = _error(review)
        assert "Not signed" not in shown
        assert "signed and saved" in shown and "No space left on device" in shown
        assert "formulary audit checkpoint" in shown  # the fix
        assert review.query_one("#sign-password", Input).disabled
        await pilot.press("escape")
        await until(pilot, lambda: session.read_only)  # the session shows as signed
        assert screen_of(app) is session


async def test_at_80x24_every_zone_entry_and_the_lot_are_whole_on_screen(tmp_path: Path) -> None:
    from tui.screens.session import SessionScreen
    from tui.widgets.lot_picker import LotPicker
    from tui.widgets.zone_map import LABELS, ScalpDrawing

    clinic = new_clinic(tmp_path)
    app = clinic_app(clinic)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_new_session(pilot)
        session = app.screen
        assert isinstance(session, SessionScreen)
        assert not session.query_one(ScalpDrawing).display  # the drawing steps aside
        rows = []
        for zone in LABELS:
            for kind in ("zone", "points"):
                field = session.query_one(f"#{kind}-{zone.value}", Input)
                assert field.region.right <= 80, f"{field.id} is cut off"
                rows.append(field.region.y)
        # One line per zone, no blank line between: the seven fit on one 24-line screen.
        assert max(rows) - min(rows) == len(LABELS) - 1
        picker = session.query_one(LotPicker)
        assert picker.query_one(Select).region.right <= 80


async def test_a_dialogs_message_goes_under_its_field_at_80_columns(tmp_path: Path) -> None:
    from textual.widgets import Button

    from tui.screens.addendum import AddendumScreen
    from tui.screens.session import SessionScreen
    from tui.widgets.field_row import FieldRow

    clinic = new_clinic(tmp_path)
    app = clinic_app(clinic)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_new_session(pilot)
        session = app.screen
        assert isinstance(session, SessionScreen)
        review = await _review_and_sign(pilot)
        review.query_one("#sign-password", Input).value = DOCTOR[2]
        review.query_one("#sign-password", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: session.read_only)
        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(pilot.app.screen, AddendumScreen))
        dialog = pilot.app.screen
        dialog.query_one("#addendum-ok", Button).press()
        await settle(pilot)
        row = dialog.query_one("#row-addendum-text", FieldRow)
        field = row.query_one(".field")
        message = row.query_one(".field-error")
        assert row.error == "Write the correction."
        # The field keeps the row's width; the message is under it, not squeezed beside.
        assert message.region.y >= field.region.bottom
        assert field.region.width >= 40


async def test_an_assistants_draft_signed_by_a_practitioner_names_both_on_every_export(
    tmp_path: Path,
) -> None:
    """The syringe label said who prepared a session; the review before signing and the
    chart exports said only who signed it. An assistant prepares, a practitioner signs:
    the review, the PDF note, the FHIR bundle and the CSV name both."""
    import csv
    import io
    import json
    import re

    from pypdf import PdfReader

    from db.database import open_database
    from db.ops.exports import ExportResult, export_session
    from db.store import Store
    from tui.screens.session import SessionScreen
    from tui.screens.sign_session import SignSessionScreen

    clinic = new_clinic(tmp_path)
    # The assistant prepares the session and saves her draft.
    app = clinic_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new_session(pilot, NURSE)
        nurse_screen = app.screen
        assert isinstance(nurse_screen, SessionScreen)
        nurse_screen.query_one("#zone-vertex", Input).value = "1 mL"
        nurse_screen.query_one("#s-technique", Select).value = Technique.NAPPAGE
        await pilot.press("ctrl+s")
        await until(pilot, lambda: nurse_screen.session_id is not None)
        session_id = nurse_screen.session_id
    assert session_id is not None
    # The practitioner resumes her draft, reads who prepared it, and signs.
    app = clinic_app(clinic)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_new_session(pilot, DOCTOR)  # ctrl+n resumes the patient's draft
        session = app.screen
        assert isinstance(session, SessionScreen) and session.session_id == session_id
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(pilot.app.screen, SignSessionScreen))
        review = app.screen
        assert isinstance(review, SignSessionScreen)
        shown = str(review.query_one("#sign-review", Static).render())
        assert "Prepared by Nurse Lea Berg (nurse.berg)" in shown
        assert "Signing as Dr Kenji Ito" in screen_text(pilot)
        review.query_one("#sign-password", Input).value = DOCTOR[2]
        await pilot.press("enter")
        await until(pilot, lambda: session.read_only)

    def kept(_result: ExportResult) -> list[Path]:
        return []  # the files are read from the result

    database = open_database(clinic.path)
    try:
        store = Store(database)
        doctor = store.authenticate(DOCTOR[0], DOCTOR[2])
        pdf, fhir, csv_files = (
            export_session(store, doctor, session_id, fmt, kept).files
            for fmt in ("pdf", "fhir", "csv")
        )
    finally:
        database.dispose()
    # PDF: who prepared it on the line before who signed it.
    (pdf_bytes,) = pdf.values()
    text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Prepared by Nurse Lea Berg (nurse.berg) Signed: Dr Kenji Ito (dr.ito)" in text
    # FHIR: the signer performs; the assistant is a second performer, the preparer.
    (fhir_bytes,) = fhir.values()
    bundle = json.loads(fhir_bytes)
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    ((admin_url, admin),) = [(url, r) for url, r in by_url.items()
                             if r["resourceType"] == "MedicationAdministration"]
    signer, preparer = admin["performer"]
    assert "function" not in signer
    assert preparer["function"]["coding"][0]["code"] == "preparer"
    assert [by_url[p["actor"]["reference"]]["identifier"][0]["value"]
            for p in (signer, preparer)] == ["dr.ito", "nurse.berg"]
    assert by_url[preparer["actor"]["reference"]]["name"][0]["text"] == "Nurse Lea Berg"
    (provenance,) = [r for r in by_url.values() if r["resourceType"] == "Provenance"
                     and r["target"][0]["reference"] == admin_url]
    assert provenance["signature"][0]["who"]["display"] == "Dr Kenji Ito"
    # CSV: the signer's columns and the preparer's.
    sessions_csv = next(data for name, data in csv_files.items()
                        if name.endswith("-sessions.csv"))
    (row,) = csv.DictReader(io.StringIO(sessions_csv.decode("utf-8"), newline=""))
    assert (row["signed_by"], row["signed_by_name"]) == ("dr.ito", "Dr Kenji Ito")
    assert (row["prepared_by"], row["prepared_by_name"]) == ("nurse.berg", "Nurse Lea Berg")
