"""Attach a photo: the file, the view, the date taken and what it documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Select, Static

from formulary.photos import VIEWS, PhotoView
from formulary.records import PatientChart
from tui.screens.patient_form import parse_date
from tui.screens.store_form import StoreFormModal
from tui.styles import STYLES
from tui.widgets.field_row import FieldRow
from tui.widgets.text_input import TextInput

#: What a photo documents: ("session" | "outcome", id).
Target = tuple[str, int]


def targets(chart: PatientChart) -> list[tuple[str, Target]]:
    """The sessions and outcomes of the chart a photo may be attached to, newest first."""
    out: list[tuple[str, Target]] = []
    for s in sorted(chart.sessions, key=lambda s: (s.performed_at, s.id), reverse=True):
        state = "signed" if s.signature is not None else "draft"
        out.append((f"Session {s.performed_at.astimezone():%Y-%m-%d} ({state})",
                    ("session", s.id)))
    for o in sorted(chart.outcomes, key=lambda o: (o.measured_at, o.id), reverse=True):
        what = o.scale_grade or (o.zone.value.replace("_", " ") if o.zone else "measurement")
        out.append((f"Outcome {o.measured_at.astimezone():%Y-%m-%d} ({what})",
                    ("outcome", o.id)))
    return out


class AttachPhotoScreen(StoreFormModal):
    """Dismissed with True once the photo is stored and recorded."""

    CSS_PATH = STYLES / "photos.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Attach", id="attach_photo.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="attach_photo.cancel"),
    ]
    SAVE_BUTTON = "photo-save"
    CANCEL_BUTTON = "photo-cancel"
    ERROR_LINE = "photo-error"

    def __init__(self, chart: PatientChart) -> None:
        super().__init__()
        self.chart = chart
        self.options = targets(chart)
        #: Set (in the worker) when the Store said the managed folder is missing.
        self.folder_missing = False

    def compose(self) -> ComposeResult:
        p = self.chart.patient
        with VerticalScroll():
            yield Static(f"Attach a photo: {p.display_name} ({p.chart_number})",
                         classes="form-title")
            yield Static(
                "Location and camera details are removed from the stored copy; its SHA-256 "
                "goes into the audit trail. JPEG, PNG or HEIC.",
                classes="form-hint",
            )
            yield Static("", id="photo-error", classes="form-error")
            yield FieldRow("File", TextInput(id="photo-file", placeholder="/path/to/photo.jpg"),
                           id="row-photo-file")
            yield FieldRow(
                "View",
                Select([(v.label, v) for v in VIEWS], id="photo-view", allow_blank=True),
                id="row-photo-view",
            )
            yield FieldRow(
                "Taken on",
                TextInput(self.formulary_app.today().isoformat(), id="photo-date",
                      placeholder="YYYY-MM-DD"),
                id="row-photo-date",
            )
            yield FieldRow(
                "Documents",
                Select(self.options, id="photo-target", allow_blank=not self.options,
                       value=self.options[0][1] if self.options else Select.BLANK),
                id="row-photo-target",
            )
            yield FieldRow("Note", TextInput(id="photo-note"), id="row-photo-note")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Attach (ctrl+s)", id="photo-save", variant="primary")
                yield Button("Create the photo folder", id="photo-create-folder")
                yield Button("Cancel (esc)", id="photo-cancel")

    def on_mount(self) -> None:
        self.query_one("#photo-file", Input).focus()

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The values to attach and what is wrong, by field."""
        errors: dict[str, str] = {}
        values: dict[str, Any] = {"patient_id": self.chart.patient.id}
        raw = self.query_one("#photo-file", Input).value.strip()
        if not raw:
            errors["row-photo-file"] = "Required: the photo file's path."
        else:
            path = Path(raw).expanduser()
            if not path.is_file():
                errors["row-photo-file"] = "No such file; check the path."
            values["path"] = path
        view = self.query_one("#photo-view", Select).value
        if isinstance(view, PhotoView):
            values["view"] = view
        else:
            errors["row-photo-view"] = "Choose the view."
        day, message = parse_date(self.query_one("#photo-date", Input).value, required=True)
        if message:
            errors["row-photo-date"] = message
        elif day is not None:
            if day > self.formulary_app.today():
                errors["row-photo-date"] = "The date is in the future."
            values["taken_on"] = day
        target = self.query_one("#photo-target", Select).value
        if isinstance(target, tuple):
            kind, ident = target
            values["session_id" if kind == "session" else "outcome_id"] = ident
        else:
            errors["row-photo-target"] = (
                "Record a session or an outcome first (F7 on the chart)."
                if not self.options else "Choose the session or outcome."
            )
        values["note"] = self.query_one("#photo-note", Input).value.strip()
        return values, errors

    def store_call(self, values: dict[str, Any]) -> None:
        """Attach through the Store (in the worker thread)."""
        from db.files import ManagedFolderMissing

        args = dict(values)
        path = args.pop("path")
        self.folder_missing = False
        try:
            self.store.attach_photo_file(self.user, path, **args)
        except ManagedFolderMissing:
            self.folder_missing = True
            raise

    @on(StoreFormModal.Done)
    def _offer_folder(self, message: StoreFormModal.Done) -> None:
        # Runs after the base handler has shown the reason on the error line.
        self.set_class(bool(message.reason) and self.folder_missing, "-folder-missing")

    @on(Button.Pressed, "#photo-create-folder")
    def _create_pressed(self) -> None:
        self._create_folder()

    @work(thread=True, exclusive=True, group="photo-folder")
    def _create_folder(self) -> None:
        try:
            self.store.files.create()
        except Exception as exc:
            self.app.call_from_thread(
                self.query_one("#photo-error", Static).update, f"Not created: {exc}")
            return
        self.app.call_from_thread(self._folder_created)

    def _folder_created(self) -> None:
        self.folder_missing = False
        self.remove_class("-folder-missing")
        self.query_one("#photo-error", Static).update("Photo folder created; attaching…")
        self.action_save()
