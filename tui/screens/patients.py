"""The patient list: instant search by name, chart number or date of birth."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Header, Input, Static
from textual.worker import get_current_worker

from formulary.records import Patient, PatientSummary
from tui.messages import WorkerFailed
from tui.screens.base import AppScreen
from tui.styles import STYLES, preload
from tui.widgets.key_footer import KeyFooter
from tui.widgets.patient_list import PatientList
from tui.widgets.text_input import TextInput

#: Rows shown at once; the search narrows the rest.
LIST_LIMIT = 100
#: Rows whose course progress is read (a screenful).
PROGRESS_ROWS = 35
#: Seconds of calm in the search box before course progress is read.
PROGRESS_DELAY = 0.25


class PatientsScreen(AppScreen):
    """Home screen of the workday."""

    CSS_PATH = STYLES / "patients.tcss"
    AUTO_FOCUS = "#patient-search"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+f", "focus_search", "Search", id="patients.search"),
        Binding("ctrl+n", "new_patient", "New patient", id="patients.new"),
        Binding("f4", "edit_patient", "Edit", id="patients.edit"),
        Binding("f5", "stock", "Formulary", id="patients.stock"),
        Binding("f6", "audit", "Audit", id="patients.audit"),
        Binding("down", "focus_list", "List", show=False, id="patients.to_list"),
    ]

    class Found(Message):
        """The search for ``query`` returned ``summaries``."""

        def __init__(self, query: str, summaries: Sequence[PatientSummary]) -> None:
            self.query = query
            self.summaries = summaries
            super().__init__()

    class Progress(Message):
        """Course progress of the patients found for ``query``."""

        def __init__(self, query: str, summaries: Sequence[PatientSummary]) -> None:
            self.query = query
            self.summaries = summaries
            super().__init__()

    class ChartScreenImported(Message):
        """The chart screen's modules are imported; its styles can be read."""

    def __init__(self) -> None:
        super().__init__()
        self._progress_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield TextInput(
            id="patient-search",
            placeholder="Search: name, chart number or date of birth (YYYY-MM-DD)",
        )
        yield PatientList(id="patient-list")
        yield Static("", id="patient-count")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._search("")
        self._prepare_chart_screen()

    def on_screen_resume(self) -> None:
        # Coming back from a chart: the list may have changed (a session was signed).
        # Uncovered by a sign-out on its way to the sign-in form: nobody to read for.
        if self.formulary_app.user is not None:
            self._search(self.query_one("#patient-search", Input).value)

    @on(Input.Changed, "#patient-search")
    def _query_changed(self, event: Input.Changed) -> None:
        # Typing again: the progress of the previous answer is no longer wanted.
        if self._progress_timer is not None:
            self._progress_timer.stop()
        self.workers.cancel_group(self, "patient-progress")
        self._search(event.value)

    @on(Input.Submitted, "#patient-search")
    def _open_first(self, event: Input.Submitted) -> None:
        from formulary.export.code128 import parse_session_code

        session_id = parse_session_code(event.value)
        if session_id is not None:  # a syringe label's barcode, scanned or typed
            self._open_session(session_id)
            return
        patients = self.query_one(PatientList)
        if patients.patient_ids:
            self.formulary_app.open_patient(patients.patient_ids[patients.cursor_row])

    def _open_session(self, session_id: int) -> None:
        from tui.screens.base import read_then_push
        from tui.screens.session import SessionScreen

        read_then_push(
            self.formulary_app,
            lambda user: self.store.get_session(user, session_id),
            lambda record: SessionScreen(record.patient_id, session_id=record.id),
            failure=f"Session {session_id}",
            group="open-scanned-session",
        )
        self.query_one("#patient-search", Input).value = ""

    @work(thread=True, exclusive=True, group="patient-search")
    def _search(self, query: str) -> None:
        try:
            found = self.store.list_patients(self.user, query.strip(), limit=LIST_LIMIT)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Found(query, [PatientSummary(p) for p in found]))

    @work(thread=True, exclusive=True, group="patient-progress")
    def _progress_of(self, query: str, patients: Sequence[Patient]) -> None:
        # Course progress of the rows on screen, read once typing has paused so that
        # it never holds up the next keystroke.
        try:
            summaries = self.store.patient_summaries(self.user, patients)
        except Exception as exc:
            # The names stay usable; the progress cells stay blank.
            self.log.warning(f"course progress: {exc}")
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Progress(query, summaries))

    @work(thread=True, group="warm-up")
    def _prepare_chart_screen(self) -> None:
        # The chart screen's modules (the plotting library among them, about 30 ms)
        # are imported while the practitioner reads the list, not at the first chart.
        import tui.screens.patient  # noqa: F401

        self.post_message(self.ChartScreenImported())

    @on(ChartScreenImported)
    def _chart_screen_imported(self) -> None:
        from tui.screens.patient import PatientScreen

        preload(self.app, PatientScreen.CSS_PATH)

    @on(Found)
    def _found(self, message: Found) -> None:
        if message.query != self.query_one("#patient-search", Input).value:
            return  # an older answer overtaken by further typing
        self.query_one(PatientList).show(
            message.summaries, self.formulary_app.today(), with_progress=False
        )
        count = len(message.summaries)
        more = f" (first {LIST_LIMIT}; type to narrow)" if count >= LIST_LIMIT else ""
        what = f"matching {message.query.strip()!r}" if message.query.strip() else "in total"
        # One line of fixed height across the screen: a new count needs no new layout
        # (a layout of the whole screen on every keystroke is what this saves).
        self.query_one("#patient-count", Static).update(
            f"{count} patient(s) {what}{more}", layout=False
        )
        if self._progress_timer is not None:
            self._progress_timer.stop()
        patients = [s.patient for s in message.summaries[:PROGRESS_ROWS]]
        self._progress_timer = self.set_timer(
            PROGRESS_DELAY, lambda: self._progress_of(message.query, patients)
        )

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        if message.query == self.query_one("#patient-search", Input).value:
            self.query_one(PatientList).show_progress(message.summaries, self.formulary_app.today())

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        if self.formulary_app.user is None:
            return  # signed out while it read: not a database problem
        self.notify(
            f"{message.reason}\nTry again; if it persists, check the database connection.",
            title="Cannot load patients",
            severity="error",
        )

    @on(PatientList.Selected)
    def _selected(self, message: PatientList.Selected) -> None:
        self.formulary_app.open_patient(message.patient_id)

    def action_focus_search(self) -> None:
        """Put the cursor in the search box."""
        self.query_one("#patient-search", Input).focus()

    def action_focus_list(self) -> None:
        """Move from the search box to the list."""
        self.query_one(PatientList).focus()

    def action_new_patient(self) -> None:
        """Open the new-patient form; the chart opens once it is saved."""
        from tui.screens.patient_form import PatientFormScreen

        def opened(patient_id: int | None) -> None:
            if patient_id is not None:
                self.formulary_app.open_patient(patient_id)

        self.app.push_screen(PatientFormScreen(), opened)

    def action_new_session(self) -> None:
        """Record a session for the highlighted patient (their chart opens under it)."""
        from tui.screens.patient import PatientScreen

        patients = self.query_one(PatientList)
        if not patients.patient_ids:
            self.notify(
                "Find the patient first: type a name or chart number in the search box.",
                title="New session",
                severity="warning",
            )
            return
        PatientScreen.open(
            self.formulary_app, patients.patient_ids[patients.cursor_row], new_session=True
        )

    def action_edit_patient(self) -> None:
        """Edit the highlighted patient's details."""
        patients = self.query_one(PatientList)
        if patients.patient_ids:
            self.formulary_app.edit_patient(patients.patient_ids[patients.cursor_row])

    def action_restore_patient(self) -> None:
        """The retired patients, to restore one retired by mistake (practitioners,
        administrators); the list is read again when it closes."""
        from tui.screens.retired_patients import RetiredPatientsScreen

        self.app.push_screen(RetiredPatientsScreen())

    def action_stock(self) -> None:
        """Ingredients, products and lots."""
        self.formulary_app.run_command("stock")

    def action_audit(self) -> None:
        """The audit trail."""
        self.formulary_app.run_command("audit")
