"""What the audit screen asks the Store for: filters typed by the user, paged newest first.

The Store filters by user, action, time and patient itself. "Everything about this
patient" is wider than the patient row (their sessions, the lots drawn for them, their
formulations and versions, courses and outcomes): each audit entry records the patient
it is about when it is appended (``audit_event.patient_id``, see
:mod:`db.audit.subject`), so a patient's page is one indexed query however long the
trail is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.store import Actor, AuditEntry, Store

#: Entries shown per page (the newest first; older pages load on demand).
PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """The filters as understood; empty text means "any"."""

    chart_number: str = ""
    user: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None  # exclusive

    @property
    def is_empty(self) -> bool:
        """True when nothing narrows the trail."""
        return not (self.chart_number or self.user or self.action or self.since or self.until)

    def describe(self) -> str:
        """The filters in words, for the status line."""
        parts: list[str] = []
        if self.chart_number:
            parts.append(f"patient {self.chart_number}")
        if self.user:
            parts.append(f"user {self.user}")
        if self.action:
            parts.append(f"action {self.action}…")
        if self.since is not None:
            parts.append(f"from {self.since.date().isoformat()}")
        if self.until is not None:
            parts.append(f"to {(self.until - timedelta(days=1)).date().isoformat()}")
        return ", ".join(parts)


def parse_filter(
    chart_number: str, user: str, action: str, date_from: str, date_to: str
) -> tuple[AuditFilter | None, dict[str, str]]:
    """The filter the text fields describe, or the problems, one per field id.

    Dates are whole days in UTC (the audit trail records UTC), both ends included.
    """
    problems: dict[str, str] = {}
    since = _day(date_from, "from", problems)
    last = _day(date_to, "to", problems)
    until = last + timedelta(days=1) if last is not None else None
    if since is not None and until is not None and since >= until:
        problems["to"] = "The end date is before the start date."
    action = action.strip().lower()
    if action and not all(c.isalnum() or c in "._" for c in action):
        problems["action"] = "Actions are words joined by dots, such as session.sign."
    if problems:
        return None, problems
    return (
        AuditFilter(
            chart_number=chart_number.strip(),
            user=user.strip(),
            action=action,
            since=since,
            until=until,
        ),
        {},
    )


def _day(text: str, name: str, problems: dict[str, str]) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        problems[name] = f"{text!r} is not a date; type it as YYYY-MM-DD."
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PatientScope:
    """The patient whose entries the filter keeps."""

    patient_id: int


def patient_scope(store: Store, actor: Actor, chart_number: str) -> PatientScope:
    """Look the patient up by chart number (NotFound says so plainly)."""
    return PatientScope(patient_id=store.find_patient(actor, chart_number).id)


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of entries, newest first, and where the next (older) page starts."""

    entries: Sequence[AuditEntry]
    next_before_seq: int | None
    more: bool


def fetch_page(
    store: Store,
    actor: Actor,
    flt: AuditFilter,
    scope: PatientScope | None,
    before_seq: int | None,
    *,
    page_size: int = PAGE_SIZE,
) -> AuditPage:
    """The next ``page_size`` entries matching ``flt`` (and ``scope``) older than ``before_seq``."""
    got = store.audit_events(
        actor,
        before_seq=before_seq,
        limit=page_size + 1,
        user=flt.user or None,
        action_prefix=flt.action or None,
        since=flt.since,
        until=flt.until,
        patient_id=scope.patient_id if scope is not None else None,
    )
    entries = got[:page_size]
    return AuditPage(entries, entries[-1].seq if entries else before_seq, len(got) > page_size)
