"""The stock set-up dialogs' base: fields saved by one Store call in a worker.

The first field has focus when the dialog opens and Escape asks before throwing typed
data away (:class:`tui.screens.form_guard.GuardedForm`, the one mechanism every form
uses). Bad input is shown beside its field and a refusal from the Store on the error
line, with what was typed kept.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Select, Static

from tui.screens.base import AppModal, defer_until_typed
from tui.screens.form_guard import GuardedForm
from tui.widgets.field_row import FieldMessages


class StockDialog(GuardedForm, AppModal):
    """Dismissed with what :meth:`store_call` returned, or None when cancelled.

    A subclass composes its fields (``FieldRow``), the buttons with ids
    ``SAVE_BUTTON`` / ``CANCEL_BUTTON`` and a ``Static`` with id ``ERROR_LINE``; it
    reads them in :meth:`read` and saves in :meth:`store_call` (a worker thread).
    """

    SAVE_BUTTON: ClassVar[str] = "form-save"
    CANCEL_BUTTON: ClassVar[str] = "form-cancel"
    ERROR_LINE: ClassVar[str] = "form-error"

    class Done(Message):
        """The Store answered: ``result`` on success, else ``reason``."""

        def __init__(self, result: Any = None, reason: str = "") -> None:
            self.result = result
            self.reason = reason
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self._messages = FieldMessages(self)

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The values to save, and messages by FieldRow id for what is wrong."""
        raise NotImplementedError

    def store_call(self, values: dict[str, Any]) -> Any:
        """Save ``values`` through the Store (runs in a worker thread); returns the record."""
        raise NotImplementedError

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show each message beside its field (and clear the others)."""
        self._messages.show(errors)
        self._show_summary()

    def _show_summary(self) -> None:
        line = self.query_one(f"#{self.ERROR_LINE}", Static)
        line.update("Correct the fields marked beside them." if self._messages else "")

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _recheck(self) -> None:
        if self._messages:
            self._messages.recheck(self.read()[1])
            self._show_summary()

    def action_save(self) -> None:
        """Check the fields, then save through the Store."""
        if defer_until_typed(self, self.action_save):
            return
        values, errors = self.read()
        self.show_errors(errors)
        if errors:
            return
        self.query_one(f"#{self.SAVE_BUTTON}", Button).disabled = True
        self._save(values)

    def action_cancel(self) -> None:
        """Close; ask first when something was typed."""
        def close() -> None:
            self.dismiss(None)

        self.close_form(close)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == self.SAVE_BUTTON:
            event.stop()
            self.action_save()
        elif event.button.id == self.CANCEL_BUTTON:
            event.stop()
            self.action_cancel()

    @work(thread=True, exclusive=True, group="guarded-form")
    def _save(self, values: dict[str, Any]) -> None:
        try:
            result = self.store_call(values)
        except Exception as exc:
            self.post_message(self.Done(reason=str(exc) or type(exc).__name__))
            return
        self.post_message(self.Done(result))

    @on(Done)
    def _done(self, message: Done) -> None:
        if not message.reason:
            self.dismiss(message.result)
            return
        self.query_one(f"#{self.SAVE_BUTTON}", Button).disabled = False
        self.query_one(f"#{self.ERROR_LINE}", Static).update(f"Not saved: {message.reason}")
