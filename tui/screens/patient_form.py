"""New or edit patient: every field validated, the message beside the field."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Select, Static

from formulary.body import BodyMeasureError, parse_height, parse_weight, show_entered, show_kg
from formulary.limits import OutOfRange, check_date
from formulary.records import Allergy, Condition, GradeScale, Patient, Sex, WeightEntry
from formulary.units.amount import Amount
from tui.screens.base import AppModal, defer_until_typed
from tui.screens.form_guard import GuardedForm
from tui.widgets.field_row import FieldMessages, FieldRow
from tui.widgets.text_input import TextInput

if TYPE_CHECKING:
    pass

_ALLERGY = re.compile(r"^\s*(?P<substance>[^()]+?)\s*(?:\((?P<reaction>[^()]*)\))?\s*$")


_ISO_DATE = re.compile(r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})$")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)


def parse_date(text: str, *, required: bool) -> tuple[date | None, str]:
    """A date typed as YYYY-MM-DD, or the message saying what is wrong with it.

    A date in the right shape that does not exist (``1986-02-30``) is named as such:
    "type it as YYYY-MM-DD" would send the user looking for a typing mistake.
    """
    text = text.strip()
    if not text:
        return None, ("Required (YYYY-MM-DD)." if required else "")
    match = _ISO_DATE.match(text)
    if match is None:
        return None, "Type the date as YYYY-MM-DD."
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    try:
        value = date(year, month, day)
    except ValueError:
        if not 1 <= month <= 12:
            return None, f"There is no month {match['month']}; months run 01 to 12."
        if year < 1:
            return None, "There is no year 0000; check the year."
        return None, f"{_MONTHS[month - 1]} {year} has no day {day}; check the day."
    try:
        # The range every record keeps (formulary.limits), said beside the field rather
        # than refused by the Store after saving, at the top of a long form.
        check_date(value, "This date")
    except OutOfRange as exc:
        return None, f"{exc}."
    return value, ""


def parse_allergies(text: str) -> tuple[tuple[Allergy, ...], str]:
    """``lidocaine (urticaria); latex`` → allergies, or the message saying what is wrong."""
    found: list[Allergy] = []
    for part in (p for p in text.split(";") if p.strip()):
        match = _ALLERGY.match(part)
        if match is None:
            return (), f"Cannot read {part.strip()!r}: write substance (reaction); …"
        found.append(Allergy(match["substance"], reaction=(match["reaction"] or "").strip()))
    return tuple(found), ""


def parse_conditions(text: str) -> tuple[Condition, ...]:
    """``pregnancy; anticoagulants`` → conditions (code and text alike)."""
    return tuple(Condition(p.strip(), p.strip()) for p in text.split(";") if p.strip())


def allergies_text(patient: Patient) -> str:
    """The allergies as the form shows them."""
    return "; ".join(
        a.substance + (f" ({a.reaction})" if a.reaction else "") for a in patient.allergies
    )


def weight_text(amount: Amount | None) -> str:
    """A recorded weight as the form shows it (kg, exact figures trimmed)."""
    return show_kg(amount) if amount is not None else ""


def height_text(amount: Amount | None) -> str:
    """A recorded height as the form shows it."""
    return f"{format(amount.value.normalize(), 'f')} cm" if amount is not None else ""


def history_text(entries: list[WeightEntry]) -> str:
    """The weight history in one line: latest first, as typed when in pounds."""
    if not entries:
        return "No weight recorded yet."
    parts = []
    for e in entries[:6]:
        typed = f" ({show_entered(e.entered)})" if e.entered.unit != "kg" else ""
        parts.append(f"{show_kg(e.weight_kg)}{typed} on {e.measured_on.isoformat()}")
    more = f" … and {len(entries) - 6} earlier" if len(entries) > 6 else ""
    return "Weight history: " + "; ".join(parts) + more


class PatientFormScreen(GuardedForm, AppModal):
    """Dismissed with the saved patient's id, or None when cancelled."""

    DEFAULT_CSS = """
    PatientFormScreen > VerticalScroll { width: 110; height: 90%; max-height: 100%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="patient_form.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="patient_form.cancel"),
    ]

    class Saved(Message):
        """The Store saved the patient."""

        def __init__(self, patient_id: int) -> None:
            self.patient_id = patient_id
            super().__init__()

    class Refused(Message):
        """The Store refused the patient; ``reason`` says why."""

        def __init__(self, reason: str) -> None:
            self.reason = reason
            super().__init__()

    class HistoryRead(Message):
        """The patient's weight history, read for the edit form."""

        def __init__(self, entries: list[WeightEntry]) -> None:
            self.entries = entries
            super().__init__()

    FORM_NAME = "the patient form"

    def __init__(self, patient: Patient | None = None) -> None:
        super().__init__()
        self._patient = patient
        self._messages = FieldMessages(self)

    def compose(self) -> ComposeResult:
        p = self._patient
        with VerticalScroll():
            yield Static("Edit patient" if p else "New patient", classes="form-title")
            yield Static("", id="form-error", classes="form-error")
            yield FieldRow(
                "Chart number", TextInput(p.chart_number if p else "", id="f-chart"), id="row-chart"
            )
            yield FieldRow(
                "Family name", TextInput(p.family_name if p else "", id="f-family"), id="row-family"
            )
            yield FieldRow(
                "Given name", TextInput(p.given_name if p else "", id="f-given"), id="row-given"
            )
            yield FieldRow(
                "Date of birth",
                TextInput(
                    p.date_of_birth.isoformat() if p else "", id="f-dob", placeholder="YYYY-MM-DD"
                ),
                id="row-dob",
            )
            yield FieldRow(
                "Sex",
                Select([(s.value, s) for s in Sex], id="f-sex", value=p.sex if p else Select.NULL),
                id="row-sex",
            )
            yield FieldRow(
                "Diagnosis",
                TextInput(
                    p.diagnosis if p else "",
                    id="f-diagnosis",
                    placeholder="e.g. androgenetic alopecia",
                ),
                id="row-diagnosis",
            )
            yield FieldRow(
                "Grade scale",
                Select(
                    [(g.value, g) for g in GradeScale],
                    id="f-scale",
                    value=p.grade_scale if p and p.grade_scale else Select.NULL,
                ),
                id="row-scale",
            )
            yield FieldRow(
                "Grade",
                TextInput(p.grade if p else "", id="f-grade", placeholder="e.g. III vertex, I-2"),
                id="row-grade",
            )
            yield FieldRow(
                "Weight",
                TextInput(
                    weight_text(p.weight_kg) if p else "",
                    id="f-weight",
                    placeholder="e.g. 70 kg or 154 lb (stored in kg)",
                ),
                id="row-weight",
            )
            yield FieldRow(
                "Weighed on",
                TextInput("", id="f-weighed", placeholder="YYYY-MM-DD (empty: today)"),
                id="row-weighed",
            )
            if p is not None:
                yield Static("", id="weight-history", classes="form-hint")
            yield FieldRow(
                "Height",
                TextInput(
                    height_text(p.height_cm) if p else "",
                    id="f-height",
                    placeholder="optional, e.g. 168 cm",
                ),
                id="row-height",
            )
            yield FieldRow(
                "Allergies",
                TextInput(
                    allergies_text(p) if p else "",
                    id="f-allergies",
                    placeholder="substance (reaction); …",
                ),
                id="row-allergies",
            )
            yield FieldRow(
                "Contraindications",
                TextInput(
                    "; ".join(c.code for c in p.conditions) if p else "",
                    id="f-conditions",
                    placeholder="e.g. pregnancy; anticoagulants",
                ),
                id="row-conditions",
            )
            # The old yes/no mark: a note of a paper consent, never a consent record
            # (the chart's f6 signs one; docs/consent.md, "The old consent mark").
            yield FieldRow(
                "Paper consent",
                Checkbox(
                    "noted on paper (not a signed consent: f6 on the chart signs one)",
                    p.consent_on_file if p else False, id="f-consent"
                ),
                id="row-consent",
            )
            yield FieldRow(
                "Paper dated",
                TextInput(
                    p.consent_date.isoformat() if p and p.consent_date else "",
                    id="f-consent-date",
                    placeholder="YYYY-MM-DD",
                ),
                id="row-consent-date",
            )
            if p is not None:
                yield FieldRow(
                    "Reason for change",
                    TextInput(
                        "",
                        id="f-reason",
                        placeholder="why (kept in the audit trail), e.g. allergy reported",
                    ),
                    id="row-reason",
                )
            with Horizontal(id="form-buttons", classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        if self._patient is not None:
            self._read_history(self._patient.id)

    @work(thread=True, exclusive=True, group="patient-form-history")
    def _read_history(self, patient_id: int) -> None:
        try:
            entries = self.store.weight_history(self.user, patient_id)
        except Exception:  # the history is a convenience; the form works without it
            return
        self.post_message(self.HistoryRead(entries))

    @on(HistoryRead)
    def _history_read(self, message: HistoryRead) -> None:
        self.query_one("#weight-history", Static).update(history_text(message.entries))

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    def _fields(self) -> tuple[Any, dict[str, str]]:
        from db.store.inputs import PatientFields

        errors: dict[str, str] = {}
        for row, field_id, what in (
            ("row-chart", "f-chart", "chart number"),
            ("row-family", "f-family", "family name"),
            ("row-given", "f-given", "given name"),
        ):
            if not self._value(field_id).strip():
                errors[row] = f"Required: the {what}."
        born, message = parse_date(self._value("f-dob"), required=True)
        if message:
            errors["row-dob"] = message
        elif born is not None and born > date.today():
            errors["row-dob"] = "The date of birth is in the future."
        sex = self.query_one("#f-sex", Select).value
        if not isinstance(sex, Sex):
            errors["row-sex"] = "Choose one (unknown is allowed)."
        scale = self.query_one("#f-scale", Select).value
        grade = self._value("f-grade").strip()
        if grade and not isinstance(scale, GradeScale):
            errors["row-scale"] = "Choose the scale the grade is on."
        allergies, message = parse_allergies(self._value("f-allergies"))
        if message:
            errors["row-allergies"] = message
        weight, weighed_on = self._weight(errors)
        height = None
        height_typed = self._value("f-height").strip()
        if height_typed and height_typed != (
            height_text(self._patient.height_cm) if self._patient else ""
        ):
            try:
                height = parse_height(height_typed)
            except BodyMeasureError as exc:
                errors["row-height"] = _sentence(str(exc))
        elif height_typed and self._patient is not None:
            height = self._patient.height_cm
        reason = ""
        if self._patient is not None:
            reason = self._value("f-reason").strip()
            if not reason:
                errors["row-reason"] = "Give a reason: the audit trail records why."
        consent = self.query_one("#f-consent", Checkbox).value
        consent_date, message = parse_date(self._value("f-consent-date"), required=False)
        if message:
            errors["row-consent-date"] = message
        elif consent and consent_date is None:
            errors["row-consent-date"] = "Give the date the consent was signed."
        if errors or born is None or not isinstance(sex, Sex):
            return None, errors
        fields = PatientFields(
            chart_number=self._value("f-chart").strip(),
            family_name=self._value("f-family").strip(),
            given_name=self._value("f-given").strip(),
            date_of_birth=born,
            sex=sex,
            diagnosis=self._value("f-diagnosis").strip(),
            grade_scale=scale if isinstance(scale, GradeScale) else None,
            grade=grade,
            weight=weight,
            weight_measured_on=weighed_on,
            height=height,
            allergies=allergies,
            conditions=parse_conditions(self._value("f-conditions")),
            consent_on_file=consent,
            consent_date=consent_date,
        )
        return (fields, reason), errors

    def _weight(self, errors: dict[str, str]) -> tuple[Amount | None, date | None]:
        """A new weight measurement typed in the form (None: the history stays as it is)."""
        typed = self._value("f-weight").strip()
        weighed_on, message = parse_date(self._value("f-weighed"), required=False)
        if message:
            errors["row-weighed"] = message
        elif weighed_on is not None and weighed_on > self.formulary_app.today():
            errors["row-weighed"] = "The weighing date is in the future."
        unchanged = self._patient is not None and typed == weight_text(self._patient.weight_kg)
        if not typed or (unchanged and weighed_on is None):
            if weighed_on is not None and not typed:
                errors["row-weight"] = "Give the weight measured on that day."
            return None, None
        try:
            weight = parse_weight(typed)
        except BodyMeasureError as exc:
            errors["row-weight"] = _sentence(str(exc))
            return None, None
        return weight.entered, weighed_on

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _recheck(self) -> None:
        if self._messages:
            self._messages.recheck(self._fields()[1])
            self._show_summary()

    def _show_summary(self) -> None:
        count = len(self._messages)
        self.query_one("#form-error", Static).update(
            f"{count} field(s) need attention; see the messages beside them." if count else ""
        )

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Check every field, then save through the Store."""
        if defer_until_typed(self, self.action_save):
            return
        if self._patient is not None and not self.is_dirty():
            self.dismiss(self._patient.id)  # nothing changed: nothing to explain or save
            return
        fields, errors = self._fields()
        self._messages.show(errors)
        self._show_summary()
        if errors:
            first = self.query_one(f"#{next(iter(errors))}", FieldRow)
            first.query_one(".field").focus()
            return
        self.query_one("#save", Button).disabled = True
        self._save(fields)

    @work(thread=True, exclusive=True, group="patient-form")
    def _save(self, values: Any) -> None:
        fields, reason = values
        try:
            if self._patient is None:
                saved = self.store.create_patient(self.user, fields)
            else:
                saved = self.store.update_patient(self.user, self._patient.id, fields, reason)
        except Exception as exc:
            self.post_message(self.Refused(str(exc) or type(exc).__name__))
            return
        self.post_message(self.Saved(saved.id))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.dismiss(message.patient_id)

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.query_one("#save", Button).disabled = False
        self.query_one("#form-error", Static).update(f"Not saved: {message.reason}")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without saving (asking first when something was typed)."""
        self.close_form(lambda: self.dismiss(None))


def _sentence(message: str) -> str:
    """A Store or parser message as a sentence beside a field."""
    text = message.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else ""
