"""One patient's chart: the header always on screen, and tabs for the rest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane

from formulary.body import show_entered, show_kg
from formulary.records import FormulationVersion, PatientChart, SessionStatus, WeightEntry
from formulary.schedule import summarize
from formulary.units import format_amount
from tui.messages import Loaded, WorkerFailed
from tui.screens.base import AppScreen, read_then_push
from tui.styles import STYLES
from tui.tab_keys import step_tab, tab_bindings
from tui.widgets.component_table import ComponentTable
from tui.widgets.key_footer import KeyFooter
from tui.widgets.outcome_plot import OutcomePlot
from tui.widgets.patient_header import PatientHeader
from tui.widgets.patient_list import course_progress
from tui.widgets.session_table import SessionTable
from tui.widgets.version_list import VERSION_COLUMNS, show_versions

if TYPE_CHECKING:
    from db.store import Actor, Store
    from tui.app import FormularyApp


def current_version(chart: PatientChart) -> FormulationVersion | None:
    """The newest formulation version of the chart."""
    versions = sorted(chart.formulation_versions, key=lambda v: (v.created_at, v.id))
    return versions[-1] if versions else None


def _read_chart(
    store: Store, user: Actor, patient_id: int
) -> tuple[PatientChart, list[WeightEntry]]:
    """The chart and the weight history (with the latest weight's date) of ``patient_id``."""
    return store.load_chart(user, patient_id), store.weight_history(user, patient_id)


class PatientScreen(AppScreen):
    """Chart of ``patient_id``, loaded through the Store in a worker."""

    CSS_PATH = STYLES / "patient.tcss"  # also read ahead by PatientsScreen (preload)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="patient.back"),
        Binding("ctrl+n", "new_session", "New session", id="patient.new_session"),
        Binding("ctrl+f", "edit_formulation", "Formulation", id="patient.formulation"),
        Binding("ctrl+e", "edit_patient", "Edit patient", id="patient.edit"),
        Binding("f6", "consent", "Consent", id="patient.consent"),
        Binding("f7", "add_outcome", "Outcome", id="patient.outcome"),
        Binding("f8", "plan_course", "Course", id="patient.course"),
        Binding("f9", "photos", "Photos", id="patient.photos"),
        Binding("ctrl+x", "export_chart", "Export", id="patient.export"),
        *tab_bindings("patient", show=False),
    ]

    def __init__(
        self,
        patient_id: int,
        chart: PatientChart | None = None,
        *,
        weights: Sequence[WeightEntry] = (),
        new_session: bool = False,
    ) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.chart: PatientChart | None = chart
        #: The weight history, the latest first (the chart's header only has the value).
        self.weights: Sequence[WeightEntry] = weights
        #: Opened to record a session (the palette's "New session" from the list).
        self._new_session = new_session
        #: Shown with a chart already read (by :meth:`open`): the first resume is not
        #: a coming back, so it does not read the chart again.
        self._fresh = chart is not None
        if chart is not None:
            # Before mounting: the Header reads it as it mounts.
            self.sub_title = self._sub_title(chart)

    @staticmethod
    def _sub_title(chart: PatientChart) -> str:
        return f"{chart.patient.display_name} · {chart.patient.chart_number}"

    def on_mount(self) -> None:
        if self._new_session and self.chart is not None:
            self.call_after_refresh(self.action_new_session)

    @staticmethod
    def open(app: FormularyApp, patient_id: int, *, new_session: bool = False) -> None:
        """Read the chart of ``patient_id`` in a worker, then show it over the current screen.

        Reading first and composing once with the data is the quickest way to a whole
        chart on screen: one layout, instead of an empty chart and then a full one (and
        no read competing with the first layout for the interpreter). It takes a few
        milliseconds; should the user lock or leave meanwhile, nothing is shown.
        """
        read_then_push(
            app,
            lambda user: _read_chart(app.store, user, patient_id),
            lambda read: PatientScreen(
                patient_id, read[0], weights=read[1], new_session=new_session
            ),
            failure="Cannot open the chart",
            group="chart-open",
        )

    @staticmethod
    def edit(app: FormularyApp, patient_id: int) -> None:
        """Open the patient form for ``patient_id`` once the Store has read it."""
        from tui.screens.patient_form import PatientFormScreen

        read_then_push(
            app,
            lambda user: app.store.get_patient(user, patient_id),
            PatientFormScreen,
            failure="Cannot open the patient",
            group="patient-edit",
        )

    def compose(self) -> ComposeResult:
        # Composed with the chart when it was read first (see open): one layout.
        chart = self.chart
        today = self.formulary_app.today()
        yield Header()
        yield PatientHeader(
            "" if chart else "Loading the chart…",
            patient=chart.patient if chart else None,
            today=today,
            consents=chart.consents if chart else None,
            id="patient-header",
        )
        with TabbedContent(id="patient-tabs"):
            with TabPane("Overview", id="tab-overview"), VerticalScroll():
                with Horizontal(id="overview-top"):
                    yield Static(self._diagnosis(chart) if chart else "", id="overview-diagnosis")
                    yield Static(
                        self._body(chart, self.weights) if chart else "", id="overview-body"
                    )
                    yield Static(self._course(chart, today) if chart else "", id="overview-course")
                yield Static("Last sessions", classes="section-title")
                yield SessionTable(
                    id="overview-sessions", sessions=chart.sessions if chart else (), limit=5
                )
                yield OutcomePlot(id="overview-plot", outcomes=chart.outcomes if chart else ())
            # The other tabs are built when first shown: opening a chart stays fast.
            yield TabPane("Formulation", id="tab-formulation")
            yield TabPane("Sessions", id="tab-sessions")
            yield TabPane("Outcomes", id="tab-outcomes")
        yield KeyFooter()

    @staticmethod
    def _tab_content(pane_id: str) -> list[Widget]:
        if pane_id == "tab-formulation":
            versions = DataTable[Any](id="formulation-versions", cursor_type="row")
            versions.add_columns(*VERSION_COLUMNS)
            return [
                Vertical(
                    Static("", id="formulation-title", classes="section-title"),
                    ComponentTable(id="formulation-components"),
                    Static("Versions", classes="section-title"),
                    versions,
                )
            ]
        if pane_id == "tab-sessions":
            return [SessionTable(id="sessions-all")]
        if pane_id == "tab-outcomes":
            outcomes = DataTable[Any](id="outcomes-table", cursor_type="row")
            outcomes.add_columns(
                "Measured", "Zone", "Density", "Shaft diameter", "Scale grade", "Notes"
            )
            return [Vertical(outcomes, OutcomePlot(id="outcomes-plot"))]
        return []

    @on(TabbedContent.TabActivated)
    async def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane
        if pane.id and not pane.children:
            await pane.mount_all(self._tab_content(pane.id))
        self._fill_tab(pane.id or "")

    def _fill_tab(self, pane_id: str) -> None:
        chart = self.chart
        if chart is None:
            return
        if pane_id == "tab-formulation" and self.query("#formulation-components"):
            self._show_formulation(chart)
        elif pane_id == "tab-sessions" and self.query("#sessions-all"):
            self.query_one("#sessions-all", SessionTable).show(chart.sessions)
        elif pane_id == "tab-outcomes" and self.query("#outcomes-table"):
            self._show_outcomes(chart)

    def on_screen_resume(self) -> None:
        if self._fresh:
            self._fresh = False
            return
        self.reload()

    def reload(self) -> None:
        """Read the chart again (after a session, a new version or an edit)."""
        user = self.formulary_app.user
        # Uncovered by a sign-out on its way to the sign-in form: nobody to read for (it
        # showed "Cannot open the chart: no user is signed in" over the sign-in form).
        if user is not None:
            self._load(user)

    @work(thread=True, exclusive=True, group="chart")
    def _load(self, user: Actor) -> None:
        try:
            read = _read_chart(self.store, user, self.patient_id)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.post_if_current(Loaded(read))

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        self.notify(message.reason, title="Cannot open the chart", severity="error")
        self.dismiss_chart()

    def dismiss_chart(self) -> None:
        """Close the chart (back to where it was opened from)."""
        if self.is_current:
            self.app.pop_screen()

    @on(Loaded)
    def _loaded(self, message: Loaded[tuple[PatientChart, list[WeightEntry]]]) -> None:
        chart, self.weights = message.data
        self._show(chart)

    def _show(self, chart: PatientChart) -> None:
        self.chart = chart
        self.query_one("#overview-body", Static).update(self._body(chart, self.weights))
        today = self.formulary_app.today()
        self.query_one(PatientHeader).show(chart.patient, today, chart.consents)
        if self.sub_title != self._sub_title(chart):  # a changed name after an edit
            self.sub_title = self._sub_title(chart)
        self.query_one("#overview-diagnosis", Static).update(self._diagnosis(chart))
        self.query_one("#overview-course", Static).update(self._course(chart, today))
        self.query_one("#overview-sessions", SessionTable).show(chart.sessions, limit=5)
        self.query_one("#overview-plot", OutcomePlot).show(chart.outcomes)
        self._fill_tab(self.query_one(TabbedContent).active)

    @staticmethod
    def _diagnosis(chart: PatientChart) -> Text:
        patient = chart.patient
        grade = (
            f"{patient.grade_scale.value.title()} {patient.grade}" if patient.grade_scale else ""
        )
        return Text.assemble(
            ("Diagnosis\n", "bold"),
            patient.diagnosis or "not recorded",
            "\n",
            grade or "grade not recorded",
        )

    @staticmethod
    def _body(chart: PatientChart, weights: Sequence[WeightEntry]) -> Text:
        # The latest weight is the one the per-kg limits use: shown with its date, so
        # that an old measurement is seen to be old.
        patient = chart.patient
        text = Text("Weight and height\n", style="bold")
        latest = weights[0] if weights else None
        if latest is not None:
            text.append(f"{show_kg(latest.weight_kg)} on {latest.measured_on.isoformat()}")
            if latest.entered.unit != "kg":
                text.append(f" (entered {show_entered(latest.entered)})")
        elif patient.weight_kg is not None:
            text.append(show_kg(patient.weight_kg))
        else:
            text.append("weight not recorded")
        text.append("\n")
        text.append(
            f"height {format_amount(patient.height_cm)}"
            if patient.height_cm is not None
            else "height not recorded"
        )
        return text

    def _course(self, chart: PatientChart, today: date) -> Text:
        summary = summarize(chart.patient, chart.courses, chart.sessions)
        text = Text("Course\n", style="bold")
        if summary.course is None:
            text.append("no course planned (f8 plans one)")
            return text
        course = summary.course
        text.append(f"{course.name}: {course_progress(summary)}\n")
        text.append(f"every {course.interval_days} days from {course.start_date}\n")
        if summary.next_due is not None:
            overdue = summary.next_due < today
            text.append(
                f"next due {summary.next_due}" + (" (OVERDUE)" if overdue else ""),
                style=f"bold {self.app.current_theme.warning}" if overdue else "",
            )
        from formulary.consent import valid_consent

        if valid_consent(chart.consents, chart.patient.id, course.id) is None:
            text.append("\nno consent signed for this course (f6)",
                        style=f"bold {self.app.current_theme.error}")
        else:
            text.append("\nconsent signed for this course")
        return text

    def _show_formulation(self, chart: PatientChart) -> None:
        version = current_version(chart)
        title = self.query_one("#formulation-title", Static)
        if version is None:
            title.update("No formulation yet: ctrl+f creates one.")
        else:
            title.update(
                Text(
                    f"{version.formulation_name}, version {version.version}"
                    + (" (used: saving makes a new version)" if version.locked else "")
                )
            )
        self.query_one("#formulation-components", ComponentTable).show(version, chart)
        show_versions(
            self.query_one("#formulation-versions", DataTable), chart.formulation_versions
        )

    def _show_outcomes(self, chart: PatientChart) -> None:
        table = self.query_one("#outcomes-table", DataTable)
        table.clear()
        for o in sorted(chart.outcomes, key=lambda o: o.measured_at, reverse=True):
            table.add_row(
                o.measured_at.astimezone().strftime("%Y-%m-%d"),
                o.zone.value.replace("_", " ") if o.zone else "",
                format_amount(o.density) if o.density else "",
                format_amount(o.shaft_diameter) if o.shaft_diameter else "",
                Text(o.scale_grade),
                Text(o.notes),
            )
        self.query_one("#outcomes-plot", OutcomePlot).show(chart.outcomes)

    # -- actions ----------------------------------------------------------------------

    def action_back(self) -> None:
        """Back to the patient list."""
        self.app.pop_screen()

    def action_retire_patient(self) -> None:
        """Retire this patient (practitioners, administrators): off the list, kept on record."""
        from tui.screens.confirm import ConfirmScreen

        if self.chart is None:
            return
        patient = self.chart.patient
        label = f"{patient.chart_number} {patient.display_name}"

        def confirmed(reason: str | None) -> None:
            if reason:
                self._retire(patient.id, label, reason)

        self.app.push_screen(
            ConfirmScreen(
                f"Retire {label}?",
                "The chart leaves the patient list and every search; it stays on record with "
                "its sessions, and its chart number is never given to anyone else. A chart "
                "retired by mistake is restored from the patient list (Restore a patient "
                "in the command palette). The reason is kept in the audit trail.",
                action="Retire",
            ),
            confirmed,
        )

    @work(thread=True, group="patient-retire")
    def _retire(self, patient_id: int, label: str, reason: str) -> None:
        try:
            self.store.delete_patient(self.user, patient_id, reason)
        except Exception as exc:
            self.app.call_from_thread(
                self.notify, str(exc) or type(exc).__name__, title="Patient not retired",
                severity="error",
            )
            return
        self.app.call_from_thread(
            self.notify, f"{label} is off the patient list (kept on record).",
            title="Patient retired",
        )
        self.app.call_from_thread(self.dismiss_chart)

    def action_step_tab(self, step: int) -> None:
        """The next or previous tab (overview, formulation, sessions, outcomes)."""
        step_tab(self.query_one(TabbedContent), step)

    def action_new_session(self) -> None:
        """Record a session with the current formulation version."""
        from tui.screens.session import SessionScreen

        if self.chart is None:
            return
        if current_version(self.chart) is None:
            self.notify(
                "This patient has no formulation yet: press ctrl+f to write one first.",
                title="No formulation",
                severity="warning",
            )
            return
        drafts = [s for s in self.chart.sessions if s.status is SessionStatus.DRAFT]
        if drafts:
            draft = max(drafts, key=lambda s: (s.performed_at, s.id))
            self.notify("This patient has a draft session: resuming it.", title="Draft")
            self.app.push_screen(SessionScreen(self.patient_id, session_id=draft.id))
            return
        self.app.push_screen(SessionScreen(self.patient_id))

    @on(SessionTable.Selected)
    def _open_session(self, message: SessionTable.Selected) -> None:
        from tui.screens.session import SessionScreen

        self.app.push_screen(SessionScreen(self.patient_id, session_id=message.session_id))

    def action_edit_formulation(self) -> None:
        """Open the formulation editor on the current version."""
        from tui.screens.formulation_editor import FormulationEditorScreen

        if self.chart is not None:
            self.app.push_screen(FormulationEditorScreen(self.patient_id))

    def action_edit_patient(self) -> None:
        """Edit the chart header fields."""
        self.formulary_app.edit_patient(self.patient_id)

    def action_add_outcome(self) -> None:
        """Record a measurement (density, shaft diameter, grade)."""
        from tui.screens.outcome_form import OutcomeFormScreen

        def saved(result: Any) -> None:
            if result:
                self.reload()

        self.app.push_screen(OutcomeFormScreen(self.patient_id), saved)

    def action_photos(self) -> None:
        """The patient's photographs: list, attach, compare, open in viewer."""
        from tui.screens.photos import PhotosScreen

        if self.chart is not None:
            self.app.push_screen(PhotosScreen(self.chart))

    def action_plan_course(self) -> None:
        """Plan a course: sessions planned, days between, first date."""
        from tui.screens.course_form import CourseFormScreen

        if self.chart is None:
            return
        version = current_version(self.chart)
        name = f"Course {len(self.chart.courses) + 1}"

        def saved(result: Any) -> None:
            if result:
                self.notify("Course planned.", title="Course")
                self.reload()

        self.app.push_screen(
            CourseFormScreen(self.patient_id, version.formulation_id if version else None, name),
            saved,
        )

    def action_consent(self) -> None:
        """The patient's consents: sign one (typed name, witness password), withdraw, print."""
        from tui.screens.consent import ConsentScreen

        if self.chart is None:
            return
        summary = summarize(self.chart.patient, self.chart.courses, self.chart.sessions)
        course_id = summary.course.id if summary.course is not None else None
        self.app.push_screen(ConsentScreen(self.patient_id, course_id))

    def action_export_chart(self) -> None:
        """Export this chart (PDF, CSV, FHIR or JSON)."""
        from tui.screens.export import ExportScreen

        if self.chart is not None:
            self.app.push_screen(ExportScreen(self.patient_id, self.chart.patient.chart_number))
