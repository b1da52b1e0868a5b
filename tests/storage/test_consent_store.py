"""Consent in the Store: templates versioned, signing, withdrawal, the rule at signing.

Runs on both engines (set FORMULARY_TEST_PG_URL for PostgreSQL).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from db.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    StoreError,
    ValidationError,
)
from db.store import Actor, PatientFields, Store
from db.store.safety import SafetyBlocked
from formulary.consent import (
    CONSENT_RULE,
    DEFAULT_TEMPLATE_NAME,
    DEFAULT_TEMPLATE_TEXT,
    text_sha256,
)
from formulary.records import Role, Sex

from .conftest import PASSWORD
from .helpers import World, chain_problems, events, replay_problems

pytestmark = pytest.mark.storage

EDITED = DEFAULT_TEMPLATE_TEXT.replace("20 to 40 minutes", "30 minutes")


@pytest.fixture
def lee(users: dict[Role, Actor]) -> Actor:
    return users[Role.PRACTITIONER]


def _patient(store: Store, actor: Actor) -> int:
    return store.create_patient(
        actor, PatientFields("C-9", "Dubois", "Zoé", date(1985, 5, 6), Sex.FEMALE)
    ).id


def test_a_new_clinic_has_the_default_template(store: Store, admin: Actor) -> None:
    [template] = store.consent_templates(admin)
    assert template.name == DEFAULT_TEMPLATE_NAME and template.current.version == 1
    assert template.current.sha256 == text_sha256(DEFAULT_TEMPLATE_TEXT)
    seeded = [e for e in events(store.database) if e.entity.startswith("consent_template")]
    assert [e.user_name for e in seeded] == ["system", "system"]


def test_editing_makes_a_new_version_and_the_old_one_stays(
    store: Store, admin: Actor, lee: Actor
) -> None:
    template = store.consent_templates(admin)[0]
    pid = _patient(store, admin)
    first = store.sign_consent(lee, patient_id=pid, template_id=template.id,
                               typed_name="zoe DUBOIS", password=PASSWORD)
    edited = store.edit_consent_template(admin, template.id, EDITED)
    assert edited.current.version == 2 and edited.current.sha256 == text_sha256(EDITED)
    again = store.edit_consent_template(admin, template.id, EDITED)  # same text: no change
    assert again.current.version == 2
    versions = store.consent_template_versions(admin, template.id)
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].text == DEFAULT_TEMPLATE_TEXT
    # The consent stays tied to the version signed, and still counts.
    kept = store.consent(lee, first.id)
    assert kept.template_version == 1 and kept.text == DEFAULT_TEMPLATE_TEXT
    assert kept.text_sha256 == text_sha256(DEFAULT_TEMPLATE_TEXT)
    # A new signature on the new version is allowed (re-consent on the new text).
    second = store.sign_consent(lee, patient_id=pid, template_id=template.id,
                                typed_name="Zoé Dubois", password=PASSWORD)
    assert second.template_version == 2 and second.text == EDITED
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_template_rules(store: Store, admin: Actor, lee: Actor) -> None:
    with pytest.raises(PermissionDenied):
        store.add_consent_template(lee, "Mine", DEFAULT_TEMPLATE_TEXT)
    with pytest.raises(Conflict, match="exists"):
        store.add_consent_template(admin, DEFAULT_TEMPLATE_NAME, DEFAULT_TEMPLATE_TEXT)
    with pytest.raises(ValidationError, match="does not name these known effects"):
        store.add_consent_template(admin, "Short", "Mesotherapy. Sign here.")
    other = store.add_consent_template(admin, "Microneedling", DEFAULT_TEMPLATE_TEXT)
    with pytest.raises(ValidationError, match="reason"):
        store.retire_consent_template(admin, other.id, " ")
    store.retire_consent_template(admin, other.id, "we no longer microneedle")
    assert [t.name for t in store.consent_templates(admin)] == [DEFAULT_TEMPLATE_NAME]
    assert len(store.consent_templates(admin, include_retired=True)) == 2
    pid = _patient(store, admin)
    with pytest.raises(ValidationError, match="retired"):
        store.sign_consent(lee, patient_id=pid, template_id=other.id,
                           typed_name="Zoé Dubois", password=PASSWORD)
    with pytest.raises(ValidationError, match="already retired"):
        store.retire_consent_template(admin, other.id, "again")
    with pytest.raises(NotFound, match="consent template 999"):
        store.edit_consent_template(admin, 999, DEFAULT_TEMPLATE_TEXT)


def test_signing_checks_name_password_role_and_writes_nothing_when_refused(
    store: Store, admin: Actor, users: dict[Role, Actor], lee: Actor
) -> None:
    template = store.consent_templates(admin)[0]
    pid = _patient(store, admin)
    before = len(events(store.database))
    with pytest.raises(ValidationError, match="does not match the patient's name"):
        store.sign_consent(lee, patient_id=pid, template_id=template.id,
                           typed_name="Jane Doe", password=PASSWORD)
    with pytest.raises(PermissionDenied):
        store.sign_consent(users[Role.ASSISTANT], patient_id=pid, template_id=template.id,
                           typed_name="Zoé Dubois", password=PASSWORD)
    assert len(events(store.database)) == before
    with pytest.raises(AuthenticationFailed):
        store.sign_consent(lee, patient_id=pid, template_id=template.id,
                           typed_name="Zoé Dubois", password="wrong password")
    assert store.consents(lee, pid) == []
    signed = store.sign_consent(lee, patient_id=pid, template_id=template.id,
                                typed_name="Zoé  Dubois", password=PASSWORD)
    assert signed.typed_name == "Zoé Dubois" and signed.witness_name == lee.full_name
    assert signed.witness_username == "drlee" and len(signed.record_hash) == 64
    with pytest.raises(ValidationError, match="already signed"):
        store.sign_consent(lee, patient_id=pid, template_id=template.id,
                           typed_name="Zoé Dubois", password=PASSWORD)
    [entry] = [e for e in events(store.database) if e.action == "consent.sign"]
    assert entry.after is not None and json.loads(entry.after)["text_sha256"] == signed.text_sha256


def test_a_course_of_another_patient_is_refused(store: Store, admin: Actor, lee: Actor) -> None:
    world = World(store, lee)
    course = store.start_course(lee, patient_id=world.patient.id, name="C", planned_sessions=4,
                                interval_days=14, start_date=date(2026, 1, 1))
    pid = _patient(store, admin)
    template = store.consent_templates(admin)[0]
    with pytest.raises(ValidationError, match="belongs to another patient"):
        store.sign_consent(lee, patient_id=pid, template_id=template.id, course_id=course.id,
                           typed_name="Zoé Dubois", password=PASSWORD)


def test_session_signing_blocks_without_consent_and_the_override_is_recorded(
    store: Store, lee: Actor
) -> None:
    world = World(store, lee, consent=False)
    draft = store.save_session_draft(lee, world.draft())
    found = store.check_session(lee, draft.id)
    [block] = found.blocks
    assert block.rule == CONSENT_RULE and "sign the consent" in block.remedy
    with pytest.raises(SafetyBlocked, match="no signed consent"):
        store.sign_session(lee, draft.id, PASSWORD)
    signed = store.sign_session(lee, draft.id, PASSWORD,
                                override_reason="paper consent in the old file, seen today")
    assert [o.rule for o in signed.overrides] == [CONSENT_RULE]
    [entry] = [e for e in events(store.database) if e.action == "session.sign"]
    assert entry.reason is not None and CONSENT_RULE in entry.reason


def test_a_course_session_needs_the_course_consent_and_withdrawal_blocks_again(
    store: Store, lee: Actor
) -> None:
    world = World(store, lee)  # consent outside a course only
    course = store.start_course(lee, patient_id=world.patient.id, name="Autumn",
                                planned_sessions=4, interval_days=1,
                                start_date=date(2020, 1, 1))
    draft = store.save_session_draft(lee, world.draft(course_id=course.id))
    assert [f.rule for f in store.check_session(lee, draft.id).blocks] == [CONSENT_RULE]
    assert "Autumn" in store.check_session(lee, draft.id).blocks[0].message
    template = store.consent_templates(lee)[0]
    given = store.sign_consent(lee, patient_id=world.patient.id, template_id=template.id,
                               course_id=course.id, typed_name="Jane Doe", password=PASSWORD)
    assert store.check_session(lee, draft.id).blocks == ()
    withdrawn = store.withdraw_consent(lee, given.id, "the patient stops the course")
    assert withdrawn.withdrawn and withdrawn.withdrawn_by == "drlee"
    with pytest.raises(ValidationError, match="already withdrawn"):
        store.withdraw_consent(lee, given.id, "again")
    with pytest.raises(ValidationError, match="reason"):
        store.withdraw_consent(lee, world.patient.id, "")
    [block] = store.check_session(lee, draft.id).blocks
    assert "withdrew consent" in block.message and "stops the course" in block.message
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_the_database_refuses_changing_a_signed_consent_or_a_version(
    store: Store, admin: Actor, lee: Actor
) -> None:
    world = World(store, lee)
    [signed] = store.consents(lee, world.patient.id)
    with store.database.engine.connect() as connection:
        for statement in (
            "UPDATE consent SET typed_name = 'Someone Else'",
            "DELETE FROM consent",
            "UPDATE consent_template_version SET text = 'x'",
            "DELETE FROM consent_template_version",
        ):
            with pytest.raises(sa.exc.DBAPIError):
                connection.execute(sa.text(statement))
            connection.rollback()
    store.withdraw_consent(lee, signed.id, "changed her mind")
    with store.database.engine.connect() as connection:
        with pytest.raises(sa.exc.DBAPIError):
            connection.execute(sa.text("UPDATE consent SET withdrawn_reason = 'other'"))
        connection.rollback()
    assert store.consent(lee, signed.id).withdrawn_reason == "changed her mind"


def test_store_errors_are_store_errors(store: Store, lee: Actor) -> None:
    with pytest.raises(StoreError, match="consent 42 does not exist"):
        store.withdraw_consent(lee, 42, "reason")


def test_a_scanned_form_is_a_managed_file_that_audit_verify_rehashes(
    store: Store, admin: Actor, lee: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from db.audit.service import verify_database

    monkeypatch.setenv("FORMULARY_FILES_DIR", str(tmp_path / "files"))
    here = Store(store.database, workstation="test-ws")  # reads the folder's place anew
    pid = _patient(here, admin)
    template = here.consent_templates(admin)[0]
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"\x89PNG scanned consent form" * 50)
    with pytest.raises(ValidationError, match="does not match"):
        here.sign_consent(lee, patient_id=pid, template_id=template.id, typed_name="Jane",
                          password=PASSWORD, form=scan)
    assert not (tmp_path / "files").exists() or not any((tmp_path / "files").iterdir())
    signed = here.sign_consent(lee, patient_id=pid, template_id=template.id,
                               typed_name="Zoé Dubois", password=PASSWORD, form=scan)
    assert signed.form_sha256 is not None and signed.form_name == "scan.png"
    copy = tmp_path / "copy.png"
    here.export_consent_form(lee, signed.id, lambda data: _write(copy, data))
    assert copy.read_bytes() == scan.read_bytes()
    assert verify_database(store.database, user="t", record=False).report.ok
    here.files.path_for(signed.form_sha256).write_bytes(b"another picture")
    report = verify_database(store.database, user="t", record=False).report
    assert report.exit_code == 4
    assert any("consent" in p and "ALTERED" in p for p in report.record_problems)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_copying_a_scanned_form_out_is_an_audited_export_or_nothing(
    store: Store, admin: Actor, lee: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from db.files import ManagedFileMismatch
    from db.store.consent import EXPORT_CONSENT_FORM

    monkeypatch.setenv("FORMULARY_FILES_DIR", str(tmp_path / "files"))
    here = Store(store.database, workstation="test-ws")  # reads the folder's place anew
    pid = _patient(here, admin)
    template = here.consent_templates(admin)[0]
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"\x89PNG scanned consent form" * 50)
    signed = here.sign_consent(lee, patient_id=pid, template_id=template.id,
                               typed_name="Zoé Dubois", password=PASSWORD, form=scan)
    other = here.create_patient(
        admin, PatientFields("C-10", "Dubois", "Zoé", date(1985, 5, 6), Sex.FEMALE)).id
    bare = here.sign_consent(lee, patient_id=other, template_id=template.id,
                             typed_name="Zoé Dubois", password=PASSWORD)
    out = tmp_path / "out"
    out.mkdir()
    seen = len(events(store.database))

    # Copied out: the file, and one entry about the patient naming what was written.
    written = here.export_consent_form(lee, signed.id, lambda data: _write(out / "a.png", data))
    assert written == out / "a.png" and written.read_bytes() == scan.read_bytes()
    [entry] = events(store.database)[seen:]
    assert (entry.action, entry.entity, entry.entity_id, entry.user_name) == (
        EXPORT_CONSENT_FORM, "consent", str(signed.id), lee.username)
    assert entry.patient_id == pid  # the audit screen's patient filter finds it
    after = json.loads(entry.after or "{}")
    assert after["patient_id"] == pid and after["chart_number"] == "C-9"
    assert after["form_name"] == "scan.png"
    assert after["files"] == [{"name": "a.png", "bytes": scan.stat().st_size,
                               "sha256": signed.form_sha256}]
    assert chain_problems(store.database) == []
    seen += 1

    # Not written (a full disk): nothing recorded.
    def full(_data: bytes) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        here.export_consent_form(lee, signed.id, full)
    assert len(events(store.database)) == seen

    # Written, then the entry cannot commit: the file goes again.
    def no_room(_conn: object) -> None:
        raise sa.exc.OperationalError("COMMIT", None, Exception("database or disk is full"))

    sa.event.listen(store.database.engine, "commit", no_room)
    try:
        with pytest.raises(StoreError, match="database or disk is full"):
            here.export_consent_form(lee, signed.id, lambda data: _write(out / "b.png", data))
    finally:
        sa.event.remove(store.database.engine, "commit", no_room)
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]
    assert len(events(store.database)) == seen

    # No form, no consent, or a swapped scan: refused before anything is written.
    def never(_data: bytes) -> Path:
        raise AssertionError("nothing may be delivered")

    with pytest.raises(NotFound, match="no scanned form"):
        here.export_consent_form(lee, bare.id, never)
    with pytest.raises(NotFound, match="does not exist"):
        here.export_consent_form(lee, 9999, never)
    assert signed.form_sha256 is not None
    here.files.path_for(signed.form_sha256).write_bytes(b"another picture")
    with pytest.raises(ManagedFileMismatch):
        here.export_consent_form(lee, signed.id, never)
    assert len(events(store.database)) == seen
