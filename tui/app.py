"""The treatment-room app: opens the Store in a worker, signs in, locks when idle.

Screens live in ``tui/screens``, widgets in ``tui/widgets``, styles in ``tui/styles``.
This module only wires them together; nothing here touches the database directly.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

from textual import events, on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.widget import AwaitMount

from tui.field_keys import step_focus
from tui.heap import (
    SETTLE_AFTER_SIGN_IN,
    IdleSettler,
    release_closed_watchers,
    resume_after_start,
    settle_heap,
)
from tui.idle import IdleWatch
from tui.keymap import Settings, apply_time_zone, load_settings
from tui.messages import StoreFailed, StoreOpened
from tui.styles import STYLES

if TYPE_CHECKING:
    import asyncio

    from textual.command import Provider
    from textual.screen import Screen, ScreenResultCallbackType, ScreenResultType

    from db.store import Actor, Store

    #: A push that waits for the unlock: the screen and what was asked with it.
    _HeldPush = tuple[Screen[Any], ScreenResultCallbackType[Any] | None, str | None]


def _commands() -> type[Provider]:
    # The palette's module is imported when the palette first opens, not at start-up.
    from tui.commands import FormularyCommands

    return FormularyCommands


class FormularyApp(App[None]):
    """Formulary at the treatment-room workstation."""

    TITLE = "Formulary"
    # The entry forms' sheet is read with the app's own: read when the form is pushed,
    # it made Textual parse every sheet again and restyle the app before the first frame.
    CSS_PATH: ClassVar[list[str | PurePath]] = [STYLES / "app.tcss", STYLES / "sign_in.tcss"]
    COMMANDS = App.COMMANDS | {_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "lock", "Lock", id="lock", priority=True),
        Binding("f1", "help", "Help", id="help"),
        Binding("f2", "toggle_theme", "Theme", id="theme"),
        # Priority: see tui.field_keys (a burst of keys must land field by field).
        Binding("tab", "next_field", show=False, priority=True, id="field.next"),
        Binding("shift+tab", "previous_field", show=False, priority=True,
                id="field.previous"),
    ]

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        store: Store | None = None,
        settings: Settings | None = None,
        clock: Callable[[], datetime] | None = None,
        crash_reports: Path | None = None,
    ) -> None:
        super().__init__()
        #: Where an unexpected error is reported (None: Textual's own handling, which
        #: the tests rely on to see the error).
        self.crash_reports = crash_reports
        self.db = db
        self._store = store
        self.settings = settings if settings is not None else load_settings()
        apply_time_zone(self.settings.time_zone)
        self.user: Actor | None = None
        self.idle = IdleWatch(self.settings.idle_lock_seconds)
        self.heap = IdleSettler()
        #: Screens asked for while locked (a worker's answer): shown after the unlock.
        self._held: list[_HeldPush] = []
        self._clock = clock

    @property
    def store(self) -> Store:
        """The Store the app opened; every read and write of the screens goes through it.

        The workday's screens exist only once it is open (after :class:`StoreOpened`).
        """
        if self._store is None:
            raise RuntimeError("the database is not open yet")
        return self._store

    @property
    def store_is_open(self) -> bool:
        """True once the database is open (the palette asks before searching)."""
        return self._store is not None

    def now(self) -> datetime:
        """The current time, aware (a fixed clock in tests and screenshots)."""
        return self._clock() if self._clock is not None else datetime.now().astimezone()

    def today(self) -> date:
        """Today's date at the workstation."""
        return self.now().date()

    # -- start-up -------------------------------------------------------------------

    def on_mount(self) -> None:
        self.theme = (
            self.settings.theme
            if self.settings.theme in self.available_themes
            else ("textual-dark")
        )
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        for problem in self.settings.problems:
            self.notify(problem, title="Config", severity="warning", timeout=10)
        self._show_entry_form()

    def _show_entry_form(self) -> None:
        # The form is the first frame: one read-only look at the file decides which
        # form (no SQLAlchemy), and the user types while the Store opens in a worker.
        from db.location import peek_has_users

        has_users = None if self._store is not None else peek_has_users(self.db)
        if has_users is False:
            from tui.screens.first_run import FirstRunScreen

            self.push_screen(FirstRunScreen(ready=False))
        else:
            from tui.screens.sign_in import SignInScreen

            self.push_screen(SignInScreen(ready=False))

    @on(events.Ready)
    def _first_frame_shown(self) -> None:
        # Opening the database imports SQLAlchemy and may migrate: only once the first
        # frame (the entry form) is on screen, and a moment later: started at once, the
        # worker's imports hold the interpreter while the frame is still on its way to
        # the terminal (on a loaded machine the form showed about 1.48x a bare app's
        # first frame in tmux, 1.15-1.53x with the delay). A password typed meanwhile
        # is checked as soon as the database is open.
        # Headless (tests, benchmarks) there is no terminal to wait for.
        if self.is_headless:
            self._start_up_done()
        else:
            self.set_timer(STORE_OPEN_DELAY, self._start_up_done)
        self.set_interval(IDLE_CHECK_SECONDS, self._check_idle)

    def _start_up_done(self) -> None:
        # The form is on screen: the collector runs again (the `formulary` command
        # pauses it while the app starts, tui/heap.py), and the database opens.
        resume_after_start()
        self._open_store()

    @work(thread=True, exclusive=True, group="store")
    def _open_store(self) -> None:
        # The database layer is imported here, off the path to the first frame.
        try:
            store = self._store
            if store is None:
                from db.database import open_database
                from db.store import Store

                store = Store(open_database(self.db))
            has_users = store.has_users()
        except Exception as exc:  # shown as a notification, never a traceback
            self.post_message(StoreFailed(_plain_reason(exc)))
            return
        self.post_message(StoreOpened(store, has_users))

    @on(StoreOpened)
    def _store_opened(self, message: StoreOpened) -> None:
        from tui.screens.first_run import FirstRunScreen
        from tui.screens.sign_in import SignInScreen

        self._store = message.store
        entry = self._entry_form()
        wanted = SignInScreen if message.has_users else FirstRunScreen
        if isinstance(entry, wanted):
            entry.database_ready()
        elif entry is not None:
            # The quick look guessed wrong (or could not tell): the Store decides.
            self.switch_screen(wanted(ready=True))

    def _entry_form(self) -> Any:
        from tui.screens.first_run import FirstRunScreen
        from tui.screens.sign_in import SignInScreen

        for screen in self.screen_stack:
            if isinstance(screen, SignInScreen | FirstRunScreen):
                return screen
        return None

    @on(StoreFailed)
    def _store_failed(self, message: StoreFailed) -> None:
        entry = self._entry_form()
        if entry is not None:
            entry.database_failed(message.reason)
        self.notify(
            f"{message.reason}\nCheck the --db path or URL and start Formulary again.",
            title="Cannot open the database",
            severity="error",
            timeout=30,
        )

    def _handle_exception(self, error: Exception) -> None:
        # Textual's handler prints a traceback with local variables on the terminal.
        if self.crash_reports is None:
            super()._handle_exception(error)
            return
        from tui.crash import plain_message, write_report

        try:
            report: Path | None = write_report(error, self.crash_reports)
        except OSError:
            report = None
        self._return_code = 1
        # panic(), not exit(): the message pump that raised has stopped, and exit()
        # would wait for it.
        self.panic(plain_message(error, report))

    # -- who is signed in -----------------------------------------------------------

    def sign_in(self, user: Actor) -> None:
        """Start the workday of ``user``: show the patient list."""
        from tui.screens.patients import PatientsScreen

        self.user = user
        self.sub_title = user.full_name
        self.idle.touch()
        self.switch_screen(PatientsScreen())
        # The list is on screen and start-up is long over: one long collection now,
        # so that none lands inside a keystroke later (tui/heap.py).
        self.set_timer(SETTLE_AFTER_SIGN_IN, self._settle_heap)

    def _settle_heap(self) -> None:
        release_closed_watchers(self)
        settle_heap()

    def sign_out(self) -> None:
        """Forget the user and every open screen; back to the sign-in form."""
        from tui.screens.sign_in import SignInScreen

        self.user = None
        self._held = []
        self.sub_title = ""
        self.clear_notifications()
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(SignInScreen(ready=True))

    # -- moving around ----------------------------------------------------------------

    def open_patient(self, patient_id: int) -> None:
        """Open the chart of ``patient_id`` on top of the current screen."""
        from tui.screens.patient import PatientScreen

        PatientScreen.open(self, patient_id)

    def edit_patient(self, patient_id: int) -> None:
        """Open the patient form on ``patient_id`` (the form loads it through the Store)."""
        from tui.screens.patient import PatientScreen

        if self.user is not None:
            PatientScreen.edit(self, patient_id)

    def command_available(self, action: str, screen: Any = None) -> bool:
        """True when ``action`` applies on ``screen`` (default: the current one) or everywhere.

        The palette passes the screen it was opened over: while it is open, it is itself
        the current screen, and has none of the workday's actions.
        """
        if action in {"users", "consent_templates"}:  # administrators only
            from tui.screens.users import is_admin

            return is_admin(self.user)
        if action in {"retire_patient", "restore_patient", "correct_lot"}:
            # practitioners, administrators
            from db.store.roles import SIGNERS

            if self.user is None or self.user.role not in SIGNERS:
                return False
        if action == "lift_recall":  # administrators, on the stock screen
            from tui.screens.users import is_admin

            if not is_admin(self.user):
                return False
        on = self.screen if screen is None else screen
        return hasattr(on, f"action_{action}") or action in _APP_COMMANDS | _FALLBACKS

    def run_command(self, action: str) -> None:
        """Run a palette command: the current screen's action first, else the app's."""
        handler = getattr(self.screen, f"action_{action}", None)
        if handler is not None and action not in _APP_COMMANDS:
            handler()
            return
        if action == "lock":
            self.action_lock()
        elif action == "sign_out":
            self.sign_out()
        elif action == "patients":
            from tui.screens.patients import PatientsScreen

            while len(self.screen_stack) > 2 and not isinstance(self.screen, PatientsScreen):
                self.pop_screen()
        elif action in {"stock", "audit", "verify_audit"}:
            self._push_area(action)
        elif action == "users":
            self.open_users()
        elif action == "consent_templates":
            self.open_consent_templates()
        elif action == "clinic_details":
            self.open_clinic_details()
        elif action == "export_chart":  # no chart open: the export screen asks for one
            from tui.screens.export import ExportScreen

            self.push_screen(ExportScreen())

    def open_consent_templates(self) -> None:
        """The clinic's consent templates, for an administrator."""
        from tui.screens.consent_templates import ConsentTemplatesScreen
        from tui.screens.users import is_admin

        if not is_admin(self.user):
            self.notify("Only an administrator manages consent templates; ask one.",
                        title="Consent templates", severity="warning")
            return
        self.push_screen(ConsentTemplatesScreen())

    def open_clinic_details(self) -> None:
        """The clinic's details: everyone may look, an administrator may change them."""
        from tui.screens.clinic_details import ClinicDetailsScreen

        if self.user is not None and not isinstance(self.screen, ClinicDetailsScreen):
            self.push_screen(ClinicDetailsScreen())

    def open_users(self) -> None:
        """The users screen, for an administrator; anyone else is told who can."""
        from tui.screens.users import UsersScreen, is_admin

        if not is_admin(self.user):
            self.notify(
                "Only an administrator manages users; ask one.", title="Users", severity="warning"
            )
            return
        if not isinstance(self.screen, UsersScreen):
            self.push_screen(UsersScreen())

    def _push_area(self, action: str) -> None:
        if action == "stock":
            from tui.screens.stock import StockScreen

            self.push_screen(StockScreen())
        else:
            from tui.screens.audit import AuditScreen

            if isinstance(self.screen, AuditScreen):  # already open: verify in place
                if action == "verify_audit":
                    self.screen.action_verify_audit()
                return
            self.push_screen(AuditScreen(verify_now=action == "verify_audit"))

    # -- idle lock ------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent) and not event.is_forwarded:
            self.idle.touch()
        await super().on_event(event)

    def _check_idle(self) -> None:
        if self.user is None:
            return
        if self.idle.expired():
            self.action_lock()
        else:
            self.heap.check(self.idle.idle_for, self.idle.last_input, self)

    def action_next_field(self) -> None:
        """Tab: the next field."""
        step_focus(self.screen, forward=True)

    def action_previous_field(self) -> None:
        """Shift+tab: the previous field."""
        step_focus(self.screen, forward=False)

    def action_lock(self) -> None:
        """Hide everything of the patient until the same user's password is given."""
        from textual.command import CommandPalette

        from tui.screens.lock import LockScreen

        if self.user is None or isinstance(self.screen, LockScreen):
            return
        while isinstance(self.screen, CommandPalette):
            self.pop_screen()
        self.clear_notifications()
        self.sub_title = ""
        self.push_screen(LockScreen(self.user))

    def unlocked(self) -> None:
        """The lock screen accepted the password: show what was there before."""
        if self.user is not None:
            self.sub_title = self.user.full_name
        self.idle.touch()
        self.pop_screen()
        held, self._held = self._held, []
        for screen, callback, mode in held:
            super().push_screen(screen, callback, mode=mode)

    @property
    def locked(self) -> bool:
        """True while the lock screen is up (whatever is above it, such as help)."""
        lock = sys.modules.get("tui.screens.lock")
        if lock is None:  # never imported, so never shown; asked on every footer paint
            return False
        return any(isinstance(screen, lock.LockScreen) for screen in self.screen_stack)

    if TYPE_CHECKING:

        @overload
        def push_screen(
            self,
            screen: Screen[ScreenResultType] | str,
            callback: ScreenResultCallbackType[ScreenResultType] | None = None,
            wait_for_dismiss: Literal[False] = False,
            *,
            mode: str | None = None,
        ) -> AwaitMount: ...

        @overload
        def push_screen(
            self,
            screen: Screen[ScreenResultType] | str,
            callback: ScreenResultCallbackType[ScreenResultType] | None = None,
            wait_for_dismiss: Literal[True] = True,
            *,
            mode: str | None = None,
        ) -> asyncio.Future[ScreenResultType]: ...

    def push_screen(
        self,
        screen: Screen[ScreenResultType] | str,
        callback: ScreenResultCallbackType[ScreenResultType] | None = None,
        wait_for_dismiss: bool = False,
        *,
        mode: str | None = None,
    ) -> AwaitMount | asyncio.Future[ScreenResultType]:
        """Push ``screen``; while locked, a screen of the workday waits for the unlock.

        Workers answer whenever they finish: a sign dialog, a confirmation or a form
        asked for just before the lock must not appear over it with a patient's data.
        (A push that waits for the dismissal runs in a worker that asked for it on
        purpose; the app's screens do not use it, and it is not held.)
        """
        from tui.screens.base import AppModal, AppScreen

        if not wait_for_dismiss and self.locked and isinstance(screen, AppScreen | AppModal):
            # Imported only when locked: the help screen brings Textual's Markdown
            # widget, a quarter of a second that the first frame must not wait for.
            from tui.screens.help import HelpScreen
            from tui.screens.lock import LockScreen

            if not isinstance(screen, LockScreen | HelpScreen):
                self._held.append((screen, callback, mode))
                return AwaitMount(self.screen, [])  # nothing mounted now: awaiting returns
        if wait_for_dismiss:
            return super().push_screen(screen, callback, True, mode=mode)
        return super().push_screen(screen, callback, False, mode=mode)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No command palette while locked: it searches patients by name. No Lock key
        where it does nothing (nobody signed in, or locked already)."""
        if action == "command_palette" and self.locked:
            return False
        if action == "lock" and (self.user is None or self.locked):
            return False
        return super().check_action(action, parameters)

    # -- everywhere -----------------------------------------------------------------

    def action_help(self) -> None:
        """Show the keys of the current screen and how the app works."""
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        """Switch between the light and the dark theme."""
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"


#: How often the idle time is compared with the limit.
IDLE_CHECK_SECONDS = 0.5
#: Seconds between the first frame and opening the database (see _first_frame_shown).
STORE_OPEN_DELAY = 0.3

#: Commands the app runs itself, whatever screen is showing.
_APP_COMMANDS = frozenset(
    {"lock", "sign_out", "patients", "stock", "audit", "verify_audit", "users",
     "consent_templates", "clinic_details"}
)
#: Commands a screen runs when it can (with its open chart), else the app does.
_FALLBACKS = frozenset({"export_chart"})


def _plain_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def run_app(db: str | Path | None = None) -> None:
    """Open the app on ``db`` (a SQLite path, a PostgreSQL URL, or the default file)."""
    from tui.crash import crash_dir
    from tui.photo_display import detect_graphics

    # Before Textual owns the terminal: the only moment it can be asked about pictures.
    detect_graphics()
    app = FormularyApp(db, crash_reports=crash_dir())
    app.run()
    if app.return_code:
        raise SystemExit(app.return_code)
