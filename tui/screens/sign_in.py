"""Sign in with username and password; the list of users is never shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.message import Message
from textual.widgets import Button, Header, Input, Label, Static

from tui.screens.base import AppScreen
from tui.styles import STYLES
from tui.widgets.key_footer import KeyFooter

if TYPE_CHECKING:
    from formulary.records import Practitioner


class SignInScreen(AppScreen):
    """The first thing on screen, and where sign-out returns to."""

    CSS_PATH = STYLES / "sign_in.tcss"
    AUTO_FOCUS = "#username"

    class Accepted(Message):
        """The Store accepted the password of ``user``."""

        def __init__(self, user: Practitioner) -> None:
            self.user = user
            super().__init__()

    class Refused(Message):
        """Sign-in failed; ``reason`` is shown under the form."""

        def __init__(self, reason: str) -> None:
            self.reason = reason
            super().__init__()

    def __init__(self, ready: bool = True) -> None:
        super().__init__()
        self._ready = ready

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="sign-in-box", classes="form-box"):
            yield Static("Sign in to Formulary", classes="form-title")
            yield Label("Username")
            yield Input(id="username", placeholder="username")
            yield Label("Password")
            yield Input(id="password", password=True, placeholder="password")
            yield Static("", id="sign-in-error", classes="form-error")
            yield Button("Sign in", id="sign-in", variant="primary", disabled=not self._ready)
            yield Static("" if self._ready else "Opening the database…", id="sign-in-status")
        yield KeyFooter()

    @on(Input.Submitted, "#username")
    def _to_password(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#sign-in")
    def _submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        error = self.query_one("#sign-in-error", Static)
        if not self._ready:
            error.update("The database is still opening; try again in a moment.")
            return
        if not username or not password:
            error.update("Enter your username and your password.")
            return
        error.update("")
        self.query_one("#sign-in", Button).disabled = True
        self._check(username, password)

    @work(thread=True, exclusive=True, group="sign-in")
    def _check(self, username: str, password: str) -> None:
        try:
            user = self.store.authenticate(username, password)
        except Exception as exc:
            self.post_message(self.Refused(_refusal(exc)))
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


def _refusal(exc: BaseException) -> str:
    # Authentication errors carry a message meant for people; anything else is a fault.
    text = str(exc).strip()
    if type(exc).__name__ in {"AuthenticationError", "SignInRefused", "InvalidCredentials"}:
        return text or "Wrong username or password."
    return f"Sign-in failed: {text or type(exc).__name__}. Try again or ask the administrator."
