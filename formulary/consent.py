"""Informed consent: the clinic's template text, the patient's typed signature, validity.

Pure domain, no database. A clinic keeps consent *templates* (Markdown), versioned like
formulations: editing a template makes a new version and old versions never change.
A *consent* is a patient's agreement to one template version for one course (or, for
sessions outside any course, for the patient): it keeps the version's exact text and
the SHA-256 of that text (:func:`text_sha256`), the full name the patient typed as
their signature (:func:`check_typed_name`), the witness (the signed-in user, who
re-enters their password), the UTC time, and optionally the SHA-256 of a scanned
paper form.

Validity (:func:`consent_finding`, :func:`valid_consent`): a session can be signed
when the patient has a consent for the session's course (a session outside any
course: a consent given outside any course) that is signed and not withdrawn. A
consent stays tied to the template version that was signed: a later edit of the
template makes a new version for the *next* signature and leaves every consent
already given valid with the text the patient read (an auditor reads that text, and
its hash proves it is the one shown). Retiring a template stops new signatures on it
and leaves existing consents as they are. A withdrawn consent no longer counts from
the moment it is withdrawn; sessions signed before stay as signed.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from formulary import text as plain_text
from formulary.safety.findings import Finding, Severity

#: The rule id of the finding that blocks signing without a valid consent.
CONSENT_RULE = "consent.missing"

#: Longest template text accepted (characters): several pages of Markdown.
MAX_TEMPLATE_CHARS = 20_000
#: Longest template name.
MAX_TEMPLATE_NAME = 200
#: Longest typed name accepted as a signature.
MAX_TYPED_NAME = 200

#: The known effects every consent text must name (checked when a template is saved).
REQUIRED_EFFECTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pain at injection", ("pain",)),
    ("bruising", ("bruis",)),
    ("swelling", ("swell",)),
    ("infection", ("infection",)),
    ("allergic reaction", ("allerg",)),
    ("temporary shedding", ("shedding",)),
)

#: The clinic's default template, seeded into every new database (then editable).
DEFAULT_TEMPLATE_NAME = "Scalp mesotherapy for hair loss"

DEFAULT_TEMPLATE_TEXT = """\
# Consent to scalp mesotherapy for hair loss

## The procedure
Mesotherapy places small amounts of a mixture prepared for you (vitamins, minerals,
amino acids, hyaluronic acid or other agents, as listed in your treatment plan) into
the skin of the scalp, with fine needles or a microneedling device. Each session takes
about 20 to 40 minutes. A local anaesthetic cream may be used.

## Its purpose
To slow hair loss and support regrowth. Results differ from person to person; they
are not guaranteed, and they are judged on photographs and hair counts over months,
not weeks.

## Known effects and risks
- **Pain at injection**: a stinging or burning feeling during the injections, usually
  gone within minutes.
- **Bruising**: small bruises or spots of blood at the injection points, fading within
  days.
- **Swelling**: redness and swelling of the scalp for a day or two.
- **Infection**: rare; keep the scalp clean and tell us at once about heat, pus or fever.
- **Allergic reaction**: to an ingredient or the anaesthetic; tell us every allergy you
  know of. A severe reaction needs emergency care.
- **Temporary shedding**: more hairs may fall in the first weeks; this usually settles
  as the treatment goes on.

## Alternatives
No treatment; minoxidil applied to the scalp; medicines taken by mouth prescribed by a
doctor; platelet-rich plasma; low-level light therapy; hair transplantation. You may
ask about any of them.

## The course plan
A course is usually 4 to 10 sessions, one every 1 to 4 weeks, then sessions to keep the
result. Your plan (number of sessions and interval) is in your chart; we review it
with you along the way.

## Your choices
You may ask questions at any time, and you may withdraw this consent at any time
without giving a reason; treatment stops from then on. By typing your full name you
confirm you have read this text, had your questions answered, and agree to the
treatment.
"""


class ConsentError(ValueError):
    """A consent or a template that cannot be accepted; the message says how to fix it."""


def text_sha256(text: str) -> str:
    """The SHA-256 (hex) of a template version's exact text, as UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_template_text(text: str) -> str:
    """The template text as it will be stored (line endings made LF), or :class:`ConsentError`.

    The text must say something, stay under the length limit and name each known
    effect of the treatment, so that no clinic template leaves one out by accident.
    """
    stored = text.replace("\r\n", "\n").replace("\r", "\n")
    if not stored.strip():
        raise ConsentError("the consent text is empty; write the procedure, effects and plan")
    if len(stored) > MAX_TEMPLATE_CHARS:
        raise ConsentError(
            f"the consent text is {len(stored)} characters; shorten it to "
            f"{MAX_TEMPLATE_CHARS} or fewer"
        )
    if (wrong := plain_text.problem(stored, multiline=True)) is not None:
        raise ConsentError(f"the consent text {wrong}")
    folded = stored.casefold()
    missing = [name for name, stems in REQUIRED_EFFECTS if not any(s in folded for s in stems)]
    if missing:
        raise ConsentError(
            "the consent text does not name these known effects: " + ", ".join(missing)
            + "; add them (the default template lists each one)"
        )
    return stored


def check_template_name(name: str) -> str:
    """The trimmed template name, or :class:`ConsentError`."""
    if (wrong := plain_text.problem(name.strip())) is not None:
        raise ConsentError(f"the template name {wrong}")
    stored = " ".join(name.split())
    if not stored:
        raise ConsentError("give the consent template a name")
    if len(stored) > MAX_TEMPLATE_NAME:
        raise ConsentError(f"the template name is longer than {MAX_TEMPLATE_NAME} characters")
    return stored


def normalize_name(name: str) -> str:
    """A person's name reduced to what a typed signature must match.

    Unicode compatibility form, accents removed (``Zoé`` = ``Zoe``), case folded,
    hyphens, apostrophes, dots and commas read as spaces, and runs of spaces made one:
    ``"  o'brien-SMITH,  Zoé "`` becomes ``"o brien smith zoe"``.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    out = []
    for char in letters.casefold():
        if char.isalnum():
            out.append(char)
        elif char.isspace() or char in "-‐‑–—'’‘`.,":
            out.append(" ")
        # anything else (symbols, emoji) is dropped: it is not part of a name
    return " ".join("".join(out).split())


def check_typed_name(typed: str, given_name: str, family_name: str) -> str:
    """The typed full name as stored (spaces trimmed), or :class:`ConsentError`.

    It matches when, normalised (:func:`normalize_name`) and with the spaces left out,
    it is the given and family names in either order (``Zoé Dubois``, ``DUBOIS Zoe``,
    ``Dubois, Zoé``; ``O'Brien`` typed ``OBrien`` or ``O Brien``).
    """
    if (wrong := plain_text.problem(typed.strip())) is not None:
        raise ConsentError(f"the typed name {wrong}")
    stored = " ".join(typed.split())
    if not stored:
        raise ConsentError("the patient has not typed their name; ask them to type it in full")
    if len(stored) > MAX_TYPED_NAME:
        raise ConsentError(f"the typed name is longer than {MAX_TYPED_NAME} characters")
    def compact(text: str) -> str:
        return normalize_name(text).replace(" ", "")

    wanted = {compact(f"{given_name} {family_name}"), compact(f"{family_name} {given_name}")}
    if compact(stored) not in wanted:
        raise ConsentError(
            f"the typed name {stored!r} does not match the patient's name "
            f"{given_name} {family_name}; the patient types their given and family names "
            "in full (case, accents, spaces, hyphens, apostrophes and commas do not matter); "
            "if the name on the patient's record is wrong, correct the record first"
        )
    return stored


@dataclass(frozen=True, slots=True)
class ConsentTemplateVersion:
    """One version of a clinic consent template (immutable once saved)."""

    id: int
    template_id: int
    name: str
    version: int
    text: str
    sha256: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class ConsentTemplate:
    """A clinic consent template: its name, current version and whether it is retired."""

    id: int
    name: str
    current: ConsentTemplateVersion
    retired_reason: str = ""
    retired_at: datetime | None = None

    @property
    def retired(self) -> bool:
        """True when no new consent may be signed on this template."""
        return self.retired_at is not None


@dataclass(frozen=True, slots=True)
class Consent:
    """A patient's signed consent to one template version (for one course, or none)."""

    id: int
    patient_id: int
    course_id: int | None
    template_version_id: int
    template_name: str
    template_version: int
    text: str
    text_sha256: str
    typed_name: str
    witness_username: str
    witness_name: str
    signed_at: datetime
    #: SHA-256 of the attached scanned paper form (None: no form attached).
    form_sha256: str | None = None
    form_name: str = ""
    withdrawn_at: datetime | None = None
    withdrawn_by: str = ""
    withdrawn_reason: str = ""
    #: SHA-256 over what was signed (see db.store consent), for verification.
    record_hash: str = ""

    @property
    def withdrawn(self) -> bool:
        """True once the consent has been withdrawn."""
        return self.withdrawn_at is not None

    def status(self) -> str:
        """``signed`` or ``withdrawn``."""
        return "withdrawn" if self.withdrawn else "signed"

    def text_intact(self) -> bool:
        """True when the kept text still hashes to the recorded SHA-256."""
        return text_sha256(self.text) == self.text_sha256


def covers(
    consent: Consent, patient_id: int, course_id: int | None, at: datetime | None = None
) -> bool:
    """True when ``consent`` allows treating ``patient_id`` in ``course_id`` at ``at``.

    Same patient, same course (None only for None), signed at or before ``at`` and not
    withdrawn at or before ``at``. ``at=None`` asks about the records as they stand:
    signed and not withdrawn (what the Store asks when a session is signed).
    """
    if consent.patient_id != patient_id or consent.course_id != course_id:
        return False
    if at is None:
        return consent.withdrawn_at is None
    if consent.signed_at > at:
        return False
    return consent.withdrawn_at is None or consent.withdrawn_at > at


def valid_consent(
    consents: Iterable[Consent], patient_id: int, course_id: int | None,
    at: datetime | None = None,
) -> Consent | None:
    """The newest consent valid for the patient and course at ``at``, or None."""
    found = [c for c in consents if covers(c, patient_id, course_id, at)]
    return max(found, key=lambda c: (c.signed_at, c.id)) if found else None


def consent_finding(
    consents: Iterable[Consent],
    patient_id: int,
    course_id: int | None,
    course_name: str,
    at: datetime | None = None,
) -> Finding | None:
    """The BLOCK when no consent is valid for the session's course at ``at``, else None.

    ``at=None``: as the records stand now (see :func:`covers`).
    """
    every = list(consents)
    if valid_consent(every, patient_id, course_id, at) is not None:
        return None
    scope = f"the course '{course_name}'" if course_id is not None else "sessions outside a course"
    withdrawn = [c for c in every if c.patient_id == patient_id and c.course_id == course_id
                 and c.withdrawn_at is not None and (at is None or c.withdrawn_at <= at)]
    if withdrawn:
        last = max(withdrawn, key=lambda c: (c.withdrawn_at, c.id))
        message = (f"the patient withdrew consent for {scope} "
                   f"({last.withdrawn_reason or 'no reason given'})")
    else:
        message = f"the patient has no signed consent for {scope}"
    where = "for the course" if course_id is not None else "without a course"
    return Finding(
        rule=CONSENT_RULE,
        severity=Severity.BLOCK,
        message=message,
        remedy=(
            f"sign the consent {where} first (patient chart: Consent, or "
            "'formulary consent sign'); override only if consent was given another way"
        ),
        field="consent",
        subject=str(course_id) if course_id is not None else "patient",
    )


def scope_text(consent: Consent, course_names: Mapping[int, str]) -> str:
    """What a consent is for, in words: ``course 'Autumn'`` or ``outside a course``."""
    if consent.course_id is None:
        return "outside a course"
    return f"course '{course_names.get(consent.course_id, consent.course_id)}'"


def summary(
    consents: Iterable[Consent], course_names: Mapping[int, str],
    legacy_date: date | None = None, legacy_flag: bool = False,
) -> str:
    """The patient's consents on one line (charts and the FHIR narrative).

    ``legacy_flag``/``legacy_date`` are the old yes/no mark of the patient form: it is
    named for the record, never as a consent.
    """
    parts = []
    for c in sorted(consents, key=lambda c: (c.signed_at, c.id), reverse=True):
        state = (f"withdrawn {c.withdrawn_at:%Y-%m-%d}" if c.withdrawn_at is not None
                 else f"signed {c.signed_at:%Y-%m-%d}")
        parts.append(f"{scope_text(c, course_names)}: {state} "
                     f"({c.template_name} v{c.template_version})")
    if not parts:
        parts.append("NO signed consent")
    if legacy_flag:
        noted = f" dated {legacy_date:%Y-%m-%d}" if legacy_date else ""
        parts.append(f"paper consent noted{noted} before signed consents (not a consent record)")
    return "; ".join(parts)
