"""Signing a patient's consent in tests that sign sessions (the consent rule blocks otherwise)."""

from __future__ import annotations

from db.store import Actor, Store
from formulary.consent import Consent
from formulary.records import Patient


def sign_consent(
    store: Store, actor: Actor, password: str, patient: Patient | int,
    course_id: int | None = None,
) -> Consent:
    """The patient's consent (for ``course_id``, or outside a course) on the first template.

    The patient types their name as the chart spells it; ``actor`` witnesses.
    """
    record = patient if isinstance(patient, Patient) else store.load_chart(actor, patient).patient
    template = store.consent_templates(actor)[0]
    return store.sign_consent(
        actor, patient_id=record.id, template_id=template.id,
        typed_name=f"{record.given_name} {record.family_name}", password=password,
        course_id=course_id,
    )
