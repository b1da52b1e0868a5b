"""What callers hand to the Store, and the few read results records do not cover.

Inputs are plain frozen dataclasses of domain values (``Amount``, enums, dates); the
Store validates them and never trusts that a form already did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from formulary.records import (
    AdverseEvent,
    Allergy,
    ChartedFields,
    Condition,
    GradeScale,
    Override,
    Patient,
    Presentation,
    Role,
    ScalpZone,
    Sex,
    SimpleValue,
    Technique,
    ZoneVolume,
)
from formulary.safety import Findings
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
    """One ingredient of a product at its labelled strength.

    ``strength`` is a concentration (5 mg/mL, 0.5 % w/v, 50000 IU/mL with its
    ``form``); for a powder it may instead be the amount in one vial (20 mg), which
    the Store divides by the product's reconstitution volume.
    """

    ingredient_id: int
    strength: Amount
    form: str = ""


@dataclass(frozen=True, slots=True)
class ProductFields:
    """Every editable field of a product (create and edit alike).

    ``volume_per_unit`` is the fill volume of one ampoule, vial or syringe; for a
    powder, the volume one vial is made up to. ``gtin`` is checked (8, 12, 13 or 14
    digits with a valid check digit) and stored as GTIN-14.
    """

    name: str
    presentation: Presentation
    volume_per_unit: Amount
    ingredients: tuple[StrengthSpec, ...]
    manufacturer: str = ""
    gtin: str = ""


@dataclass(frozen=True, slots=True)
class ClinicLimitFields:
    """A maximum the clinic sets on an ingredient, with where the figure comes from.

    ``per`` is ``session``, ``course`` or ``kg`` (``amount`` per kilogram of the
    patient's weight in one session). ``basis`` names the form or basis the amount is
    stated in (empty: the ingredient's default form); an amount in IU needs it.
    ``source`` is required: a limit nobody can trace is refused.
    """

    per: str
    amount: Amount
    source: str
    basis: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class ClinicLimit:
    """A clinic limit as read back (``retired_reason`` set once retired)."""

    id: int
    ingredient_id: int
    ingredient_name: str
    per: str
    amount: Amount
    source: str
    basis: str
    note: str
    retired_reason: str = ""

    @property
    def retired(self) -> bool:
        """True once the limit no longer applies."""
        return bool(self.retired_reason)


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
class SessionDraft(ChartedFields):
    """Everything a session records, as prepared before signing.

    The fields are those declared in :mod:`formulary.session_fields`; a simple field
    declared with nothing else goes in ``others`` (field name to value) and is read
    with :meth:`~formulary.records.ChartedFields.value`.
    """

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
    #: Simple fields declared without an attribute of their own.
    others: Mapping[str, SimpleValue] = field(default_factory=dict, hash=False)


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
class RetiredPatient:
    """A retired patient, with when, by whom and why (the audit entry that retired them)."""

    patient: Patient
    retired_at: datetime
    retired_by: str
    reason: str


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


@dataclass(frozen=True, slots=True)
class SigningCheck:
    """What signing a draft now would meet, found without writing anything.

    ``refusal`` is why signing would be refused whatever is acknowledged or
    overridden (a time in the future, zone volumes that do not add up to the total, a
    lot holding less than is drawn, a product component without its lot), or None;
    ``findings`` are the safety findings, which acknowledgements and overrides decide.
    """

    findings: Findings
    refusal: str | None
