"""The chart as a FHIR R4 document Bundle, built from fhir.resources' validated models.

fhir.resources keeps the R4-line models in its ``R4B`` subpackage (its top level is R5);
every resource below is constructed as a model, so a wrong field or value fails here,
at export time, not in the receiving system.

Layout: the Composition first (sections point at everything else), then the Patient,
the clinic's Organization, the Practitioners, allergies and conditions, one
Medication per formulation version used (ingredient strengths as Ratios), one
MedicationAdministration per session (intradermal, scalp, dose in mL; the lots drawn
as contained Medications with their batch), a Provenance per signature and per
addendum, and Observations for the outcome measurements. Every reference is the
``urn:uuid`` full URL of an entry, derived from stable record ids so that exporting
the same chart twice names the same resources.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from formulary.export.display import (
    show_amount,
    show_date,
    show_technique,
    show_time,
    show_zone,
)
from formulary.export.formats import NotStamped
from formulary.export.ingredients import ingredient_table
from formulary.export.safe_text import printable_record
from formulary.export.selection import course_of, sessions_in_order, version_of, versions_used
from formulary.export.ucum import UCUM_SYSTEM, UcumQuantity, as_ratio, to_ucum
from formulary.records import (
    Addendum,
    FormulationVersion,
    IngredientLine,
    Outcome,
    PatientChart,
    Practitioner,
    Session,
    SessionStatus,
    Signature,
)
from formulary.units.amount import Amount

__all__ = ["NotStamped", "fhir_bundle", "render_fhir"]

if TYPE_CHECKING:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.codeableconcept import CodeableConcept
    from fhir.resources.R4B.quantity import Quantity
    from fhir.resources.R4B.reference import Reference
    from fhir.resources.R4B.resource import Resource

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ROUTE_INTRADERMAL = ("372464004", "Intradermal route")
SITE_SCALP = ("41695006", "Scalp structure")
SIGNATURE_TYPES = "urn:iso-astm:E1762-95:2013"
# Our own identifier and code systems.
CHART_NUMBER_SYSTEM = "urn:formulary:chart-number"
USER_SYSTEM = "urn:formulary:user"
SESSION_SYSTEM = "urn:formulary:session"
FORMULATION_SYSTEM = "urn:formulary:formulation-version"
CONTENT_HASH_SYSTEM = "urn:formulary:content-sha256"
OUTCOME_CODES = "urn:formulary:outcome"

_NAMESPACE = uuid.UUID("3c1f5a52-9d1e-5b8e-9a57-6f6e0b7f2d10")

# Signature meanings recorded by the app, as ASTM E1762 signature types.
_SIGNATURE_TYPES: dict[str, tuple[str, str]] = {
    "author": ("1.2.840.10065.1.12.1.1", "Author's Signature"),
    "coauthor": ("1.2.840.10065.1.12.1.2", "Coauthor's Signature"),
    "verification": ("1.2.840.10065.1.12.1.5", "Verification Signature"),
    "review": ("1.2.840.10065.1.12.1.6", "Validation Signature"),
    "witness": ("1.2.840.10065.1.12.1.8", "Signature Witness Signature"),
}


def _url(chart: PatientChart, kind: str, key: object) -> str:
    name = f"{chart.patient.chart_number}/{kind}/{key}"
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def _id(full_url: str) -> str:
    return full_url.removeprefix("urn:uuid:")


def _div(*paragraphs: str) -> str:
    body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs if p)
    return f'<div xmlns="http://www.w3.org/1999/xhtml">{body or "<p>None recorded.</p>"}</div>'


def _s(text: str) -> str | None:
    """FHIR strings may not be empty: an empty value is left out instead."""
    return text or None


def _value(number: Decimal) -> Decimal:
    # A plain decimal (no exponent) so JSON carries 100, not 1E+2.
    normal = number.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


class _Builder:
    """Builds one bundle; holds the chart and the models' imports in one place."""

    def __init__(self, chart: PatientChart) -> None:
        if chart.exported_at is None or chart.checkpoint is None:
            raise NotStamped(
                "the chart must carry its export time and a fresh audit checkpoint "
                "before it is rendered"
            )
        self.exported_at: datetime = chart.exported_at
        chart = printable_record(chart)  # FHIR strings may hold no control characters
        self.chart = chart
        self.patient_url = _url(chart, "patient", chart.patient.id)
        self.clinic_url = _url(chart, "organization", chart.clinic.name)
        self.entries: list[tuple[str, Resource]] = []
        self.sections: dict[str, list[Reference]] = {}

    # -- small datatypes -------------------------------------------------------------

    def ref(self, url: str, display: str = "") -> Reference:
        from fhir.resources.R4B.reference import Reference

        return Reference(reference=url, display=display or None)

    def concept(
        self, text: str, system: str | None = None, code: str | None = None, display: str = ""
    ) -> CodeableConcept:
        from fhir.resources.R4B.codeableconcept import CodeableConcept
        from fhir.resources.R4B.coding import Coding

        coding = [Coding(system=system, code=code, display=display or None)] if code else None
        return CodeableConcept(coding=coding, text=text or None)

    def maybe_concept(self, text: str) -> CodeableConcept | None:
        return self.concept(text) if text else None

    def quantity(self, q: UcumQuantity) -> Quantity:
        from fhir.resources.R4B.quantity import Quantity

        return Quantity(
            value=_value(q.value),
            unit=q.unit,
            system=UCUM_SYSTEM if q.code else None,
            code=q.code,
        )

    def amount(self, amount: Amount) -> Quantity:
        return self.quantity(to_ucum(amount))

    def add(self, url: str, resource: Resource, section: str | None = None,
            display: str = "") -> None:
        self.entries.append((url, resource))
        if section is not None:
            self.sections.setdefault(section, []).append(self.ref(url, display))

    def practitioner_url(self, person: Practitioner) -> str:
        return _url(self.chart, "practitioner", person.username)

    # -- resources -------------------------------------------------------------------

    def patient(self) -> None:
        from fhir.resources.R4B.humanname import HumanName
        from fhir.resources.R4B.identifier import Identifier
        from fhir.resources.R4B.patient import Patient

        p = self.chart.patient
        self.add(
            self.patient_url,
            Patient(
                id=_id(self.patient_url),
                identifier=[Identifier(system=CHART_NUMBER_SYSTEM, value=_s(p.chart_number))],
                name=[HumanName(family=p.family_name or None,
                                given=[p.given_name] if p.given_name else None,
                                text=p.display_name)],
                gender=p.sex.value,
                birthDate=p.date_of_birth,
                managingOrganization=self.ref(self.clinic_url, self.chart.clinic.name),
            ),
        )

    def organization(self) -> None:
        from fhir.resources.R4B.address import Address
        from fhir.resources.R4B.organization import Organization

        clinic = self.chart.clinic
        self.add(
            self.clinic_url,
            Organization(
                id=_id(self.clinic_url),
                name=_s(clinic.name),
                address=[Address(text=clinic.address)] if clinic.address else None,
            ),
        )

    def practitioners(self) -> None:
        from fhir.resources.R4B.humanname import HumanName
        from fhir.resources.R4B.identifier import Identifier
        from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner

        for person in self.chart.practitioners:
            url = self.practitioner_url(person)
            self.add(
                url,
                FhirPractitioner(
                    id=_id(url),
                    identifier=[Identifier(system=USER_SYSTEM, value=_s(person.username))],
                    name=[HumanName(text=_s(person.full_name))] if person.full_name else None,
                ),
            )

    def allergies_and_conditions(self) -> None:
        from fhir.resources.R4B.allergyintolerance import (
            AllergyIntolerance,
            AllergyIntoleranceReaction,
        )
        from fhir.resources.R4B.condition import Condition

        p = self.chart.patient
        subject = self.ref(self.patient_url, p.display_name)
        for n, allergy in enumerate(p.allergies):
            url = _url(self.chart, "allergy", n)
            reaction = (
                [AllergyIntoleranceReaction(manifestation=[self.concept(allergy.reaction)])]
                if allergy.reaction
                else None
            )
            self.add(
                url,
                AllergyIntolerance(
                    id=_id(url),
                    clinicalStatus=self.concept(
                        "active",
                        "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                        "active",
                    ),
                    code=self.maybe_concept(allergy.substance),
                    patient=subject,
                    reaction=reaction,
                ),
                "allergies",
                allergy.substance,
            )
        clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
        category = "http://terminology.hl7.org/CodeSystem/condition-category"
        problems = [(c.text or c.code, c.code) for c in p.conditions]
        if p.diagnosis:
            grade = f"{p.grade_scale.value.title()} {p.grade}" if p.grade_scale else p.grade
            problems.insert(0, (f"{p.diagnosis} ({grade})" if grade else p.diagnosis,
                                "diagnosis"))
        for n, (text, key) in enumerate(problems):
            url = _url(self.chart, "condition", f"{n}-{key}")
            self.add(
                url,
                Condition(
                    id=_id(url),
                    clinicalStatus=self.concept("active", clinical, "active"),
                    category=[self.concept("Problem list item", category,
                                           "problem-list-item")],
                    code=self.maybe_concept(text),
                    subject=subject,
                ),
                "allergies",
                text,
            )

    def medications(self) -> None:
        from fhir.resources.R4B.identifier import Identifier
        from fhir.resources.R4B.medication import Medication

        for version in versions_used(self.chart):
            url = _url(self.chart, "medication", version.id)
            self.add(
                url,
                Medication(
                    id=_id(url),
                    identifier=[Identifier(system=FORMULATION_SYSTEM, value=str(version.id))],
                    code=self.concept(_version_title(version)),
                    form=self.concept("solution for intradermal injection"),
                    ingredient=list(self.ingredients(version)) or None,
                ),
                "formulation",
                _version_title(version),
            )

    def ingredients(self, version: FormulationVersion) -> Iterable[Any]:
        from fhir.resources.R4B.medication import MedicationIngredient
        from fhir.resources.R4B.ratio import Ratio

        def ratio(top: UcumQuantity, bottom: UcumQuantity) -> Ratio:
            return Ratio(numerator=self.quantity(top), denominator=self.quantity(bottom))

        lines = ingredient_table(self.chart, version).lines
        for line in lines:
            yield MedicationIngredient(
                itemCodeableConcept=self.concept(_ingredient_name(line) or "(unnamed)"),
                isActive=True,
                strength=self.strength(line, version, ratio),
            )
        if not lines:
            # Without computed ingredient lines, say what the mix is made of: each
            # component per final volume, exactly as charted.
            for component in version.components:
                strength = (
                    ratio(to_ucum(component.amount), to_ucum(version.final_volume))
                    if version.final_volume is not None
                    else None
                )
                yield MedicationIngredient(
                    itemCodeableConcept=self.concept(component.name or "(unnamed)"),
                    strength=strength,
                )

    def strength(self, line: IngredientLine, version: FormulationVersion, ratio: Any) -> Any:
        if line.final_concentration is not None:
            parts = as_ratio(line.final_concentration)
            if parts is not None:
                return ratio(*parts)
        if version.final_volume is not None:
            return ratio(to_ucum(line.amount_per_session), to_ucum(version.final_volume))
        return None

    def administrations(self) -> None:
        for session in sessions_in_order(self.chart):
            self.administration(session)

    def administration(self, session: Session) -> None:
        from fhir.resources.R4B.annotation import Annotation
        from fhir.resources.R4B.identifier import Identifier
        from fhir.resources.R4B.medication import Medication, MedicationBatch
        from fhir.resources.R4B.medicationadministration import (
            MedicationAdministration,
            MedicationAdministrationDosage,
            MedicationAdministrationPerformer,
        )

        chart = self.chart
        url = _url(chart, "administration", session.id)
        version = version_of(chart, session)
        contained: list[Resource] = []
        supporting: list[Reference] = []
        for n, lot in enumerate(session.lots):
            local = f"lot{n + 1}"
            contained.append(
                Medication(
                    id=local,
                    code=self.maybe_concept(lot.component_name),
                    # FHIR dateTime allows a bare date, which is what an expiry is; the
                    # model's type hint only says datetime, so validate from the text.
                    batch=MedicationBatch.model_validate(
                        {"lotNumber": _s(lot.lot_number), "expirationDate": lot.expiry.isoformat()}
                    ),
                )
            )
            drawn = f", {show_amount(lot.drawn)} drawn" if lot.drawn else ""
            supporting.append(
                self.ref(f"#{local}", f"{lot.component_name}: lot {lot.lot_number}, "
                                      f"expires {show_date(lot.expiry)}{drawn}")
            )
        signer = session.signature.signer if session.signature else None
        notes = [Annotation(text=text) for text in _session_notes(chart, session)]
        for addendum in session.addenda:
            notes.append(
                Annotation(
                    authorReference=self.ref(self.practitioner_url(addendum.signature.signer),
                                             addendum.signature.signer.full_name),
                    time=addendum.signature.signed_at,
                    text=f"Addendum ({addendum.reason}): {addendum.text}",
                )
            )
        method = "; ".join(
            part
            for part in (
                show_technique(session.technique),
                _needle(session),
                f"depth {show_amount(session.depth)}" if session.depth else "",
            )
            if part
        )
        zones = "; ".join(f"{show_zone(z.zone)} {show_amount(z.volume)}" for z in session.zones)
        self.add(
            url,
            MedicationAdministration(
                id=_id(url),
                contained=contained or None,
                identifier=[Identifier(system=SESSION_SYSTEM, value=str(session.id))],
                status="completed" if session.status is SessionStatus.SIGNED else "in-progress",
                medicationReference=self.ref(
                    _url(chart, "medication", session.formulation_version_id),
                    _version_title(version) if version else "",
                ),
                subject=self.ref(self.patient_url, chart.patient.display_name),
                effectiveDateTime=session.performed_at,
                performer=[
                    MedicationAdministrationPerformer(
                        actor=self.ref(self.practitioner_url(signer), signer.full_name)
                    )
                ]
                if signer
                else None,
                supportingInformation=supporting or None,
                note=notes or None,
                dosage=MedicationAdministrationDosage(
                    text=f"Volume per zone: {zones}" if zones else None,
                    site=self.concept("scalp", SNOMED, *SITE_SCALP),
                    route=self.concept("intradermal", SNOMED, *ROUTE_INTRADERMAL),
                    method=self.concept(method) if method else None,
                    dose=self.amount(session.total_volume) if session.total_volume else None,
                ),
            ),
            "sessions",
            f"Session {show_time(session.performed_at)}",
        )
        if session.signature is not None:
            self.provenance(session, url, session.signature, None)
        for addendum in session.addenda:
            self.provenance(session, url, addendum.signature, addendum)

    def provenance(
        self, session: Session, target: str, signature: Signature, addendum: Addendum | None
    ) -> None:
        from fhir.resources.R4B.coding import Coding
        from fhir.resources.R4B.identifier import Identifier
        from fhir.resources.R4B.provenance import Provenance, ProvenanceAgent, ProvenanceEntity
        from fhir.resources.R4B.reference import Reference
        from fhir.resources.R4B.signature import Signature as FhirSignature

        key = f"{session.id}-addendum-{addendum.id}" if addendum else f"{session.id}-signature"
        url = _url(self.chart, "provenance", key)
        code, display = _SIGNATURE_TYPES.get(signature.meaning.casefold(),
                                             _SIGNATURE_TYPES["author"])
        who = self.ref(self.practitioner_url(signature.signer), signature.signer.full_name)
        agent_types = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
        activity = "addendum" if addendum else "signature"
        self.add(
            url,
            Provenance(
                id=_id(url),
                target=[self.ref(target, f"Session {show_time(session.performed_at)}")],
                recorded=signature.signed_at,
                activity=self.concept(f"{activity} ({signature.meaning})"),
                reason=[self.concept(addendum.reason)] if addendum and addendum.reason else None,
                agent=[
                    ProvenanceAgent(
                        type=self.concept("Author", agent_types, "author", "Author"),
                        who=who,
                    )
                ],
                entity=[
                    ProvenanceEntity(
                        role="source",
                        what=Reference(
                            identifier=Identifier(system=CONTENT_HASH_SYSTEM,
                                                  value=signature.content_hash),
                            display="SHA-256 of the signed content",
                        ),
                    )
                ],
                signature=[
                    FhirSignature(
                        type=[Coding(system=SIGNATURE_TYPES, code=code, display=display)],
                        when=signature.signed_at,
                        who=who,
                    )
                ],
            ),
            "signatures",
            f"{activity} by {signature.signer.full_name} at {show_time(signature.signed_at)}",
        )

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
        from fhir.resources.R4B.annotation import Annotation
        from fhir.resources.R4B.observation import Observation

        url = _url(self.chart, "observation", f"{outcome.id}-{code}")
        notes = [outcome.notes] if outcome.notes else []
        notes += [f"Photo: {ref}" for ref in outcome.photo_refs]
        category = "http://terminology.hl7.org/CodeSystem/observation-category"
        self.add(
            url,
            Observation(
                id=_id(url),
                status="final",
                category=[self.concept("Exam", category, "exam", "Exam")],
                code=self.concept(label, OUTCOME_CODES, code, label),
                subject=self.ref(self.patient_url, self.chart.patient.display_name),
                effectiveDateTime=outcome.measured_at,
                valueQuantity=self.amount(value) if isinstance(value, Amount) else None,
                valueString=value if isinstance(value, str) else None,
                bodySite=self.concept(f"scalp, {show_zone(outcome.zone)}", SNOMED, *SITE_SCALP),
                note=[Annotation(text=n) for n in notes] or None,
            ),
            "outcomes",
            f"{label} {show_time(outcome.measured_at)}",
        )

    def composition(self) -> tuple[str, Resource]:
        from fhir.resources.R4B.composition import Composition, CompositionSection
        from fhir.resources.R4B.identifier import Identifier
        from fhir.resources.R4B.narrative import Narrative

        chart = self.chart
        assert chart.checkpoint is not None  # checked in __init__
        url = _url(chart, "composition", chart.checkpoint.line)
        p = chart.patient
        consent = (
            f"Consent on file since {show_date(p.consent_date)}."
            if p.consent_on_file
            else "No consent on file."
        )
        titles = {
            "allergies": "Allergies and contraindications",
            "formulation": "Formulation",
            "sessions": "Sessions",
            "signatures": "Signatures and addenda",
            "outcomes": "Outcome measurements",
        }
        sections = []
        for key, title in titles.items():
            refs = self.sections.get(key, [])
            lines = [r.display or "" for r in refs]
            if key == "allergies":
                lines.insert(0, consent)
            sections.append(
                CompositionSection(
                    title=title,
                    text=Narrative(status="generated", div=_div(*lines)),
                    entry=refs or None,
                    emptyReason=None
                    if refs
                    else self.concept(
                        "Nil known",
                        "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                        "nilknown",
                    ),
                )
            )
        sections.append(
            CompositionSection(
                title="Audit checkpoint",
                text=Narrative(
                    status="generated",
                    div=_div(f"Exported {show_time(self.exported_at)}",
                             chart.checkpoint.line),
                ),
            )
        )
        authors = _authors(chart)
        return url, Composition(
            id=_id(url),
            identifier=Identifier(system="urn:ietf:rfc:3986", value=url),
            status="final",
            type=self.concept("Summary of episode note", LOINC, "34133-9",
                              "Summary of episode note"),
            subject=self.ref(self.patient_url, p.display_name),
            date=self.exported_at,
            author=[self.ref(self.practitioner_url(a), a.full_name) for a in authors]
            or [self.ref(self.clinic_url, chart.clinic.name)],
            title=f"Mesotherapy chart: {p.display_name} ({p.chart_number})",
            custodian=self.ref(self.clinic_url, chart.clinic.name),
            section=sections,
        )

    def bundle(self) -> Bundle:
        from fhir.resources.R4B.bundle import Bundle, BundleEntry
        from fhir.resources.R4B.identifier import Identifier

        self.patient()
        self.organization()
        self.practitioners()
        self.allergies_and_conditions()
        self.medications()
        self.administrations()
        self.observations()
        composition_url, composition = self.composition()
        entries = [(composition_url, composition), *self.entries]
        assert self.chart.checkpoint is not None
        return Bundle(
            identifier=Identifier(
                system="urn:ietf:rfc:3986",
                value=_url(self.chart, "bundle", self.chart.checkpoint.line),
            ),
            type="document",
            timestamp=self.exported_at,
            entry=[BundleEntry(fullUrl=u, resource=r) for u, r in entries],
        )


def _authors(chart: PatientChart) -> Sequence[Practitioner]:
    signers: dict[str, Practitioner] = {}
    for session in chart.sessions:
        signatures = [a.signature for a in session.addenda]
        if session.signature is not None:
            signatures.insert(0, session.signature)
        for sig in signatures:
            signers.setdefault(sig.signer.username, sig.signer)
    return list(signers.values())


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
    length = show_amount(session.needle_length)
    return "needle " + " x ".join(part for part in (gauge, length) if part)


def _session_notes(chart: PatientChart, session: Session) -> list[str]:
    course = course_of(chart, session)
    notes = []
    if course is not None and session.session_number is not None:
        notes.append(f"Course {course.name}: session {session.session_number} of "
                     f"{course.planned_sessions}")
    if session.status is SessionStatus.DRAFT:
        notes.append("Draft: not signed")
    if session.anaesthesia:
        notes.append(f"Anaesthesia: {session.anaesthesia}")
    for event in session.adverse_events:
        detail = ", ".join(part for part in (event.severity, event.description) if part)
        notes.append(f"Adverse event: {event.kind}" + (f" ({detail})" if detail else ""))
    if session.pain_score is not None:
        notes.append(f"Pain score: {session.pain_score}/10")
    if session.post_care:
        notes.append(f"Post-care: {session.post_care}")
    if session.notes:
        notes.append(f"Notes: {session.notes}")
    for override in session.overrides:
        notes.append(f"Safety {override.severity} overridden ({override.rule}) by "
                     f"{override.by} at {show_time(override.at)}: {override.message}; "
                     f"reason: {override.reason}")
    return notes


def fhir_bundle(chart: PatientChart) -> Bundle:
    """The chart as a validated FHIR R4 (``fhir.resources.R4B``) document Bundle.

    Raises :class:`NotStamped` when the chart lacks its export time or checkpoint.
    """
    return _Builder(chart).bundle()


def render_fhir(chart: PatientChart) -> bytes:
    """The document Bundle as UTF-8 JSON."""
    return fhir_bundle(chart).model_dump_json(indent=2).encode("utf-8")
