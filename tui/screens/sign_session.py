"""Review a session and sign it with the password (the signature's meaning is shown)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Static

from formulary.preparation import Syringe
from formulary.safety import OVERRIDE_MEANING, Findings
from tui.screens.base import AppModal
from tui.widgets.syringe_table import SyringeTable


class SignSessionScreen(AppModal):
    """Dismissed with (password, warnings acknowledged, override reason), or None."""

    DEFAULT_CSS = """
    SignSessionScreen { align: center middle; }
    SignSessionScreen > VerticalScroll {
        width: 100; max-width: 98%; height: auto; max-height: 95%;
        border: thick $success; background: $surface; padding: 1 2;
    }
    SignSessionScreen #sign-review { margin: 1 0; }
    SignSessionScreen #sign-error { color: $error; height: auto; }
    SignSessionScreen #sign-findings { margin-bottom: 1; }
    SignSessionScreen Horizontal { height: 3; margin-top: 1; }
    SignSessionScreen Button { margin-right: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="sign_session.cancel"),
    ]

    def __init__(
        self,
        review: str,
        findings: Findings | None = None,
        meaning: str = "administered by",
        *,
        syringe: Syringe | None = None,
    ) -> None:
        super().__init__()
        self._review = review
        self._findings = findings
        self._meaning = meaning
        self._syringe = syringe

    def _findings_text(self) -> Text:
        text = Text()
        theme = self.app.current_theme
        for finding in self._findings.to_read() if self._findings else ():
            style = f"bold {theme.error}" if finding.is_block else f"bold {theme.warning}"
            label = "BLOCK" if finding.is_block else "WARNING"
            text.append(f"{label}: {finding.message}", style=style)
            text.append(f"  → {finding.remedy}\n")
        return text

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Review and sign", classes="form-title")
            if self._syringe is not None:
                yield Static("In the syringe", classes="section-title")
                yield SyringeTable(id="sign-syringe")
            yield Static(Text(self._review), id="sign-review")
            findings = self._findings
            if findings:
                yield Static(self._findings_text(), id="sign-findings")
                if findings.warnings:
                    yield Checkbox("I have read the warnings above", id="sign-acknowledge")
                if findings.blocks:
                    yield Input(
                        id="sign-override",
                        placeholder="override reason (practitioner or admin), required to sign",
                    )
                    yield Static(
                        Text(
                            f"Your password below also signs the override as "
                            f"{self.user.full_name} ({OVERRIDE_MEANING}); it is printed "
                            "with the findings on every export."
                        ),
                        id="sign-override-meaning",
                    )
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
        if self._syringe is not None:
            self.query_one(SyringeTable).show(self._syringe)
        self.query_one("#sign-password", Input).focus()

    @on(Input.Submitted, "#sign-password")
    @on(Button.Pressed, "#sign-ok")
    def _sign(self) -> None:
        password = self.query_one("#sign-password", Input).value
        error = self.query_one("#sign-error", Static)
        acknowledged = all(c.value for c in self.query("#sign-acknowledge").results(Checkbox))
        overrides = list(self.query("#sign-override").results(Input))
        reason = overrides[0].value.strip() if overrides else ""
        if not acknowledged:
            error.update("Tick that you have read the warnings.")
            return
        if overrides and not reason:
            error.update("A blocking finding needs an override reason to sign.")
            return
        if not password:
            error.update("Type your password to sign.")
            return
        self.dismiss((password, bool(self._findings and self._findings.warnings), reason))

    @on(Button.Pressed, "#sign-cancel")
    def action_cancel(self) -> None:
        """Back to the session without signing."""
        self.dismiss(None)
