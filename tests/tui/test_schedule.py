"""Course progress and next due date (pure domain)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from formulary.records import Course, Session, SessionStatus
from formulary.schedule import current_course, summarize
from tests.tui.records_factory import patient


def _course(cid: int, start: date, planned: int = 4, interval: int = 14) -> Course:
    return Course(cid, 1, f"c{cid}", planned, interval, start)


def _session(sid: int, day: date, course_id: int | None, signed: bool = True) -> Session:
    return Session(
        id=sid,
        patient_id=1,
        performed_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
        status=SessionStatus.SIGNED if signed else SessionStatus.DRAFT,
        formulation_version_id=1,
        course_id=course_id,
    )


def test_next_due_follows_the_last_signed_session_of_the_current_course() -> None:
    courses = [_course(1, date(2026, 1, 1)), _course(2, date(2026, 9, 1))]
    sessions = [
        _session(1, date(2026, 1, 1), 1),
        _session(2, date(2026, 9, 1), 2),
        _session(3, date(2026, 9, 15), 2),
        _session(4, date(2026, 9, 29), 2, signed=False),  # a draft does not count
    ]
    summary = summarize(patient(), courses, sessions)
    assert summary.course is not None and summary.course.id == 2
    assert summary.sessions_done == 2
    assert summary.next_due == date(2026, 9, 29)
    assert summary.last_session == date(2026, 9, 15)


def test_course_not_started_is_due_on_its_start_and_complete_course_is_not_due() -> None:
    course = _course(1, date(2026, 12, 1), planned=1)
    assert summarize(patient(), [course], []).next_due == date(2026, 12, 1)
    done = summarize(patient(), [course], [_session(1, date(2026, 12, 1), 1)])
    assert done.sessions_done == 1 and done.next_due is None


def test_no_course() -> None:
    assert current_course([]) is None
    assert summarize(patient(), [], []).course is None
