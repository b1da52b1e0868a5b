"""Consent rows to :mod:`formulary.consent` records (for the Store, charts and exports)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session, col, select

from db.tables.consent import ConsentRow, ConsentTemplateRow, ConsentTemplateVersionRow
from db.tables.people import UserRow
from formulary.consent import Consent, ConsentTemplate, ConsentTemplateVersion

#: What a consent's ``record_hash`` covers, by stored name (fixed: changing it would
#: break every recorded hash; add a new list and a version if it must change).
RECORD_FIELDS = ("patient_id", "course_id", "template_version_id", "text_sha256",
                 "typed_name", "witness_id", "witness_name", "signed_at", "form_sha256")


def record_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of what a consent signature covers."""
    import hashlib

    from db.audit.canonical import canonical_json
    from db.codec import datetime_to_json

    content = {name: values[name] for name in RECORD_FIELDS}
    content["signed_at"] = datetime_to_json(content["signed_at"])
    tagged = "FORMULARY-CONSENT-v1\n" + canonical_json(content)
    return hashlib.sha256(tagged.encode("utf-8")).hexdigest()


def usernames(db: Session) -> dict[int, str]:
    """Every user's username by id."""
    return {u.id: u.username for u in db.exec(select(UserRow)).all() if u.id is not None}


def template_version(
    row: ConsentTemplateVersionRow, template: ConsentTemplateRow, author: str
) -> ConsentTemplateVersion:
    """The record of one template version."""
    assert row.id is not None
    return ConsentTemplateVersion(
        id=row.id, template_id=row.template_id, name=template.name, version=row.version,
        text=row.text, sha256=row.sha256, created_at=row.created_at, created_by=author,
    )


def template(db: Session, row: ConsentTemplateRow, users: Mapping[int, str]) -> ConsentTemplate:
    """The record of a template with its current version."""
    current = db.exec(
        select(ConsentTemplateVersionRow).where(
            ConsentTemplateVersionRow.template_id == row.id,
            ConsentTemplateVersionRow.version == row.current_version,
        )
    ).one()
    assert row.id is not None
    author = users.get(current.created_by_id or -1, "system")
    return ConsentTemplate(
        id=row.id, name=row.name, current=template_version(current, row, author),
        retired_reason=row.retired_reason, retired_at=row.retired_at,
    )


def consent(
    row: ConsentRow, version: ConsentTemplateVersionRow, template_row: ConsentTemplateRow,
    users: Mapping[int, str],
) -> Consent:
    """The record of one consent row."""
    assert row.id is not None
    return Consent(
        id=row.id, patient_id=row.patient_id, course_id=row.course_id,
        template_version_id=row.template_version_id, template_name=template_row.name,
        template_version=version.version, text=row.text, text_sha256=row.text_sha256,
        typed_name=row.typed_name, witness_username=users.get(row.witness_id, "?"),
        witness_name=row.witness_name, signed_at=row.signed_at, form_sha256=row.form_sha256,
        form_name=row.form_name, withdrawn_at=row.withdrawn_at,
        withdrawn_by=users.get(row.withdrawn_by_id, "") if row.withdrawn_by_id else "",
        withdrawn_reason=row.withdrawn_reason, record_hash=row.record_hash,
    )


def consents_of(db: Session, patient_ids: Iterable[int]) -> dict[int, list[Consent]]:
    """Every consent of the given patients, oldest first, by patient id."""
    wanted = sorted(set(patient_ids))
    out: dict[int, list[Consent]] = {pid: [] for pid in wanted}
    if not wanted:
        return out
    # Each consent with its template version and template in one query: every signing
    # reads the patient's consents (the consent rule), as does every chart.
    rows = db.exec(
        select(ConsentRow, ConsentTemplateVersionRow, ConsentTemplateRow)
        .join(
            ConsentTemplateVersionRow,
            col(ConsentTemplateVersionRow.id) == col(ConsentRow.template_version_id),
        )
        .join(
            ConsentTemplateRow,
            col(ConsentTemplateRow.id) == col(ConsentTemplateVersionRow.template_id),
        )
        .where(col(ConsentRow.patient_id).in_(wanted))
        .order_by(col(ConsentRow.signed_at), col(ConsentRow.id))
    ).all()
    if not rows:
        return out
    users = usernames(db)
    for row, version, template_row in rows:
        out[row.patient_id].append(consent(row, version, template_row, users))
    return out
