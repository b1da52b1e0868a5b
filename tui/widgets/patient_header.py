"""The patient header: always on screen while a chart is open."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from formulary.records import Patient

if TYPE_CHECKING:
    from formulary.consent import Consent


def age_on(born: date, today: date) -> int:
    """Completed years of age on ``today``."""
    years = today.year - born.year
    if (today.month, today.day) < (born.month, born.day):
        years -= 1
    return years


def header_text(
    patient: Patient, today: date, danger: str = "red",
    consents: Sequence[Consent] | None = None,
) -> Text:
    """Name, chart number, age and sex; allergies and contraindications in ``danger``.

    With ``consents`` (the chart's), a patient without one signed and in force is
    flagged; the old yes/no consent mark of the patient form no longer counts.
    """
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
    if consents is not None and not any(c.withdrawn_at is None for c in consents):
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
        consents: Sequence[Consent] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(content, id=id)
        #: Shown from the start when given (a screen composed with its data).
        self._initial = (patient, today, consents)

    def on_mount(self) -> None:
        patient, today, consents = self._initial
        if patient is not None and today is not None:
            self.show(patient, today, consents)

    def show(
        self, patient: Patient, today: date, consents: Sequence[Consent] | None = None
    ) -> None:
        """Show ``patient`` as of ``today`` (and whether a consent is signed, if given)."""
        danger = self.app.current_theme.error or "red"
        self.update(header_text(patient, today, danger, consents))
