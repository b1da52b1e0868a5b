"""Small things a practitioner met on the way, each fixed and kept fixed."""

from __future__ import annotations

from tests.tui.demo_data import Demo
from tests.tui.fixture_types import MakeApp, user_of
from tests.tui.pilot_helpers import screen_text, settle, show_chart, sign_in, until
from tui.screens.sign_in import SignInScreen


def _notices(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_signing_out_from_a_chart_says_nothing_about_the_database(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["dubois"])
        await settle(pilot)
        app.run_command("sign_out")
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await settle(pilot, rounds=5)
        assert not any("Cannot load patients" in n for n in _notices(app)), _notices(app)
        assert "database connection" not in screen_text(pilot)


def _promised() -> list[str]:
    """Commands of the workday that apply on a chart and on the patient list alike.

    The help lists the palette's own table (tui.commands.COMMANDS), so every command it
    names is one the palette has; these must also be available on both screens.
    """
    return ["new session", "export chart", "verify audit trail", "lock", "sign out"]


async def test_every_command_the_help_promises_is_in_the_palette(
    demo: Demo, make_app: MakeApp
) -> None:
    from textual.command import CommandPalette

    from tui.commands import COMMANDS
    from tui.screens.session import SessionScreen

    names = {name.lower(): action for name, _, action in COMMANDS}
    promised = _promised()
    assert "new session" in promised
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await show_chart(pilot, demo.patients["dubois"])
        chart = app.screen
        for name in promised:  # on a chart
            assert name in names and app.command_available(names[name]), name
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"new session")
        await until(pilot, lambda: "Record a session for the open" in screen_text(pilot))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is chart)
        app.pop_screen()
        await settle(pilot)
        for name in promised:  # on the patient list
            assert app.command_available(names[name]), name
        # From the list, "New session" records one for the highlighted patient.
        listed = app.screen
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        for name in promised:  # what the palette offers over the list
            assert app.command_available(names[name], listed), name
        await pilot.press(*"new session")
        await settle(pilot)
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        await until(pilot, lambda: isinstance(app.screen, SessionScreen))
        opened = app.screen
        assert isinstance(opened, SessionScreen)
        assert opened.patient_id in demo.patients.values()


async def test_a_draft_can_be_discarded_after_a_confirmation_with_a_reason(
    demo: Demo, make_app: MakeApp
) -> None:
    from textual.widgets import Input

    from tui.screens.confirm import ConfirmScreen
    from tui.screens.patient import PatientScreen
    from tui.screens.session import SessionScreen

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await show_chart(pilot, demo.patients["dubois"])
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, SessionScreen) and app.screen._ready)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        assert "f10 Discard draft" in screen_text(pilot)
        screen.query_one("#s-notes", Input).value = "wrong patient"
        await until(pilot, lambda: screen.session_id is not None)
        draft_id = screen.session_id
        # Cancel keeps it.
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Discard this draft?" in screen_text(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        # A reason is required; then it is discarded and the chart shows again.
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")
        await settle(pilot)
        assert "Give a reason" in screen_text(pilot)
        await pilot.press(*"opened for the wrong patient", "enter")
        await until(pilot, lambda: isinstance(app.screen, PatientScreen))
        await settle(pilot, rounds=5)
        chart = app.store.load_chart(user_of(app), demo.patients["dubois"])
        assert draft_id not in {s.id for s in chart.sessions}
        from tests.tui.demo_data import ADMIN

        admin = app.store.authenticate(ADMIN[0], ADMIN[2])
        entries = app.store.audit_events(admin, action_prefix="session.discard_draft")
        assert [(e.entity_id, e.reason) for e in entries] == [
            (str(draft_id), "opened for the wrong patient")
        ]


async def test_remove_is_offered_only_where_it_acts(demo: Demo, make_app: MakeApp) -> None:
    from textual.widgets import DataTable

    from tui.screens.formulation_editor import FormulationEditorScreen

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await show_chart(pilot, demo.patients["dubois"])
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, FormulationEditorScreen))
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, FormulationEditorScreen)
        # On the versions table (or a button) del removes nothing: not offered there.
        editor.query_one("#editor-versions", DataTable).focus()
        await settle(pilot)
        assert "Remove" not in screen_text(pilot).splitlines()[-1]
        table = editor.query_one("#editor-table", DataTable)
        table.focus()
        await settle(pilot)
        assert "del Remove" in screen_text(pilot).splitlines()[-1]
        before = len([c for c in editor.components])
        await pilot.press("delete")
        await settle(pilot)
        assert len(editor.components) == before - 1


async def test_one_density_measurement_is_plotted_on_a_sensible_axis() -> None:
    import re
    from datetime import UTC, datetime
    from decimal import Decimal

    from textual.app import App, ComposeResult

    from formulary.records import Outcome
    from formulary.units.amount import Amount
    from tui.widgets.outcome_plot import OutcomePlot

    one = Outcome(1, 1, datetime(2026, 11, 2, 11, tzinfo=UTC), Amount(Decimal(142), "hairs/cm2"))

    class PlotApp(App[None]):
        def compose(self) -> ComposeResult:
            yield OutcomePlot(outcomes=(one,))

    app = PlotApp()
    async with app.run_test(size=(80, 14)) as pilot:
        await pilot.pause(0.2)
        text = screen_text(pilot)
        years = {int(y) for y in re.findall(r"\d\d/\d\d/(\d{4})", text)}
        assert years == {2026}, text
        ticks = [float(v) for v in re.findall(r"(\d+\.\d)┤", text)]
        assert ticks and max(ticks) - min(ticks) <= 30, text


def test_the_clinic_time_zone_is_a_setting() -> None:
    from tui.keymap import parse_settings

    assert parse_settings('time_zone = "Europe/Zurich"').time_zone == "Europe/Zurich"
    assert parse_settings("").time_zone == ""  # the machine's own zone
    wrong = parse_settings('time_zone = "Mars/Olympus"')
    assert wrong.time_zone == "" and "not a time zone name" in wrong.problems[0]


async def test_a_tab_built_when_first_shown_never_draws_its_widget_name(
    demo: Demo, make_app: MakeApp
) -> None:
    from textual.widgets import TabPane


    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await show_chart(pilot, demo.patients["dubois"])
        await settle(pilot)
        # Empty until first shown: drawn blank, not as "TabPane#tab-formulation".
        pane = app.screen.query_one("#tab-formulation", TabPane)
        assert not pane.children
        assert "TabPane" not in str(pane.render())
