"""Hand-built records for widget tests (widgets never need a database)."""

from __future__ import annotations

from datetime import date
from typing import Any

from formulary.records import Allergy, Condition, Course, Patient, PatientSummary, Sex


def patient(
    pid: int = 1,
    family: str = "Moreau",
    given: str = "Claire",
    chart: str = "C-0001",
    born: date = date(1980, 5, 17),
    **extra: Any,  # any other Patient field
) -> Patient:
    return Patient(
        id=pid,
        chart_number=chart,
        family_name=family,
        given_name=given,
        date_of_birth=born,
        sex=Sex.FEMALE,
        **extra,
    )


def summary(
    p: Patient, done: int = 2, planned: int = 8, next_due: date | None = None
) -> PatientSummary:
    course = Course(
        id=p.id,
        patient_id=p.id,
        name="Course 1",
        planned_sessions=planned,
        interval_days=14,
        start_date=date(2026, 9, 1),
    )
    return PatientSummary(patient=p, course=course, sessions_done=done, next_due=next_due)


ALLERGIC = patient(
    2,
    "Dubois",
    "Marc",
    "C-0002",
    date(1975, 11, 30),
    allergies=(Allergy("lidocaine", reaction="urticaria"),),
    conditions=(Condition("pregnancy", "pregnancy"),),
    consent_on_file=True,
)
