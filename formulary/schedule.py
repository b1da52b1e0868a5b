"""Where a course stands: sessions given and the date the next one is due."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class CourseProgress:
    """Where one course stands: signed sessions given in it and the next one's due date."""

    course: Course
    sessions_done: int = 0
    next_due: date | None = None  # None once the course is complete
    last_session: date | None = None  # the latest signed session in the course

    @property
    def complete(self) -> bool:
        """Every planned session has been given."""
        return self.sessions_done >= self.course.planned_sessions

    @property
    def next_session_number(self) -> int | None:
        """The number of the session to give next (None once complete)."""
        return None if self.complete else self.sessions_done + 1


def course_progress(course: Course, sessions: Iterable[SessionMark]) -> CourseProgress:
    """Signed sessions of ``sessions`` in ``course`` and the date the next one is due.

    The next session is due ``interval_days`` after the last signed one (or on the
    course's start date before the first); a complete course has no next due date.
    """
    dates = [
        s.performed_at.date()
        for s in sessions
        if s.status is SessionStatus.SIGNED and s.course_id == course.id
    ]
    done = len(dates)
    last = max(dates, default=None)
    next_due: date | None
    if done >= course.planned_sessions:
        next_due = None
    elif last is None:
        next_due = course.start_date
    else:
        next_due = last + timedelta(days=course.interval_days)
    return CourseProgress(course=course, sessions_done=done, next_due=next_due, last_session=last)


def progress_text(course: Course, sessions_done: int) -> str:
    """``session 3 of 8`` (the next session to give) or ``course complete (8)``."""
    if sessions_done >= course.planned_sessions:
        return f"course complete ({course.planned_sessions})"
    return f"session {sessions_done + 1} of {course.planned_sessions}"


def summarize(
    patient: Patient, courses: Iterable[Course], sessions: Iterable[SessionMark]
) -> PatientSummary:
    """The patient's current course, signed sessions in it and the next due date.

    See :func:`course_progress` for how the next due date is worked out.
    """
    course = current_course(courses)
    signed = [s for s in sessions if s.status is SessionStatus.SIGNED]
    last = max((s.performed_at.date() for s in signed), default=None)
    if course is None:
        return PatientSummary(patient=patient, last_session=last)
    progress = course_progress(course, signed)
    return PatientSummary(
        patient=patient,
        course=course,
        sessions_done=progress.sessions_done,
        next_due=progress.next_due,
        last_session=last,
    )
