"""Sign-in, the first administrator on a fresh database, and the idle lock."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static

from db.auth import MIN_PASSWORD_LENGTH
from tests.tui.demo_data import PRACTITIONER, Demo
from tests.tui.fixture_types import MakeApp
from tests.tui.pilot_helpers import screen_text, settle, show_chart, sign_in
from tui.screens.first_run import FirstRunScreen
from tui.screens.lock import LockScreen
from tui.screens.patient import PatientScreen
from tui.screens.patients import PatientsScreen
from tui.screens.recovery_code import RecoveryCodeScreen
from tui.screens.sign_in import SignInScreen


async def test_sign_in_never_lists_users_and_refuses_a_wrong_password(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        text = screen_text(pilot)
        assert "drmartin" not in text and "admin" not in text.replace("administrator", "")
        await sign_in(pilot, PRACTITIONER[0], "not-the-password")
        assert isinstance(app.screen, SignInScreen)
        assert "Wrong username or password" in screen_text(pilot) or "password" in str(
            app.screen.query_one("#sign-in-error").render()
        )
        await sign_in(pilot)
        assert isinstance(app.screen, PatientsScreen)
        assert app.user is not None and app.user.username == PRACTITIONER[0]


async def test_empty_fields_are_explained(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.click("#sign-in")
        await pilot.pause()
        assert "Enter your username and your password" in screen_text(pilot)


async def test_fresh_database_asks_for_the_first_administrator(
    tmp_path: Path, make_app: MakeApp
) -> None:
    app = make_app(tmp_path / "fresh.db")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, rounds=6)
        assert isinstance(app.screen, FirstRunScreen)
        assert "Create the first administrator" in screen_text(pilot)
        # Bad input: every field gets its own message.
        screen = app.screen
        screen.query_one("#new-username", Input).value = "bad name!"
        screen.query_one("#new-password", Input).value = "short"
        screen.query_one("#new-password-again", Input).value = "other"
        await pilot.click("#create-admin")
        await pilot.pause()
        text = screen_text(pilot)
        assert "Letters, digits" in text
        assert "Required." in text
        assert f"At least {MIN_PASSWORD_LENGTH} characters" in text
        assert "Does not match" in text
        # A corrected field loses its message at once; the others keep theirs.
        screen.query_one("#new-password", Input).value = "a-long-password"
        await pilot.pause()
        text = screen_text(pilot)
        assert f"At least {MIN_PASSWORD_LENGTH} characters" not in text
        assert "Letters, digits" in text and "Does not match" in text
        screen.query_one("#new-username", Input).value = "boss"
        screen.query_one("#new-full-name", Input).value = "Dr Boss"
        screen.query_one("#new-password", Input).value = "a-long-password"
        screen.query_one("#new-password-again", Input).value = "a-long-password"
        await pilot.pause(0.3)  # past the button's press effect, which ignores clicks
        await pilot.click("#create-admin")
        await settle(pilot)
        # The one-time recovery code comes first, as `formulary init` prints it; Escape
        # does not take it away before it is written down.
        shown = app.screen
        assert isinstance(shown, RecoveryCodeScreen)
        code = str(shown.query_one("#recovery-code", Static).render())
        assert "formulary user recover boss" in screen_text(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is shown
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PatientsScreen)
        assert app.store.authenticate("boss", "a-long-password").full_name == "Dr Boss"
        # The code shown is the one the Store keeps (only as a hash): it unlocks the admin.
        app.store.recover_admin("boss", code)


async def test_idle_lock_hides_the_patient_and_only_the_same_password_opens_it(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path, idle_minutes=0.01)  # 0.6 s
    app.idle.limit_seconds = 3600  # not while signing in on a busy test machine
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["dubois"])
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        assert "DUBOIS" in screen_text(pilot)
        app.idle.limit_seconds = 0.6  # the configured idle time, now without input
        await pilot.pause(1.5)
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        text = screen_text(pilot)
        for secret in ("DUBOIS", "Marc", "C-1002", "anticoagulants", "alopecia"):
            assert secret not in text
        # Another user's password does not open it.
        app.screen.query_one("#unlock-password", Input).value = "admin-password-1"
        await pilot.click("#unlock")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        assert "Wrong password" in screen_text(pilot)
        app.idle.limit_seconds = 3600
        app.screen.query_one("#unlock-password", Input).value = PRACTITIONER[2]
        await pilot.pause(0.3)  # past the button's press effect, which ignores clicks
        await pilot.click("#unlock")
        await settle(pilot)
        assert isinstance(app.screen, PatientScreen)
        assert "DUBOIS" in screen_text(pilot)


async def test_lock_key_and_sign_out_from_the_lock(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # Nobody to lock out before signing in, nor again once locked: no Lock key then.
        assert "^l Lock" not in screen_text(pilot).splitlines()[-1]
        await sign_in(pilot)
        assert "^l Lock" in screen_text(pilot).splitlines()[-1]
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert "^l Lock" not in screen_text(pilot).splitlines()[-1]
        await pilot.click("#lock-sign-out")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        assert app.user is None


async def test_a_chart_still_being_read_is_not_shown_over_the_lock(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["dubois"])  # read in a worker, then shown
        app.action_lock()  # before the read is back
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        assert not any(isinstance(s, PatientScreen) for s in app.screen_stack)
        assert "DUBOIS" not in screen_text(pilot)
        app.screen.query_one("#unlock-password", Input).value = PRACTITIONER[2]
        await pilot.click("#unlock")
        await settle(pilot)
        assert isinstance(app.screen, PatientsScreen)


async def test_a_patient_form_still_being_read_is_not_shown_over_the_lock(
    demo: Demo, make_app: MakeApp
) -> None:
    from tui.screens.patient_form import PatientFormScreen

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.edit_patient(demo.patients["dubois"])
        app.action_lock()
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        assert not any(isinstance(s, PatientFormScreen) for s in app.screen_stack)
        assert "DUBOIS" not in screen_text(pilot)


async def test_no_command_palette_while_locked(demo: Demo, make_app: MakeApp) -> None:
    from textual.command import CommandPalette

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        await pilot.press("ctrl+p")  # it would search patients by name
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        assert not any(isinstance(s, CommandPalette) for s in app.screen_stack)


async def test_a_dialog_asked_for_while_locked_waits_for_the_unlock(
    demo: Demo, make_app: MakeApp
) -> None:
    from tui.screens.confirm import ConfirmScreen

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        # What a worker's answer does when it lands after the lock.
        app.push_screen(ConfirmScreen("Save despite DUBOIS's findings?", "details"))
        await settle(pilot)
        assert isinstance(app.screen, LockScreen) and "DUBOIS" not in screen_text(pilot)
        app.screen.query_one("#unlock-password", Input).value = PRACTITIONER[2]
        await pilot.click("#unlock")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)


async def test_signing_out_from_the_lock_over_a_chart_leaves_nothing_behind(
    demo: Demo, make_app: MakeApp
) -> None:
    from tests.tui.pilot_helpers import until

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await show_chart(pilot, demo.patients["okafor"])
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, LockScreen))
        await pilot.press("ctrl+o")  # sign out from the lock
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await settle(pilot)
        await pilot.pause(0.2)
        # The chart, uncovered on the way out, reads nothing for nobody and says nothing.
        assert [(n.title, n.message) for n in app._notifications] == []
        assert isinstance(app.screen, SignInScreen)
