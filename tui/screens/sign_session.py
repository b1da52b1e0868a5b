"""Review a session and sign it with the password (the signature's meaning is shown).

The dialog signs itself (in a worker, through the ``sign`` function the session screen
hands it) and stays open when signing is refused: a mistyped password is said to be
wrong and can be typed again, with the warnings ticked and the reason written kept.
Every failed attempt still counts toward the account's lockout (the Store counts it);
once the account is locked the dialog says so and no longer offers to sign.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Static

from formulary.preparation import Syringe
from formulary.records import Session
from formulary.safety import OVERRIDE_MEANING, Finding, Findings
from formulary.safety.overrides import MIN_REASON_LENGTH
from tui.screens.base import AppModal
from tui.widgets.syringe_table import SyringeTable
from tui.widgets.text_input import TextInput

#: Signs the draft: (password, warnings acknowledged, reason) -> the signed session.
#: Runs in a worker thread; raises the Store's error when signing is refused.
SignFunction = Callable[[str, bool, str], Session]


class SignSessionScreen(AppModal):
    """Signs through ``sign`` and is dismissed with the signed session, or None."""

    DEFAULT_CSS = """
    SignSessionScreen > VerticalScroll { border: thick $success; padding: 1 2; }
    SignSessionScreen #sign-review { margin: 1 0; }
    SignSessionScreen #sign-findings { margin-bottom: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="sign_session.cancel"),
    ]

    class Answered(Message):
        """The Store signed the session, or said why not."""

        def __init__(self, session: Session | None, error: Exception | None = None) -> None:
            self.session = session
            self.error = error
            super().__init__()

    def __init__(
        self,
        review: str,
        findings: Findings | None = None,
        meaning: str = "administered by",
        *,
        sign: SignFunction,
        syringe: Syringe | None = None,
    ) -> None:
        super().__init__()
        self._review = review
        self._findings = findings
        self._meaning = meaning
        self._syringe = syringe
        self._sign_with = sign
        #: The signed session when signing committed but its checkpoint failed.
        self._saved: Any = None

    def _findings_text(self) -> Text:
        text = Text()
        theme = self.app.current_theme
        for finding in self._findings.to_read() if self._findings else ():
            style = f"bold {theme.error}" if finding.is_block else f"bold {theme.warning}"
            label = "BLOCK" if finding.is_block else "WARNING"
            if finding.needs_reason and not finding.is_block:
                label = "WARNING (needs a reason)"
            text.append(f"{label}: {finding.message}", style=style)
            text.append(f"  → {finding.remedy}\n")
        return text

    def _reasons_needed(self) -> tuple[Finding, ...]:
        """The warnings whose acknowledgement must say why (formulary.safety rules)."""
        return tuple(w for w in self._findings.warnings if w.needs_reason) if self._findings else ()

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
                if findings.warnings and not findings.blocks and self._reasons_needed():
                    yield TextInput(
                        id="sign-reason",
                        placeholder="why it is right to proceed, required to sign",
                    )
                    yield Static(
                        Text(
                            "The reason is recorded with your acknowledgement and printed "
                            "with the warning on every export."
                        ),
                        id="sign-reason-meaning",
                    )
                if findings.blocks:
                    yield TextInput(
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
            yield TextInput(id="sign-password", password=True, placeholder="your password")
            yield Static("", id="sign-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
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
        explained = list(self.query("#sign-reason").results(Input))
        reason = (overrides or explained)[0].value.strip() if overrides or explained else ""
        if not acknowledged:
            error.update("Tick that you have read the warnings.")
            return
        if explained and len(reason) < MIN_REASON_LENGTH:
            error.update(
                Text(
                    f"{self._reasons_needed()[0].message}: write why it is right to proceed "
                    f"(at least {MIN_REASON_LENGTH} characters) to sign."
                )
            )
            explained[0].focus()
            return
        if overrides and not reason:
            error.update("A blocking finding needs an override reason to sign.")
            return
        if not password:
            error.update("Type your password to sign.")
            return
        error.update("Signing…")
        self.query_one("#sign-ok", Button).disabled = True
        self._sign_in_worker(password, bool(self._findings and self._findings.warnings), reason)

    @work(thread=True, exclusive=True, group="sign-session")
    def _sign_in_worker(self, password: str, acknowledge: bool, reason: str) -> None:
        try:
            session = self._sign_with(password, acknowledge, reason)
        except Exception as exc:
            self.post_message(self.Answered(None, exc))
            return
        self.post_message(self.Answered(session))

    @on(Answered)
    def _answered(self, message: Answered) -> None:
        from db.errors import AccountLocked, AuthenticationFailed, CheckpointFailed

        if message.session is not None:
            self.dismiss(message.session)
            return
        exc = message.error
        password = self.query_one("#sign-password", Input)
        password.value = ""
        error = self.query_one("#sign-error", Static)
        if isinstance(exc, CheckpointFailed):
            # The signature committed: say so, and never offer to sign again (a second
            # signature would be a second record). Closing shows the signed session.
            self._saved = exc.saved
            error.update(
                Text(
                    "SIGNED: the session is signed and saved. Its audit checkpoint could not "
                    f"be written: {exc}. Close this dialog; do not sign it again."
                )
            )
            password.disabled = True
            self.query_one("#sign-ok", Button).disabled = True
            cancel = self.query_one("#sign-cancel", Button)
            cancel.label = "Close"
            cancel.focus()
            return
        if isinstance(exc, AccountLocked):
            # Lockout applies here as at sign-in: no more attempts from this dialog.
            error.update(Text(f"Not signed: {exc}. The draft is kept."))
            password.disabled = True
            self.query_one("#sign-cancel", Button).focus()
            return
        self.query_one("#sign-ok", Button).disabled = False
        # The Store says "unknown username or wrong password" (it does not tell an
        # attacker which); here the user is signed in, so it is the password.
        if isinstance(exc, AuthenticationFailed) and "wrong password" in str(exc):
            error.update(
                "Wrong password: nothing was signed. Type your password again "
                "(repeated failures lock the account)."
            )
        else:
            error.update(Text(f"Not signed: {exc or type(exc).__name__}. The draft is kept."))
        password.focus()

    @on(Button.Pressed, "#sign-cancel")
    def action_cancel(self) -> None:
        """Back to the session without signing (or, once signed, to the signed session)."""
        self.dismiss(self._saved)
