"""The formulation editor: autocomplete, live arithmetic, bad amounts, new versions."""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from tests.tui.demo_data import Demo
from tests.tui.fixture_types import MakeApp, user_of
from tests.tui.pilot_helpers import screen_text, settle, sign_in
from tui.app import FormularyApp
from tui.screens.compare_versions import CompareVersionsScreen
from tui.screens.formulation_editor import FormulationEditorScreen
from tui.widgets.name_picker import NamePicker
from tui.widgets.version_diff import diff_rows


def _cells(screen: FormulationEditorScreen) -> list[list[str]]:
    table = screen.query_one("#editor-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def _editor_loaded(app: FormularyApp) -> bool:
    return getattr(app.screen, "data", None) is not None


def _checked(editor: FormulationEditorScreen) -> bool:
    """The safety rules have answered for components on screen."""
    return editor.findings is not None and bool(editor.components)


def _static(screen: Screen[Any], selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_add_by_synonym_live_amounts_and_a_new_version(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["dubois"])
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, FormulationEditorScreen)
        rows = _cells(screen)
        biotin = next(r for r in rows if "Biotin" in r[1] and r[3])
        assert biotin[3] == "5 mg" and biotin[4] == "1.667 mg/mL"
        assert "Total volume 3 mL" in _static(screen, "#editor-total")
        assert "creates version 2" in _static(screen, "#editor-status")

        # Autocomplete on a synonym (vitamin B5 is dexpanthenol's / pantothenate's synonym).
        await pilot.press(*"vitamin b5")
        await pilot.pause()
        picker = screen.query_one(NamePicker)
        assert picker.has_class("-open")
        await pilot.press("down", "enter")
        await pilot.pause()
        assert screen.focused is screen.query_one("#add-amount", Input)
        chosen = picker.input.value
        # A bad amount is explained and nothing is added.
        await pilot.press(*"lots", "enter")
        await pilot.pause()
        assert "Amount:" in _static(screen, "#add-error")
        assert len(screen.components) == 3
        screen.query_one("#add-amount", Input).value = "20 mg"
        await pilot.press("enter")
        await pilot.pause()
        assert len(screen.components) == 4 and screen.components[-1].name == chosen
        assert any(r[1] == chosen and r[2] == "20 mg" for r in _cells(screen))
        # The final volume is checked live.
        screen.query_one("#f-final", Input).value = "2 mL"
        await pilot.pause()
        assert "more than the final volume" in _static(screen, "#editor-total")
        screen.query_one("#f-final", Input).value = "4 mL"
        await pilot.pause()
        assert "Total volume 4 mL: 3 mL drawn + 1 mL diluent" in _static(screen, "#editor-total")
        screen.query_one("#f-note", Input).value = "add pantothenate"
        await pilot.press("ctrl+s")
        await settle(pilot)
        history = app.store.formulation_history(user_of(app), demo.formulation_id)
        assert [v.version for v in history] == [1, 2]
        assert len(history[0].components) == 3 and len(history[1].components) == 4
        assert history[1].note == "add pantothenate"
        # Compare v1 with v2 side by side.
        versions = screen.query_one("#editor-versions", DataTable)
        versions.focus()
        await pilot.press("down", "f8")
        await pilot.pause()
        assert isinstance(app.screen, CompareVersionsScreen)
        assert app.screen.left.version == 1 and app.screen.right.version == 2
        await settle(pilot)
        # Each side works out what every ingredient comes to: biotin 5 mg in 3 mL, then
        # the same 5 mg made up to 4 mL.
        text = screen_text(pilot)
        assert "1.667 mg/mL" in text and "1.25 mg/mL" in text
        compare = app.screen
        forwards = {r.name: r for r in diff_rows(compare.left, compare.right, compare.chart)}
        assert forwards["Calcium D-pantothenate"].change == "added"
        assert forwards["Biotin 5 mg/mL ampoule"].change == ""
        assert forwards["Final volume"].change == "changed"
        backwards = {r.name: r for r in diff_rows(compare.right, compare.left, compare.chart)}
        assert backwards["Calcium D-pantothenate"].change == "removed"


async def test_allergy_shown_beside_the_component_and_saving_needs_an_override(
    demo: Demo, make_app: MakeApp
) -> None:
    from formulary.safety import OVERRIDE_MEANING
    from tests.storage.helpers import events
    from tests.tui.demo_data import PRACTITIONER
    from tests.tui.pilot_helpers import until
    from tui.screens.override_sign import OverrideSignScreen

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["moreau"])
        await settle(pilot)
        await pilot.press("ctrl+f")
        await until(pilot, lambda: getattr(app.screen, "data", None) is not None)
        screen = app.screen
        assert isinstance(screen, FormulationEditorScreen)
        await pilot.press(*"biotin 5")
        await pilot.press("down", "enter")
        await pilot.press(*"1 mL", "enter")
        await pilot.press(*"lidocaine")
        await pilot.press("down", "enter")
        await pilot.press(*"10 mg", "enter")
        await until(pilot, lambda: screen.findings is not None and len(screen.components) == 2)
        warnings = " ".join(r[5] for r in _cells(screen))
        assert "allergy to lidocaine" in warnings
        await pilot.press("ctrl+s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, OverrideSignScreen)
        assert app.user is not None and app.user.full_name in screen_text(pilot)
        await pilot.press(*"allergy is to the gel only", "enter")
        # The override is a signature: a wrong password is refused and audited.
        await pilot.press(*"not my password", "enter")
        await settle(pilot)
        assert not app.store.list_formulations(app.user, demo.patients["moreau"])
        entries = [e.action for e in events(app.store.database)]
        assert entries[-1] == "auth.override_failed"
        await pilot.press("ctrl+s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, OverrideSignScreen)
        await pilot.press(*"allergy is to the gel only", "enter", *PRACTITIONER[2], "enter")
        await settle(pilot)
        saved = app.store.list_formulations(user_of(app), demo.patients["moreau"])
        assert len(saved) == 1 and len(saved[0].components) == 2
        audited = events(app.store.database)
        override = [e for e in audited if e.action.endswith("safety_override")][-1]
        assert app.user.full_name in (override.reason or "")
        assert OVERRIDE_MEANING in (override.reason or "")


async def test_keys_typed_after_a_habitual_tab_still_make_the_amount(
    demo: Demo, make_app: MakeApp
) -> None:
    """`biot`, Down, Enter, Tab, `1 mL`, Enter: the habitual Tab keeps the cursor in the
    amount, the amount is kept; a Tab after typing the amount moves on as usual."""
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["dubois"])
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, FormulationEditorScreen)
        before = len(screen.components)
        await pilot.press(*"biot")
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.press("tab")
        await pilot.pause()
        await pilot.press("1", "space", "m", "L")
        await pilot.pause()
        assert screen.query_one("#add-amount", Input).value == "1 mL"
        await pilot.press("enter")
        await pilot.pause()
        assert _static(screen, "#add-error") == ""
        assert len(screen.components) == before + 1
        assert screen.components[-1].amount.unit == "mL"
        # Once something is typed, Tab leaves the amount (to "Add"), nothing is redirected.
        await pilot.press(*"dexp")
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.press(*"0.5 mL")
        await pilot.press("tab")
        await pilot.pause()
        assert screen.focused is screen.query_one("#add-button")
        await pilot.press("x")
        await pilot.pause()
        assert screen.query_one("#add-amount", Input).value == "0.5 mL"


async def test_the_warnings_are_read_whole_at_120_and_at_80_columns(
    demo: Demo, make_app: MakeApp
) -> None:
    """A long allergy warning wraps inside its column instead of being cut."""
    from tests.tui.pilot_helpers import until

    for size in ((120, 40), (80, 24)):
        app = make_app(demo.path)
        async with app.run_test(size=size) as pilot:
            await sign_in(pilot)
            app.open_patient(demo.patients["moreau"])
            await settle(pilot)
            await pilot.press("ctrl+f")
            await until(pilot, partial(_editor_loaded, app))
            screen = app.screen
            assert isinstance(screen, FormulationEditorScreen)
            await pilot.press(*"lidocaine")
            await pilot.press("down", "enter")
            await pilot.press(*"10 mg", "enter")
            await until(pilot, partial(_checked, screen))
            await settle(pilot)
            table = screen.query_one("#editor-table", DataTable)
            # Every column fits in the table: nothing is drawn past its right edge.
            widths = sum(c.get_render_width(table) for c in table.columns.values())
            assert widths <= table.scrollable_content_region.width, size
            # The warning's row is as tall as its wrapped text needs.
            warning = str(table.get_row_at(0)[5])
            row = table.rows[next(iter(table.rows))]
            column = table.columns[next(k for k in table.columns if k.value == "warnings")]
            assert "matches 'lidocaine'" in warning
            assert row.height * column.width >= len(warning), size


async def test_escape_asks_before_throwing_away_an_unsaved_component(
    demo: Demo, make_app: MakeApp
) -> None:
    """The editor is a form too: a component added and not saved is not lost silently."""
    from tui.screens.form_guard import DiscardChangesScreen

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["dubois"])
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, FormulationEditorScreen)
        # Nothing changed: Escape goes straight back.
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, FormulationEditorScreen)
        await pilot.press("ctrl+f")
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, FormulationEditorScreen)
        before = len(screen.components)
        await pilot.press(*"biot")
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.press(*"1 mL", "enter")
        await pilot.pause()
        assert len(screen.components) == before + 1
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DiscardChangesScreen)
        await pilot.press("escape")  # keep editing
        await pilot.pause()
        assert isinstance(app.screen, FormulationEditorScreen)
        assert len(screen.components) == before + 1
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")  # discard
        await settle(pilot)
        assert not isinstance(app.screen, FormulationEditorScreen | DiscardChangesScreen)


async def test_a_blank_final_volume_removes_the_one_set(demo: Demo, make_app: MakeApp) -> None:
    """The editor clears a final volume (the command line's --no-final-volume)."""
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["dubois"])
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, FormulationEditorScreen)
        (first,) = app.store.formulation_history(user_of(app), demo.formulation_id)
        assert first.final_volume is not None
        final = screen.query_one("#f-final", Input)
        final.focus()
        final.value = ""
        await pilot.pause()
        assert "Total volume 3 mL" in _static(screen, "#editor-total")
        await pilot.press("ctrl+s")
        await settle(pilot)
        history = app.store.formulation_history(user_of(app), demo.formulation_id)
        assert [v.version for v in history] == [1, 2]  # version 1 was used: kept as signed
        assert history[1].final_volume is None and history[0].final_volume == first.final_volume
        assert history[1].components == first.components
