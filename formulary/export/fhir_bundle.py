"""The chart as FHIR R4B (4.3.0) resources: a document Bundle, or resources for NDJSON.

The resources are built as plain JSON data (dicts, lists, strings, numbers), which is
an order of magnitude faster than constructing fhir.resources models for every
element. Their shape is checked against the fhir.resources ``R4B`` models in the tests
and, at export time, on the bundle of a single export and on a sample of a bulk
export (:func:`validate_bundle`). fhir.resources ships R4B and R5 models but no R4
(4.0.1) ones, so the export is labelled R4B: that is what it is checked against.

Layout of the document: the Composition first (sections point at everything else,
signers as attesters), then the Patient, the clinic's Organization, the
Practitioners, allergies and conditions, one Medication per formulation version used
(the recipe: ingredient strengths as Ratios), one MedicationAdministration per
*signed* session (intradermal, scalp, dose in mL; its performers the signer and, with
the function ``preparer``, who prepared it) whose medication is the prepared
syringe: a contained Medication whose ingredients point (``itemReference``) at
contained Medications carrying each component's lot and expiry (``batch``); a
Provenance per signature and per addendum (ASTM E1762 signature types by meaning,
coded activity); and Observations for the outcome measurements. Unsigned drafts are
not part of the record yet and are left out of the ``final`` document (its Sessions
section says how many). Every resource carries a generated narrative.

Identity is clinic-scoped: resource ids are UUID v5 names in a namespace made from
the clinic identifier, and identifier systems carry it, so two clinics that both have
chart C-000123 never name the same resource.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from formulary import session_fields
from formulary.export.display import (
    show_amount,
    show_date,
    show_technique,
    show_time,
    show_zone,
    show_zone_volume,
)
from formulary.export.formats import NotStamped
from formulary.export.ingredients import ingredient_table
from formulary.export.safe_text import ODD_SPACES, printable_record
from formulary.export.selection import (
    course_of,
    lots_for,
    sessions_in_order,
    version_of,
    versions_used,
)
from formulary.export.ucum import UCUM_SYSTEM, UcumQuantity, as_ratio, to_ucum
from formulary.records import (
    Addendum,
    Clinic,
    Component,
    FormulationVersion,
    IngredientLine,
    LotUse,
    Outcome,
    PatientChart,
    Practitioner,
    Session,
    SessionStatus,
    Signature,
    ZoneVolume,
)
from formulary.units.amount import Amount

__all__ = [
    "FHIR_VERSION",
    "NotStamped",
    "chart_resources",
    "fhir_bundle",
    "render_fhir",
    "signature_type",
    "validate_bundle",
]

Json = dict[str, Any]

#: The FHIR release the resources are built for and validated against.
FHIR_VERSION = "4.3.0"

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ROUTE_INTRADERMAL = ("372464004", "Intradermal route")
SITE_SCALP = ("41695006", "Scalp structure")
SIGNATURE_TYPES = "urn:iso-astm:E1762-95:2013"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
DOCUMENT_COMPLETION = "http://terminology.hl7.org/CodeSystem/v3-DocumentCompletion"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
XHTML = "http://www.w3.org/1999/xhtml"

_BASE_NAMESPACE = uuid.UUID("3c1f5a52-9d1e-5b8e-9a57-6f6e0b7f2d10")

# ASTM E1762 signature types (1.2.840.10065.1.12.1.*) by what the signature means.
_SIGNATURE_TYPES: dict[str, tuple[str, str]] = {
    "author": ("1.2.840.10065.1.12.1.1", "Author's Signature"),
    "coauthor": ("1.2.840.10065.1.12.1.2", "Coauthor's Signature"),
    "verification": ("1.2.840.10065.1.12.1.5", "Verification Signature"),
    "validation": ("1.2.840.10065.1.12.1.6", "Validation Signature"),
    "witness": ("1.2.840.10065.1.12.1.8", "Signature Witness Signature"),
    "review": ("1.2.840.10065.1.12.1.13", "Review Signature"),
    "addendum": ("1.2.840.10065.1.12.1.15", "Addendum Signature"),
}

#: Simple session fields declared with nothing but their declaration (shown generically).
_DECLARED_ONLY = session_fields.others_of(Session)


def signature_type(meaning: str, *, addendum: bool = False) -> tuple[str, str]:
    """The ASTM E1762 code and display for a signature's meaning.

    An addendum's signature is an Addendum Signature whatever word it was given; an
    unknown meaning is an author's signature (the only one the app records today).
    """
    if addendum:
        return _SIGNATURE_TYPES["addendum"]
    return _SIGNATURE_TYPES.get(meaning.casefold(), _SIGNATURE_TYPES["author"])


# -- clinic-scoped names ---------------------------------------------------------------


def clinic_identifier(clinic: Clinic) -> str:
    """The clinic's identifier, ``local`` for a record that carries none (tests)."""
    return clinic.identifier or "local"


@lru_cache(maxsize=64)
def _namespace(identifier: str) -> uuid.UUID:
    return uuid.uuid5(_BASE_NAMESPACE, f"clinic/{identifier}")


@lru_cache(maxsize=4096)
def _shared_url(identifier: str, name: str) -> str:
    # The clinic, its staff: the same few names in every chart of an export.
    return _uuid5_urn(_namespace(identifier).bytes, name)


def _uuid5_urn(namespace: bytes, name: str) -> str:
    """``urn:uuid:`` + ``uuid.uuid5`` of ``name`` in the namespace whose bytes are given.

    The same UUID as :func:`uuid.uuid5` (RFC 4122: SHA-1, version 5, variant 10),
    without building UUID objects: a bulk export names tens of thousands of records.
    """
    digest = bytearray(hashlib.sha1(namespace + name.encode("utf-8"),
                                    usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@lru_cache(maxsize=64)
def _systems(identifier: str) -> dict[str, str]:
    # URN characters: the identifier is checked when it is set (db/store), but a
    # percent-encoding here keeps the system a valid URI whatever it holds.
    safe = re.sub(r"[^A-Za-z0-9._-]", lambda m: f"%{ord(m.group()):02X}", identifier)
    base = f"urn:formulary:{safe}"
    return {
        "chart": f"{base}:chart-number",
        "user": f"{base}:user",
        "session": f"{base}:session",
        "photo": f"{base}:photo",
        "version": f"{base}:formulation-version",
        "clinic": "urn:formulary:clinic",
    }


#: Not clinic-specific: the same hash or code means the same thing anywhere.
CONTENT_HASH_SYSTEM = "urn:formulary:content-sha256"
OUTCOME_CODES = "urn:formulary:outcome"
#: A photo's file is identified by the SHA-256 of its stored bytes. FHIR's own
#: ``Attachment.hash`` is defined as the base64 SHA-1 of the data; the bundle carries no
#: data, so it is left empty rather than filled with a different algorithm.
FILE_SHA256_SYSTEM = "urn:formulary:file-sha256"
#: MedicationAdministration.performer.function of who prepared the syringe. HL7's
#: med-admin-perform-function has performer, verifier and witness only, none of them a
#: preparer (the binding is an example one, so a code of our own is allowed).
PERFORMER_FUNCTION = "urn:formulary:performer-function"
MEDIA_TYPE = "http://terminology.hl7.org/CodeSystem/media-type"


# -- small datatypes ---------------------------------------------------------------------


def _div(*paragraphs: str) -> Json:
    body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs if p)
    return {"status": "generated",
            "div": f'<div xmlns="{XHTML}">{body or "<p>None recorded.</p>"}</div>'}


def _s(text: str) -> str | None:
    """FHIR strings may not be empty: an empty value is left out instead."""
    return text or None


def _number(number: Decimal) -> Decimal:
    # A plain decimal (no exponent) so JSON carries 100, not 1E+2.
    normal = number.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


@lru_cache(maxsize=4096)
def _json_number(number: Decimal) -> int | float | str:
    """An exact decimal as the JSON number it is written as (see :func:`_default`).

    Converted when the resource is built rather than by the encoder's fallback, and
    cached: a clinic uses the same few amounts over and over. Equal decimals (0.50,
    0.5) give the same number, as normalising them did.
    """
    value = _default(_number(number))
    assert isinstance(value, int | float | str)
    return value


def _number_text(value: Any) -> str:
    """The text of a number :func:`_json_number` made (for narratives)."""
    if isinstance(value, _RawNumber):
        return value[len(_RAW_PREFIX):-1]
    return str(value)


def _instant(moment: datetime) -> str:
    # isoformat is done in C (strftime is several times slower); a bulk export writes
    # tens of thousands of instants.
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    if utc.microsecond:
        return utc.isoformat().rstrip("0") + "Z"
    return utc.isoformat() + "Z"


def _ref(url: str, display: str = "") -> Json:
    return {"reference": url, "display": display} if display else {"reference": url}


def _concept(text: str, system: str | None = None, code: str | None = None,
             display: str = "") -> Json:
    out: Json = {}
    if code:
        coding: Json = {"system": system, "code": code} if system else {"code": code}
        if display:
            coding["display"] = display
        out["coding"] = [coding]
    if text:
        out["text"] = text
    return out


#: The function of the performer who prepared the syringe (shared; never changed).
_PREPARER: Json = _concept("prepared the syringe", PERFORMER_FUNCTION, "preparer", "Preparer")


# The cached builders below return shared dicts: resources hold them as they are and
# nothing ever changes one after it is built (only references are rewritten, by
# _relink, and these hold none).


@lru_cache(maxsize=4096)
def _quantity(q: UcumQuantity) -> Json:
    out: Json = {"value": _json_number(q.value), "unit": q.unit}
    if q.code:
        out["system"] = UCUM_SYSTEM
        out["code"] = q.code
    return out


@lru_cache(maxsize=4096)
def _amount(amount: Amount) -> Json:
    return _quantity(to_ucum(amount))


@lru_cache(maxsize=4096)
def _ratio(top: UcumQuantity, bottom: UcumQuantity) -> Json:
    return {"numerator": _quantity(top), "denominator": _quantity(bottom)}


#: ``show_amount`` remembered: equal amounts print the same (ISMP form strips zeros).
_show_amount = lru_cache(maxsize=4096)(show_amount)


def _compact(resource: Json) -> Json:
    """Drop keys whose value is None or an empty list (FHIR forbids empty elements)."""
    return {k: v for k, v in resource.items() if v is not None and v != []}


# -- the builder -------------------------------------------------------------------------


class _Builder:
    """Builds one chart's resources; holds the chart and the clinic's names."""

    def __init__(self, chart: PatientChart, *, clean: bool = True) -> None:
        if chart.exported_at is None or chart.checkpoint is None:
            raise NotStamped(
                "the chart must carry its export time and a fresh audit checkpoint "
                "before it is rendered"
            )
        self.exported_at: datetime = chart.exported_at
        # A consent's text travels as signed (its SHA-256 must still match), not cleaned.
        self.consent_texts = {c.id: c.text for c in chart.consents}
        if clean:  # FHIR strings may hold no control characters
            chart = printable_record(chart)
        self.chart = chart
        self.clinic_id = clinic_identifier(chart.clinic)
        self.namespace = _namespace(self.clinic_id).bytes
        self.systems = _systems(self.clinic_id)
        self.chart_key = chart.patient.chart_number
        self.patient_url = self.url("patient", chart.patient.id)
        self.clinic_url = self.shared_url("organization", "clinic")
        self.entries: list[tuple[str, Json]] = []
        self.sections: dict[str, list[Json]] = {}
        self.drafts = 0
        self.prepared_cache: dict[tuple[int | None, tuple[LotUse, ...]],
                                  tuple[list[Json], list[str]]] = {}

    def url(self, kind: str, key: object) -> str:
        """The urn:uuid of one of this patient's records."""
        return _uuid5_urn(self.namespace, f"{self.chart_key}/{kind}/{key}")

    def shared_url(self, kind: str, key: object) -> str:
        """The urn:uuid of a record every chart of the clinic shares (clinic, staff)."""
        return _shared_url(self.clinic_id, f"{kind}/{key}")

    def add(self, url: str, resource: Json, section: str | None = None,
            display: str = "") -> None:
        resource["id"] = url.removeprefix("urn:uuid:")
        self.entries.append((url, resource))
        if section is not None:
            self.sections.setdefault(section, []).append(_ref(url, display))

    def practitioner_url(self, person: Practitioner) -> str:
        return self.shared_url("practitioner", person.username)

    # -- resources -------------------------------------------------------------------

    def patient(self) -> None:
        p = self.chart.patient
        name: Json = {"text": p.display_name}
        if p.family_name:
            name["family"] = p.family_name
        if p.given_name:
            name["given"] = [p.given_name]
        self.add(self.patient_url, _compact({
            "resourceType": "Patient",
            "text": _div(f"{p.display_name}, chart {p.chart_number}",
                         f"Born {show_date(p.date_of_birth)}" if p.date_of_birth else "",
                         f"Sex: {p.sex.value}"),
            "identifier": [{"system": self.systems["chart"], "value": p.chart_number}]
            if p.chart_number else None,
            "name": [name] if p.display_name else None,
            "gender": p.sex.value,
            "birthDate": p.date_of_birth.isoformat() if p.date_of_birth else None,
            "managingOrganization": _ref(self.clinic_url, self.chart.clinic.name),
        }))

    def organization(self) -> None:
        self.add(self.clinic_url, organization_resource(self.chart.clinic))

    def practitioners(self) -> None:
        people = list(self.chart.practitioners)
        # Whoever prepared an included session is a performer of it: a Practitioner
        # here even when the chart's list (from the loader: it has them) lacks them.
        named = {p.username for p in people}
        for session in self.chart.sessions:
            preparer = session.prepared_by
            if (session.status is SessionStatus.SIGNED and preparer is not None
                    and preparer.username not in named):
                named.add(preparer.username)
                people.append(preparer)
        for person in people:
            self.add(self.practitioner_url(person),
                     practitioner_resource(self.clinic_id, person))

    def allergies_and_conditions(self) -> None:
        p = self.chart.patient
        subject = _ref(self.patient_url, p.display_name)
        for n, allergy in enumerate(p.allergies):
            url = self.url("allergy", n)
            reaction = f"; reaction: {allergy.reaction}" if allergy.reaction else ""
            self.add(url, _compact({
                "resourceType": "AllergyIntolerance",
                "text": _div(f"{allergy.kind.capitalize()}: {allergy.substance}{reaction}"),
                "clinicalStatus": _concept(
                    "active",
                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "active"),
                "code": _concept(allergy.substance) if allergy.substance else None,
                "patient": subject,
                "reaction": [{"manifestation": [_concept(allergy.reaction)]}]
                if allergy.reaction else None,
            }), "allergies", allergy.substance)
        clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
        category = "http://terminology.hl7.org/CodeSystem/condition-category"
        problems = [(c.text or c.code, c.code) for c in p.conditions]
        if p.diagnosis:
            grade = f"{p.grade_scale.value.title()} {p.grade}" if p.grade_scale else p.grade
            problems.insert(0, (f"{p.diagnosis} ({grade})" if grade else p.diagnosis,
                                "diagnosis"))
        for n, (text, key) in enumerate(problems):
            url = self.url("condition", f"{n}-{key}")
            self.add(url, _compact({
                "resourceType": "Condition",
                "text": _div(f"Problem: {text}" if text else "Problem (not named)"),
                "clinicalStatus": _concept("active", clinical, "active"),
                "category": [_concept("Problem list item", category, "problem-list-item")],
                "code": _concept(text) if text else None,
                "subject": subject,
            }), "allergies", text)

    def medications(self) -> None:
        for version in versions_used(self.chart):
            url = self.url("medication", version.id)
            title = _version_title(version)
            ingredients = list(self.ingredients(version))
            lines = [
                f"{i['itemCodeableConcept']['text']}: {_show_ratio(i.get('strength'))}"
                for i in ingredients
            ]
            self.add(url, _compact({
                "resourceType": "Medication",
                "text": _div(title, *lines),
                "identifier": [{"system": self.systems["version"], "value": str(version.id)}],
                "code": _concept(title),
                "form": _concept("solution for intradermal injection"),
                "ingredient": ingredients,
            }), "formulation", title)

    def ingredients(self, version: FormulationVersion) -> Iterable[Json]:
        lines = ingredient_table(self.chart, version).lines
        for line in lines:
            yield _compact({
                "itemCodeableConcept": _concept(_ingredient_name(line) or "(unnamed)"),
                "isActive": True,
                "strength": _strength(line, version),
            })
        if not lines:
            # Without computed ingredient lines, say what the mix is made of: each
            # component per final volume, exactly as charted.
            for component in version.components:
                yield _compact({
                    "itemCodeableConcept": _concept(component.name or "(unnamed)"),
                    "strength": _per_volume(component.amount, version),
                })

    def administrations(self) -> None:
        for session in sessions_in_order(self.chart):
            if session.status is SessionStatus.SIGNED:
                self.administration(session)
            else:
                self.drafts += 1

    def prepared(self, session: Session, version: FormulationVersion | None
                 ) -> tuple[list[Json], list[str]]:
        """The syringe as prepared: a Medication whose ingredients carry the lots."""
        contained: list[Json] = []
        ingredients: list[Json] = []
        lot_lines: list[str] = []
        components: Sequence[Component] = version.components if version else ()
        known = {c.id for c in components}
        for component in components:
            lots = lots_for(session, component.id)
            if not lots:
                ingredients.append(_compact({
                    "itemCodeableConcept": _concept(component.name or "(unnamed)"),
                    "strength": _per_volume(component.amount, version),
                }))
                continue
            for lot in lots:
                local = f"lot{len(contained) + 1}"
                contained.append(_lot_medication(local, lot.component_name or component.name,
                                                 lot.lot_number, lot.expiry))
                ingredients.append(_compact({
                    "itemReference": _ref(f"#{local}", lot.component_name or component.name),
                    "strength": _per_volume(lot.drawn or component.amount, version),
                }))
                lot_lines.append(_lot_line(lot.component_name, lot.lot_number, lot.expiry,
                                           lot.drawn))
        for lot in session.lots:
            if lot.component_id not in known:  # a lot of a component no longer listed
                local = f"lot{len(contained) + 1}"
                contained.append(_lot_medication(local, lot.component_name, lot.lot_number,
                                                 lot.expiry))
                ingredients.append({"itemReference": _ref(f"#{local}", lot.component_name)})
                lot_lines.append(_lot_line(lot.component_name, lot.lot_number, lot.expiry,
                                           lot.drawn))
        title = _version_title(version) if version else "Prepared syringe"
        prepared = _compact({
            "resourceType": "Medication",
            "id": "prepared",
            "identifier": [{"system": self.systems["version"], "value": str(version.id)}]
            if version else None,
            "code": _concept(f"{title}, as prepared"),
            "form": _concept("solution for intradermal injection"),
            "ingredient": ingredients,
        })
        return [prepared, *contained], lot_lines

    def administration(self, session: Session) -> None:
        chart = self.chart
        url = self.url("administration", session.id)
        version = version_of(chart, session)
        # A patient's sessions mostly repeat one recipe drawn from the same lots: the
        # prepared syringe is built once per recipe and set of draws (shared, unchanged).
        key = (version.id if version else None, session.lots)
        prepared = self.prepared_cache.get(key)
        if prepared is None:
            prepared = self.prepared_cache[key] = self.prepared(session, version)
        contained, lot_lines = prepared
        signer = session.signature.signer if session.signature else None
        preparer = session.prepared_by
        performers: list[Json] = []
        if signer is not None:
            performers.append({"actor": _ref(self.practitioner_url(signer), signer.full_name)})
        if preparer is not None:
            performers.append({"function": _PREPARER,
                               "actor": _ref(self.practitioner_url(preparer),
                                             preparer.full_name)})
        notes: list[Json] = [{"text": text} for text in _session_notes(chart, session)]
        for addendum in session.addenda:
            notes.append({
                "authorReference": _ref(self.practitioner_url(addendum.signature.signer),
                                        addendum.signature.signer.full_name),
                "time": _instant(addendum.signature.signed_at),
                "text": f"Addendum ({addendum.reason}): {addendum.text}",
            })
        method = "; ".join(
            part
            for part in (
                show_technique(session.technique),
                _needle(session),
                f"depth {_show_amount(session.depth)}" if session.depth else "",
            )
            if part
        )
        zones = _zones_text(session.zones)
        title = _version_title(version) if version else "the prepared syringe"
        when = show_time(session.performed_at)
        dosage = _compact({
            "text": f"Volume per zone: {zones}" if zones else None,
            "site": _concept("scalp", SNOMED, *SITE_SCALP),
            "route": _concept("intradermal", SNOMED, *ROUTE_INTRADERMAL),
            "method": _concept(method) if method else None,
            "dose": _amount(session.total_volume) if session.total_volume else None,
        })
        self.add(url, _compact({
            "resourceType": "MedicationAdministration",
            "text": _div(
                f"Session {session.id}, {when}: {title}, intradermal, scalp",
                f"Total {_show_amount(session.total_volume)}" if session.total_volume else "",
                f"Volume per zone: {zones}" if zones else "",
                f"Method: {method}" if method else "",
                *(f"Lot {line}" for line in lot_lines),
                f"Prepared by {preparer.full_name}" if preparer else "",
                f"Signed by {signer.full_name}" if signer else "",
                *(n["text"] for n in notes),
            ),
            "contained": contained,
            "identifier": [{"system": self.systems["session"], "value": str(session.id)}],
            "status": "completed",
            "medicationReference": _ref("#prepared", f"{title}, as prepared"),
            "subject": _ref(self.patient_url, chart.patient.display_name),
            "effectiveDateTime": _instant(session.performed_at),
            "performer": performers or None,
            "note": notes,
            "dosage": dosage,
        }), "sessions", f"Session {when}")
        if session.signature is not None:
            self.provenance(session, url, session.signature, None)
        for addendum in session.addenda:
            self.provenance(session, url, addendum.signature, addendum)

    def provenance(
        self, session: Session, target: str, signature: Signature, addendum: Addendum | None
    ) -> None:
        key = f"{session.id}-addendum-{addendum.id}" if addendum else f"{session.id}-signature"
        url = self.url("provenance", key)
        code, display = signature_type(signature.meaning, addendum=addendum is not None)
        who = _ref(self.practitioner_url(signature.signer), signature.signer.full_name)
        if addendum is not None:
            activity = _concept("addendum", DATA_OPERATION, "APPEND", "append")
        else:
            activity = _concept(f"signature ({signature.meaning})", DOCUMENT_COMPLETION,
                                "LA", "legally authenticated")
        what = "addendum" if addendum else "signature"
        summary = f"{what} by {signature.signer.full_name} at {show_time(signature.signed_at)}"
        self.add(url, _compact({
            "resourceType": "Provenance",
            "text": _div(f"{summary.capitalize()} ({display})",
                         f"Reason: {addendum.reason}" if addendum and addendum.reason else "",
                         f"Content SHA-256: {signature.content_hash}"),
            "target": [_ref(target, f"Session {show_time(session.performed_at)}")],
            "recorded": _instant(signature.signed_at),
            "activity": activity,
            "reason": [_concept(addendum.reason)] if addendum and addendum.reason else None,
            "agent": [{"type": _concept("Author", PARTICIPANT_TYPE, "author", "Author"),
                       "who": who}],
            "entity": [{
                "role": "source",
                "what": {"identifier": {"system": CONTENT_HASH_SYSTEM,
                                        "value": signature.content_hash},
                         "display": "SHA-256 of the signed content"},
            }],
            "signature": [{
                "type": [{"system": SIGNATURE_TYPES, "code": code, "display": display}],
                "when": _instant(signature.signed_at),
                "who": who,
            }],
        }), "signatures", summary)

    def consents(self) -> None:
        """One Consent per signed consent (inactive once withdrawn), and its Provenance."""
        import base64

        from formulary.consent import scope_text

        names = {c.id: c.name for c in self.chart.courses}
        p = self.chart.patient
        patient = _ref(self.patient_url, p.display_name)
        for consent in sorted(self.chart.consents, key=lambda c: (c.signed_at, c.id)):
            url = self.url("consent", consent.id)
            scope = scope_text(consent, names)
            state = (f"withdrawn {show_time(consent.withdrawn_at)}: {consent.withdrawn_reason}"
                     if consent.withdrawn_at is not None else "in force")
            summary = (f"Consent to treatment ({scope}), signed "
                       f"{show_time(consent.signed_at)}, {state}")
            text = self.consent_texts.get(consent.id, consent.text)
            witness = _ref(self.shared_url("practitioner", consent.witness_username),
                           consent.witness_name)
            self.add(url, _compact({
                "resourceType": "Consent",
                "text": _div(summary,
                             f"Template {consent.template_name} version "
                             f"{consent.template_version}, text SHA-256 {consent.text_sha256}",
                             f"Typed name: {consent.typed_name}; witness: "
                             f"{consent.witness_name}"),
                "identifier": [{"system": CONTENT_HASH_SYSTEM, "value": consent.text_sha256}],
                "status": "inactive" if consent.withdrawn_at is not None else "active",
                "scope": _concept("Treatment", CONSENT_SCOPE, "treatment", "Treatment"),
                "category": [_concept("Patient Consent", LOINC, "59284-0", "Patient Consent")],
                "patient": patient,
                "dateTime": _instant(consent.signed_at),
                "performer": [patient],
                "organization": [_ref(self.clinic_url, self.chart.clinic.name)],
                "sourceAttachment": {
                    "contentType": "text/markdown; charset=utf-8",
                    "title": f"{consent.template_name} v{consent.template_version}",
                    "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                    "creation": _instant(consent.signed_at),
                },
                "policyRule": _concept(f"clinic consent template '{consent.template_name}' "
                                       f"version {consent.template_version}"),
                "provision": {
                    "type": "deny" if consent.withdrawn_at is not None else "permit",
                    "period": _compact({
                        "start": _instant(consent.signed_at),
                        "end": _instant(consent.withdrawn_at) if consent.withdrawn_at else None,
                    }),
                },
            }), "consent", summary)
            self.add(self.url("provenance", f"consent-{consent.id}"), _compact({
                "resourceType": "Provenance",
                "text": _div(f"Consent signed by the patient (typed name "
                             f"{consent.typed_name}), witnessed by {consent.witness_name} at "
                             f"{show_time(consent.signed_at)}",
                             f"Record SHA-256: {consent.record_hash}"),
                "target": [_ref(url, "Consent")],
                "recorded": _instant(consent.signed_at),
                "agent": [
                    {"type": _concept("Author", PARTICIPANT_TYPE, "author", "Author"),
                     "who": patient},
                    {"type": _concept("Verifier", PARTICIPANT_TYPE, "verifier", "Verifier"),
                     "who": witness},
                ],
                "entity": [{"role": "source", "what": {
                    "identifier": {"system": CONTENT_HASH_SYSTEM,
                                   "value": consent.record_hash},
                    "display": "SHA-256 of the consent record"}}],
                "signature": [
                    {"type": [{"system": SIGNATURE_TYPES, "code": "1.2.840.10065.1.12.1.7",
                               "display": "Consent Signature"}],
                     "when": _instant(consent.signed_at), "who": patient},
                    {"type": [{"system": SIGNATURE_TYPES, "code": "1.2.840.10065.1.12.1.8",
                               "display": "Signature Witness Signature"}],
                     "when": _instant(consent.signed_at), "who": witness},
                ],
            }), "signatures", f"consent signed by the patient, witness {consent.witness_name}")

    def observations(self) -> None:
        for outcome in sorted(self.chart.outcomes, key=lambda o: (o.measured_at, o.id)):
            if outcome.density is not None:
                self.observation(outcome, "hair-density", "Hair density", outcome.density)
            if outcome.shaft_diameter is not None:
                self.observation(outcome, "hair-shaft-diameter", "Hair shaft diameter",
                                 outcome.shaft_diameter)
            if outcome.scale_grade:
                scale = self.chart.patient.grade_scale
                label = f"Hair loss grade ({scale.value.title()})" if scale else "Hair loss grade"
                self.observation(outcome, "hair-loss-grade", label, outcome.scale_grade)

    def observation(self, outcome: Outcome, code: str, label: str, value: Amount | str) -> None:
        url = self.url("observation", f"{outcome.id}-{code}")
        notes = [outcome.notes] if outcome.notes else []
        notes += [f"Photo: {ref}" for ref in outcome.photo_refs]
        category = "http://terminology.hl7.org/CodeSystem/observation-category"
        shown = _show_amount(value) if isinstance(value, Amount) else value
        when = show_time(outcome.measured_at)
        self.add(url, _compact({
            "resourceType": "Observation",
            "text": _div(f"{label}: {shown} ({show_zone(outcome.zone)}), {when}", *notes),
            "status": "final",
            "category": [_concept("Exam", category, "exam", "Exam")],
            "code": _concept(label, OUTCOME_CODES, code, label),
            "subject": _ref(self.patient_url, self.chart.patient.display_name),
            "effectiveDateTime": _instant(outcome.measured_at),
            "valueQuantity": _amount(value) if isinstance(value, Amount) else None,
            "valueString": value if isinstance(value, str) else None,
            "bodySite": _concept(f"scalp, {show_zone(outcome.zone)}", SNOMED, *SITE_SCALP),
            "note": [{"text": n} for n in notes],
        }), "outcomes", f"{label} {when}")

    def media(self) -> None:
        """Each photograph as a Media: view, date taken, the file's SHA-256, part of what it
        documents (the session's MedicationAdministration, the outcome's Observation)."""
        added = {u for u, _ in self.entries}
        for photo in self.chart.photos:
            url = self.url("media", photo.id)
            part_of: str | None = None
            if photo.session_id is not None:
                candidate = self.url("administration", photo.session_id)
                part_of = candidate if candidate in added else None
            elif photo.outcome_id is not None:
                part_of = next(
                    (u for code in ("hair-density", "hair-shaft-diameter", "hair-loss-grade")
                     if (u := self.url("observation", f"{photo.outcome_id}-{code}")) in added),
                    None,
                )
            title = f"{photo.view.label}, {show_date(photo.taken_on)}"
            notes = [photo.note] if photo.note else []
            if photo.retired:
                notes.append(f"Withdrawn: {photo.retired_reason}")
            self.add(url, _compact({
                "resourceType": "Media",
                "text": _div(f"Photograph: {title}", f"File SHA-256: {photo.sha256}", *notes),
                "identifier": [
                    {"system": self.systems["photo"], "value": str(photo.id)},
                    {"system": FILE_SHA256_SYSTEM, "value": photo.sha256},
                ],
                "partOf": [_ref(part_of)] if part_of else None,
                "status": "entered-in-error" if photo.retired else "completed",
                "type": _concept("Image", MEDIA_TYPE, "image", "Image"),
                "view": _concept(photo.view.label),
                "subject": _ref(self.patient_url, self.chart.patient.display_name),
                "createdDateTime": photo.taken_on.isoformat(),
                "bodySite": _concept("scalp", SNOMED, *SITE_SCALP),
                "height": photo.height,
                "width": photo.width,
                "content": {"contentType": photo.media_type, "size": photo.size_bytes,
                            "title": title},
                "note": [{"text": n} for n in notes],
            }), "photos", f"Photograph {title}")

    def composition(self) -> tuple[str, Json]:
        chart = self.chart
        assert chart.checkpoint is not None  # checked in __init__
        url = self.url("composition", chart.checkpoint.line)
        p = chart.patient
        from formulary.consent import summary

        consent = "Consent: " + summary(chart.consents, {c.id: c.name for c in chart.courses},
                                        p.consent_date, p.consent_on_file) + "."
        titles = {
            "consent": "Consent",
            "allergies": "Allergies and contraindications",
            "formulation": "Formulation",
            "sessions": "Sessions",
            "signatures": "Signatures and addenda",
            "outcomes": "Outcome measurements",
            "photos": "Photographs",
        }
        sections = []
        for key, title in titles.items():
            refs = self.sections.get(key, [])
            if key == "photos" and not refs:
                continue  # charts without photographs keep the sections they always had
            lines = [r.get("display", "") for r in refs]
            if key == "consent":
                lines.insert(0, consent)
            if key == "sessions" and self.drafts:
                lines.append(f"{self.drafts} unsigned draft session(s) not included: a "
                             "draft is not part of the record until it is signed.")
            sections.append(_compact({
                "title": title,
                "text": _div(*lines),
                "entry": refs,
                "emptyReason": None if refs else _concept(
                    "Nil known",
                    "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                    "nilknown",
                ),
            }))
        sections.append({
            "title": "Audit checkpoint",
            "text": _div(f"Exported {show_time(self.exported_at)}", chart.checkpoint.line),
        })
        attesters = [
            {"mode": "legal", "time": _instant(at),
             "party": _ref(self.practitioner_url(person), person.full_name)}
            for person, at in _signers(chart)
        ]
        title = f"Mesotherapy chart: {p.display_name} ({p.chart_number})"
        return url, _compact({
            "resourceType": "Composition",
            "id": url.removeprefix("urn:uuid:"),
            "text": _div(title, f"Kept by {chart.clinic.name}" if chart.clinic.name else "",
                         f"Exported {show_time(self.exported_at)}"),
            "identifier": {"system": "urn:ietf:rfc:3986", "value": url},
            "status": "final",
            "type": _concept("Summary of episode note", LOINC, "34133-9",
                             "Summary of episode note"),
            "subject": _ref(self.patient_url, p.display_name),
            "date": _instant(self.exported_at),
            "author": [_ref(self.practitioner_url(a), a.full_name) for a, _ in _signers(chart)]
            or [_ref(self.clinic_url, chart.clinic.name)],
            "title": title,
            "attester": attesters,
            "custodian": _ref(self.clinic_url, chart.clinic.name),
            "section": sections,
        })

    def resources(self) -> list[tuple[str, Json]]:
        self.patient()
        self.organization()
        self.practitioners()
        self.allergies_and_conditions()
        self.consents()
        self.medications()
        self.administrations()
        self.observations()
        self.media()
        return self.entries

    def bundle(self) -> Json:
        self.resources()
        composition_url, composition = self.composition()
        assert self.chart.checkpoint is not None
        return {
            "resourceType": "Bundle",
            "identifier": {"system": "urn:ietf:rfc:3986",
                           "value": self.url("bundle", self.chart.checkpoint.line)},
            "type": "document",
            "timestamp": _instant(self.exported_at),
            "entry": [{"fullUrl": u, "resource": r}
                      for u, r in [(composition_url, composition), *self.entries]],
        }


# -- resources every chart of a clinic shares (built once, reused) ----------------------


def organization_resource(clinic: Clinic) -> Json:
    """The clinic as an Organization (the same id in every chart of the clinic)."""
    return dict(_organization(clinic.name, clinic.address, clinic_identifier(clinic)))


@lru_cache(maxsize=8)
def _organization(name: str, address: str, identifier: str) -> Json:
    url = _shared_url(identifier, "organization/clinic")
    return _compact({
        "resourceType": "Organization",
        "id": url.removeprefix("urn:uuid:"),
        "text": _div(name or "The clinic", address, f"Clinic identifier: {identifier}"),
        "identifier": [{"system": _systems(identifier)["clinic"], "value": identifier}],
        "name": _s(name),
        "address": [{"text": address}] if address else None,
    })


def practitioner_resource(identifier: str, person: Practitioner) -> Json:
    """A user as a Practitioner (the same id in every chart of the clinic)."""
    return dict(_practitioner(identifier, person.username, person.full_name))


@lru_cache(maxsize=1024)
def _practitioner(identifier: str, username: str, full_name: str) -> Json:
    url = _shared_url(identifier, f"practitioner/{username}")
    return _compact({
        "resourceType": "Practitioner",
        "id": url.removeprefix("urn:uuid:"),
        "text": _div(f"{full_name or username} (user {username})"),
        "identifier": [{"system": _systems(identifier)["user"], "value": username}]
        if username else None,
        "name": [{"text": full_name}] if full_name else None,
    })


@lru_cache(maxsize=4096)
def _lot_medication(local: str, name: str, lot_number: str, expiry: date) -> Json:
    return _compact({
        "resourceType": "Medication",
        "id": local,
        "code": _concept(name) if name else None,
        "batch": _compact({"lotNumber": _s(lot_number),
                           "expirationDate": expiry.isoformat()}),
    })


@lru_cache(maxsize=4096)
def _lot_line(name: str, lot_number: str, expiry: date, drawn: Amount | None) -> str:
    extra = f", {_show_amount(drawn)} drawn" if drawn else ""
    return f"{name}: {lot_number}, expires {show_date(expiry)}{extra}"


@lru_cache(maxsize=4096)
def _zones_text(zones: tuple[ZoneVolume, ...]) -> str:
    # Sessions repeat the same few zone plans.
    return "; ".join(show_zone_volume(z) for z in zones)


def _signers(chart: PatientChart) -> list[tuple[Practitioner, datetime]]:
    """Everyone who signed an included (signed) session or addendum, with their last time."""
    signers: dict[str, tuple[Practitioner, datetime]] = {}
    for session in chart.sessions:
        if session.status is not SessionStatus.SIGNED:
            continue
        signatures = [a.signature for a in session.addenda]
        if session.signature is not None:
            signatures.insert(0, session.signature)
        for sig in signatures:
            known = signers.get(sig.signer.username)
            if known is None or known[1] < sig.signed_at:
                signers[sig.signer.username] = (sig.signer, sig.signed_at)
    return list(signers.values())


def _per_volume(amount: Amount, version: FormulationVersion | None) -> Json | None:
    if version is None or version.final_volume is None:
        return None
    return _ratio(to_ucum(amount), to_ucum(version.final_volume))


def _strength(line: IngredientLine, version: FormulationVersion) -> Json | None:
    if line.final_concentration is not None:
        parts = as_ratio(line.final_concentration)
        if parts is not None:
            return _ratio(*parts)
    return _per_volume(line.amount_per_session, version)


def _show_ratio(ratio: Json | None) -> str:
    if not ratio:
        return "strength not stated"
    top, bottom = ratio["numerator"], ratio["denominator"]
    return (f"{_number_text(top['value'])} {top['unit']} per "
            f"{_number_text(bottom['value'])} {bottom['unit']}")


def _version_title(version: FormulationVersion) -> str:
    return f"{version.formulation_name}, version {version.version}"


def _ingredient_name(line: IngredientLine) -> str:
    if line.form and line.form.casefold() not in line.ingredient_name.casefold():
        return f"{line.ingredient_name} ({line.form})"
    return line.ingredient_name


def _needle(session: Session) -> str:
    if session.needle_gauge is None and session.needle_length is None:
        return ""
    gauge = f"{session.needle_gauge} G" if session.needle_gauge is not None else ""
    length = _show_amount(session.needle_length)
    return "needle " + " x ".join(part for part in (gauge, length) if part)


def _session_notes(chart: PatientChart, session: Session) -> list[str]:
    course = course_of(chart, session)
    notes = []
    version = version_of(chart, session)
    for override in version.overrides if version is not None else ():
        if override.severity != "block" or version is None:
            continue
        notes.append(f"Formulation version {version.version} saved past a safety block "
                     f"({override.rule}), signed by {override.signed_by} at "
                     f"{show_time(override.at)}"
                     + (f" ({override.meaning})" if override.meaning else "")
                     + f": {override.message}; reason: {override.reason}")
    if course is not None and session.session_number is not None:
        notes.append(f"Course {course.name}: session {session.session_number} of "
                     f"{course.planned_sessions}")
    if session.anaesthesia:
        notes.append(f"Anaesthesia: {session.anaesthesia}")
    for event in session.adverse_events:
        detail = ", ".join(part for part in (event.severity, event.description) if part)
        notes.append(f"Adverse event: {event.kind}" + (f" ({detail})" if detail else ""))
    if session.pain_score is not None:
        notes.append(f"Pain score: {session.pain_score}/10")
    for declared in _DECLARED_ONLY:
        # A simple field declared with nothing but its declaration: a note, as FHIR
        # carries the other free-standing facts of a session.
        if declared.fhir and (shown := declared.show(declared.of(session))):
            notes.append(f"{declared.label[:1].upper()}{declared.label[1:]}: {shown}")
    if session.post_care:
        notes.append(f"Post-care: {session.post_care}")
    if session.notes:
        notes.append(f"Notes: {session.notes}")
    for override in session.overrides:
        notes.append(f"Safety {override.severity} overridden ({override.rule}), signed by "
                     f"{override.signed_by} at {show_time(override.at)}"
                     + (f" ({override.meaning})" if override.meaning else "")
                     + f": {override.message}; reason: {override.reason}")
    return notes


# -- output ------------------------------------------------------------------------------


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        # JSON numbers, exactly: an integral value as an int, others as the float
        # whose shortest repr is the same decimal; anything else is spliced in as text.
        text = format(value, "f")
        if "." not in text:
            return int(text)
        as_float = float(text)
        if repr(as_float) == text:
            return as_float
        return _RawNumber(text)
    raise TypeError(f"{type(value).__name__} is not JSON data")


class _RawNumber(str):
    """A decimal JSON cannot carry as a float; written as a marked string, then unquoted."""

    __slots__ = ()

    def __new__(cls, text: str) -> _RawNumber:
        return super().__new__(cls, f"{_RAW_PREFIX}{text}\x00")


_RAW_PREFIX = "\x00num:"


_RAW = re.compile(r'"\\u0000num:(-?[0-9.]+)\\u0000"')


def dumps(data: Json, *, indent: int | None = None) -> str:
    """FHIR JSON text of ``data`` (decimals exact, non-ASCII kept as is)."""
    # No cycle check: resources are trees (shared leaves are fine), and the check
    # costs a dictionary update per object.
    text = json.dumps(data, default=_default, ensure_ascii=False, indent=indent,
                      separators=None if indent else (",", ":"), check_circular=False)
    return _RAW.sub(r"\1", text) if "\\u0000num:" in text else text


def chart_resources(chart: PatientChart, *, relative: bool = False) -> list[tuple[str, Json]]:
    """The chart's resources (no Composition) as (fullUrl, resource) pairs.

    ``relative=True`` (for NDJSON, where there is no bundle to resolve ``urn:uuid``
    full URLs in) writes every reference as ``Type/id`` instead.
    """
    entries = _Builder(chart).resources()
    if relative:
        local = {url: f"{r['resourceType']}/{r['id']}" for url, r in entries}
        for _, resource in entries:
            _relink(resource, local)
    return entries


def _relink(node: Any, local: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str) and ref in local:
            node["reference"] = local[ref]
        for value in node.values():
            if isinstance(value, dict | list):
                _relink(value, local)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _relink(item, local)


def fhir_bundle(chart: PatientChart) -> Json:
    """The chart as a FHIR R4B document Bundle (JSON data; see :func:`validate_bundle`).

    Raises :class:`NotStamped` when the chart lacks its export time or checkpoint.
    """
    return _Builder(chart).bundle()


def validate_bundle(data: bytes | str) -> None:
    """Check FHIR JSON text of a Bundle against the fhir.resources R4B models.

    Raises pydantic's ``ValidationError`` naming the element that is wrong.
    """
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate_json(data)


def validate_resource(resource: Json) -> None:
    """Check one resource (JSON data) against its fhir.resources R4B model."""
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class(resource["resourceType"]).model_validate_json(dumps(resource))


#: In FHIR JSON text: an escaped control character (or a ``\\b``/``\\f`` escape, or a
#: backslash before b/f, a harmless false alarm), C1 controls, surrogates, non-characters.
_UNSAFE_TEXT = re.compile(
    r"\\u00[01][0-9a-fA-F]|\\[bf]|[\x7f-\x9f\ud800-\udfff\ufffe\uffff"
    + "".join(sorted(ODD_SPACES))
    + "]"
)


# The same characters as they appear in the UTF-8 bytes of the text, by their lead
# byte: searching bytes for one byte is a memchr, where the pattern above visits
# every character (a tenth of an export's time, for charts that almost never hold one).
_UNSAFE_SEQUENCES: dict[bytes, frozenset[bytes]] = {}
for _ch in ["\x7f", *map(chr, range(0x80, 0xA0)), *ODD_SPACES, "\ufffe", "\uffff"]:
    _seq = _ch.encode("utf-8")
    _UNSAFE_SEQUENCES[_seq[:1]] = _UNSAFE_SEQUENCES.get(_seq[:1], frozenset()) | {_seq}
del _ch, _seq
#: The pattern's escapes, in bytes.
_UNSAFE_ESCAPE = re.compile(rb"\\(?:u00[01][0-9a-fA-F]|[bf])")
#: Lead bytes looked at one by one before the whole text goes to the pattern instead.
_LOOK_AT_MOST = 64


def _unsafe(data: bytes) -> bool:
    """Whether UTF-8 FHIR JSON shows a character FHIR strings may not hold."""
    if _UNSAFE_ESCAPE.search(data) is not None:
        return True
    budget = _LOOK_AT_MOST
    for lead, sequences in _UNSAFE_SEQUENCES.items():
        size = len(next(iter(sequences)))
        at = data.find(lead)
        while at >= 0:
            if data[at:at + size] in sequences:
                return True
            budget -= 1
            if not budget:  # much text in a script that shares the lead bytes
                return _UNSAFE_TEXT.search(data.decode("utf-8")) is not None
            at = data.find(lead, at + 1)
    return False


def _clean_text(build: Callable[[_Builder], Any], chart: PatientChart,
                text_of: Callable[[Any], str]) -> bytes:
    # Cleaning the whole record of control characters first costs more than building
    # the resources; almost no record holds one. Build from the record as it is, and
    # only when the text shows a character FHIR forbids build again from a cleaned copy.
    data: bytes | None
    try:
        data = text_of(build(_Builder(chart, clean=False))).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which cleaning removes
        data = None
    if data is None or _unsafe(data):
        data = text_of(build(_Builder(chart, clean=True))).encode("utf-8")
    return data


def render_fhir(chart: PatientChart, *, validate: bool = True, compact: bool = False) -> bytes:
    """The document Bundle as UTF-8 JSON, checked against the models unless told not to.

    ``compact`` leaves out the indentation (Python's fast C encoder only runs without
    it: a bulk export is several times faster).
    """
    indent = None if compact else 2
    data = _clean_text(_Builder.bundle, chart, lambda b: dumps(b, indent=indent))
    if validate:
        validate_bundle(data)
    return data


def ndjson_lines(chart: PatientChart) -> list[tuple[str, str, bytes]]:
    """(resource type, id, one NDJSON line) per resource of the chart, references ``Type/id``."""

    def build(builder: _Builder) -> list[Json]:
        entries = builder.resources()
        local = {url: f"{r['resourceType']}/{r['id']}" for url, r in entries}
        for _, resource in entries:
            _relink(resource, local)
        return [r for _, r in entries]

    resources: list[Json] = []

    def text_of(built: list[Json]) -> str:
        resources[:] = built
        return "\n".join(dumps(r) for r in built)

    data = _clean_text(build, chart, text_of)
    return [
        (r["resourceType"], r["id"], line + b"\n")
        for r, line in zip(resources, data.split(b"\n"), strict=True)
    ]
