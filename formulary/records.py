"""Plain, immutable records: the shapes the domain works on.

The database layer loads its rows into these dataclasses; the safety rules and the
export renderers consume them. Nothing here touches a database, Pint or the screen,
so every renderer and rule can be tested with records built by hand.

Quantities are :class:`~formulary.units.amount.Amount` (exact Decimal + canonical
unit). Times are timezone-aware UTC ``datetime`` values; dates are ``date``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from formulary.photos import Photo
from formulary.units.amount import Amount

if TYPE_CHECKING:
    # Only a type here: formulary.consent imports the safety findings, which import this.
    from formulary.consent import Consent


class Sex(StrEnum):
    """Sex recorded on the chart (administrative, as FHIR uses it)."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class GradeScale(StrEnum):
    """Hair-loss staging scale the grade is expressed in."""

    NORWOOD = "norwood"
    LUDWIG = "ludwig"
    OTHER = "other"


class Role(StrEnum):
    """What a user may do. Auditors only read; assistants prepare but cannot sign."""

    ADMIN = "admin"
    PRACTITIONER = "practitioner"
    ASSISTANT = "assistant"
    AUDITOR = "auditor"


class Technique(StrEnum):
    """Delivery technique of a session."""

    NAPPAGE = "nappage"
    PAPULE = "papule"
    POINT_BY_POINT = "point_by_point"
    GUN = "gun"
    MICRONEEDLING = "microneedling"


class ScalpZone(StrEnum):
    """Charting zones of the scalp, consistent with the Norwood and Ludwig scales."""

    FRONTAL = "frontal"
    LEFT_TEMPORAL = "left_temporal"
    RIGHT_TEMPORAL = "right_temporal"
    MID_SCALP = "mid_scalp"
    VERTEX = "vertex"
    PARIETAL = "parietal"
    OCCIPITAL = "occipital"


class SessionStatus(StrEnum):
    """A draft may still change; a signed session never does (addenda only)."""

    DRAFT = "draft"
    SIGNED = "signed"


class Presentation(StrEnum):
    """How a product arrives: what one unit of it is."""

    AMPOULE = "ampoule"
    VIAL = "vial"
    PREFILLED_SYRINGE = "prefilled_syringe"
    POWDER = "powder"  # a vial of powder, reconstituted before use

    @property
    def label(self) -> str:
        """The presentation as people write it (``prefilled syringe``)."""
        return self.value.replace("_", " ")


class LotStatus(StrEnum):
    """Whether a lot may be drawn from."""

    AVAILABLE = "available"
    QUARANTINED = "quarantined"
    RECALLED = "recalled"


@dataclass(frozen=True, slots=True)
class Practitioner:
    """A user as printed on a record."""

    id: int
    username: str
    full_name: str
    role: Role


@dataclass(frozen=True, slots=True)
class Allergy:
    """An allergy or intolerance: to a library ingredient, a class, or free text."""

    substance: str
    ingredient_id: int | None = None
    reaction: str = ""
    kind: str = "allergy"  # "allergy" or "intolerance" (an intolerance warns, an allergy blocks)


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition or contraindication recorded on the patient (e.g. ``pregnancy``)."""

    code: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Patient:
    """Who is treated."""

    id: int
    chart_number: str
    family_name: str
    given_name: str
    date_of_birth: date
    sex: Sex
    diagnosis: str = ""
    grade_scale: GradeScale | None = None
    grade: str = ""
    weight_kg: Amount | None = None
    allergies: tuple[Allergy, ...] = ()
    conditions: tuple[Condition, ...] = ()
    consent_on_file: bool = False
    consent_date: date | None = None
    height_cm: Amount | None = None

    @property
    def display_name(self) -> str:
        """``FAMILY, Given`` as charts print it."""
        return f"{self.family_name.upper()}, {self.given_name}"


@dataclass(frozen=True, slots=True)
class WeightEntry:
    """One measured body weight of a patient (the latest is the one the rules use)."""

    id: int
    patient_id: int
    measured_on: date
    weight_kg: Amount  # exact kilograms
    entered: Amount  # as typed: kg or lb
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True, slots=True)
class IngredientStrength:
    """One ingredient of a stock product at its labelled strength."""

    ingredient_id: int
    ingredient_name: str
    strength: Amount  # a concentration, e.g. 5 mg/mL or 0.5 % w/v
    form: str = ""  # the salt, ester or basis the strength is stated in
    #: For a powder: the amount in one vial as labelled (``strength`` is then that
    #: amount in the reconstitution volume); None for a solution.
    per_unit: Amount | None = None


@dataclass(frozen=True, slots=True)
class Product:
    """A stock item: one or more ingredients in a unit of given volume."""

    id: int
    name: str
    manufacturer: str
    volume_per_unit: Amount | None  # fill volume; for a powder, its reconstitution volume
    ingredients: tuple[IngredientStrength, ...] = ()
    presentation: Presentation | None = None  # None: recorded before presentations were kept
    gtin: str = ""  # GTIN-14 digits, or "" when the box has none recorded
    retired_reason: str = ""  # set once the product is retired (never deleted)


@dataclass(frozen=True, slots=True)
class Lot:
    """A received lot of a product."""

    id: int
    product_id: int
    lot_number: str
    expiry: date
    quantity_on_hand: Amount
    status: LotStatus = LotStatus.AVAILABLE
    supplier: str = ""
    units_received: int | None = None  # ampoules/vials counted at receipt, when counted


@dataclass(frozen=True, slots=True)
class Component:
    """One line of a formulation version.

    Either a product drawn by volume (``product_id`` set, ``amount`` a volume) or a
    bare ingredient by amount (``ingredient_id`` set, ``amount`` a mass, IU …).
    """

    id: int
    position: int
    name: str
    amount: Amount
    product_id: int | None = None
    ingredient_id: int | None = None


@dataclass(frozen=True, slots=True)
class IngredientLine:
    """What one ingredient contributes to a prepared mix (computed)."""

    ingredient_id: int
    ingredient_name: str
    form: str
    amount_per_session: Amount
    final_concentration: Amount | None


@dataclass(frozen=True, slots=True)
class FormulationVersion:
    """A numbered, immutable-once-used version of a patient's cocktail."""

    id: int
    formulation_id: int
    formulation_name: str
    version: int
    final_volume: Amount | None
    components: tuple[Component, ...]
    created_at: datetime
    created_by: str
    locked: bool = False
    ingredient_lines: tuple[IngredientLine, ...] = ()
    note: str = ""
    #: The safety findings overridden (signed) or acknowledged to save this content.
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True, slots=True)
class Course:
    """A planned series of sessions."""

    id: int
    patient_id: int
    name: str
    planned_sessions: int
    interval_days: int
    start_date: date


@dataclass(frozen=True, slots=True)
class PatientSummary:
    """One line of the patient list: who, and where their current course stands."""

    patient: Patient
    course: Course | None = None
    sessions_done: int = 0  # signed sessions in ``course``
    next_due: date | None = None
    last_session: date | None = None


@dataclass(frozen=True, slots=True)
class LotUse:
    """Which lot supplied a component in a session, and how much was drawn."""

    component_id: int
    component_name: str
    lot_id: int
    lot_number: str
    expiry: date
    drawn: Amount | None = None


@dataclass(frozen=True, slots=True)
class ZoneVolume:
    """Volume injected into one scalp zone, and into how many injection points (wheals).

    ``points`` is None when the number of points was not charted (every session signed
    before it was recorded, and sessions charted without it).
    """

    zone: ScalpZone
    volume: Amount
    points: int | None = None

    @property
    def volume_per_point(self) -> Amount | None:
        """The volume given into each injection point (``volume / points``), if known."""
        if not self.points or self.points <= 0:
            return None
        return Amount(self.volume.value / self.points, self.volume.unit)


@dataclass(frozen=True, slots=True)
class AdverseEvent:
    """An adverse event observed during or after a session."""

    kind: str
    severity: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Signature:
    """A signature: who, when, in what meaning, over which content hash."""

    signer: Practitioner
    signed_at: datetime
    meaning: str
    content_hash: str


@dataclass(frozen=True, slots=True)
class Addendum:
    """A signed correction appended to a signed session."""

    id: int
    text: str
    reason: str
    signature: Signature


@dataclass(frozen=True, slots=True)
class Override:
    """A safety finding that was overridden (block) or acknowledged (warning).

    An override is an electronic signature (21 CFR 11.50): the practitioner's password
    was checked, and the record binds their printed name (``signer_name``), the time
    (``at``) and the ``meaning`` to the finding. Records written before overrides were
    signed have an empty ``signer_name`` and ``meaning``.
    """

    rule: str
    message: str
    severity: str
    reason: str
    by: str  # username
    at: datetime
    signer_name: str = ""  # printed name of the practitioner who signed the override
    meaning: str = ""  # what the signature means (OVERRIDE_MEANING, ACKNOWLEDGED_MEANING)

    @property
    def signed_by(self) -> str:
        """Who signed it, for people: the printed name, or the username on old records."""
        return self.signer_name or self.by


#: The value of a simple session field (a whole number, a quantity or text; see
#: formulary.session_fields): None when not charted.
SimpleValue = int | str | Amount | None


class ChartedFields:
    """Reading a declared session field by name, on the record and the draft alike.

    Fields with code of their own are attributes (``needle_gauge``); a simple field
    declared in :mod:`formulary.session_fields` with nothing but its declaration lives
    in ``others`` (field name to value). :meth:`value` reads either, so what is
    generic (the Store, the loader, the exports, the CLI, the screen) never needs to
    know which.
    """

    __slots__ = ()

    others: Mapping[str, SimpleValue]

    def value(self, name: str) -> object:
        """The field ``name``: its attribute, else its entry in ``others`` (None: absent)."""
        if name in self.others:
            return self.others[name]
        return getattr(self, name, None)


@dataclass(frozen=True, slots=True)
class Session(ChartedFields):
    """One administered treatment session, as charted."""

    id: int
    patient_id: int
    performed_at: datetime
    status: SessionStatus
    formulation_version_id: int
    course_id: int | None = None
    session_number: int | None = None
    technique: Technique | None = None
    needle_gauge: int | None = None
    needle_length: Amount | None = None
    depth: Amount | None = None
    total_volume: Amount | None = None
    zones: tuple[ZoneVolume, ...] = ()
    lots: tuple[LotUse, ...] = ()
    anaesthesia: str = ""
    pain_score: int | None = None
    adverse_events: tuple[AdverseEvent, ...] = ()
    post_care: str = ""
    notes: str = ""
    #: Who prepared it: the user who saved its first draft (the row's ``created_by_id``),
    #: named as the user record names them now. Not signed content beyond that id
    #: (``created_by_id`` is in every signed-content version; the printed name is not).
    prepared_by: Practitioner | None = None
    signature: Signature | None = None
    addenda: tuple[Addendum, ...] = ()
    overrides: tuple[Override, ...] = ()
    #: Simple fields declared without an attribute of their own (see ChartedFields).
    others: Mapping[str, SimpleValue] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A measurement of the result at one visit."""

    id: int
    patient_id: int
    measured_at: datetime
    density: Amount | None = None  # hairs/cm2
    shaft_diameter: Amount | None = None  # micrometres
    scale_grade: str = ""
    zone: ScalpZone | None = None
    photo_refs: tuple[str, ...] = ()
    notes: str = ""
    session_id: int | None = None  # the session it follows up, when one was named


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement of the audit chain's head at one moment."""

    db_id: str
    seq: int
    head_hash: str
    at: datetime
    key_id: str
    signature: str
    line: str  # the one-line printable form, verified by ``formulary audit verify``


@dataclass(frozen=True, slots=True)
class Clinic:
    """Who keeps the record (printed on exports)."""

    name: str
    address: str = ""
    workstation: str = ""
    #: Names the clinic in export identifier systems and resource ids (see docs/exports.md).
    identifier: str = ""
    #: How long a prepared syringe may be used after it is prepared (the label prints it).
    beyond_use_minutes: int = 60
    #: The largest photo file accepted, in bytes (formulary.photos.DEFAULT_MAX_BYTES).
    photo_max_bytes: int = 26_214_400


@dataclass(frozen=True, slots=True)
class PatientChart:
    """Everything an export of one patient needs, loaded in one go."""

    clinic: Clinic
    patient: Patient
    formulation_versions: tuple[FormulationVersion, ...]
    courses: tuple[Course, ...]
    sessions: tuple[Session, ...]
    outcomes: tuple[Outcome, ...]
    practitioners: tuple[Practitioner, ...]
    products: tuple[Product, ...] = ()
    exported_at: datetime | None = None
    checkpoint: Checkpoint | None = None
    extra: dict[str, str] = field(default_factory=dict)
    #: Photographs, current and retired, oldest first (formulary.photos).
    photos: tuple[Photo, ...] = ()
    #: The stored bytes of the photos a PDF prints, by SHA-256 (read and checked by the
    #: export; a photo whose file is missing or altered is absent and the PDF says so).
    photo_files: dict[str, bytes] = field(default_factory=dict)
    #: The patient's consents, oldest first (withdrawn ones too).
    consents: tuple[Consent, ...] = ()
