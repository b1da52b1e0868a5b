"""A burst of keys (a password manager's auto-type, a paste) lands field by field.

The keys are posted to the app all at once, without waiting between them, the way the
terminal driver delivers a burst: each key is routed before the previous ones are handled.
"""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.app import App
from textual.keys import _character_to_key
from textual.widgets import Input, Select

from formulary.records import Role
from tests.tui.demo_data import PRACTITIONER, Demo
from tests.tui.fixture_types import MakeApp
from tests.tui.pilot_helpers import settle, sign_in, until
from tui.screens.first_run import FirstRunScreen
from tui.screens.patients import PatientsScreen
from tui.screens.recovery_code import RecoveryCodeScreen
from tui.screens.sign_in import SignInScreen

_NAMED = {"\t": "tab", "\r": "enter"}


def burst(app: App[None], text: str) -> None:
    """Post every key of ``text`` at once (``\\t`` is Tab, ``\\r`` is Enter)."""
    for char in text:
        app.post_message(events.Key(_NAMED.get(char) or _character_to_key(char), char))


async def test_auto_typed_credentials_with_tab_sign_in(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        burst(app, f"{PRACTITIONER[0]}\t{PRACTITIONER[2]}\r")
        await until(pilot, lambda: isinstance(app.screen, PatientsScreen))
        assert app.user is not None and app.user.username == PRACTITIONER[0]


async def test_enter_after_the_username_moves_on_before_the_password_arrives(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, f"{PRACTITIONER[0]}\r{PRACTITIONER[2]}")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SignInScreen)
        # Nothing of the password is in the username, where it would be readable.
        assert screen.query_one("#username", Input).value == PRACTITIONER[0]
        assert screen.query_one("#password", Input).value == PRACTITIONER[2]


async def test_shift_tab_goes_back_a_field(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        burst(app, "x\t")
        app.post_message(events.Key("shift+tab", None))
        await pilot.pause()
        assert app.focused is app.screen.query_one("#username", Input)
        assert app.screen.query_one("#username", Input).value == "x"


async def test_the_first_administrator_auto_typed_on_a_fresh_database(
    tmp_path: Path, make_app: MakeApp
) -> None:
    app = make_app(tmp_path / "fresh.db")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, rounds=6)
        assert isinstance(app.screen, FirstRunScreen)
        burst(app, "ada\rAda Admin\tsecret-pass-1\rsecret-pass-1\r")
        await until(pilot, lambda: isinstance(app.screen, RecoveryCodeScreen))
        assert app.store.authenticate("ada", "secret-pass-1").full_name == "Ada Admin"


def burst_keys(app: App[None], keys: list[str]) -> None:
    """Post named keys and characters at once (``backspace``, ``left``… or one character)."""
    for key in keys:
        if len(key) == 1:
            app.post_message(events.Key(_character_to_key(key), key))
        else:
            app.post_message(events.Key(key, None))


async def test_a_field_applies_backspaces_and_arrows_in_the_order_typed() -> None:
    from textual.app import ComposeResult

    from tui.widgets.text_input import TextInput

    class OneField(App[None]):
        def compose(self) -> ComposeResult:
            yield TextInput(id="field")

    app = OneField()
    async with app.run_test(size=(60, 5)) as pilot:
        await pilot.pause()
        # Textual's own Input leaves "zza" here: its backspaces arrive after "lee".
        burst_keys(app, [*"zzabi", *["backspace"] * 5, *"lee", "left", "left", "delete",
                         "home", "x"])
        await pilot.pause(0.3)
        assert app.query_one(TextInput).value == "xle"


async def test_a_burst_with_backspaces_in_the_patient_search(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        search = app.screen.query_one("#patient-search", Input)
        burst_keys(app, [*"zzabi", *["backspace"] * 5, *"mor"])
        await until(pilot, lambda: search.value == "mor")
        await settle(pilot)
        assert "matching 'mor'" in str(app.screen.query_one("#patient-count").render())


async def test_ctrl_s_right_after_typing_saves_what_was_typed(
    demo: Demo, make_app: MakeApp
) -> None:
    from tests.tui.demo_data import ADMIN
    from tui.screens.users import UserFormScreen

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        app.push_screen(UserFormScreen())
        await until(pilot, lambda: isinstance(app.screen, UserFormScreen))
        form = app.screen
        form.query_one("#u-username", Input).value = "nurse.kim"
        form.query_one("#u-full-name", Input).value = "Kim Nurse"
        form.query_one("#u-role", Select).value = Role.ASSISTANT
        form.query_one("#u-password", Input).value = "kim-password-1"
        form.query_one("#u-password2", Input).focus()
        await settle(pilot)
        # The second password and ctrl+s in one burst: ctrl+s is a priority key, handled
        # as it arrives, before the field has taken the characters typed just before.
        burst(app, "kim-password-1")
        app.post_message(events.Key("ctrl+s", None))
        await until(pilot, lambda: app.screen is not form)
        assert app.store.authenticate("nurse.kim", "kim-password-1").full_name == "Kim Nurse"
