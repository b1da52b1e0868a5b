"""An addendum to a signed session: the correction, its reason, signed with the password."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Static

from formulary.records import Session
from tui.screens.base import AppModal
from tui.screens.form_guard import GuardedForm
from tui.widgets.field_row import FieldRow
from tui.widgets.text_input import TextInput


class AddendumScreen(GuardedForm, AppModal):
    """Dismissed with the session as it now reads, or None.

    Escape asks before it throws a typed correction or reason away (GuardedForm).
    """

    FIRST_FIELD = "#addendum-text"
    FORM_NAME = "the addendum"

    DEFAULT_CSS = """
    AddendumScreen > Vertical {
        width: 110; max-height: 100%; border: thick $warning; padding: 1 2;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="addendum.cancel"),
    ]

    class Done(Message):
        """The Store answered."""

        def __init__(self, session: Session | None, reason: str = "") -> None:
            self.session = session
            self.reason = reason
            super().__init__()

    def __init__(self, session_id: int) -> None:
        super().__init__()
        self.session_id = session_id

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Addendum to a signed session", classes="form-title")
            yield FieldRow("Correction", TextInput(id="addendum-text"), id="row-addendum-text")
            yield FieldRow("Reason", TextInput(id="addendum-reason"), id="row-addendum-reason")
            yield FieldRow(
                "Password", TextInput(id="addendum-password", password=True), id="row-addendum-pw"
            )
            yield Static("", id="addendum-error", classes="dialog-error")
            with Horizontal(id="addendum-buttons", classes="dialog-buttons"):
                yield Button("Sign addendum", id="addendum-ok", variant="warning")
                yield Button("Cancel (esc)", id="addendum-cancel")

    @on(Input.Submitted, "#addendum-password")
    @on(Button.Pressed, "#addendum-ok")
    def _submit(self) -> None:
        values = {
            "row-addendum-text": self.query_one("#addendum-text", Input).value.strip(),
            "row-addendum-reason": self.query_one("#addendum-reason", Input).value.strip(),
            "row-addendum-pw": self.query_one("#addendum-password", Input).value,
        }
        messages = {
            "row-addendum-text": "Write the correction.",
            "row-addendum-reason": "Say why the record is corrected.",
            "row-addendum-pw": "Your password signs the addendum.",
        }
        missing = False
        for row in self.query(FieldRow):
            empty = not values[row.id or ""]
            row.set_error(messages[row.id or ""] if empty else "")
            missing = missing or empty
        if missing:
            return
        self.query_one("#addendum-ok", Button).disabled = True
        self._add(*values.values())

    @work(thread=True, exclusive=True, group="addendum")
    def _add(self, text: str, reason: str, password: str) -> None:
        try:
            session = self.store.add_addendum(self.user, self.session_id, text, reason, password)
        except Exception as exc:
            self.post_message(self.Done(None, str(exc) or type(exc).__name__))
            return
        self.post_message(self.Done(session))

    @on(Done)
    def _done(self, message: Done) -> None:
        if message.session is not None:
            self.dismiss(message.session)
            return
        self.query_one("#addendum-ok", Button).disabled = False
        self.query_one("#addendum-error", Static).update(f"Not added: {message.reason}")
        self.query_one("#addendum-password", Input).value = ""

    @on(Button.Pressed, "#addendum-cancel")
    def action_cancel(self) -> None:
        """Close without adding anything (asks first when something was typed)."""
        self.close_form(lambda: self.dismiss(None))
