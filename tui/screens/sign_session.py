"""Review a session and sign it with the password (the signature's meaning is shown)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from tui.screens.base import AppModal


class SignSessionScreen(AppModal):
    """Dismissed with the password typed, or None."""

    DEFAULT_CSS = """
    SignSessionScreen { align: center middle; }
    SignSessionScreen > Vertical {
        width: 100; max-width: 98%; height: auto; max-height: 95%;
        border: thick $success; background: $surface; padding: 1 2;
    }
    SignSessionScreen #sign-review { margin: 1 0; }
    SignSessionScreen #sign-error { color: $error; height: auto; }
    SignSessionScreen Horizontal { height: 3; margin-top: 1; }
    SignSessionScreen Button { margin-right: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="sign_session.cancel"),
    ]

    def __init__(self, review: str, meaning: str = "administered by") -> None:
        super().__init__()
        self._review = review
        self._meaning = meaning

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Review and sign", classes="form-title")
            yield Static(Text(self._review), id="sign-review")
            yield Static(
                Text(
                    f"Signing as {self.user.full_name} ({self._meaning}). A signed session "
                    "cannot change; corrections are signed addenda."
                )
            )
            yield Input(id="sign-password", password=True, placeholder="your password")
            yield Static("", id="sign-error")
            with Horizontal():
                yield Button("Sign", id="sign-ok", variant="success")
                yield Button("Cancel (esc)", id="sign-cancel")

    def on_mount(self) -> None:
        self.query_one("#sign-password", Input).focus()

    @on(Input.Submitted, "#sign-password")
    @on(Button.Pressed, "#sign-ok")
    def _sign(self) -> None:
        password = self.query_one("#sign-password", Input).value
        if not password:
            self.query_one("#sign-error", Static).update("Type your password to sign.")
            return
        self.dismiss(password)

    @on(Button.Pressed, "#sign-cancel")
    def action_cancel(self) -> None:
        """Back to the session without signing."""
        self.dismiss(None)
