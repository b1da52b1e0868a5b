"""Confirmation before anything destructive; asks for the reason the audit trail keeps."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from tui.screens.base import AppModal
from tui.widgets.text_input import TextInput


class ConfirmScreen(AppModal):
    """Dismissed with the reason typed (or ``""`` when none is asked), None when cancelled."""

    DEFAULT_CSS = """
    ConfirmScreen > Vertical {
        width: 76; max-width: 100%; max-height: 100%; border: thick $error; padding: 1 2;
    }
    ConfirmScreen #confirm-title { text-style: bold; color: $error; }
    ConfirmScreen #confirm-message { margin: 1 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="confirm.cancel"),
    ]

    def __init__(
        self,
        title: str,
        message: str,
        *,
        action: str = "Confirm",
        reason: bool = True,
        destructive: bool = True,
    ) -> None:
        super().__init__()
        self._title = title
        self._message = message
        self._action = action
        self._ask_reason = reason
        #: A question that destroys nothing (e.g. "create the product?") offers its
        #: action first; a destructive one keeps Cancel focused so Enter does no harm.
        self._destructive = destructive

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title), id="confirm-title")
            yield Static(Text(self._message), id="confirm-message")
            if self._ask_reason:
                yield TextInput(id="confirm-reason", placeholder="Reason (kept in the audit trail)")
            yield Static("", id="confirm-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    self._action,
                    id="confirm-ok",
                    variant="error" if self._destructive else "primary",
                )
                yield Button("Cancel (esc)", id="confirm-cancel")

    def on_mount(self) -> None:
        if self._ask_reason:
            self.query_one("#confirm-reason", Input).focus()
        elif not self._destructive:
            self.query_one("#confirm-ok", Button).focus()
        else:
            self.query_one("#confirm-cancel", Button).focus()

    @on(Input.Submitted, "#confirm-reason")
    @on(Button.Pressed, "#confirm-ok")
    def _confirm(self) -> None:
        reason = ""
        if self._ask_reason:
            reason = self.query_one("#confirm-reason", Input).value.strip()
            if not reason:
                self.query_one("#confirm-error", Static).update(
                    "Give a reason: the audit trail records why."
                )
                return
        self.dismiss(reason)

    @on(Button.Pressed, "#confirm-cancel")
    def action_cancel(self) -> None:
        """Do nothing."""
        self.dismiss(None)
