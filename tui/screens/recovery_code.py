"""The one-time administrator recovery code, shown once when the clinic is set up."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Button, Static

from tui.screens.base import AppModal


class RecoveryCodeScreen(AppModal):
    """Shows the code until the administrator says it is written down.

    Escape does nothing here: the code is never shown again, and a stray key must not
    take it off the screen before it is copied.
    """

    DEFAULT_CSS = """
    RecoveryCodeScreen > Vertical {
        width: 76; max-width: 96%; max-height: 100%; border: thick $warning; padding: 1 2;
    }
    RecoveryCodeScreen #recovery-title { text-style: bold; }
    RecoveryCodeScreen #recovery-code {
        text-style: bold; color: $warning; margin: 1 0; content-align: center middle;
    }
    RecoveryCodeScreen Button { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stay", "Stay", show=False, id="recovery.stay"),
    ]

    def __init__(self, username: str, code: str) -> None:
        super().__init__()
        self._username = username
        self._code = code

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Administrator recovery code: shown once", id="recovery-title")
            yield Static(
                Text(
                    "Write this code down and keep it locked away. If every administrator "
                    "is ever locked out, it unlocks one (and is then replaced):"
                )
            )
            yield Static(Text(self._code), id="recovery-code")
            yield Static(Text(f"formulary user recover {self._username}", style="italic"))
            yield Button("I have written it down", id="recovery-done", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#recovery-done", Button).focus()

    def action_stay(self) -> None:
        """Escape: the code stays on screen."""

    @on(Button.Pressed, "#recovery-done")
    def _done(self) -> None:
        self.dismiss(None)
