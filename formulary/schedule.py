"""Where a course stands: sessions given and the date the next one is due."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Protocol

from formulary.records import Course, Patient, PatientSummary, SessionStatus


class SessionMark(Protocol):
    """What the schedule needs of a session: a full record or a light row."""

    @property
    def status(self) -> SessionStatus: ...

    @property
    def course_id(self) -> int | None: ...

    @property
    def performed_at(self) -> datetime: ...


def current_course(courses: Iterable[Course]) -> Course | None:
    """The course started most recently (the one the patient is on)."""
    latest: Course | None = None
    for course in courses:
        if latest is None or (course.start_date, course.id) > (latest.start_date, latest.id):
            latest = course
    return latest


def summarize(
    patient: Patient, courses: Iterable[Course], sessions: Iterable[SessionMark]
) -> PatientSummary:
    """The patient's current course, signed sessions in it and the next due date.

    The next session is due ``interval_days`` after the last signed one (or on the
    course's start date before the first); a complete course has no next due date.
    """
    course = current_course(courses)
    signed = [s for s in sessions if s.status is SessionStatus.SIGNED]
    last = max((s.performed_at.date() for s in signed), default=None)
    if course is None:
        return PatientSummary(patient=patient, last_session=last)
    in_course = [s for s in signed if s.course_id == course.id]
    done = len(in_course)
    last_in_course = max((s.performed_at.date() for s in in_course), default=None)
    next_due: date | None
    if done >= course.planned_sessions:
        next_due = None
    elif last_in_course is None:
        next_due = course.start_date
    else:
        next_due = last_in_course + timedelta(days=course.interval_days)
    return PatientSummary(
        patient=patient, course=course, sessions_done=done, next_due=next_due, last_session=last
    )
