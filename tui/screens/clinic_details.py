"""The clinic's details: name, address, export identifier, beyond-use time, photo limit.

Everyone signed in may look; only an administrator may change them (the Store refuses
anyone else, as ``formulary clinic set`` does), and anyone else sees the values
read-only with a line saying so. The values are read in a worker when the dialog
opens. Saving checks every changed field with the Store's own checks
(:mod:`db.store.validate`, bounds from :mod:`formulary.clinic` and
:mod:`formulary.photos`) and sends only what changed in one Store call
(``Store.update_clinic``): all or nothing, each changed part audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Static

from db.errors import ValidationError
from db.store import validate as check
from db.store.roles import ADMINS
from formulary import clinic as rules
from formulary.photos import MAX_MAX_BYTES, MIN_MAX_BYTES
from tui.messages import Loaded, WorkerFailed
from tui.screens.store_form import StoreFormModal
from tui.styles import STYLES
from tui.widgets.field_row import FieldRow
from tui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from formulary.records import Clinic

_MB = 2**20
_LOW_MB, _HIGH_MB = MIN_MAX_BYTES // _MB, MAX_MAX_BYTES // _MB

#: The fields: (id, label, what it is for).
_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("c-name", "Clinic name", "Printed on every export."),
    ("c-address", "Address", "Printed with the name on every export."),
    (
        "c-identifier",
        "Identifier",
        f"Names the clinic in every export's identifiers: {rules.IDENTIFIER_RULE}. "
        "Empty: the database id.",
    ),
    (
        "c-beyond-use",
        "Beyond-use (min)",
        f"How long a prepared syringe may be used (its label prints it): "
        f"{rules.BEYOND_USE_RANGE}.",
    ),
    (
        "c-photo-mb",
        "Photo limit (MB)",
        f"The largest photo file accepted: {_LOW_MB} to {_HIGH_MB} MB.",
    ),
)

#: What each Store argument is called when the save is announced.
_PART_NAMES = {
    "name": "name",
    "address": "address",
    "identifier": "identifier",
    "beyond_use_minutes": "beyond-use time",
    "photo_limit_bytes": "photo limit",
}

#: The one line a user who may not change the details reads.
READ_ONLY = "Only an administrator may change the clinic's details; ask one."


def _sentence(reason: str) -> str:
    """A Store message (``the clinic name is empty; fill it in``) as a sentence."""
    reason = reason.strip()
    reason = reason[:1].upper() + reason[1:]
    return reason if reason.endswith(".") else reason + "."


def _whole(text: str) -> int | None:
    """``text`` as a whole number (ASCII digits only), or None."""
    return int(text) if text.isascii() and text.isdigit() else None


class ClinicDetailsScreen(StoreFormModal):
    """Dismissed with True once changed details are saved (audited), else False."""

    CSS_PATH = STYLES / "clinic.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="clinic_details.save", priority=True),
        Binding("escape", "cancel", "Close", id="clinic_details.cancel"),
    ]
    SAVE_BUTTON = "clinic-save"
    CANCEL_BUTTON = "clinic-cancel"
    ERROR_LINE = "clinic-error"
    FORM_NAME = "the clinic details"

    def __init__(self) -> None:
        super().__init__()
        #: What each field showed when the details were read (None: not read yet).
        self.shown: dict[str, str] | None = None

    @property
    def may_change(self) -> bool:
        """True for an administrator (the role the Store lets change the details)."""
        return self.user.role in ADMINS

    def compose(self) -> ComposeResult:
        self.set_class(not self.may_change, "-read-only")
        with VerticalScroll(id="clinic-box"):
            yield Static("Clinic details", classes="form-title")
            yield Static(
                "Reading the clinic's details…" if self.may_change else READ_ONLY,
                id="clinic-hint",
                classes="form-hint",
            )
            for ident, label, hint in _FIELDS:
                value = (
                    TextInput(id=ident, disabled=True)
                    if self.may_change
                    else Static("", id=ident, classes="clinic-value")
                )
                yield FieldRow(label, value, id=f"row-{ident}")
                yield Static(hint, classes="hint clinic-field-hint")
            yield Static("", id="clinic-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                if self.may_change:
                    yield Button("Save (ctrl+s)", id="clinic-save", variant="primary",
                                 disabled=True)
                    yield Button("Cancel (esc)", id="clinic-cancel")
                else:
                    yield Button("Close (esc)", id="clinic-cancel")

    def on_mount(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="clinic-read")
    def _read(self) -> None:
        try:
            clinic = self.store.clinic(self.user)
            default_identifier = self.store.database.db_id
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.post_message(Loaded((clinic, default_identifier)))

    @on(Loaded)
    def _loaded(self, message: Loaded[tuple[Clinic, str]]) -> None:
        clinic, default_identifier = message.data
        self.shown = {
            "c-name": clinic.name,
            "c-address": clinic.address,
            # The default is shown as an empty field: empty is what goes back to it.
            "c-identifier": "" if clinic.identifier == default_identifier else clinic.identifier,
            "c-beyond-use": str(clinic.beyond_use_minutes),
            "c-photo-mb": f"{clinic.photo_max_bytes / _MB:g}",
        }
        default = f"{default_identifier} (the database id)"
        if not self.may_change:
            for ident, text in self.shown.items():
                shown = text or (default if ident == "c-identifier" else "(not set)")
                self.query_one(f"#{ident}", Static).update(Text(shown))
            return
        for ident, text in self.shown.items():
            field = self.query_one(f"#{ident}", Input)
            field.value = text
            field.disabled = False
        self.query_one("#c-identifier", Input).placeholder = f"empty: {default}"
        self.query_one("#clinic-hint", Static).update(
            "Saving writes what you changed; the audit trail keeps each change."
        )
        self.query_one("#clinic-save", Button).disabled = False
        self.mark_pristine()
        self.focus_first_field()

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        self.query_one("#clinic-error", Static).update(
            Text(f"Could not read the clinic's details: {message.reason}")
        )

    def changed(self) -> dict[str, str]:
        """The fields whose text differs from what was read, by id (text trimmed)."""
        if self.shown is None or not self.may_change:
            return {}
        typed = {ident: self.query_one(f"#{ident}", Input).value.strip() for ident in self.shown}
        return {ident: text for ident, text in typed.items() if text != self.shown[ident]}

    def action_save(self) -> None:
        """Check the changed fields, then save them through the Store."""
        if not self.may_change:
            self.notify(READ_ONLY, title="Clinic details", severity="warning")
            return
        if self.shown is None:  # still reading
            return
        if not self.changed():
            self.notify("Nothing changed; nothing saved.", title="Clinic details")
            self.dismiss(False)
            return
        super().action_save()

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The changed details as the Store takes them, and what is wrong, by field."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for ident, text in self.changed().items():
            try:
                key, value = self._checked(ident, text)
            except ValidationError as exc:
                errors[f"row-{ident}"] = _sentence(str(exc))
                continue
            values[key] = value
        return values, errors

    @staticmethod
    def _checked(ident: str, text: str) -> tuple[str, Any]:
        """The Store argument for field ``ident`` and its checked value."""
        if ident == "c-name":
            return "name", check.text(text, "clinic name", limit=rules.NAME_LIMIT, required=True)
        if ident == "c-address":
            return "address", check.text(text, "clinic address", limit=rules.ADDRESS_LIMIT)
        if ident == "c-identifier":
            return "identifier", check.clinic_identifier(text)
        if ident == "c-beyond-use":
            minutes = _whole(text)
            if minutes is None:
                raise ValidationError(
                    f"type the beyond-use time as a whole number: {rules.BEYOND_USE_RANGE}"
                )
            return "beyond_use_minutes", check.beyond_use_minutes(minutes)
        megabytes = _whole(text)
        if megabytes is None:
            raise ValidationError(
                f"type the photo limit as a whole number: {_LOW_MB} to {_HIGH_MB} MB"
            )
        return "photo_limit_bytes", check.photo_limit(megabytes * _MB)

    def store_call(self, values: dict[str, Any]) -> None:
        """Save through the Store, in one transaction (in the worker thread)."""
        self.store.update_clinic(self.user, **values)
        parts = ", ".join(_PART_NAMES[key] for key in values)
        self.app.call_from_thread(
            self.app.notify, f"Clinic details saved: {parts}.", title="Clinic details"
        )
