"""Consent: the clinic's templates (versioned) and patients' signed consents.

A template edit makes a new version (old versions never change: a trigger refuses
it); retiring a template stops new signatures on it. Signing a consent copies the
current version's exact text and its SHA-256 into the consent, with the name the
patient typed (it must match the patient's name, :func:`formulary.consent.check_typed_name`),
the witness (the signed-in user, whose password is checked first, as for any
signature) and the UTC time; a scanned paper form may be attached (kept in the
managed-file folder by its SHA-256). Withdrawal fills in the time, who and a reason,
once. Every write is one transaction with its audit entries. See docs/consent.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from db import consent_rows
from db.errors import Conflict, NotFound, ValidationError
from db.files import StoredFile
from db.store._base import (
    ADMINS,
    EVERYONE,
    SIGNERS,
    Actor,
    UnitOfWork,
    require_reason,
    snapshot,
)
from db.store.signing import SigningRun
from db.store.signing_runs import SigningRunsStore
from db.tables.consent import ConsentRow, ConsentTemplateRow, ConsentTemplateVersionRow
from db.tables.formulations import CourseRow
from db.tables.people import PatientRow
from formulary.consent import (
    Consent,
    ConsentError,
    ConsentTemplate,
    ConsentTemplateVersion,
    check_template_name,
    check_template_text,
    check_typed_name,
    text_sha256,
)
from formulary.text import same_key

#: Largest scanned consent form accepted (bytes).
MAX_FORM_BYTES = 25 * 1024 * 1024

#: Audit action of a scanned consent form copied out (``formulary consent form``).
EXPORT_CONSENT_FORM = "export.consent_form"


def _checked(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except ConsentError as exc:
        raise ValidationError(str(exc)) from None


def _template_row(db: Session, template_id: int, *, for_update: bool = False) -> ConsentTemplateRow:
    row = db.get(ConsentTemplateRow, template_id, with_for_update=for_update or None)
    if row is None:
        raise NotFound(
            f"consent template {template_id} does not exist; list them with "
            "'formulary consent template list'"
        )
    return row


def _current_version(db: Session, template: ConsentTemplateRow) -> ConsentTemplateVersionRow:
    return db.exec(
        select(ConsentTemplateVersionRow).where(
            ConsentTemplateVersionRow.template_id == template.id,
            ConsentTemplateVersionRow.version == template.current_version,
        )
    ).one()


def _template_named(db: Session, name: str) -> ConsentTemplateRow | None:
    """The template (retired or not) whose name is ``name`` whatever the case or spacing."""
    wanted = same_key(name)
    rows = db.exec(select(ConsentTemplateRow)).all()
    return next((r for r in rows if same_key(r.name) == wanted), None)


def add_template_rows(
    uow: UnitOfWork, name: str, text: str, created_by_id: int | None, reason: str | None = None
) -> ConsentTemplateRow:
    """Insert a template and its version 1, audited (the default seed uses it too)."""
    clean_name = _checked(check_template_name, name)
    clean_text = _checked(check_template_text, text)
    if (taken := _template_named(uow.session, clean_name)) is not None:
        raise Conflict(
            f"a consent template named {taken.name!r} exists (id {taken.id}); edit it or "
            "choose another name (names differing only in case or spacing are the same)"
        )
    template = uow.add(
        ConsentTemplateRow(name=clean_name, current_version=1, created_at=uow.now,
                           updated_at=uow.now),
        "consent_template.create", reason,
    )
    assert template.id is not None
    uow.add(
        ConsentTemplateVersionRow(template_id=template.id, version=1, text=clean_text,
                                  sha256=text_sha256(clean_text), created_at=uow.now,
                                  created_by_id=created_by_id),
        "consent_template_version.create", reason,
    )
    return template


class ConsentStore(SigningRunsStore):
    """Consent templates and patients' consents."""

    if TYPE_CHECKING:
        # Provided by UsersStore in the composed Store: a witness signs with a password.
        def verify_password(
            self, actor: Actor, password: str, *, purpose: str = "signature"
        ) -> None: ...

    # -- templates ----------------------------------------------------------------

    def consent_templates(
        self, actor: Actor, *, include_retired: bool = False
    ) -> list[ConsentTemplate]:
        """The clinic's consent templates (in force, or all), by name."""
        with self._read(actor, EVERYONE, "read consent templates") as db:
            query = select(ConsentTemplateRow).order_by(col(ConsentTemplateRow.name))
            if not include_retired:
                query = query.where(col(ConsentTemplateRow.retired_at).is_(None))
            users = consent_rows.usernames(db)
            return [consent_rows.template(db, row, users) for row in db.exec(query).all()]

    def consent_template(self, actor: Actor, template_id: int) -> ConsentTemplate:
        """One template with its current version."""
        with self._read(actor, EVERYONE, "read consent templates") as db:
            return consent_rows.template(db, _template_row(db, template_id),
                                         consent_rows.usernames(db))

    def consent_template_versions(
        self, actor: Actor, template_id: int
    ) -> list[ConsentTemplateVersion]:
        """Every version of a template, oldest first."""
        with self._read(actor, EVERYONE, "read consent templates") as db:
            template = _template_row(db, template_id)
            users = consent_rows.usernames(db)
            rows = db.exec(
                select(ConsentTemplateVersionRow)
                .where(ConsentTemplateVersionRow.template_id == template_id)
                .order_by(col(ConsentTemplateVersionRow.version))
            ).all()
            return [consent_rows.template_version(r, template,
                                                  users.get(r.created_by_id or -1, "system"))
                    for r in rows]

    def add_consent_template(self, actor: Actor, name: str, text: str) -> ConsentTemplate:
        """A new template (administrators); its text is version 1."""
        with self._write(actor, ADMINS, "manage consent templates") as uow:
            row = add_template_rows(uow, name, text, actor.id)
            return consent_rows.template(uow.session, row, consent_rows.usernames(uow.session))

    def edit_consent_template(
        self, actor: Actor, template_id: int, text: str, *, name: str | None = None
    ) -> ConsentTemplate:
        """Save a new version of a template's text (and optionally rename it).

        The old versions stay as they were, and consents already signed keep the
        version they were signed on. Identical text and name change nothing.
        """
        with self._write(actor, ADMINS, "manage consent templates") as uow:
            row = _template_row(uow.session, template_id, for_update=True)
            if row.retired_at is not None:
                raise ValidationError(
                    f"the consent template {row.name!r} is retired; add a new template instead"
                )
            clean_text = _checked(check_template_text, text)
            clean_name = _checked(check_template_name, name) if name is not None else row.name
            current = _current_version(uow.session, row)
            before = snapshot(row)
            if clean_name != row.name:
                taken = _template_named(uow.session, clean_name)
                if taken is not None and taken.id != row.id:
                    raise Conflict(f"a consent template named {taken.name!r} exists; "
                                   "choose another name (names differing only in case or "
                                   "spacing are the same)")
                row.name = clean_name
            if clean_text != current.text:
                row.current_version += 1
                assert row.id is not None
                uow.add(
                    ConsentTemplateVersionRow(
                        template_id=row.id, version=row.current_version, text=clean_text,
                        sha256=text_sha256(clean_text), created_at=uow.now,
                        created_by_id=actor.id),
                    "consent_template_version.create",
                )
            if uow.differs(row, before):
                row.updated_at = uow.now
                uow.update(row, before, "consent_template.update", None)
            return consent_rows.template(uow.session, row, consent_rows.usernames(uow.session))

    def retire_consent_template(self, actor: Actor, template_id: int, reason: str) -> None:
        """Stop new signatures on a template; consents signed on it stay valid."""
        why = require_reason(reason, "retire a consent template")
        with self._write(actor, ADMINS, "manage consent templates") as uow:
            row = _template_row(uow.session, template_id, for_update=True)
            if row.retired_at is not None:
                raise ValidationError(f"the consent template {row.name!r} is already retired")
            before = snapshot(row)
            row.retired_at = uow.now
            row.retired_reason = why
            row.updated_at = uow.now
            uow.update(row, before, "consent_template.retire", why)

    # -- consents -----------------------------------------------------------------

    def consents(self, actor: Actor, patient_id: int) -> list[Consent]:
        """Every consent of a patient, oldest first (withdrawn ones too)."""
        with self._read(actor, EVERYONE, "read consents") as db:
            patient = db.get(PatientRow, patient_id)
            if patient is None or patient.deleted_at is not None:
                raise NotFound(f"patient {patient_id} does not exist; search for the patient")
            return consent_rows.consents_of(db, [patient_id])[patient_id]

    def consent(self, actor: Actor, consent_id: int) -> Consent:
        """One consent by id."""
        with self._read(actor, EVERYONE, "read consents") as db:
            row = db.get(ConsentRow, consent_id)
            if row is None:
                raise NotFound(f"consent {consent_id} does not exist; list a patient's "
                               "consents with 'formulary consent show CHART'")
            found = consent_rows.consents_of(db, [row.patient_id])[row.patient_id]
            return next(c for c in found if c.id == consent_id)

    def sign_consent(
        self,
        actor: Actor,
        *,
        patient_id: int,
        template_id: int,
        typed_name: str,
        password: str,
        course_id: int | None = None,
        form: Path | None = None,
        run: SigningRun | None = None,
    ) -> Consent:
        """Record a patient's consent, witnessed by ``actor`` (practitioner or admin).

        ``typed_name`` is the patient's signature: it must match their name
        (accents, case, hyphens and order of given/family name aside). ``password``
        is the witness's: a wrong one is refused and counts toward the lockout.
        ``form`` is an optional scanned paper form (at most 25 MB), copied into the
        managed-file folder beside the database (0600 in 0700, named by its SHA-256;
        the folder is created if missing) in the same unit of work: no row without
        its file, no new file without its row. Refused: a retired template, a course of another
        patient, a consent already valid on the same template version for the
        same course. Within a signing ``run`` of the witness
        (:meth:`begin_signing_run`) the password is compared with the one the run
        verified, as for a session signature, and the audit entry says so.
        """
        from db.store.roles import require_role

        require_role(actor, SIGNERS, "witness consents")
        form_data = _read_form(form) if form is not None else None
        credential = self._signature_credential(actor, password, run)
        stored: StoredFile | None = None
        try:
            with self._write(actor, SIGNERS, "witness consents") as uow:
                patient = uow.get(PatientRow, patient_id, "patient")
                clean_name = _checked(check_typed_name, typed_name, patient.given_name,
                                      patient.family_name)
                if course_id is not None:
                    course = uow.get(CourseRow, course_id, "course")
                    if course.patient_id != patient_id:
                        raise ValidationError(
                            f"course {course_id} belongs to another patient; pick one of "
                            f"{patient.given_name} {patient.family_name}'s courses"
                        )
                template = _template_row(uow.session, template_id)
                if template.retired_at is not None:
                    raise ValidationError(
                        f"the consent template {template.name!r} is retired "
                        f"({template.retired_reason}); choose a template in force"
                    )
                version = _current_version(uow.session, template)
                if text_sha256(version.text) != version.sha256:
                    raise ValidationError(
                        f"the stored text of consent template {template.name!r} version "
                        f"{version.version} no longer matches its SHA-256; run "
                        "'formulary audit verify' and restore it before signing"
                    )
                duplicate = uow.session.exec(
                    select(ConsentRow).where(
                        ConsentRow.patient_id == patient_id,
                        ConsentRow.course_id == course_id if course_id is not None
                        else col(ConsentRow.course_id).is_(None),
                        ConsentRow.template_version_id == version.id,
                        col(ConsentRow.withdrawn_at).is_(None),
                    )
                ).first()
                if duplicate is not None:
                    raise ValidationError(
                        f"consent {duplicate.id} on this template version is already signed "
                        "and in force for this course; nothing to sign again"
                    )
                if form_data is not None:
                    if not self.files.exists():
                        self.files.create()  # a new clinic's first scanned form
                    stored = self.files.put(form_data)
                assert version.id is not None
                values: dict[str, Any] = {
                    "patient_id": patient_id, "course_id": course_id,
                    "template_version_id": version.id, "text_sha256": version.sha256,
                    "typed_name": clean_name, "witness_id": actor.id,
                    "witness_name": actor.full_name, "signed_at": uow.now,
                    "form_sha256": stored.sha256 if stored is not None else None,
                }
                row = uow.add(
                    ConsentRow(
                        **values, text=version.text,
                        form_name=form.name[:255] if form is not None else "",
                        record_hash=consent_rows.record_hash(values),
                    ),
                    "consent.sign",
                    "; ".join(filter(None, (
                        f"witnessed by {actor.full_name}; template {template.name!r} "
                        f"version {version.version}",
                        self._run_note(uow, actor, credential),
                    ))),
                )
                users = consent_rows.usernames(uow.session)
                record = consent_rows.consent(row, version, template, users)
        except BaseException:
            if stored is not None:
                self.files.discard(stored)  # the row did not commit: nor does its file
            raise
        self._signed_in_run(credential)
        # No checkpoint of its own: like any record other than a session signature,
        # the next signature, export or backup checkpoints the chain past it.
        return record

    def export_consent_form(
        self, actor: Actor, consent_id: int, deliver: Callable[[bytes], Path]
    ) -> Path:
        """Copy a consent's scanned form out (any signed-in user), the copy audited.

        A scan read out of the managed-file folder is the patient's health data leaving
        the database, so it is recorded like every export: one transaction reads the
        form (checked against its recorded SHA-256), has ``deliver`` write it (returning
        the file it wrote) and appends an ``export.consent_form`` entry (consent,
        patient, the file's name, size and SHA-256). The file is written before the
        entry commits: if writing fails nothing is recorded, and if the commit fails
        the file is removed again.
        """
        delivered: Path | None = None
        try:
            with self._write(actor, EVERYONE, "copy consent forms out") as uow:
                row = uow.session.get(ConsentRow, consent_id)
                if row is None:
                    raise NotFound(f"consent {consent_id} does not exist; list a patient's "
                                   "consents with 'formulary consent show CHART'")
                if row.form_sha256 is None:
                    raise NotFound(f"consent {consent_id} has no scanned form attached")
                patient = uow.get(PatientRow, row.patient_id, "patient")
                data: bytes = self.files.read(row.form_sha256)
                delivered = deliver(data)
                uow.audit(
                    EXPORT_CONSENT_FORM, "consent", consent_id, None,
                    {"format": "scan", "patient_id": patient.id,
                     "chart_number": patient.chart_number, "form_name": row.form_name,
                     "files": [{"name": delivered.name, "bytes": len(data),
                                "sha256": row.form_sha256}]},
                    None,
                )
        except BaseException:
            if delivered is not None:
                delivered.unlink(missing_ok=True)  # its entry did not commit: nor does it
            raise
        return delivered

    def withdraw_consent(self, actor: Actor, consent_id: int, reason: str) -> Consent:
        """Record that the patient withdrew a consent, with their reason (once)."""
        why = require_reason(reason, "record a consent withdrawal")
        with self._write(actor, SIGNERS, "record consent withdrawals") as uow:
            row = uow.session.get(ConsentRow, consent_id, with_for_update=True)
            if row is None:
                raise NotFound(f"consent {consent_id} does not exist; list a patient's "
                               "consents with 'formulary consent show CHART'")
            if row.withdrawn_at is not None:
                raise ValidationError(
                    f"consent {consent_id} was already withdrawn on "
                    f"{row.withdrawn_at:%Y-%m-%d %H:%M} UTC; a withdrawal is recorded once"
                )
            before = snapshot(row)
            row.withdrawn_at = uow.now
            row.withdrawn_by_id = actor.id
            row.withdrawn_reason = why
            uow.update(row, before, "consent.withdraw", why)
            version = uow.session.get(ConsentTemplateVersionRow, row.template_version_id)
            assert version is not None
            template = _template_row(uow.session, version.template_id)
            return consent_rows.consent(row, version, template,
                                        consent_rows.usernames(uow.session))

def seed_default_template(uow: UnitOfWork) -> None:
    """The project's default consent template, for a new clinic (editable afterwards)."""
    from formulary.consent import DEFAULT_TEMPLATE_NAME, DEFAULT_TEMPLATE_TEXT

    add_template_rows(uow, DEFAULT_TEMPLATE_NAME, DEFAULT_TEMPLATE_TEXT, None,
                      "default consent template of a new clinic")


def _read_form(path: Path) -> bytes:
    """The bytes of a scanned form to attach, or one clear ValidationError."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ValidationError(f"the scanned form {path} does not exist; check the path") from None
    except OSError as exc:
        raise ValidationError(f"cannot read the scanned form {path}: {exc.strerror}") from None
    if not path.is_file():
        raise ValidationError(f"the scanned form {path} is not a file; give the scan's file")
    if size == 0:
        raise ValidationError(f"the scanned form {path} is empty; scan it again")
    if size > MAX_FORM_BYTES:
        raise ValidationError(
            f"the scanned form {path} is {size / 1_048_576:.1f} MB; the limit is "
            f"{MAX_FORM_BYTES // 1_048_576} MB: scan it at a lower resolution"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read the scanned form {path}: {exc.strerror}") from None
