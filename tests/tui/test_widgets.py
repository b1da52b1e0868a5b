"""Widgets shown with hand-built records, as the user would see them."""

from __future__ import annotations

from datetime import date

from textual.app import App, ComposeResult
from textual.widgets import Static

from formulary.records import ScalpZone
from tests.tui.pilot_helpers import screen_text
from tests.tui.records_factory import ALLERGIC, patient, summary
from tui.widgets.patient_header import PatientHeader, age_on, header_text
from tui.widgets.patient_list import PatientList, course_progress
from tui.widgets.zone_map import TEMPLATE, ScalpDrawing, ZoneMap, zone_at

TODAY = date(2026, 11, 24)


class _Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[int] = []

    def compose(self) -> ComposeResult:
        yield PatientHeader(id="header")
        yield PatientList(id="list")

    def on_patient_list_selected(self, message: PatientList.Selected) -> None:
        self.selected.append(message.patient_id)


def test_course_progress_reads_like_the_chart() -> None:
    p = patient()
    assert course_progress(summary(p, done=2, planned=8)) == "session 3 of 8"
    assert course_progress(summary(p, done=8, planned=8)) == "course complete (8)"


def test_age_counts_completed_years() -> None:
    assert age_on(date(1980, 11, 25), TODAY) == 45
    assert age_on(date(1980, 11, 24), TODAY) == 46


def test_header_shows_allergies_and_contraindications() -> None:
    text = header_text(ALLERGIC, TODAY).plain
    assert "DUBOIS, Marc" in text and "C-0002" in text and "50 y" in text
    assert "ALLERGIES: lidocaine (urticaria)" in text
    assert "CONTRAINDICATIONS: pregnancy" in text
    assert "NO CONSENT" not in text
    # The consent status comes from the chart's signed consents, not the old mark.
    assert "NO CONSENT ON FILE" in header_text(patient(), TODAY, consents=()).plain
    assert "NO CONSENT" not in header_text(patient(), TODAY).plain


async def test_patient_list_rows_and_selection() -> None:
    app = _Host()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(PatientList)
        rows = [
            summary(patient(1, chart="C-0001"), done=2, next_due=date(2026, 11, 20)),
            summary(ALLERGIC, done=0, next_due=date(2026, 12, 1)),
            summary(patient(3, "Bra[ck]et", "Ann", "C-0003"), done=1),
        ]
        table.show(rows, TODAY)
        await pilot.pause()
        assert table.row_count == 3
        first = table.row_cells(0)
        assert first[3] == "session 3 of 8"
        assert "overdue" in first[4]
        assert "overdue" not in table.row_cells(1)[4]
        # Names are data, never markup.
        assert table.row_cells(2)[1] == "BRA[CK]ET, Ann"
        text = screen_text(pilot)
        assert "session 3 of 8" in text and "BRA[CK]ET, Ann" in text
        table.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.selected == [2]


async def test_patient_list_scrolls_to_the_cursor_and_opens_by_mouse() -> None:
    app = _Host()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(PatientList)
        rows = [
            summary(patient(n, f"Family{n:03d}", "Ann", f"C-{n:04d}"), done=1)
            for n in range(1, 101)
        ]
        table.show(rows, TODAY, with_progress=False)
        table.focus()
        await pilot.pause()
        assert "FAMILY100" not in screen_text(pilot)
        assert table.row_cells(0)[3] == ""  # progress not read yet: blank, not "no course"
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == 99 and "FAMILY100, Ann" in screen_text(pilot)
        await pilot.press("home", "pagedown")
        await pilot.pause()
        assert table.cursor_row > 10 and "FAMILY001" not in screen_text(pilot)
        await pilot.press("home")
        await pilot.pause()
        # The same answer again (coming back from a chart) keeps the cursor where it is.
        table.show(rows, TODAY, with_progress=False)
        table.show_progress(rows[:1], TODAY)
        assert table.row_cells(0)[3] == "session 2 of 8"
        # One click highlights, a click on the highlighted row opens.
        await pilot.click(PatientList, offset=(5, 3))  # the header, then rows 0, 1, 2
        await pilot.pause()
        assert table.cursor_row == 2 and app.selected == []
        await pilot.click(PatientList, offset=(5, 3))
        await pilot.pause()
        assert app.selected == [3]
        await pilot.click(PatientList, offset=(5, 0))  # the header opens nothing
        await pilot.pause()
        assert app.selected == [3]


class _MapHost(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.changes: list[dict[ScalpZone, str]] = []

    def compose(self) -> ComposeResult:
        yield ZoneMap(id="zones")

    def on_zone_map_changed(self, message: ZoneMap.Changed) -> None:
        self.changes.append(dict(message.volumes))


def test_every_zone_is_drawn_and_clickable() -> None:
    found = {zone_at(x, y) for y, line in enumerate(TEMPLATE) for x in range(len(line))}
    assert found - {None} == set(ScalpZone)


async def test_zone_map_collects_entries_and_shows_them_on_the_drawing() -> None:
    app = _MapHost()
    async with app.run_test(size=(120, 40)) as pilot:
        zone_map = app.query_one(ZoneMap)
        await pilot.click("#scalp", offset=(20, 7))  # the vertex
        assert app.focused is not None and app.focused.id == "zone-vertex"
        await pilot.press(*"0.5 mL")
        await pilot.pause()
        assert app.changes[-1] == {ScalpZone.VERTEX: "0.5 mL"}
        drawing = app.query_one(ScalpDrawing)
        assert "0.5 mL" in drawing.render().plain
        zone_map.show_check("total 0.5 mL, prepared 2 mL: 1.5 mL not placed", ok=False)
        await pilot.pause()
        check = app.query_one("#zone-check", Static)
        assert "not placed" in str(check.render())
        assert check.has_class("-bad")
