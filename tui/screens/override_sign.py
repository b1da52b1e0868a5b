"""Override what blocks: a written reason and the practitioner's password, as a signature.

An override is an electronic signature (21 CFR 11.50/11.200): the password is
checked by the Store (a wrong one is refused, audited and counts toward the lockout),
and each finding overridden is recorded with the practitioner's printed name, the
time and the meaning shown here, which every export of the record prints.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from formulary.safety import OVERRIDE_MEANING, Findings
from formulary.safety.overrides import MIN_REASON_LENGTH
from tui.screens.base import AppModal
from tui.widgets.text_input import TextInput


class OverrideSignScreen(AppModal):
    """Dismissed with ``(reason, password)`` to override and sign, or None."""

    DEFAULT_CSS = """
    OverrideSignScreen > Vertical { width: 90; border: thick $error; padding: 0 2; }
    OverrideSignScreen #override-title { text-style: bold; color: $error; }
    OverrideSignScreen #override-findings { margin: 1 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="override_sign.cancel"),
    ]

    def __init__(self, findings: Findings, *, action: str = "Override and save") -> None:
        super().__init__()
        self._findings = findings
        self._action = action

    def _findings_text(self) -> Text:
        text = Text()
        theme = self.app.current_theme
        for number, finding in enumerate(self._findings):
            style = f"bold {theme.error}" if finding.is_block else f"bold {theme.warning}"
            text.append("\n" if number else "")
            text.append("BLOCK" if finding.is_block else "WARNING", style=style)
            text.append(f": {finding.message}")
        return text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Override and sign", id="override-title")
            yield Static(self._findings_text(), id="override-findings")
            yield Static(
                Text(
                    f"Your password signs this override as {self.user.full_name} "
                    f"({OVERRIDE_MEANING}); it is printed with the findings on every export."
                ),
                id="override-signer",
            )
            yield TextInput(id="override-reason", placeholder="why it is safe to proceed")
            yield TextInput(id="override-password", password=True, placeholder="your password")
            yield Static("", id="override-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._action, id="override-ok", variant="error")
                yield Button("Cancel (esc)", id="override-cancel")

    def on_mount(self) -> None:
        self.query_one("#override-reason", Input).focus()

    @on(Input.Submitted, "#override-reason")
    def _next(self) -> None:
        self.query_one("#override-password", Input).focus()

    @on(Input.Submitted, "#override-password")
    @on(Button.Pressed, "#override-ok")
    def _sign(self) -> None:
        reason = self.query_one("#override-reason", Input).value.strip()
        password = self.query_one("#override-password", Input).value
        error = self.query_one("#override-error", Static)
        if len(reason) < MIN_REASON_LENGTH:
            error.update(
                f"Say why it is safe to proceed (at least {MIN_REASON_LENGTH} characters)."
            )
            self.query_one("#override-reason", Input).focus()
            return
        if not password:
            error.update("Type your password: the override is your signature.")
            self.query_one("#override-password", Input).focus()
            return
        self.dismiss((reason, password))

    @on(Button.Pressed, "#override-cancel")
    def action_cancel(self) -> None:
        """Back without overriding: nothing is saved."""
        self.dismiss(None)
