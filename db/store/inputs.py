"""What callers hand to the Store, and the few read results records do not cover.

Inputs are plain frozen dataclasses of domain values (``Amount``, enums, dates); the
Store validates them and never trusts that a form already did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from formulary.records import (
    AdverseEvent,
    Allergy,
    Condition,
    GradeScale,
    Override,
    Role,
    ScalpZone,
    Sex,
    Technique,
    ZoneVolume,
)
from formulary.units.amount import Amount


@dataclass(frozen=True, slots=True)
class PatientFields:
    """Every editable field of a patient's chart header (create and update alike)."""

    chart_number: str
    family_name: str
    given_name: str
    date_of_birth: date
    sex: Sex
    diagnosis: str = ""
    grade_scale: GradeScale | None = None
    grade: str = ""
    #: A new measurement, in kg or lb (pounds are stored as exact kg); None keeps the
    #: weight history as it is. An update with the latest weight unchanged adds nothing.
    weight: Amount | None = None
    allergies: tuple[Allergy, ...] = ()
    conditions: tuple[Condition, ...] = ()
    consent_on_file: bool = False
    consent_date: date | None = None
    #: When ``weight`` was measured (None: today).
    weight_measured_on: date | None = None
    height: Amount | None = None  # cm


@dataclass(frozen=True, slots=True)
class StrengthSpec:
    """One ingredient of a product at its labelled strength."""

    ingredient_id: int
    strength: Amount
    form: str = ""


@dataclass(frozen=True, slots=True)
class ComponentSpec:
    """One line of a formulation: a product by volume, or a bare ingredient by amount."""

    name: str
    amount: Amount
    product_id: int | None = None
    ingredient_id: int | None = None


@dataclass(frozen=True, slots=True)
class LotChoice:
    """The lot that supplies component ``component_position`` (and how much is drawn).

    ``drawn`` defaults to the component's amount when it is in the lot's unit.
    """

    component_position: int
    lot_id: int
    drawn: Amount | None = None


@dataclass(frozen=True, slots=True)
class SessionDraft:
    """Everything a session records, as prepared before signing."""

    patient_id: int
    formulation_version_id: int
    performed_at: datetime
    course_id: int | None = None
    session_number: int | None = None
    technique: Technique | None = None
    needle_gauge: int | None = None
    needle_length: Amount | None = None
    depth: Amount | None = None
    total_volume: Amount | None = None
    zones: tuple[ZoneVolume, ...] = ()
    lots: tuple[LotChoice, ...] = ()
    anaesthesia: str = ""
    pain_score: int | None = None
    adverse_events: tuple[AdverseEvent, ...] = ()
    post_care: str = ""
    notes: str = ""
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True, slots=True)
class IngredientFields:
    """An ingredient as the clinic edits it.

    ``facts`` holds the library's document of the entry (forms, molar masses, IU
    facts, doses, limits, cautions) as plain JSON values; keep it when editing names.
    """

    key: str
    name: str
    category: str = ""
    synonyms: tuple[str, ...] = ()
    notes: str = ""
    sources: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredIngredient:
    """An ingredient row as read back."""

    id: int
    key: str
    name: str
    category: str
    synonyms: tuple[str, ...]
    notes: str
    origin: str  # "library" (seeded, maybe edited since) or "clinic"
    sources: tuple[str, ...]
    facts: dict[str, Any]


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A user account as the user-management screen shows it (never the hash)."""

    id: int
    username: str
    full_name: str
    role: Role
    active: bool
    locked: bool
    failed_logins: int


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit event for the audit screen (images decoded from canonical JSON)."""

    seq: int
    at: datetime
    user: str
    workstation: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    hash: str


@dataclass(frozen=True, slots=True)
class RecallHit:
    """A signed session that drew from a recalled lot, with its patient."""

    lot_id: int
    lot_number: str
    product_name: str
    session_id: int
    performed_at: datetime
    patient_id: int
    chart_number: str
    patient_name: str
    drawn: Amount | None
    zones: tuple[ScalpZone, ...]
