"""A dialog of fields saved by one Store call, that never throws typed data away unasked.

The first field has focus when the dialog opens; Escape closes it at once when
nothing was typed, and asks first ("Discard what you typed?") when something was.
The Store call runs in a thread worker; bad input is shown beside its field and a
refusal from the Store on the error line, with what was typed kept.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.message import Message
from textual.widgets import Button, Input, Select, Static

from tui.screens.base import AppModal
from tui.widgets.field_row import FieldRow


class GuardedForm(AppModal):
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
        self._initial: dict[str, object] = {}

    def on_mount(self) -> None:
        self.call_after_refresh(self._ready)

    def _ready(self) -> None:
        self._initial = self._values()
        first = self.first_field()
        if first is not None:
            first.focus()

    def first_field(self) -> Input | Select[Any] | None:
        """The field that has focus when the dialog opens (the first one by default)."""
        fields = list(self.query(".field").results())
        for widget in fields:
            if isinstance(widget, Input | Select) and not widget.disabled:
                return widget
        return None

    def _values(self) -> dict[str, object]:
        values: dict[str, object] = {}
        for widget in self.query(Input).results():
            values[f"input#{widget.id}"] = widget.value
        for widget in self.query(Select).results():
            values[f"select#{widget.id}"] = widget.value
        return values

    @property
    def typed(self) -> bool:
        """True when a field differs from how the dialog opened."""
        return self._values() != self._initial

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The values to save, and messages by FieldRow id for what is wrong."""
        raise NotImplementedError

    def store_call(self, values: dict[str, Any]) -> Any:
        """Save ``values`` through the Store (runs in a worker thread); returns the record."""
        raise NotImplementedError

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show each message beside its field (and clear the others)."""
        for row in self.query(FieldRow):
            row.set_error(errors.get(row.id or "", ""))
        line = self.query_one(f"#{self.ERROR_LINE}", Static)
        line.update("Correct the fields marked beside them." if errors else "")

    def action_save(self) -> None:
        """Check the fields, then save through the Store."""
        values, errors = self.read()
        self.show_errors(errors)
        if errors:
            return
        self.query_one(f"#{self.SAVE_BUTTON}", Button).disabled = True
        self._save(values)

    def action_cancel(self) -> None:
        """Close; ask first when something was typed."""
        if not self.typed:
            self.dismiss(None)
            return
        from tui.screens.confirm import ConfirmScreen

        def answered(choice: str | None) -> None:
            if choice is not None:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen(
                "Discard what you typed?",
                "Nothing of this form has been saved. Discard it, or cancel to go on typing.",
                action="Discard",
                reason=False,
            ),
            answered,
        )

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
