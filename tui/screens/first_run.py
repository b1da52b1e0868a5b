"""A fresh database has no users: create the first administrator, then sign in."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Center, Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Header, Input, Label, Static

from db.auth import MIN_PASSWORD_LENGTH
from tui.field_keys import ENTER_MOVES_ON, enter_binding, enter_moves_on
from tui.messages import WorkerFailed
from tui.screens.base import AppScreen
from tui.styles import STYLES
from tui.widgets.key_footer import KeyFooter
from tui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from db.store import Actor

#: The Store's own minimum, so the form says the same as the Store would.
MIN_PASSWORD = MIN_PASSWORD_LENGTH


class FirstRunScreen(AppScreen):
    """Asks for the administrator's username, name and password (twice)."""

    CSS_PATH = STYLES / "sign_in.tcss"
    AUTO_FOCUS = "#new-username"
    BINDINGS: ClassVar[list[BindingType]] = [enter_binding("first_run")]

    class Created(Message):
        """The administrator exists and is signed in."""

        def __init__(self, user: Actor, recovery_code: str) -> None:
            self.user = user
            self.recovery_code = recovery_code
            super().__init__()

    def __init__(self, ready: bool = True) -> None:
        super().__init__()
        #: False while the Store is still opening (creating the new database).
        self._ready = ready
        #: The administrator submitted before the Store was open, created once it is.
        self._pending: tuple[str, str, str] | None = None
        self._database_failed = False
        #: Fields whose message is on screen: each goes as soon as its field is right.
        self._flagged: set[str] = set()

    def action_enter_moves_on(self) -> None:
        """Enter in a field that leads to the next one goes there now (see tui.field_keys)."""
        enter_moves_on(self)

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), VerticalScroll(id="first-run-box", classes="form-box"):
            yield Static("Create the first administrator", classes="form-title")
            yield Static(
                "This database has no users yet. The administrator adds the other "
                "practitioners later.",
                classes="form-hint",
            )
            for field_id, label, password in (
                ("new-username", "Username", False),
                ("new-full-name", "Full name", False),
                ("new-password", f"Password (at least {MIN_PASSWORD} characters)", True),
                ("new-password-again", "Password again", True),
            ):
                yield Label(label)
                with Horizontal(classes="field-row"):
                    last = field_id == "new-password-again"
                    yield TextInput(id=field_id, password=password,
                                classes="" if last else ENTER_MOVES_ON)
                    yield Static("", id=f"{field_id}-error", classes="field-error")
            yield Static("", id="first-run-error", classes="form-error")
            yield Button("Create and sign in", id="create-admin", variant="primary")
        yield KeyFooter()

    def _field(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    def _errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        username = self._field("new-username").strip()
        if not username:
            errors["new-username"] = "Required."
        elif not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
            errors["new-username"] = "Letters, digits, . - _"
        if not self._field("new-full-name").strip():
            errors["new-full-name"] = "Required."
        password = self._field("new-password")
        if len(password) < MIN_PASSWORD:
            errors["new-password"] = f"At least {MIN_PASSWORD} characters."
        if self._field("new-password-again") != password:
            errors["new-password-again"] = "Does not match the password."
        return errors

    @on(Input.Changed)
    def _recheck(self) -> None:
        # Only the messages already shown are brought up to date: typing a field does
        # not raise new ones before the form is submitted.
        if self._flagged:
            errors = self._errors()
            for field_id in list(self._flagged):
                self._show_error(field_id, errors.get(field_id, ""))

    def _show_error(self, field_id: str, message: str) -> None:
        self.query_one(f"#{field_id}-error", Static).update(message)
        if message:
            self._flagged.add(field_id)
        else:
            self._flagged.discard(field_id)

    @on(Input.Submitted, "#new-password-again")
    @on(Button.Pressed, "#create-admin")
    def _submit(self) -> None:
        errors = self._errors()
        for field_id in ("new-username", "new-full-name", "new-password", "new-password-again"):
            self._show_error(field_id, errors.get(field_id, ""))
        if errors:
            first = next(iter(errors))
            self.query_one(f"#{first}", Input).focus()
            return
        if self._database_failed:
            return
        self.query_one("#create-admin", Button).disabled = True
        admin = (
            self._field("new-username").strip(),
            self._field("new-full-name").strip(),
            self._field("new-password"),
        )
        if not self._ready:
            self._pending = admin
            self.query_one("#first-run-error", Static).update(
                "Creating the database… the administrator is added as soon as it is ready."
            )
            return
        self._create(*admin)

    def database_ready(self) -> None:
        """The Store is open: create the administrator submitted meanwhile, if any."""
        self._ready = True
        if self._pending is not None:
            admin, self._pending = self._pending, None
            self._create(*admin)

    def database_failed(self, reason: str) -> None:
        """The Store could not be opened: say so where the user is looking."""
        self._database_failed = True
        self._pending = None
        self.query_one("#create-admin", Button).disabled = True
        self.query_one("#first-run-error", Static).update(
            f"The database could not be opened: {reason}"
        )

    @work(thread=True, exclusive=True, group="first-run")
    def _create(self, username: str, full_name: str, password: str) -> None:
        try:
            user = self.store.create_first_admin(username, full_name, password)
            # As `formulary init` does: a clinic set up in the app needs the code too,
            # or locking out its only administrator would be for good.
            code = self.store.issue_recovery_code(user)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.post_message(self.Created(user, code))

    @on(Created)
    def _created(self, message: Created) -> None:
        from tui.screens.recovery_code import RecoveryCodeScreen

        user = message.user

        def written_down(_: object) -> None:
            self.notify(f"Administrator {user.username} created.", title="Welcome")
            self.formulary_app.sign_in(user)

        self.app.push_screen(RecoveryCodeScreen(user.username, message.recovery_code), written_down)

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        self.query_one("#first-run-error", Static).update(
            f"Could not create the administrator: {message.reason}"
        )
        self.query_one("#create-admin", Button).disabled = False
