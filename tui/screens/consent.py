"""A patient's consents: the list, signing one (typed name + witness), withdrawing one.

``ConsentScreen`` lists the patient's consents with the selected one's text; from it
the practitioner signs a new consent (:class:`ConsentSignScreen`: the template's text
shown in full, the patient types their full name, the witness re-enters their
password), withdraws one (:class:`ConsentWithdrawScreen`, with the patient's reason)
or prints one as a PDF for the patient. The same Store calls as ``formulary consent``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import Button, DataTable, Header, Input, Markdown, Select, Static

from formulary.consent import Consent, ConsentTemplate, scope_text
from formulary.records import Course, Patient
from tui.messages import Loaded, WorkerFailed
from tui.screens.base import AppScreen
from tui.screens.store_form import StoreFormModal
from tui.styles import STYLES
from tui.widgets.field_row import FieldRow
from tui.widgets.key_footer import KeyFooter
from tui.widgets.text_input import TextInput

#: The choice of the course select meaning "sessions outside a course".
NO_COURSE = -1


@dataclass(frozen=True, slots=True)
class ConsentData:
    """What the consent screen shows: the patient, their courses and consents, templates."""

    patient: Patient
    courses: tuple[Course, ...]
    consents: tuple[Consent, ...]
    templates: tuple[ConsentTemplate, ...]


#: The widest status the table shows: ``WITHDRAWN YYYY-MM-DD``.
STATUS_WIDTH = len("WITHDRAWN YYYY-MM-DD")


def consent_status(consent: Consent) -> Text:
    """``signed`` or ``WITHDRAWN <date>`` (bold), as the table shows it."""
    if consent.withdrawn_at is None:
        return Text("signed")
    return Text(f"WITHDRAWN {consent.withdrawn_at:%Y-%m-%d}", style="bold")


class ConsentSignScreen(StoreFormModal):
    """Dismissed with True once the Store recorded the consent."""

    CSS_PATH = STYLES / "consent.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Sign", id="consent_sign.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="consent_sign.cancel"),
    ]
    SAVE_BUTTON = "consent-sign"
    CANCEL_BUTTON = "consent-sign-cancel"
    ERROR_LINE = "consent-sign-error"
    FORM_NAME = "the consent"
    FIRST_FIELD = "#c-typed-name"

    def __init__(self, data: ConsentData, course_id: int | None = None) -> None:
        super().__init__()
        self.data = data
        self.course_id = course_id

    def compose(self) -> ComposeResult:
        patient = self.data.patient
        templates = self.data.templates
        courses = [(f"course: {c.name}", c.id) for c in self.data.courses]
        courses.append(("sessions outside a course", NO_COURSE))
        chosen = self.course_id if self.course_id is not None else courses[0][1]
        with Vertical(id="consent-sign-box"):
            yield Static(f"Consent to treatment: {patient.display_name} "
                         f"({patient.chart_number})", classes="form-title")
            yield Static("", id="consent-sign-error", classes="dialog-error")
            with Horizontal(id="consent-choices"):
                yield FieldRow("For", Select(courses, id="c-course", value=chosen,
                                             allow_blank=False), id="row-c-course")
                yield FieldRow(
                    "Template",
                    Select([(f"{t.name} (v{t.current.version})", t.id) for t in templates],
                           id="c-template", value=templates[0].id, allow_blank=False),
                    id="row-c-template")
            with VerticalScroll(id="consent-text"):
                yield Markdown(templates[0].current.text, id="consent-markdown")
            yield Static("", id="consent-hash", classes="form-hint")
            yield FieldRow(
                "Patient types name",
                TextInput(id="c-typed-name",
                      placeholder=f"full name, e.g. {patient.given_name} {patient.family_name}"),
                id="row-c-typed-name")
            yield FieldRow("Witness password", TextInput(id="c-password", password=True),
                           id="row-c-password")
            with Horizontal(id="consent-sign-buttons", classes="dialog-buttons"):
                yield Button("Sign consent (ctrl+s)", id="consent-sign", variant="warning")
                yield Button("Cancel (esc)", id="consent-sign-cancel")

    def on_mount(self) -> None:
        self._show_hash(self.data.templates[0])

    def _template(self) -> ConsentTemplate:
        chosen = self.query_one("#c-template", Select).value
        return next((t for t in self.data.templates if t.id == chosen), self.data.templates[0])

    def _show_hash(self, template: ConsentTemplate) -> None:
        self.query_one("#consent-hash", Static).update(
            f"{template.name}, version {template.current.version}; text SHA-256 "
            f"{template.current.sha256}")

    @on(Select.Changed, "#c-template")
    def _template_changed(self) -> None:
        template = self._template()
        self.query_one("#consent-markdown", Markdown).update(template.current.text)
        self._show_hash(template)

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The consent to record, and what is wrong, by field."""
        from formulary.consent import ConsentError, check_typed_name

        patient = self.data.patient
        typed = self.query_one("#c-typed-name", Input).value
        password = self.query_one("#c-password", Input).value
        errors: dict[str, str] = {}
        try:
            check_typed_name(typed, patient.given_name, patient.family_name)
        except ConsentError as exc:
            if typed.strip():
                errors["row-c-typed-name"] = (
                    f"Does not match {patient.given_name} {patient.family_name}.")
                # The whole rule (what may differ) on the error line above.
                self.query_one("#consent-sign-error", Static).update(
                    Text(f"{exc} (ctrl+e on the chart)."))
            else:
                errors["row-c-typed-name"] = "The patient types their full name."
        if not password:
            errors["row-c-password"] = "Your password witnesses the consent."
        course = self.query_one("#c-course", Select).value
        values = {
            "typed_name": typed,
            "password": password,
            "template_id": self._template().id,
            "course_id": None if course == NO_COURSE else course,
        }
        return values, errors

    def store_call(self, values: dict[str, Any]) -> None:
        """Record the consent through the Store (in the worker thread)."""
        self.store.sign_consent(
            self.user, patient_id=self.data.patient.id, template_id=values["template_id"],
            typed_name=values["typed_name"], password=values["password"],
            course_id=values["course_id"],
        )


class ConsentWithdrawScreen(StoreFormModal):
    """Dismissed with True once the withdrawal is recorded."""

    CSS_PATH = STYLES / "consent.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Withdraw", id="consent_withdraw.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="consent_withdraw.cancel"),
    ]
    SAVE_BUTTON = "consent-withdraw"
    CANCEL_BUTTON = "consent-withdraw-cancel"
    ERROR_LINE = "consent-withdraw-error"
    FORM_NAME = "the withdrawal"

    def __init__(self, consent: Consent, scope: str) -> None:
        super().__init__()
        self.consent = consent
        self.scope = scope

    def compose(self) -> ComposeResult:
        c = self.consent
        with Vertical(id="consent-withdraw-box"):
            yield Static(f"Withdraw consent {c.id}", classes="form-title")
            yield Static(
                f"{c.template_name} v{c.template_version}, {self.scope}; signed "
                f"{c.signed_at:%Y-%m-%d %H:%M} UTC by {c.typed_name}, witness "
                f"{c.witness_name}. Sessions already signed stay as they are; new ones "
                "need a new consent.", classes="form-hint")
            yield Static("", id="consent-withdraw-error", classes="dialog-error")
            yield FieldRow("Reason", TextInput(id="w-reason",
                                          placeholder="the patient's reason, as they gave it"),
                           id="row-w-reason")
            with Horizontal(id="consent-withdraw-buttons", classes="dialog-buttons"):
                yield Button("Record withdrawal (ctrl+s)", id="consent-withdraw",
                             variant="error")
                yield Button("Cancel (esc)", id="consent-withdraw-cancel")

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The reason, and what is wrong."""
        reason = self.query_one("#w-reason", Input).value.strip()
        errors = {} if reason else {"row-w-reason": "Say why (kept with the consent)."}
        return {"reason": reason}, errors

    def store_call(self, values: dict[str, Any]) -> None:
        """Record the withdrawal through the Store (in the worker thread)."""
        self.store.withdraw_consent(self.user, self.consent.id, values["reason"])


class ConsentScreen(AppScreen):
    """The consents of one patient; sign, withdraw, print."""

    CSS_PATH = STYLES / "consent.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="consent.back"),
        Binding("ctrl+n", "sign_consent", "Sign consent", id="consent.sign"),
        Binding("f3", "withdraw_consent", "Withdraw", id="consent.withdraw"),
        Binding("f4", "print_consent", "Print PDF", id="consent.print"),
    ]

    def __init__(self, patient_id: int, course_id: int | None = None, *,
                 sign: bool = False) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.course_id = course_id
        self.data: ConsentData | None = None
        #: Opened to sign at once (the session screen's "sign the consent").
        self._sign_first = sign

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="consent-summary")
        table: DataTable[Any] = DataTable(id="consents", cursor_type="row", zebra_stripes=True)
        yield table
        with VerticalScroll(id="consent-detail"):
            yield Static("", id="consent-detail-head")
            yield Markdown("", id="consent-detail-text")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Consent"
        table = self.query_one("#consents", DataTable)
        table.add_columns("Id", "For", "Template", "Typed name", "Witness", "Signed (UTC)")
        # Wide enough for "WITHDRAWN <date>" from the start: a width measured on "signed"
        # was kept after a withdrawal under load, cutting the status to "WITHDR".
        table.add_column("Status", width=STATUS_WIDTH)
        table.focus()
        self._load()

    @work(thread=True, exclusive=True, group="consent-read")
    def _load(self) -> None:
        try:
            chart = self.store.load_chart(self.user, self.patient_id)
            templates = self.store.consent_templates(self.user)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.post_if_current(Loaded(ConsentData(chart.patient, chart.courses, chart.consents,
                                             tuple(templates))))

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        self.notify(message.reason, title=message.title or "Not done", severity="error")

    @on(Loaded)
    def _loaded(self, message: Loaded[ConsentData]) -> None:
        data = self.data = message.data
        self.sub_title = f"{data.patient.display_name} · {data.patient.chart_number}"
        names = {c.id: c.name for c in data.courses}
        in_force = [c for c in data.consents if c.withdrawn_at is None]
        summary = self.query_one("#consent-summary", Static)
        if in_force:
            summary.update(Text("Signed and in force for: " + "; ".join(
                sorted({scope_text(c, names) for c in in_force}))))
        else:
            summary.update(Text("NO CONSENT ON FILE: press ctrl+n to sign one with the "
                                "patient.", style=f"bold {self.app.current_theme.error}"))
        table = self.query_one("#consents", DataTable)
        table.clear()
        for c in sorted(data.consents, key=lambda c: (c.signed_at, c.id), reverse=True):
            table.add_row(str(c.id), scope_text(c, names), f"{c.template_name} "
                          f"v{c.template_version}", Text(c.typed_name), c.witness_username,
                          f"{c.signed_at:%Y-%m-%d %H:%M}", consent_status(c), key=str(c.id))
        self._show_selected()
        if self._sign_first:
            self._sign_first = False
            self.action_sign_consent()

    def selected(self) -> Consent | None:
        """The consent under the cursor."""
        if self.data is None or not self.data.consents:
            return None
        table = self.query_one("#consents", DataTable)
        if table.cursor_row < 0 or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return next((c for c in self.data.consents if str(c.id) == key), None)

    @on(DataTable.RowHighlighted, "#consents")
    def _show_selected(self) -> None:
        consent = self.selected()
        head = self.query_one("#consent-detail-head", Static)
        text = self.query_one("#consent-detail-text", Markdown)
        if consent is None:
            head.update("")
            text.update("")
            return
        lines = [f"Consent {consent.id}: {consent.template_name} v{consent.template_version}, "
                 f"text SHA-256 {consent.text_sha256}"]
        if consent.withdrawn_at is not None:
            lines.append(f"Withdrawn {consent.withdrawn_at:%Y-%m-%d %H:%M} UTC by "
                         f"{consent.withdrawn_by}: {consent.withdrawn_reason}")
        head.update(Text("\n".join(lines)))
        text.update(consent.text)

    def action_back(self) -> None:
        """Back to the chart."""
        self.app.pop_screen()

    def action_sign_consent(self) -> None:
        """Sign a new consent with the patient (the witness is you)."""
        if self.data is None:
            return
        if not self.data.templates:
            self.notify("The clinic has no consent template in force; an administrator adds "
                        "one (palette: Consent templates).", title="Consent", severity="warning")
            return

        def done(saved: bool | None) -> None:
            if saved:
                self.notify("Consent signed.", title="Consent")
                self._load()

        self.app.push_screen(ConsentSignScreen(self.data, self.course_id), done)

    def action_withdraw_consent(self) -> None:
        """Record the patient's withdrawal of the selected consent."""
        consent = self.selected()
        if consent is None or self.data is None:
            return
        if consent.withdrawn_at is not None:
            self.notify(f"Consent {consent.id} is already withdrawn.", title="Consent")
            return

        def done(saved: bool | None) -> None:
            if saved:
                self.notify("Withdrawal recorded.", title="Consent")
                self._load()

        names = {c.id: c.name for c in self.data.courses}
        self.app.push_screen(ConsentWithdrawScreen(consent, scope_text(consent, names)), done)

    def action_print_consent(self) -> None:
        """Write the selected consent as a PDF for the patient (in the export folder)."""
        consent = self.selected()
        if consent is not None:
            self._print(consent.id)

    @work(thread=True, exclusive=True, group="consent-print")
    def _print(self, consent_id: int) -> None:
        from db.ops.consent_pdf import consent_file_name, consent_pdf
        from tui.export_files import inside, prepare_folder, write_file
        from tui.screens.export import default_export_folder

        folder = default_export_folder()
        target = folder / consent_file_name(consent_id)
        try:
            target = inside(prepare_folder(folder), consent_file_name(consent_id))
            # Written before the print's audit entry commits, removed if the commit
            # fails: a PDF and its entry, or neither (as `formulary consent pdf`).
            consent_pdf(self.store, self.user, consent_id,
                        deliver=lambda data: write_file(target, data, force=True))
        except OSError as exc:
            self.post_message(WorkerFailed(not_written(target, exc), title=PRINT_FAILED))
            return
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc, title=PRINT_FAILED))
            return
        self.app.call_from_thread(self.notify, f"Wrote {target}", title="Consent PDF")


#: The title of the notice when a consent PDF could not be printed.
PRINT_FAILED = "Consent PDF not written"


def not_written(target: Path, exc: OSError) -> str:
    """What went wrong writing the consent PDF ``target``, and what to do about it."""
    from tui.export_files import not_written as file_not_written

    return file_not_written(target, exc, "print", "press f4 again")
