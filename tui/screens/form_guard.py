"""Forms that focus their first field and ask before Escape throws typed data away.

Every dialog that takes typed input mixes :class:`GuardedForm` in: on mount the first
field has the focus (so the first keys pressed land in it), and its ``cancel`` asks
"Discard what you typed?" when any field differs from what the form opened with.
One mechanism, so the patient, course, outcome, export and user forms behave alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Select, Static, TextArea

from tui.screens.base import AppModal

#: Widgets whose value counts as typed data.
_EDITABLE = (Input, Select, Checkbox, TextArea)


def field_value(widget: Widget) -> Any:
    """What ``widget`` holds now (text, choice or tick)."""
    if isinstance(widget, TextArea):
        return widget.text
    if isinstance(widget, Input | Select | Checkbox):
        return widget.value
    return None


class DiscardChangesScreen(AppModal):
    """Dismissed with True to throw the typed data away, False to keep editing."""

    DEFAULT_CSS = """
    DiscardChangesScreen > Vertical {
        width: 60; max-width: 96%; max-height: 100%; border: thick $warning; padding: 1 2;
    }
    DiscardChangesScreen #discard-title { text-style: bold; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "keep", "Keep editing", id="discard.keep"),
        Binding("d", "discard", "Discard", id="discard.discard"),
    ]

    def __init__(self, what: str = "this form", detail: str | None = None) -> None:
        super().__init__()
        self._what = what
        #: What exactly would be lost, when not everything is (None: the whole form).
        self._detail = detail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Discard what you typed?", id="discard-title")
            yield Static(
                Text(self._detail)
                if self._detail is not None
                else f"Closing {self._what} throws away what you typed; nothing is saved."
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Keep editing (esc)", id="discard-keep", variant="primary")
                yield Button("Discard (d)", id="discard-discard", variant="error")

    def on_mount(self) -> None:
        self.query_one("#discard-keep", Button).focus()

    @on(Button.Pressed, "#discard-keep")
    def action_keep(self) -> None:
        """Back to the form, everything typed still there."""
        self.dismiss(False)

    @on(Button.Pressed, "#discard-discard")
    def action_discard(self) -> None:
        """Throw the typed data away."""
        self.dismiss(True)


class GuardedForm:
    """Mixin for a Screen: first field focused; closing with typed data asks first.

    ``FIRST_FIELD`` (a selector) names the field to focus; by default the first
    editable field in the form. The screen calls :meth:`close_form` from its cancel
    action with what closing does; :meth:`mark_pristine` after it loads values it did
    not open with (so that loading is not mistaken for typing).
    """

    FIRST_FIELD: ClassVar[str | None] = None
    #: How the discard question names the form ("the new patient form").
    FORM_NAME: ClassVar[str] = "this form"

    _pristine: dict[int, Any]

    def editable_fields(self) -> list[Widget]:
        """Every field whose value counts as typed data, in the form's order."""
        return [w for w in self.query("*") if isinstance(w, _EDITABLE)]  # type: ignore[attr-defined]

    def _on_mount(self, event: events.Mount) -> None:
        # Named by Textual's convention (not @on): a plain mixin's decorated handlers
        # are not collected, its conventionally named ones are, once per class.
        self.mark_pristine()
        self.focus_first_field()
        # Selects settle their value after the first refresh, and the screen's own
        # activation may give the focus to a scrolling container: settle both then.
        self.call_after_refresh(self._after_first_refresh)  # type: ignore[attr-defined]

    def _after_first_refresh(self) -> None:
        self.mark_pristine()
        focused = self.focused  # type: ignore[attr-defined]
        if not isinstance(focused, (*_EDITABLE, Button)):
            self.focus_first_field()

    def focus_first_field(self) -> None:
        """Give the first field the focus, so the first keys typed land in it."""
        target: Widget | None = None
        if self.FIRST_FIELD:
            found = self.query(self.FIRST_FIELD)  # type: ignore[attr-defined]
            target = found.first() if found else None
        if target is None:
            fields = [w for w in self.editable_fields() if w.focusable]
            target = fields[0] if fields else None
        if target is not None:
            target.focus()

    def mark_pristine(self) -> None:
        """Take what the fields hold now as what the form opened with."""
        self._pristine = {id(w): field_value(w) for w in self.editable_fields()}

    def is_dirty(self) -> bool:
        """True when any field holds something else than the form opened with."""
        pristine = getattr(self, "_pristine", {})
        return any(
            pristine.get(id(w), _MISSING) != field_value(w) for w in self.editable_fields()
        )

    def close_form(self, close: Callable[[], object]) -> None:
        """Run ``close`` at once, or after the user agreed to discard what was typed."""
        if not self.is_dirty():
            close()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                close()

        self.app.push_screen(DiscardChangesScreen(self.FORM_NAME), answered)  # type: ignore[attr-defined]


_MISSING = object()
