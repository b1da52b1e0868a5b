"""Export a chart: the choices of ``formulary export chart`` (patient, format, where).

The patient is the open chart (or any chart number typed), the format one of PDF, CSV,
FHIR and JSON, the folder the user's documents folder unless another is typed. Files
that already exist are only replaced after the user says so. The export runs in a
worker (it renders a PDF or builds a FHIR bundle, takes a fresh signed checkpoint and
is itself audited); when it is done the written paths and the checkpoint line are
shown, so the checkpoint can be copied into the chart or a report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Header, Input, ProgressBar, Select, Static

from tui.messages import WorkerFailed
from tui.screens.base import AppScreen, defer_until_typed
from tui.screens.form_guard import GuardedForm
from tui.styles import STYLES
from tui.widgets.field_row import FieldRow
from tui.widgets.key_footer import KeyFooter
from tui.widgets.text_input import TextInput

#: (label, format) as offered; the formats of ``formulary export chart --format``.
FORMAT_CHOICES: tuple[tuple[str, str], ...] = (
    ("PDF chart note", "pdf"),
    ("CSV tables (sessions, components, manifest)", "csv"),
    ("FHIR R4B document bundle (JSON)", "fhir"),
    ("JSON record", "json"),
)


def default_export_folder() -> Path:
    """The user's documents folder when the platform has one, else the home folder."""
    from platformdirs import user_documents_dir

    documents = Path(user_documents_dir())
    return documents if documents.is_dir() else Path.home()


def planned_files(folder: Path, chart_number: str, fmt: str) -> list[Path]:
    """Where the export of ``chart_number`` in ``fmt`` will put its files."""
    from formulary.export.formats import file_names, safe_file_name

    return [folder / name for name in file_names(safe_file_name(chart_number), fmt)]


class ExportScreen(GuardedForm, AppScreen):
    """Choose a chart, a format and a folder; export; see what was written."""

    CSS_PATH = STYLES / "export.tcss"
    AUTO_FOCUS = "#export-format"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="export.back"),
        Binding("ctrl+s", "export", "Export", id="export.run", priority=True),
    ]

    class Looked(Message):
        """The chart number typed was looked up: ``name`` or ``problem``."""

        def __init__(self, chart_number: str, name: str = "", problem: str = "") -> None:
            self.chart_number = chart_number
            self.name = name
            self.problem = problem
            super().__init__()

    class Done(Message):
        """The export finished; ``result`` is the service's answer."""

        def __init__(self, result: Any) -> None:
            self.result = result
            super().__init__()

    def __init__(self, patient_id: int | None = None, chart_number: str = "") -> None:
        super().__init__()
        self._patient_id = patient_id
        self._chart_number = chart_number
        self._exporting = False
        #: Files this dialog wrote (resolved): not "already there" after the export.
        self._written: set[Path] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="export-box", classes="form-box"):
            yield Static("Export a chart", classes="form-title")
            yield Static(
                "The same export as `formulary export chart`: it carries a fresh signed "
                "audit checkpoint and is itself recorded in the audit trail.",
                classes="form-hint",
            )
            yield FieldRow(
                "Chart number",
                TextInput(self._chart_number, id="export-chart", placeholder="e.g. C-1001"),
                id="row-chart",
            )
            yield Static("", id="export-patient", classes="muted")
            yield FieldRow(
                "Format",
                Select(FORMAT_CHOICES, value="pdf", allow_blank=False, id="export-format"),
                id="row-format",
            )
            yield FieldRow(
                "Folder",
                TextInput(str(default_export_folder()), id="export-folder"),
                id="row-folder",
            )
            yield Static("", id="export-files", classes="muted")
            with Horizontal(id="export-buttons"):
                yield Button("Export (ctrl+s)", id="export-run", variant="primary")
                yield Button("Back (esc)", id="export-back")
            yield ProgressBar(id="export-progress", show_eta=False, show_percentage=False)
            yield Static("", id="export-result")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Export"
        self.query_one("#export-progress", ProgressBar).display = False
        self._look_up(self._chart_number)
        self._show_plan()

    # -- what will happen -------------------------------------------------------------

    def _choices(self) -> tuple[str, str, str]:
        chart = self.query_one("#export-chart", Input).value.strip()
        fmt = str(self.query_one("#export-format", Select).value)
        folder = self.query_one("#export-folder", Input).value.strip()
        return chart, fmt, folder

    def _show_plan(self) -> None:
        chart, fmt, folder = self._choices()
        files = self.query_one("#export-files", Static)
        if not chart or not folder:
            files.update("")
            return
        paths = planned_files(Path(folder).expanduser(), chart, fmt)
        # Files this dialog has just written are the export's result, not someone
        # else's files in the way.
        existing = [p for p in paths if p.exists() and p.resolve() not in self._written]
        lines = Text("Will write: " + ", ".join(p.name for p in paths))
        if any(p.resolve() in self._written for p in paths):
            lines.append("\nWritten just now; exporting again asks before replacing them.")
        if existing:
            lines.append(
                f"\n{len(existing)} of these already exist"
                " and will only be replaced if you say so.",
                style="bold",
            )
        files.update(lines)

    @on(Input.Changed, "#export-chart")
    def _chart_changed(self, event: Input.Changed) -> None:
        self.query_one("#row-chart", FieldRow).set_error("")
        self._look_up(event.value.strip())
        self._show_plan()

    @on(Input.Changed, "#export-folder")
    @on(Select.Changed, "#export-format")
    def _choice_changed(self) -> None:
        self.query_one("#row-folder", FieldRow).set_error("")
        self._show_plan()

    @work(thread=True, exclusive=True, group="export-lookup")
    def _look_up(self, chart_number: str) -> None:
        if not chart_number:
            self.post_message(self.Looked(chart_number))
            return
        try:
            patient = self.store.find_patient(self.user, chart_number)
        except Exception as exc:
            self.post_message(self.Looked(chart_number, problem=str(exc)))
            return
        born = patient.date_of_birth.isoformat() if patient.date_of_birth else ""
        self.post_message(self.Looked(chart_number, name=f"{patient.display_name}, born {born}"))

    @on(Looked)
    def _looked(self, message: Looked) -> None:
        if message.chart_number != self._choices()[0]:
            return  # typing went on
        shown = self.query_one("#export-patient", Static)
        if message.problem:
            shown.update(Text(message.problem, style="italic"))
        else:
            shown.update(Text(message.name))

    # -- exporting --------------------------------------------------------------------

    @on(Input.Submitted)
    @on(Button.Pressed, "#export-run")
    def action_export(self) -> None:
        """Export with the choices shown (asks first before replacing files)."""
        if defer_until_typed(self, self.action_export):
            return
        if self._exporting:
            return
        chart, fmt, folder_text = self._choices()
        ok = True
        if not chart:
            self.query_one("#row-chart", FieldRow).set_error("Type a chart number.")
            ok = False
        folder = Path(folder_text).expanduser() if folder_text else None
        if folder is None:
            self.query_one("#row-folder", FieldRow).set_error("Type a folder.")
            ok = False
        elif folder.exists() and not folder.is_dir():
            self.query_one("#row-folder", FieldRow).set_error("This is a file, not a folder.")
            ok = False
        if not ok or folder is None:
            return
        existing = [p for p in planned_files(folder, chart, fmt) if p.exists()]
        if not existing:
            self._start(chart, fmt, folder, force=False)
            return
        from tui.screens.confirm import ConfirmScreen

        def answered(reply: str | None) -> None:
            if reply is None:
                self._say("Nothing was exported: the existing files were kept.")
            else:
                self._start(chart, fmt, folder, force=True)

        names = "\n".join(f"  {p}" for p in existing)
        self.app.push_screen(
            ConfirmScreen(
                f"Replace {len(existing)} existing file(s)?",
                f"{names}\n\nThey will be replaced by this export. Cancel keeps them.",
                action="Replace",
                reason=False,
            ),
            answered,
        )

    def _start(self, chart: str, fmt: str, folder: Path, *, force: bool) -> None:
        self._exporting = True
        bar = self.query_one("#export-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.query_one("#export-run", Button).disabled = True
        self._say(f"Exporting {chart} as {fmt.upper()}…")
        self._export(chart, fmt, folder, force)

    @work(thread=True, exclusive=True, group="export-run")
    def _export(self, chart: str, fmt: str, folder: Path, force: bool) -> None:
        from tui.export_service import run_chart_export

        try:
            result = run_chart_export(self.store, self.user, chart, fmt, folder, force=force)
        except Exception as exc:  # one plain sentence, never a traceback
            from tui.export_files import ExportFileExists

            reason = str(exc) or type(exc).__name__
            if isinstance(exc, ExportFileExists):  # the writer's words are for the CLI
                reason = (
                    f"{exc.path} appeared while exporting; nothing was replaced. "
                    "Export again to be asked whether to replace it."
                )
            elif isinstance(exc, OSError):
                from tui.export_files import not_written

                where = Path(exc.filename) if exc.filename else folder / "export"
                reason = not_written(where, exc, "export", "export again")
            self.post_message(WorkerFailed(reason))
            return
        self.post_message(self.Done(result))

    @on(Done)
    def _done(self, message: Done) -> None:
        self._finish()
        result = message.result
        text = Text("Exported. Written:\n", style="bold")
        for path in result.paths:
            text.append(f"  {path}\n", style="")
        text.append("Checkpoint:\n", style="bold")
        text.append(f"  {result.checkpoint_line}")
        self._say(text)
        self.notify(f"{len(result.paths)} file(s) written.", title="Export")
        self._written.update(Path(p).resolve() for p in result.paths)
        self._show_plan()
        self.mark_pristine()  # what was typed is exported: leaving loses nothing

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        self._finish()
        self._say(Text(f"Not exported: {message.reason}", style="bold"), error=True)

    def _finish(self) -> None:
        self._exporting = False
        self.query_one("#export-progress", ProgressBar).display = False
        self.query_one("#export-run", Button).disabled = False

    def _say(self, text: str | Text, *, error: bool = False) -> None:
        result = self.query_one("#export-result", Static)
        result.update(text)
        result.set_class(error, "danger")

    @on(Button.Pressed, "#export-back")
    def action_back(self) -> None:
        """Back to where you came from (an export under way still finishes)."""
        self.close_form(self.app.pop_screen)
