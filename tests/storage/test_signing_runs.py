"""Signing runs: the password checked in full once, then compared for each signature.

21 CFR 11.200(a)(1)(i): within one continuous session the first signing uses every
component, later ones at least the password. A run must never let a signature through
that the full check would refuse, and everything it does is in the audit trail.
"""

from __future__ import annotations

import json

import pytest

from db import auth
from db.audit.service import verify_database
from db.errors import AuthenticationFailed, PermissionDenied, ValidationError
from db.store import Actor, Store
from db.store import signing as signing_module
from db.store.signing import SIGNING_RUN_BEGIN, SIGNING_RUN_END, SigningRun
from formulary.records import Role

from .conftest import PASSWORD
from .helpers import World, chain_problems, events, replay_problems

pytestmark = pytest.mark.storage


@pytest.fixture
def argon2_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the full password checks (argon2 verifications)."""
    calls: list[str] = []
    real = auth.verify_password

    def counted(password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counted)
    return calls


def _signed_reasons(store: Store) -> list[str | None]:
    return [e.reason for e in events(store.database) if e.action == "session.sign"]


def test_a_run_checks_the_password_once_and_audits_every_step(
    store: Store, users: dict[Role, Actor], argon2_checks: list[str]
) -> None:
    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    drafts = [store.save_session_draft(lee, world.draft()).id for _ in range(3)]
    before = len(argon2_checks)

    run = store.begin_signing_run(lee, PASSWORD)
    for draft in drafts:
        signed = store.sign_session(lee, draft, PASSWORD, run=run)
        assert signed.signature is not None
        assert signed.signature.signer.full_name == "Dr Lee Park"
    assert len(argon2_checks) - before == 1  # the run's full check, nothing after it
    assert store.end_signing_run(lee, run) == 3

    trail = events(store.database)
    begin = next(e for e in trail if e.action == SIGNING_RUN_BEGIN)
    assert (begin.user_name, begin.entity, begin.entity_id) == ("drlee", "signing_run", run.id)
    assert json.loads(begin.after or "{}")["run"] == run.id
    assert "11.200(a)(1)(i)" in (begin.reason or "")
    end = next(e for e in trail if e.action == SIGNING_RUN_END)
    assert json.loads(end.before or "{}") == json.loads(begin.after or "{}")
    assert json.loads(end.after or "{}") == {
        "run": run.id,
        "signer_id": lee.id,
        "idle_limit_seconds": 300,
        "max_seconds": 3600,
        "signatures": 3,
        "ended": True,
    }
    reasons = _signed_reasons(store)
    assert len(reasons) == 3
    assert all(r is not None and f"signing run {run.id}" in r for r in reasons)
    # Each signature still has its checkpoint, and the records verify.
    assert store.last_checkpoint is not None
    assert store.last_checkpoint.seq == max(e.seq for e in trail if e.action == "session.sign")
    assert chain_problems(store.database) == []
    assert replay_problems(store.database) == []
    result = verify_database(store.database, user="auditor", key_dir=store.key_dir, record=False)
    assert result.report.exit_code == 0, result.report.summary()


def test_a_wrong_password_in_a_run_is_a_failed_signature_like_any_other(
    store: Store, users: dict[Role, Actor], argon2_checks: list[str]
) -> None:
    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    draft = store.save_session_draft(lee, world.draft()).id
    run = store.begin_signing_run(lee, PASSWORD)
    checks = len(argon2_checks)
    with pytest.raises(AuthenticationFailed):
        store.sign_session(lee, draft, "not-the-password", run=run)
    assert len(argon2_checks) == checks + 1  # fell back to the full check
    failed = [e for e in events(store.database) if e.action == "auth.signature_failed"]
    assert [e.user_name for e in failed] == ["drlee"]
    accounts = store.list_users(users[Role.ADMIN])
    assert [u.failed_logins for u in accounts if u.username == "drlee"] == [1]
    assert _signed_reasons(store) == []
    # The run goes on for the right password.
    store.sign_session(lee, draft, PASSWORD, run=run)
    assert len(argon2_checks) == checks + 1


def test_a_run_is_its_signers_only(
    store: Store, users: dict[Role, Actor], argon2_checks: list[str]
) -> None:
    lee, admin = users[Role.PRACTITIONER], users[Role.ADMIN]
    world = World(store, lee)
    draft = store.save_session_draft(lee, world.draft()).id
    run = store.begin_signing_run(lee, PASSWORD)
    checks = len(argon2_checks)
    # Another signer handing in Lee's run is checked in full and signs as themself.
    signed = store.sign_session(admin, draft, PASSWORD, run=run)
    assert signed.signature is not None
    assert signed.signature.signer.full_name == "Ada Admin"
    assert len(argon2_checks) == checks + 1
    assert _signed_reasons(store) == [None]
    with pytest.raises(ValidationError, match="ended by the signer"):
        store.end_signing_run(admin, run)


def test_a_handle_the_store_did_not_open_gives_no_shortcut(
    store: Store, users: dict[Role, Actor], argon2_checks: list[str]
) -> None:
    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    draft = store.save_session_draft(lee, world.draft()).id
    real = store.begin_signing_run(lee, PASSWORD)
    forged = SigningRun("0123456789abcdef", lee.id, lee.username, real.began_at)
    checks = len(argon2_checks)
    store.sign_session(lee, draft, PASSWORD, run=forged)
    assert len(argon2_checks) == checks + 1
    with pytest.raises(ValidationError, match="not open"):
        store.end_signing_run(lee, forged)
    # Another Store (workstation) on the same database does not know the run either.
    other = Store(store.database, workstation="other-ws", key_dir=store.key_dir)
    second = store.save_session_draft(lee, world.draft()).id
    other.sign_session(lee, second, PASSWORD, run=real)
    assert len(argon2_checks) == checks + 2


def test_an_idle_run_is_over(
    store: Store,
    users: dict[Role, Actor],
    argon2_checks: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    draft = store.save_session_draft(lee, world.draft()).id
    run = store.begin_signing_run(lee, PASSWORD)
    monkeypatch.setattr(signing_module, "SIGNING_RUN_IDLE_SECONDS", -1)
    checks = len(argon2_checks)
    store.sign_session(lee, draft, PASSWORD, run=run)
    assert len(argon2_checks) == checks + 1
    assert _signed_reasons(store) == [None]


def test_a_run_outlives_no_password_reset(
    store: Store, users: dict[Role, Actor], argon2_checks: list[str]
) -> None:
    lee, admin = users[Role.PRACTITIONER], users[Role.ADMIN]
    world = World(store, lee)
    draft = store.save_session_draft(lee, world.draft()).id
    run = store.begin_signing_run(lee, PASSWORD)
    store.reset_password(admin, lee.id, "a-brand-new-password", "forgotten")
    with pytest.raises(AuthenticationFailed, match="changed during the signing run"):
        store.sign_session(lee, draft, PASSWORD, run=run)
    assert _signed_reasons(store) == []


def test_a_run_outlives_no_deactivation(
    store: Store, users: dict[Role, Actor], argon2_checks: list[str]
) -> None:
    lee, admin = users[Role.PRACTITIONER], users[Role.ADMIN]
    world = World(store, lee)
    draft = store.save_session_draft(lee, world.draft()).id
    run = store.begin_signing_run(lee, PASSWORD)
    store.deactivate_user(admin, lee.id, "left the clinic")
    with pytest.raises(PermissionDenied, match="deactivated"):
        store.sign_session(lee, draft, PASSWORD, run=run)
    assert _signed_reasons(store) == []


def test_record_session_in_a_run(
    store: Store, users: dict[Role, Actor], argon2_checks: list[str]
) -> None:
    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    run = store.begin_signing_run(lee, PASSWORD)
    checks = len(argon2_checks)
    store.record_session(lee, world.draft(), PASSWORD, run=run)
    store.record_session(lee, world.draft(), PASSWORD, run=run)
    assert len(argon2_checks) == checks
    assert store.end_signing_run(lee, run) == 2
    with pytest.raises(ValidationError, match="not open"):
        store.end_signing_run(lee, run)


def test_only_signers_begin_a_run(store: Store, users: dict[Role, Actor]) -> None:
    with pytest.raises(PermissionDenied):
        store.begin_signing_run(users[Role.ASSISTANT], PASSWORD)


def test_a_wrong_password_begins_no_run(store: Store, users: dict[Role, Actor]) -> None:
    lee = users[Role.PRACTITIONER]
    with pytest.raises(AuthenticationFailed):
        store.begin_signing_run(lee, "not-the-password")
    assert not [e for e in events(store.database) if e.action == SIGNING_RUN_BEGIN]


def _witness(store: Store, actor: Actor, world: World, password: str, run: SigningRun) -> None:
    template = store.consent_templates(actor)[0]
    patient = world.patient
    store.sign_consent(
        actor, patient_id=patient.id, template_id=template.id,
        typed_name=f"{patient.given_name} {patient.family_name}", password=password, run=run,
    )


def test_a_consent_witnessed_in_a_run_needs_no_second_full_check(
    store: Store, users: dict[Role, Actor], argon2_checks: list[str]
) -> None:
    lee = users[Role.PRACTITIONER]
    world = World(store, lee, consent=False)
    run = store.begin_signing_run(lee, PASSWORD)
    checks = len(argon2_checks)
    _witness(store, lee, world, PASSWORD, run)
    assert len(argon2_checks) == checks  # compared with the run's password, not argon2
    signed = [e for e in events(store.database) if e.action == "consent.sign"]
    assert len(signed) == 1
    assert f"signing run {run.id}" in (signed[0].reason or "")
    assert "witnessed by Dr Lee Park" in (signed[0].reason or "")
    assert store.end_signing_run(lee, run) == 1
    assert replay_problems(store.database) == []


def test_a_wrong_witness_password_in_a_run_falls_back_and_counts(
    store: Store, users: dict[Role, Actor], argon2_checks: list[str]
) -> None:
    lee, admin = users[Role.PRACTITIONER], users[Role.ADMIN]
    world = World(store, lee, consent=False)
    run = store.begin_signing_run(lee, PASSWORD)
    checks = len(argon2_checks)
    with pytest.raises(AuthenticationFailed):
        _witness(store, lee, world, "not-the-password", run)
    assert len(argon2_checks) == checks + 1  # the full check, which failed
    assert [e for e in events(store.database) if e.action == "consent.sign"] == []
    accounts = store.list_users(admin)
    assert [u.failed_logins for u in accounts if u.username == "drlee"] == [1]


def test_a_consent_in_a_run_outlives_no_password_reset(
    store: Store, users: dict[Role, Actor], argon2_checks: list[str]
) -> None:
    lee, admin = users[Role.PRACTITIONER], users[Role.ADMIN]
    world = World(store, lee, consent=False)
    run = store.begin_signing_run(lee, PASSWORD)
    store.reset_password(admin, lee.id, "a-brand-new-password", "forgotten")
    with pytest.raises(AuthenticationFailed, match="changed during the signing run"):
        _witness(store, lee, world, PASSWORD, run)
    assert [e for e in events(store.database) if e.action == "consent.sign"] == []
