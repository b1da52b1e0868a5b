"""Sign in with username and password; the list of users is never shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Center, Vertical
from textual.message import Message
from textual.widgets import Button, Header, Input, Label, Static

from tui.field_keys import ENTER_MOVES_ON, enter_binding, enter_moves_on
from tui.screens.base import AppScreen
from tui.styles import STYLES
from tui.widgets.key_footer import KeyFooter
from tui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from db.store import Actor


class SignInScreen(AppScreen):
    """The first thing on screen, and where sign-out returns to."""

    CSS_PATH = STYLES / "sign_in.tcss"
    AUTO_FOCUS = "#username"
    BINDINGS: ClassVar[list[BindingType]] = [enter_binding("sign_in")]

    class Accepted(Message):
        """The Store accepted the password of ``user``."""

        def __init__(self, user: Actor) -> None:
            self.user = user
            super().__init__()

    class Refused(Message):
        """Sign-in failed; ``reason`` is shown under the form."""

        def __init__(self, reason: str) -> None:
            self.reason = reason
            super().__init__()

    def __init__(self, ready: bool = True) -> None:
        super().__init__()
        #: False while the Store is still opening: the form takes typing all the same.
        self._ready = ready
        #: Credentials submitted before the Store was open, checked once it is.
        self._pending: tuple[str, str] | None = None
        self._failed = False

    def action_enter_moves_on(self) -> None:
        """Enter in a field that leads to the next one goes there now (see tui.field_keys)."""
        enter_moves_on(self)

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="sign-in-box", classes="form-box"):
            yield Static("Sign in to Formulary", classes="form-title")
            yield Label("Username")
            yield TextInput(id="username", placeholder="username", classes=ENTER_MOVES_ON)
            yield Label("Password")
            yield TextInput(id="password", password=True, placeholder="password")
            yield Static("", id="sign-in-error", classes="form-error")
            yield Button("Sign in", id="sign-in", variant="primary")
            yield Static("", id="sign-in-status")
        yield KeyFooter()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#sign-in")
    def _submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        error = self.query_one("#sign-in-error", Static)
        if self._failed:
            return
        if not username or not password:
            error.update("Enter your username and your password.")
            return
        error.update("")
        self.query_one("#sign-in", Button).disabled = True
        if not self._ready:
            self._pending = (username, password)
            self.query_one("#sign-in-status", Static).update(
                "Opening the database… you are signed in as soon as it is open."
            )
            return
        self._check(username, password)

    def database_ready(self) -> None:
        """The Store is open: check what was submitted while it opened, if anything."""
        self._ready = True
        self.query_one("#sign-in-status", Static).update("")
        if self._pending is not None:
            username, password = self._pending
            self._pending = None
            self._check(username, password)

    def database_failed(self, reason: str) -> None:
        """The Store could not be opened: say so where the user is looking."""
        self._failed = True
        self._pending = None
        self.query_one("#sign-in", Button).disabled = True
        self.query_one("#sign-in-error", Static).update(
            f"The database could not be opened: {reason}"
        )

    @work(thread=True, exclusive=True, group="sign-in")
    def _check(self, username: str, password: str) -> None:
        try:
            user = self.store.authenticate(username, password)
        except Exception as exc:
            self.post_message(self.Refused(refusal_text(exc)))
            return
        if user is None:
            self.post_message(self.Refused("Wrong username or password."))
        else:
            self.post_message(self.Accepted(user))

    @on(Accepted)
    def _accepted(self, message: Accepted) -> None:
        self.formulary_app.sign_in(message.user)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.query_one("#sign-in-error", Static).update(message.reason)
        password = self.query_one("#password", Input)
        password.value = ""
        password.focus()
        self.query_one("#sign-in", Button).disabled = False


#: What the sign-in and lock screens say about a locked account: what happened and
#: who can undo it (the audit records "account locked" at the same moment).
LOCKED = (
    "This account is locked after {n} wrong passwords. An administrator must unlock it "
    "(Users screen, or `formulary user unlock NAME --reason ...`)."
)


def refusal_text(exc: BaseException) -> str:
    """What to tell the person at the keyboard when the Store refused a password."""
    from db.auth import MAX_FAILED_LOGINS
    from db.errors import AccountLocked, AuthenticationFailed

    text = str(exc).strip()
    if isinstance(exc, AccountLocked):
        return LOCKED.format(n=MAX_FAILED_LOGINS)
    if isinstance(exc, AuthenticationFailed):
        # Authentication errors carry a message meant for people.
        return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else "Wrong password."
    # Anything else is a fault, not a wrong password: say so.
    return f"Sign-in failed: {text or type(exc).__name__}. Try again or ask the administrator."

