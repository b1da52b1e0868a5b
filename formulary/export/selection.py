"""Looking things up inside a chart, and narrowing a chart to one session."""

from __future__ import annotations

from dataclasses import replace

from formulary.records import (
    Course,
    FormulationVersion,
    LotUse,
    PatientChart,
    Practitioner,
    Session,
)


class SessionNotInChart(LookupError):
    """The session asked for is not one of this patient's sessions."""


def sessions_in_order(chart: PatientChart) -> tuple[Session, ...]:
    """The chart's sessions, oldest first (ties broken by id)."""
    return tuple(sorted(chart.sessions, key=lambda s: (s.performed_at, s.id)))


def versions_used(chart: PatientChart) -> tuple[FormulationVersion, ...]:
    """The formulation versions the chart's sessions used, in version order.

    A chart with no sessions yet lists every version it holds, so a new patient's
    planned cocktail still prints.
    """
    used = {s.formulation_version_id for s in chart.sessions}
    versions = [v for v in chart.formulation_versions if not used or v.id in used]
    return tuple(sorted(versions, key=lambda v: (v.formulation_id, v.version, v.id)))


def version_of(chart: PatientChart, session: Session) -> FormulationVersion | None:
    """The formulation version a session used, if the chart carries it."""
    for version in chart.formulation_versions:
        if version.id == session.formulation_version_id:
            return version
    return None


def course_of(chart: PatientChart, session: Session) -> Course | None:
    """The course a session belongs to, if any."""
    for course in chart.courses:
        if course.id == session.course_id:
            return course
    return None


def lots_for(session: Session, component_id: int) -> tuple[LotUse, ...]:
    """The lots a session drew one component from (usually one)."""
    return tuple(lot for lot in session.lots if lot.component_id == component_id)


def practitioner_named(chart: PatientChart, username: str) -> Practitioner | None:
    """The practitioner with this username, if the chart carries them."""
    for person in chart.practitioners:
        if person.username == username:
            return person
    return None


def only_session(chart: PatientChart, session_id: int) -> PatientChart:
    """The chart narrowed to one session: its formulation version and course only.

    Outcomes stay, because the outcome chart is the context a single-session note is
    read in. Raises :class:`SessionNotInChart` when the session is not this patient's.
    """
    matches = [s for s in chart.sessions if s.id == session_id]
    if not matches:
        raise SessionNotInChart(
            f"session {session_id} is not in the chart of {chart.patient.chart_number}"
        )
    session = matches[0]
    return replace(
        chart,
        sessions=(session,),
        formulation_versions=tuple(
            v for v in chart.formulation_versions if v.id == session.formulation_version_id
        ),
        courses=tuple(c for c in chart.courses if c.id == session.course_id),
    )
