"""What the audit screen asks the Store for: filters typed by the user, paged newest first.

The Store filters by user, action and time itself. "Everything about this patient" is
wider than the patient row: a patient's sessions, the lots drawn for them, their
formulations and versions, courses and outcomes all carry their own entity names. So a
patient filter is answered by scanning the Store's pages and keeping the entries that
concern the patient (:func:`concerns`); the scan stops as soon as a page is full, so
a long trail is never read further back than the user has scrolled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

#: Entries shown per page (the newest first; older pages load on demand).
PAGE_SIZE = 100
#: Entries read per Store call while scanning for a patient's entries.
SCAN_BATCH = 500
#: Entries scanned for a patient per request before answering with what was found
#: (so that a rare patient on a long trail never keeps the user waiting for long).
SCAN_LIMIT = 10_000


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
    """The ids that make an audit entry one patient's business."""

    patient_id: int
    session_ids: frozenset[int] = field(default_factory=frozenset)
    formulation_ids: frozenset[int] = field(default_factory=frozenset)


def patient_scope(store: Any, actor: Any, chart_number: str) -> PatientScope:
    """Look the patient up by chart number (NotFound says so plainly)."""
    patient = store.find_patient(actor, chart_number)
    sessions = store.list_sessions(actor, patient.id)
    formulations = store.list_formulations(actor, patient.id)
    return PatientScope(
        patient_id=patient.id,
        session_ids=frozenset(s.id for s in sessions),
        formulation_ids=frozenset(v.formulation_id for v in formulations),
    )


def _image_refers(image: Mapping[str, Any] | None, scope: PatientScope) -> bool:
    if not image:
        return False
    return (
        image.get("patient_id") == scope.patient_id
        or image.get("session_id") in scope.session_ids
        or image.get("formulation_id") in scope.formulation_ids
    )


def concerns(entry: Any, scope: PatientScope) -> bool:
    """True when ``entry`` changed the patient or something recorded for the patient."""
    ident = entry.entity_id
    if entry.entity == "patient" and ident == str(scope.patient_id):
        return True
    if ident is not None and ident.isdigit():
        if entry.entity == "treatment_session" and int(ident) in scope.session_ids:
            return True
        if entry.entity == "formulation" and int(ident) in scope.formulation_ids:
            return True
    return _image_refers(entry.before, scope) or _image_refers(entry.after, scope)


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of entries, newest first, and where the next (older) page starts."""

    entries: Sequence[Any]
    next_before_seq: int | None
    more: bool
    #: When a patient scan stopped at its limit: the oldest seq it looked at.
    searched_to: int | None = None


def fetch_page(
    store: Any,
    actor: Any,
    flt: AuditFilter,
    scope: PatientScope | None,
    before_seq: int | None,
    *,
    page_size: int = PAGE_SIZE,
    cancelled: Callable[[], bool] = lambda: False,
    scan_limit: int = SCAN_LIMIT,
) -> AuditPage:
    """The next ``page_size`` entries matching ``flt`` older than ``before_seq``.

    With a patient ``scope`` at most ``scan_limit`` entries are read per call; the
    page then says how far back it searched (``searched_to``).
    """
    query: dict[str, Any] = {
        "user": flt.user or None,
        "action_prefix": flt.action or None,
        "since": flt.since,
        "until": flt.until,
    }
    if scope is None:
        got = store.audit_events(actor, before_seq=before_seq, limit=page_size + 1, **query)
        entries = got[:page_size]
        more = len(got) > page_size
        return AuditPage(entries, entries[-1].seq if entries else before_seq, more)

    found: list[Any] = []
    cursor = before_seq
    scanned = 0
    while not cancelled():
        batch = store.audit_events(
            actor, before_seq=cursor, limit=min(SCAN_BATCH, scan_limit), **query
        )
        for entry in batch:
            if concerns(entry, scope):
                found.append(entry)
                if len(found) == page_size:
                    return AuditPage(found, entry.seq, True)
        if len(batch) < min(SCAN_BATCH, scan_limit):
            return AuditPage(found, None, False)
        cursor = batch[-1].seq
        scanned += len(batch)
        if scanned >= scan_limit:
            return AuditPage(found, cursor, True, searched_to=cursor)
    return AuditPage(found, cursor, True, searched_to=cursor)
