"""A labelled form field with its validation message beside it."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static


class FieldRow(Horizontal):
    """``label  [field]  message``; :meth:`set_error` shows or clears the message."""

    DEFAULT_CSS = """
    FieldRow { height: auto; margin-bottom: 0; }
    FieldRow > Label { width: 20; padding-top: 1; }
    FieldRow > .field { width: 1fr; }
    FieldRow > .field-error { width: 34; color: $error; padding: 1 0 0 1; }
    /* Narrow (a dialog at 80 columns): the field takes the width beside its label,
       and a message goes under it (app.tcss, which the app's .field-error is in). */
    FieldRow.-narrow {
        layout: grid; grid-size: 2; grid-columns: 18 1fr; grid-rows: auto;
    }
    FieldRow.-narrow > Label { width: 18; }
    """

    #: Below this width the message goes under the field instead of beside it.
    NARROW_BELOW = 90

    def __init__(self, label: str, field: Widget, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._label = label
        self._field = field
        field.add_class("field")

    def compose(self) -> ComposeResult:
        yield Label(self._label)
        yield self._field
        yield Static("", classes="field-error")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < self.NARROW_BELOW, "-narrow")

    def set_error(self, message: str) -> None:
        """Show ``message`` beside the field (empty clears it)."""
        self.query_one(".field-error", Static).update(Text(message))
        self.set_class(bool(message), "-invalid")

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _edited(self) -> None:
        # A message about what was there ("Required.") is wrong once the field changes;
        # a screen that checks as the user types sets its new message after this.
        if self.has_class("-invalid"):
            self.set_error("")

    @property
    def label(self) -> str:
        """The field's name as the form shows it."""
        return self._label

    @property
    def error(self) -> str:
        """The message shown now."""
        return str(self.query_one(".field-error", Static).render())


class FieldMessages:
    """The messages a form shows in its :class:`FieldRow` rows, kept true as it is edited.

    Saving shows every message (:meth:`show`). As the user edits, :meth:`recheck` brings
    only the messages on screen up to date: a corrected field loses its own at once, one
    still wrong says what is wrong with what it holds now, and typing raises no new
    message before the next save. ``len()`` is how many are on screen.
    """

    def __init__(self, form: Widget) -> None:
        self._form = form
        self._shown: set[str] = set()

    def __len__(self) -> int:
        return len(self._shown)

    def show(self, errors: Mapping[str, str]) -> None:
        """Show each message beside its field and clear the others."""
        self._update(errors, only_shown=False)

    def recheck(self, errors: Mapping[str, str]) -> None:
        """Bring the messages on screen up to ``errors`` (none added)."""
        self._update(errors, only_shown=True)

    def _update(self, errors: Mapping[str, str], *, only_shown: bool) -> None:
        for row in self._form.query(FieldRow):
            name = row.id or ""
            if only_shown and name not in self._shown:
                continue
            message = errors.get(name, "")
            row.set_error(message)
            if message:
                self._shown.add(name)
            else:
                self._shown.discard(name)
