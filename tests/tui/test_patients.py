"""The patient list, instant search, the patient form and the chart screen."""

from __future__ import annotations

from textual.widgets import Input, TabbedContent

from tests.tui.demo_data import Demo
from tests.tui.fixture_types import MakeApp, user_of
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.screens.course_form import CourseFormScreen
from tui.screens.outcome_form import OutcomeFormScreen
from tui.screens.patient import PatientScreen
from tui.screens.patient_form import PatientFormScreen
from tui.screens.patients import PatientsScreen
from tui.widgets.field_row import FieldRow
from tui.widgets.patient_list import PatientList


async def test_search_as_you_type_by_name_chart_and_birth_date(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        assert isinstance(app.screen, PatientsScreen)
        # Course progress is read once typing pauses: Dubois, two signed sessions of eight.
        await until(pilot, lambda: "session 3 of 8" in screen_text(pilot))
        text = screen_text(pilot)
        assert "DUBOIS, Marc" in text and "MOREAU, Claire" in text
        assert "2026-10-05 overdue" in text
        await pilot.press(*"dub")
        await settle(pilot)
        patients = app.screen.query_one(PatientList)
        assert patients.row_count == 1
        search = app.screen.query_one("#patient-search", Input)
        search.value = "C-1003"
        await settle(pilot)
        assert "NGUYEN, Linh" in screen_text(pilot) and patients.row_count == 1
        search.value = "1970-11-20"
        await settle(pilot)
        assert "GARCIA, Pablo" in screen_text(pilot) and patients.row_count == 1
        search.value = "nobody-by-this-name"
        await settle(pilot)
        assert patients.row_count == 0
        assert "0 patient(s) matching" in screen_text(pilot)


async def test_open_a_patient_shows_header_and_tabs(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.screen.query_one("#patient-search", Input).value = "dubois"
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        text = screen_text(pilot)
        assert "DUBOIS, Marc" in text and "C-1002" in text and "47 y" in text
        assert "CONTRAINDICATIONS: anticoagulants" in text
        assert "Autumn course: session 3 of 8" in text
        tabs = app.screen.query_one(TabbedContent)
        for pane, expected in (
            ("tab-formulation", "Dubois scalp cocktail, version 1"),
            ("tab-formulation", "41.67 mg/mL"),  # dexpanthenol 125 mg in the 3 mL mix
            ("tab-sessions", "Dr Claire Martin"),
            ("tab-outcomes", "158 hairs/cm2"),
        ):
            tabs.active = pane
            await settle(pilot)
            assert expected in screen_text(pilot), pane
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PatientsScreen)


async def test_new_patient_form_explains_bad_input_then_saves(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PatientFormScreen)
        form.query_one("#f-chart", Input).value = "C-1002"  # already taken
        form.query_one("#f-dob", Input).value = "31/12/1980"
        form.query_one("#f-allergies", Input).value = "latex (rash"
        await pilot.press("ctrl+s")
        await settle(pilot)
        errors = {row.id: row.error for row in form.query(FieldRow)}
        assert errors["row-family"] == "Required: the family name."
        assert errors["row-dob"] == "Type the date as YYYY-MM-DD."
        assert errors["row-sex"].startswith("Choose one")
        assert errors["row-allergies"].startswith("Cannot read")
        assert errors["row-chart"] == ""
        assert "field(s) need attention" in screen_text(pilot)
        form.query_one("#f-family", Input).value = "Petit"
        form.query_one("#f-given", Input).value = "Jeanne"
        form.query_one("#f-dob", Input).value = "1980-12-31"
        form.query_one("#f-allergies", Input).value = "latex (rash)"
        from textual.widgets import Select

        from formulary.records import Sex

        form.query_one("#f-sex", Select).value = Sex.FEMALE
        await pilot.press("ctrl+s")
        await settle(pilot)
        # The Store refuses the duplicate chart number; the form keeps what was typed.
        assert isinstance(app.screen, PatientFormScreen)
        assert "Not saved" in screen_text(pilot)
        assert form.query_one("#f-family", Input).value == "Petit"
        form.query_one("#f-chart", Input).value = "C-2001"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        text = screen_text(pilot)
        assert "PETIT, Jeanne" in text and "ALLERGIES: latex (rash)" in text
        saved = app.store.find_patient(user_of(app), "C-2001")
        assert saved.family_name == "Petit" and saved.allergies[0].reaction == "rash"


async def test_patient_form_messages_follow_the_corrections(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PatientFormScreen)
        form.query_one("#f-dob", Input).value = "31/12/1980"
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Chart number, family name, given name, date of birth and sex.
        assert "5 field(s) need attention" in screen_text(pilot)
        form.query_one("#f-family", Input).focus()
        await pilot.press(*"Petit")
        await settle(pilot)
        text = screen_text(pilot)
        assert "Required: the family name." not in text
        assert "4 field(s) need attention" in text
        # A field still wrong keeps a message about what it holds now.
        form.query_one("#f-dob", Input).value = "1980-12-32"
        await settle(pilot)
        errors = {row.id: row.error for row in form.query(FieldRow)}
        assert errors["row-dob"] == "December 1980 has no day 32; check the day."
        # Typing does not raise new messages before the next save.
        form.query_one("#f-weight", Input).value = "heavy"
        await settle(pilot)
        assert form.query_one("#row-weight", FieldRow).error == ""
        assert "4 field(s) need attention" in screen_text(pilot)
        form.query_one("#f-chart", Input).value = "C-2002"
        form.query_one("#f-given", Input).value = "Jeanne"
        form.query_one("#f-dob", Input).value = "1980-12-31"
        await settle(pilot)
        assert "1 field(s) need attention" in screen_text(pilot)
        from textual.widgets import Select

        from formulary.records import Sex

        form.query_one("#f-sex", Select).value = Sex.FEMALE
        await settle(pilot)
        text = screen_text(pilot)
        assert "need attention" not in text and "Choose one" not in text


async def test_outcome_form_explains_bad_input_then_records(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["nguyen"])
        await settle(pilot)
        await pilot.press("f7")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, OutcomeFormScreen)
        form.query_one("#o-date", Input).value = "2026-13-01"
        form.query_one("#o-density", Input).value = "150 kg"
        await pilot.press("ctrl+s")
        await pilot.pause()
        errors = {row.id: row.error for row in form.query(FieldRow)}
        assert errors["row-o-date"] == "There is no month 13; months run 01 to 12."
        assert errors["row-o-density"] != ""
        form.query_one("#o-date", Input).value = "2026-11-01"
        form.query_one("#o-density", Input).value = "150 hairs/cm2"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        outcomes = app.store.list_outcomes(user_of(app), demo.patients["nguyen"])
        assert [str(o.density.value) if o.density else "" for o in outcomes] == ["150"]


async def test_plan_a_course_explains_bad_input_then_shows_progress(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["moreau"])
        await settle(pilot)
        assert "no course planned (f8 plans one)" in screen_text(pilot)
        await pilot.press("f8")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CourseFormScreen)
        form.query_one("#c-name", Input).value = ""
        form.query_one("#c-sessions", Input).value = "8.5"
        form.query_one("#c-interval", Input).value = "0"
        form.query_one("#c-start", Input).value = "15/12/2026"
        await pilot.press("ctrl+s")
        await pilot.pause()
        errors = {row.id: row.error for row in form.query(FieldRow)}
        assert errors["row-c-name"].startswith("Required")
        assert errors["row-c-sessions"] == "Type a whole number of sessions from 1 to 100."
        assert errors["row-c-interval"] == "Type a whole number of days from 1 to 365."
        assert errors["row-c-start"] == "Type the date as YYYY-MM-DD."
        assert app.store.list_courses(user_of(app), demo.patients["moreau"]) == []
        form.query_one("#c-name", Input).value = "Spring course"
        form.query_one("#c-sessions", Input).value = "6"
        form.query_one("#c-interval", Input).value = "21"
        form.query_one("#c-start", Input).value = "2026-12-01"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        assert "Spring course: session 1 of 6" in screen_text(pilot)
        assert "next due 2026-12-01" in screen_text(pilot)
        (course,) = app.store.list_courses(user_of(app), demo.patients["moreau"])
        assert (course.planned_sessions, course.interval_days) == (6, 21)
        await pilot.press("escape")
        await settle(pilot)
        await until(pilot, lambda: "session 1 of 6" in screen_text(pilot))
