"""What applies on every screen: palette commands, help, themes, keymap and config."""

from __future__ import annotations

import re
from pathlib import Path

from textual.command import CommandPalette
from textual.containers import VerticalScroll
from textual.widgets import DataTable

from tests.tui.demo_data import Demo
from tests.tui.fixture_types import MakeApp
from tests.tui.pilot_helpers import screen_text, settle, sign_in
from tui.app import FormularyApp
from tui.keymap import Settings, load_settings, parse_settings
from tui.screens.help import HelpScreen
from tui.screens.lock import LockScreen
from tui.screens.patient import PatientScreen
from tui.screens.patients import PatientsScreen
from tui.widgets.key_footer import KeyFooter


def test_config_is_validated_and_idle_time_capped() -> None:
    settings = parse_settings(
        'idle_lock_minutes = 60\ntheme = "textual-light"\n[keymap]\nlock = "ctrl+k"\n'
    )
    assert settings.idle_lock_minutes == 15 and settings.idle_lock_seconds == 900
    assert settings.theme == "textual-light" and settings.keymap == {"lock": "ctrl+k"}
    assert "capped at 15" in settings.problems[0]
    assert parse_settings("idle_lock_minutes = -1").idle_lock_minutes == 5
    assert "not valid TOML" in parse_settings("idle_lock_minutes = [").problems[0]
    assert parse_settings("[keymap]\nlock = 3").problems


def test_missing_config_file_means_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "absent.toml") == Settings()


async def test_keymap_remaps_a_binding_by_id(demo: Demo) -> None:
    app = FormularyApp(demo.path, settings=Settings(keymap={"lock": "f9"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert not isinstance(app.screen, LockScreen)
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)


async def test_palette_opens_a_patient_by_name(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"moreau")
        await pilot.pause(0.5)
        await settle(pilot)
        assert "Open patient MOREAU, Claire (C-1001)" in screen_text(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        assert "ALLERGIES: lidocaine (urticaria)" in screen_text(pilot)


async def test_help_lists_the_keys_of_the_screen_and_theme_toggles(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        assert isinstance(app.screen, PatientsScreen)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        # One table per group: this screen's keys, then the ones that work everywhere.
        described = {
            str(table.get_row_at(i)[1])
            for table in app.screen.query(DataTable)
            for i in range(table.row_count)
        }
        assert {"New patient", "Lock", "Search"} <= described
        # Every palette command is named, with what it does (Clinic details among them).
        # From its title down (the list is taller than the box).
        app.screen.query_one("#help-commands-title").scroll_visible(animate=False, top=True)
        await pilot.pause()
        shown = screen_text(pilot)
        assert "Command palette (ctrl+p)" in shown
        assert re.search(r"New session +Record a session for the open", shown)
        app.screen.query_one(VerticalScroll).scroll_end(animate=False)
        await pilot.pause()
        assert re.search(r"Clinic details +The clinic's name, address", screen_text(pilot))
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_theme.dark
        await pilot.press("f2")
        await pilot.pause()
        assert not app.current_theme.dark


def test_every_binding_has_an_id_a_clinic_can_remap() -> None:
    import importlib
    import pkgutil

    from textual.binding import Binding
    from textual.dom import DOMNode

    import tui.screens
    import tui.widgets

    seen: set[str] = set()
    classes: list[type[DOMNode]] = [FormularyApp]
    for package in (tui.screens, tui.widgets):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            classes += [
                v
                for v in vars(module).values()
                if isinstance(v, type)
                and issubclass(v, DOMNode)
                and v.__module__ == module.__name__
            ]
    for cls in classes:
        for binding in cls.__dict__.get("BINDINGS", []):
            assert isinstance(binding, Binding) and binding.id, (cls.__name__, binding)
            assert binding.id not in seen, f"binding id {binding.id} used twice"
            seen.add(binding.id)
    assert len(seen) >= 40


async def test_footer_shows_the_keys_that_apply_and_a_click_presses_one(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        footer = app.screen.query_one(KeyFooter)
        shown = {item.description for item in footer.items()}
        assert {"New patient", "Formulary", "Lock", "Help"} <= shown
        assert "Open" not in shown  # the list's own key, while the search box has focus
        last_line = screen_text(pilot).splitlines()[-1]
        assert "^n New patient" in last_line and "palette" in last_line
        app.screen.query_one("#patient-list").focus()
        await pilot.pause()
        assert "Open" in {item.description for item in footer.items()}
        last_line = screen_text(pilot).splitlines()[-1]
        assert "Open" in last_line
        help_at = last_line.index("f1 Help")
        await pilot.click(KeyFooter, offset=(help_at + 1, 0))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_footer_goes_compact_to_keep_lock_and_help_on_a_busy_screen(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["dubois"])
        await settle(pilot)
        footer = " ".join(screen_text(pilot).splitlines()[-2:])  # two lines, even at 120
        assert "esc Back ^n New session" in footer  # compact: no padding around keys
        assert "^l Lock" in footer and "f1 Help" in footer
