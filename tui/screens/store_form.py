"""A dialog of fields saved by one Store call: check beside each field, save, answer."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Select, Static

from tui.screens.base import AppModal, defer_until_typed
from tui.screens.form_guard import GuardedForm
from tui.widgets.field_row import FieldMessages


class StoreFormModal(GuardedForm, AppModal):
    """Dismissed with True once the Store saved what the fields say, False on cancel.

    A subclass composes its :class:`FieldRow` fields, a save and a cancel button and an
    error line (ids in ``SAVE_BUTTON``, ``CANCEL_BUTTON``, ``ERROR_LINE``), reads its
    fields in :meth:`read` and makes the Store call in :meth:`store_call` (a worker
    thread). Bad input is shown beside its field and nothing is sent; a refusal from
    the Store is shown on the error line and what was typed stays.
    """

    SAVE_BUTTON: ClassVar[str]
    CANCEL_BUTTON: ClassVar[str]
    ERROR_LINE: ClassVar[str]

    class Done(Message):
        """The Store answered (``reason`` empty on success)."""

        def __init__(self, reason: str = "") -> None:
            self.reason = reason
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self._messages = FieldMessages(self)

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The values to save, and messages by FieldRow id for what is wrong."""
        raise NotImplementedError

    def store_call(self, values: dict[str, Any]) -> None:
        """Save ``values`` through the Store (runs in a worker thread)."""
        raise NotImplementedError

    def action_save(self) -> None:
        """Check the fields, then save through the Store."""
        if defer_until_typed(self, self.action_save):
            return
        values, errors = self.read()
        self._messages.show(errors)
        if errors:
            return
        self.query_one(f"#{self.SAVE_BUTTON}", Button).disabled = True
        self._save(values)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _recheck(self) -> None:
        if self._messages:
            self._messages.recheck(self.read()[1])

    def action_cancel(self) -> None:
        """Close without saving (asking first when something was typed)."""
        self.close_form(lambda: self.dismiss(False))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == self.SAVE_BUTTON:
            self.action_save()
        elif event.button.id == self.CANCEL_BUTTON:
            self.action_cancel()

    @work(thread=True, exclusive=True, group="store-form")
    def _save(self, values: dict[str, Any]) -> None:
        try:
            self.store_call(values)
        except Exception as exc:
            self.post_message(self.Done(str(exc) or type(exc).__name__))
            return
        self.post_message(self.Done())

    @on(Done)
    def _done(self, message: Done) -> None:
        if not message.reason:
            self.dismiss(True)
            return
        self.query_one(f"#{self.SAVE_BUTTON}", Button).disabled = False
        self.query_one(f"#{self.ERROR_LINE}", Static).update(f"Not saved: {message.reason}")
