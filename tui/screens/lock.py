"""The idle lock: nothing of a patient on screen; only the same user's password opens it."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from tui.screens.base import AppScreen
from tui.styles import STYLES
from tui.widgets.key_footer import KeyFooter
from tui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from db.store import Actor


class LockScreen(AppScreen):
    """An opaque screen over the workday; the screens below keep what was typed."""

    CSS_PATH = STYLES / "sign_in.tcss"
    AUTO_FOCUS = "#unlock-password"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+o", "sign_out", "Sign out", id="lock.sign_out"),
    ]

    class Checked(Message):
        """The password check finished."""

        def __init__(self, ok: bool, reason: str = "") -> None:
            self.ok = ok
            self.reason = reason
            super().__init__()

    def __init__(self, user: Actor) -> None:
        super().__init__()
        self._username = user.username
        self._full_name = user.full_name

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="lock-box", classes="form-box"):
            yield Static("Formulary is locked", classes="form-title")
            yield Static(f"Signed in: {self._full_name} ({self._username})", id="lock-user")
            yield Label("Password")
            yield TextInput(id="unlock-password", password=True, placeholder="password")
            yield Static("", id="unlock-error", classes="form-error")
            yield Button("Unlock", id="unlock", variant="primary")
            yield Button("Sign out", id="lock-sign-out")
        yield KeyFooter()

    @on(Input.Submitted, "#unlock-password")
    @on(Button.Pressed, "#unlock")
    def _submit(self) -> None:
        password = self.query_one("#unlock-password", Input).value
        if not password:
            self.query_one("#unlock-error", Static).update("Enter your password to unlock.")
            return
        self._check(password)

    @work(thread=True, exclusive=True, group="unlock")
    def _check(self, password: str) -> None:
        from db.errors import AccountLocked, AuthenticationFailed
        from tui.screens.sign_in import refusal_text

        try:
            user = self.store.authenticate(self._username, password)
        except AccountLocked as exc:
            # The right password no longer helps: say so, and who can unlock.
            self.post_message(self.Checked(False, refusal_text(exc) + " Or sign out (ctrl+o)."))
            return
        except AuthenticationFailed:
            user = None
        except Exception as exc:
            self.post_message(self.Checked(False, refusal_text(exc)))
            return
        if user is None or user.username != self._username:
            self.post_message(self.Checked(False, "Wrong password. Or sign out (ctrl+o)."))
        else:
            self.post_message(self.Checked(True))

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        if message.ok:
            self.formulary_app.unlocked()
            return
        self.query_one("#unlock-error", Static).update(message.reason)
        field = self.query_one("#unlock-password", Input)
        field.value = ""
        field.focus()

    @on(Button.Pressed, "#lock-sign-out")
    def action_sign_out(self) -> None:
        """Leave; drafts stay saved in the database for the next sign-in."""
        self.formulary_app.sign_out()
