"""The patient header: always on screen while a chart is open."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual.widgets import Static

from formulary.records import Patient


def age_on(born: date, today: date) -> int:
    """Completed years of age on ``today``."""
    years = today.year - born.year
    if (today.month, today.day) < (born.month, born.day):
        years -= 1
    return years


def header_text(patient: Patient, today: date, danger: str = "red") -> Text:
    """Name, chart number, age and sex; allergies and contraindications in ``danger``."""
    text = Text()
    text.append(patient.display_name, style="bold")
    text.append(f"   Chart {patient.chart_number}")
    text.append(f"   {age_on(patient.date_of_birth, today)} y")
    text.append(f" ({patient.date_of_birth.isoformat()}, {patient.sex.value})")
    if patient.diagnosis:
        grade = f" {patient.grade}" if patient.grade else ""
        text.append(f"   {patient.diagnosis}{grade}")
    text.append("\n")
    if patient.allergies:
        allergies = "; ".join(
            a.substance + (f" ({a.reaction})" if a.reaction else "") for a in patient.allergies
        )
        text.append(f"ALLERGIES: {allergies}", style=f"bold {danger}")
    else:
        text.append("No known allergies", style="dim")
    text.append("   ")
    if patient.conditions:
        conditions = "; ".join(c.text or c.code for c in patient.conditions)
        text.append(f"CONTRAINDICATIONS: {conditions}", style=f"bold {danger}")
    else:
        text.append("No contraindications recorded", style="dim")
    if not patient.consent_on_file:
        text.append("   NO CONSENT ON FILE", style=f"bold {danger}")
    return text


class PatientHeader(Static):
    """Shows one patient; :meth:`show` replaces it."""

    DEFAULT_CSS = """
    PatientHeader {
        height: auto;
        padding: 0 1;
        background: $boost;
        border-bottom: solid $primary;
    }
    """

    def __init__(
        self,
        content: str = "",
        *,
        patient: Patient | None = None,
        today: date | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(content, id=id)
        #: Shown from the start when given (a screen composed with its data).
        self._initial = (patient, today)

    def on_mount(self) -> None:
        patient, today = self._initial
        if patient is not None and today is not None:
            self.show(patient, today)

    def show(self, patient: Patient, today: date) -> None:
        """Show ``patient`` as of ``today``."""
        danger = self.app.current_theme.error or "red"
        self.update(header_text(patient, today, danger))
