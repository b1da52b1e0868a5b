"""What a treatment session records, declared once: each field, its kind and its range.

:data:`FIELDS` lists every field of a session as charted (the record
:class:`formulary.records.Session` and the draft ``db.store.SessionDraft``), in the
order the exports list them, with:

* its kind and, for quantities, the dimension the parser accepts ("volume", "length");
* its range (whole numbers) or length limit (text), checked in one place
  (:meth:`SessionField.problem`) by the Store, the session screen and the CLI;
* the stored columns that hold it and the first signed-content version that covers
  it (:mod:`formulary.signed_content`; None: not part of what is signed);
* how it appears in the CLI session file, the CSV, the PDF, FHIR and the transfer file.

What reads and writes a session derives from this list: the table's columns for the
simple fields (``db/tables/sessions.py``), the Store's range, length and quantity
checks, the loader, the CLI parser, the CSV header, the transfer file, the screen's
inputs and checks. A simple field (whole number, quantity, text) declared here and
nowhere else is held in the record's and the draft's ``others``
(:class:`formulary.records.ChartedFields`), shown on the session screen, the PDF note
and the FHIR bundle from its declaration. Tests hold the record, the draft and the
signed-content versions to it. Adding a field: docs/adding-a-session-field.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from formulary.export.display import show_amount
from formulary.records import ChartedFields, ScalpZone, SimpleValue
from formulary.units.amount import Amount


@dataclass(frozen=True, slots=True)
class IntRange:
    """An inclusive range of whole numbers a field accepts."""

    low: int
    high: int
    #: How the field is named in messages ("needle gauge").
    label: str
    #: The unit shown after a value in messages ("G"), if any.
    unit: str = ""

    def _show(self, value: int) -> str:
        return f"{value} {self.unit}" if self.unit else str(value)

    def problem(self, value: int | None, where: str = "") -> str | None:
        """Why ``value`` is refused (one sentence), or None when it is in range or absent."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            return f"the {self.label}{where} must be a whole number"
        if self.low <= value <= self.high:
            return None
        return (
            f"the {self.label}{where} must be between {self._show(self.low)} and "
            f"{self._show(self.high)}"
        )


NEEDLE_GAUGE = IntRange(18, 34, "needle gauge", "G")
PAIN_SCORE = IntRange(0, 10, "pain score")
SESSION_NUMBER = IntRange(1, 1000, "session number")
#: Injection points (wheals) in one scalp zone in one session.
INJECTION_POINTS = IntRange(1, 500, "number of injection points")


class Kind(StrEnum):
    """How a field's value is held."""

    ID = "id"  # a reference to another record (patient, course, formulation version)
    TIME = "time"  # an aware UTC datetime
    INT = "int"  # a whole number in a declared range
    AMOUNT = "amount"  # a quantity with a unit of the declared dimension
    CHOICE = "choice"  # one of an enumeration's values (technique)
    TEXT = "text"  # free text up to the declared length
    ZONES = "zones"  # volume (and injection points) per scalp zone
    LOTS = "lots"  # the lot chosen (and drawn) per component
    EVENTS = "events"  # adverse events
    OVERRIDES = "overrides"  # safety findings overridden or acknowledged


_KIND_WORDS = {
    Kind.INT: "a whole number",
    Kind.AMOUNT: "a quantity with its unit",
    Kind.TEXT: "text",
}

#: Where the first columns of a field were introduced: fields since 0001 unless said.
_BASE = "0001"


@dataclass(frozen=True, slots=True)
class SessionField:
    """One field of a session and how every part of the program shows it."""

    #: The attribute name on the record and the draft.
    name: str
    kind: Kind
    #: For people ("needle gauge").
    label: str
    #: The stored columns of ``treatment_session`` holding it.
    columns: tuple[str, ...]
    #: The first signed-content version covering it (None: not signed).
    signed_since: int | None = 1
    #: The schema revision that added it.
    revision: str = _BASE
    #: Quantities: the dimension the parser accepts.
    dimension: str = ""
    #: Whole numbers: the accepted range.
    range: IntRange | None = None
    #: Text: the longest accepted.
    max_length: int | None = None
    #: The key in the CLI session file (docs/session-record.md); "" when not accepted.
    cli: str = ""
    #: The CSV columns (sessions.csv) it fills, in order.
    csv: tuple[str, ...] = ()
    #: The PDF note's label for it ("" when the note shows it in another way or not).
    pdf: str = ""
    #: Where the FHIR bundle carries it ("" when it does not).
    fhir: str = ""
    #: The field name in the transfer file (docs/json-format.md).
    transfer: tuple[str, ...] = ()
    #: The record's and the draft's attribute holding it ("" : ``name``); the injection
    #: points live in ``zones`` (``ZoneVolume.points``).
    attribute: str = ""

    @property
    def attr(self) -> str:
        """The record's and the draft's attribute holding this field."""
        return self.attribute or self.name

    @property
    def simple(self) -> bool:
        """A number, a quantity or text: read, checked, stored and shown generically."""
        return self.kind in (Kind.INT, Kind.AMOUNT, Kind.TEXT)

    @property
    def empty(self) -> SimpleValue:
        """The value of this field when nothing was charted ("" for text, else None)."""
        return "" if self.kind is Kind.TEXT else None

    def of(self, record: ChartedFields) -> SimpleValue:
        """This simple field's value on a record or a draft, checked against its kind.

        The typed way to read a field declared without an attribute of its own.
        """
        value = record.value(self.attr)
        if value is None:
            return self.empty
        if self.kind is Kind.INT and isinstance(value, int) and not isinstance(value, bool):
            return value
        if self.kind is Kind.AMOUNT and isinstance(value, Amount):
            return value
        if self.kind is Kind.TEXT and isinstance(value, str):
            return value
        raise TypeError(f"the {self.label} must be {_KIND_WORDS.get(self.kind, 'given')}")

    def amount_of(self, record: ChartedFields) -> Amount | None:
        """A quantity field's value (TypeError when the field is not a quantity)."""
        value = self.of(record)
        if value is not None and not isinstance(value, Amount):
            raise TypeError(f"the {self.label} is not a quantity")
        return value

    def int_of(self, record: ChartedFields) -> int | None:
        """A whole-number field's value (TypeError when the field is not a whole number)."""
        value = self.of(record)
        if value is not None and not isinstance(value, int):
            raise TypeError(f"the {self.label} is not a whole number")
        return value

    def text_of(self, record: ChartedFields) -> str:
        """A text field's value (TypeError when the field is not text)."""
        value = self.of(record)
        if not isinstance(value, str):
            raise TypeError(f"the {self.label} is not text")
        return value

    def show(self, value: SimpleValue) -> str:
        """The value as the exports print it ("45 °", "4 mm", the text); "" when absent."""
        if value is None or value == "":
            return ""
        if isinstance(value, Amount):
            # As every export prints a quantity (medication-safe, exactly as charted).
            return show_amount(value)
        if isinstance(value, int) and self.range is not None and self.range.unit:
            return f"{value} {self.range.unit}"
        return str(value)

    def problem(self, value: object) -> str | None:
        """Why ``value`` is refused for this field (range or length), or None."""
        if value is None:
            return None
        if self.range is not None:
            return self.range.problem(value)  # type: ignore[arg-type]
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            return f"the {self.label} is longer than {self.max_length} characters; shorten it"
        return None


def _zones_csv() -> tuple[str, ...]:
    zones = [z.value for z in ScalpZone]
    return (
        *(c for z in zones for c in (f"volume_{z}", f"volume_{z}_unit")),
        *(f"points_{z}" for z in zones),
        *(c for z in zones for c in (f"volume_per_point_{z}", f"volume_per_point_{z}_unit")),
    )


def _amount(name: str) -> tuple[str, ...]:
    return (f"{name}_value", f"{name}_unit")


#: Every field of a session, in the order exports list them.
FIELDS: tuple[SessionField, ...] = (
    SessionField(
        "patient_id", Kind.ID, "patient", ("patient_id",), cli="patient",
        csv=("chart_number",), fhir="MedicationAdministration.subject",
        transfer=("patient_id",),
    ),
    SessionField(
        "performed_at", Kind.TIME, "session time", ("performed_at",), cli="performed_at",
        csv=("performed_at",), pdf="Performed", fhir="MedicationAdministration.effectiveDateTime",
        transfer=("performed_at",),
    ),
    SessionField(
        "course_id", Kind.ID, "course", ("course_id",), cli="course_id",
        csv=("course_id", "course_name"), pdf="Course", transfer=("course_id",),
    ),
    SessionField(
        "session_number", Kind.INT, SESSION_NUMBER.label, ("session_number",),
        range=SESSION_NUMBER, cli="session_number", csv=("session_number",), pdf="Course",
        transfer=("session_number",),
    ),
    SessionField(
        "formulation_version_id", Kind.ID, "formulation version", ("formulation_version_id",),
        cli="formulation_version_id",
        csv=("formulation_version_id", "formulation_name", "formulation_version"),
        pdf="Formulation", fhir="MedicationAdministration.medicationReference",
        transfer=("formulation_version_id",),
    ),
    SessionField(
        "technique", Kind.CHOICE, "technique", ("technique",), cli="technique",
        csv=("technique",), pdf="Technique", fhir="MedicationAdministration.dosage.method",
        transfer=("technique",),
    ),
    SessionField(
        "needle_gauge", Kind.INT, NEEDLE_GAUGE.label, ("needle_gauge",), range=NEEDLE_GAUGE,
        cli="needle_gauge", csv=("needle_gauge",), pdf="Needle",
        fhir="MedicationAdministration.dosage.method", transfer=("needle_gauge",),
    ),
    SessionField(
        "needle_length", Kind.AMOUNT, "needle length", _amount("needle_length"),
        dimension="length", cli="needle_length", csv=("needle_length", "needle_length_unit"),
        pdf="Needle", fhir="MedicationAdministration.dosage.method",
        transfer=("needle_length",),
    ),
    SessionField(
        "depth", Kind.AMOUNT, "depth", _amount("depth"), dimension="length", cli="depth",
        csv=("depth", "depth_unit"), pdf="Technique",
        fhir="MedicationAdministration.dosage.method", transfer=("depth",),
    ),
    SessionField(
        "total_volume", Kind.AMOUNT, "total volume", _amount("total_volume"),
        dimension="volume", cli="total_volume", csv=("total_volume", "total_volume_unit"),
        pdf="Zones", fhir="MedicationAdministration.dosage.dose",
        transfer=("total_volume",),
    ),
    SessionField(
        "zones", Kind.ZONES, "volume per zone", ("zones",), dimension="volume", cli="zones",
        csv=_zones_csv(), pdf="Zones", fhir="MedicationAdministration.dosage.text",
        transfer=("zones",),
    ),
    SessionField(
        "injection_points", Kind.ZONES, INJECTION_POINTS.label, ("injection_points",),
        signed_since=2, revision="0005", range=INJECTION_POINTS, cli="zones",
        csv=(), pdf="Zones", fhir="MedicationAdministration.dosage.text",
        transfer=("injection_points",), attribute="zones",
    ),
    SessionField(
        "lots", Kind.LOTS, "lots", ("lots",), cli="lots", pdf="Component",
        fhir="Medication.batch", transfer=("lots",),
    ),
    SessionField(
        "anaesthesia", Kind.TEXT, "anaesthesia", ("anaesthesia",), max_length=500,
        cli="anaesthesia", csv=("anaesthesia",), pdf="Anaesthesia",
        fhir="MedicationAdministration.note", transfer=("anaesthesia",),
    ),
    SessionField(
        "pain_score", Kind.INT, PAIN_SCORE.label, ("pain_score",), range=PAIN_SCORE,
        cli="pain_score", csv=("pain_score",), pdf="Pain score",
        fhir="Observation (pain)", transfer=("pain_score",),
    ),
    SessionField(
        "adverse_events", Kind.EVENTS, "adverse events", ("adverse_events",),
        cli="adverse_events", csv=("adverse_events",), pdf="Adverse events",
        fhir="AdverseEvent", transfer=("adverse_events",),
    ),
    SessionField(
        "post_care", Kind.TEXT, "post-care", ("post_care",), max_length=5000,
        cli="post_care", csv=("post_care",), pdf="Post-care",
        fhir="MedicationAdministration.note", transfer=("post_care",),
    ),
    SessionField(
        "notes", Kind.TEXT, "notes", ("notes",), max_length=10000, cli="notes",
        csv=("notes",), pdf="Notes", fhir="MedicationAdministration.note",
        transfer=("notes",),
    ),
    SessionField(
        "overrides", Kind.OVERRIDES, "overrides", ("overrides",), csv=("overrides",),
        pdf="Overrides", fhir="DetectedIssue", transfer=("overrides",),
    ),
)

BY_NAME: dict[str, SessionField] = {f.name: f for f in FIELDS}

#: Columns of ``treatment_session`` that are bookkeeping, not charted fields: the id,
#: the status, who created it and when, the signature's own columns, the discard mark.
BOOKKEEPING_COLUMNS: frozenset[str] = frozenset(
    {
        "id",
        "status",
        "created_at",
        "created_by_id",
        "updated_at",
        "signed_by_id",
        "signer_name",
        "signed_at",
        "signature_meaning",
        "content_hash",
        "signed_content_version",
        "deleted_at",
    }
)


def field(name: str) -> SessionField:
    """The declared field ``name`` (KeyError names it when it is not declared)."""
    return BY_NAME[name]


def cli_keys() -> frozenset[str]:
    """The keys the CLI session file accepts for session fields."""
    return frozenset(f.cli for f in FIELDS if f.cli)


def csv_columns() -> tuple[str, ...]:
    """The session-field columns of sessions.csv, in order."""
    return tuple(c for f in FIELDS for c in f.csv)


def stored_columns() -> frozenset[str]:
    """Every ``treatment_session`` column that holds a declared field."""
    return frozenset(c for f in FIELDS for c in f.columns)


def simple_fields() -> tuple[SessionField, ...]:
    """The fields read, checked, stored, loaded and exported generically by kind."""
    return tuple(f for f in FIELDS if f.simple)


def attributes_of(owner: type) -> frozenset[str]:
    """The attributes of a dataclass (the record or the draft), by name."""
    return frozenset(f.name for f in dataclasses.fields(owner))


def others_of(owner: type) -> tuple[SessionField, ...]:
    """The simple fields ``owner`` (the record or the draft) holds in ``others``.

    Those declared without an attribute of their own: everything generic (the Store,
    the loader, the screen, the exports) handles them from this declaration alone.
    """
    own = attributes_of(owner)
    return tuple(f for f in simple_fields() if f.attr not in own)


def split(
    values: Mapping[str, SimpleValue], owner: type
) -> tuple[dict[str, Any], dict[str, SimpleValue]]:
    """``values`` (by field) as ``owner``'s keyword arguments and its ``others``."""
    own = attributes_of(owner)
    attributes = {k: v for k, v in values.items() if k in own}
    return attributes, {k: v for k, v in values.items() if k not in own}


def added_after(revision: str) -> tuple[SessionField, ...]:
    """Fields added by a schema revision after ``revision`` (older files lack them)."""
    return tuple(f for f in FIELDS if f.revision > revision)


def signed_columns(version: int) -> frozenset[str]:
    """The declared columns a signature of ``version`` covers (the session part)."""
    return frozenset(
        c for f in FIELDS if f.signed_since is not None and f.signed_since <= version
        for c in f.columns
    )
