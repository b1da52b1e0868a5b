"""The clinic's photo size limit (administrators): the largest file a photo may be."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Static

from formulary.photos import MAX_MAX_BYTES, MIN_MAX_BYTES
from tui.screens.store_form import StoreFormModal
from tui.styles import STYLES
from tui.widgets.field_row import FieldRow
from tui.widgets.text_input import TextInput


class PhotoLimitScreen(StoreFormModal):
    """Dismissed with True once the new limit is saved (audited)."""

    CSS_PATH = STYLES / "photos.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="photo_limit.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="photo_limit.cancel"),
    ]
    SAVE_BUTTON = "limit-save"
    CANCEL_BUTTON = "limit-cancel"
    ERROR_LINE = "limit-error"

    def __init__(self, current_bytes: int) -> None:
        super().__init__()
        self.current_bytes = current_bytes

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Photo size limit", classes="form-title")
            yield Static(
                f"The largest photo file accepted; now {self.current_bytes / 2**20:.0f} MB. "
                "A larger file is refused with a message saying so.",
                classes="form-hint",
            )
            yield Static("", id="limit-error", classes="form-error")
            yield FieldRow(
                "Limit (MB)",
                TextInput(str(round(self.current_bytes / 2**20)), id="limit-mb",
                      placeholder=f"{MIN_MAX_BYTES // 2**20} to {MAX_MAX_BYTES // 2**20}"),
                id="row-limit-mb",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="limit-save", variant="primary")
                yield Button("Cancel (esc)", id="limit-cancel")

    def on_mount(self) -> None:
        self.query_one("#limit-mb", Input).focus()

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The limit in bytes, or what is wrong with the number typed."""
        text = self.query_one("#limit-mb", Input).value.strip()
        low, high = MIN_MAX_BYTES // 2**20, MAX_MAX_BYTES // 2**20
        if not text.isdigit() or not low <= int(text) <= high:
            return {}, {"row-limit-mb": f"A whole number of MB, {low} to {high}."}
        return {"limit_bytes": int(text) * 2**20}, {}

    def store_call(self, values: dict[str, Any]) -> None:
        """Save through the Store (in the worker thread)."""
        self.store.set_photo_limit(self.user, values["limit_bytes"])
        self.app.call_from_thread(
            self.app.notify, f"Photo size limit: {values['limit_bytes'] // 2**20} MB.",
            title="Clinic settings",
        )
