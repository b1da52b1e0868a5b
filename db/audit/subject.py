"""Which patient an audit entry is about: the ``audit_event.patient_id`` index column.

The audit screen's patient filter reads ``patient_id`` through an index instead of
scanning every entry's images. The column is filled when an entry is appended (and
for entries made before it existed, by migration 0008), and it is **not** part of
the hashed entry: it is derived from what is hashed (the entity, its id and the
row images) and can be recomputed from them at any time, so it never changes a hash.

An entry is a patient's when it changes the patient row itself, or a row that
names the patient (``patient_id``: sessions, formulations, courses, outcomes …), a
session of theirs (``session_id``: lots drawn, addenda) or a formulation of theirs
(``formulation_id``: versions).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text

#: Tables whose rows belong to one patient, looked up by id.
_OWNED = ("treatment_session", "formulation")
_REFERENCES = (("session_id", "treatment_session"), ("formulation_id", "formulation"))
_CHUNK = 500


#: Engines whose ``audit_event`` is known to have the column (it is never dropped).
_INDEXED: weakref.WeakSet[Engine] = weakref.WeakSet()


def has_patient_column(connection: Connection) -> bool:
    """True once ``audit_event.patient_id`` exists (migrations before 0008 append without)."""
    engine = connection.engine
    if engine in _INDEXED:
        return True
    columns = {c["name"] for c in inspect(connection).get_columns("audit_event")}
    if "patient_id" in columns:
        _INDEXED.add(engine)
        return True
    return False


class PatientLookup:
    """The patient of a session or formulation id, cached (one query per id at most)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._known: dict[tuple[str, int], int | None] = {}

    def __call__(self, table: str, ident: int) -> int | None:
        """The ``patient_id`` of row ``ident`` of ``table`` (None if there is none)."""
        key = (table, ident)
        if key not in self._known:
            assert table in _OWNED
            found = self.connection.execute(
                text(f"SELECT patient_id FROM {table} WHERE id = :i"), {"i": ident}  # noqa: S608
            ).scalar()
            self._known[key] = None if found is None else int(found)
        return self._known[key]

    def prefetch(self, table: str, idents: Iterable[int]) -> None:
        """Look many ids up at once (bulk loads and the backfill)."""
        assert table in _OWNED
        wanted = sorted({i for i in idents if (table, i) not in self._known})
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            for ident in chunk:
                self._known[(table, ident)] = None
            marks = ", ".join(str(int(i)) for i in chunk)
            rows = self.connection.execute(
                text(f"SELECT id, patient_id FROM {table} WHERE id IN ({marks})")  # noqa: S608
            )
            for ident, patient in rows:
                self._known[(table, int(ident))] = None if patient is None else int(patient)


class BatchOwners:
    """The patients of the sessions and formulations of one bulk batch, without a database.

    A worker process that builds a batch of rows notes each session and formulation
    it makes (:meth:`note`) and so derives every entry's patient itself
    (:func:`patient_of`), exactly as :func:`fill_patients` would from the database.
    A reference outside the batch raises :class:`LookupError`: such a batch must be
    filled from the database instead.
    """

    def __init__(self) -> None:
        self._known: dict[tuple[str, int], int | None] = {}

    def note(self, table: str, values: Mapping[str, Any]) -> None:
        """Remember the patient of a row just made (only rows of sessions and formulations)."""
        if table in _OWNED:
            self._known[(table, int(values["id"]))] = _int(values.get("patient_id"))

    def __call__(self, table: str, ident: int) -> int | None:
        """The ``patient_id`` of row ``ident`` of ``table``, made in this batch."""
        try:
            return self._known[(table, ident)]
        except KeyError:
            raise LookupError(f"{table} {ident} was not made in this batch") from None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def references(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> Iterable[tuple[str, int]]:
    """The (table, id) pairs an entry's images point through to a patient."""
    for image in (after, before):
        if not image:
            continue
        for column, table in _REFERENCES:
            ident = _int(image.get(column))
            if ident is not None:
                yield table, ident


def patient_of(
    entity: str,
    entity_id: str | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    lookup: Callable[[str, int], int | None],
) -> int | None:
    """The patient an entry is about, or None when it is about no one patient."""
    if entity == "patient":
        return int(entity_id) if entity_id and entity_id.isdigit() else None
    for image in (after, before):
        if image:
            patient = _int(image.get("patient_id"))
            if patient is not None:
                return patient
    for table, ident in references(before, after):
        patient = lookup(table, ident)
        if patient is not None:
            return patient
    if entity in _OWNED and entity_id and entity_id.isdigit():
        return lookup(entity, int(entity_id))
    return None


def image(text_value: str | None) -> dict[str, Any] | None:
    """A stored image (canonical JSON text) as a mapping; None for none or a non-object."""
    if text_value is None:
        return None
    value = json.loads(text_value)
    return value if isinstance(value, dict) else None


def fill_patients(connection: Connection, entries: list[dict[str, Any]]) -> None:
    """Set ``patient_id`` on built entries (their images as stored JSON text)."""
    lookup = PatientLookup(connection)
    images = [(image(e["before"]), image(e["after"])) for e in entries]
    wanted: dict[str, set[int]] = {table: set() for table in _OWNED}
    for before, after in images:
        for table, ident in references(before, after):
            wanted[table].add(ident)
    for table, idents in wanted.items():
        lookup.prefetch(table, idents)
    for entry, (before, after) in zip(entries, images, strict=True):
        if "patient_id" not in entry:
            entry["patient_id"] = patient_of(
                entry["entity"], entry["entity_id"], before, after, lookup
            )
