"""Users: first admin, unique usernames, roles, lockout and its audit trail."""

from __future__ import annotations

from datetime import date

import pytest

from db.errors import (
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    PermissionDenied,
    ValidationError,
)
from db.store import Actor, PatientFields, Store
from formulary.records import Role, Sex

from .conftest import PASSWORD
from .helpers import chain_problems, events, replay_problems

pytestmark = pytest.mark.storage


def test_first_admin_only_once(store: Store, admin: Actor) -> None:
    assert admin.role is Role.ADMIN
    with pytest.raises(Conflict, match="already has users"):
        store.create_first_admin("other", "Other", PASSWORD)


def test_usernames_compare_after_nfkc_and_casefold(store: Store, admin: Actor) -> None:
    store.create_user(admin, "Dr.Lee", "Lee Park", Role.PRACTITIONER, PASSWORD)
    with pytest.raises(Conflict, match="taken"):
        store.create_user(admin, "ｄｒ.ＬＥＥ", "Someone Else", Role.ASSISTANT, PASSWORD)
    assert store.authenticate("DR.LEE", PASSWORD).username == "Dr.Lee"


def test_short_password_and_bad_username_are_refused(store: Store, admin: Actor) -> None:
    with pytest.raises(ValidationError, match="shorter than 8"):
        store.create_user(admin, "x", "X", Role.ASSISTANT, "short")
    with pytest.raises(ValidationError, match="space"):
        store.create_user(admin, "two words", "X", Role.ASSISTANT, PASSWORD)


def test_only_admins_manage_users(store: Store, users: dict[Role, Actor]) -> None:
    for role in (Role.PRACTITIONER, Role.ASSISTANT, Role.AUDITOR):
        with pytest.raises(PermissionDenied, match="cannot add users"):
            store.create_user(users[role], "new", "New", Role.ASSISTANT, PASSWORD)


def test_five_failures_lock_until_an_admin_unlocks(store: Store, users: dict[Role, Actor]) -> None:
    admin = users[Role.ADMIN]
    before = len(events(store.database))
    for _ in range(4):
        with pytest.raises(AuthenticationFailed) as info:
            store.authenticate("sam", "wrong password")
        assert not isinstance(info.value, AccountLocked)
    with pytest.raises(AccountLocked, match="now locked"):
        store.authenticate("sam", "wrong password")
    with pytest.raises(AccountLocked, match="administrator must unlock"):
        store.authenticate("sam", PASSWORD)
    new = events(store.database)[before:]
    assert [e.action for e in new] == ["auth.login_failed"] * 5 + ["auth.login_refused"]
    # A locked account cannot act even with an Actor issued before the lock.
    with pytest.raises(PermissionDenied, match="locked"):
        store.create_patient(
            users[Role.ASSISTANT],
            PatientFields("C9", "Doe", "John", date(1970, 1, 1), Sex.MALE),
        )
    sam = next(u for u in store.list_users(admin) if u.username == "sam")
    with pytest.raises(ValidationError, match="reason"):
        store.unlock_user(admin, sam.id, "")
    store.unlock_user(admin, sam.id, "called the clinic, identity checked")
    assert store.authenticate("sam", PASSWORD).role is Role.ASSISTANT
    assert chain_problems(store.database) == []
    assert replay_problems(store.database) == []


def test_unknown_user_failure_is_audited(store: Store, admin: Actor) -> None:
    with pytest.raises(AuthenticationFailed, match="unknown username or wrong password"):
        store.authenticate("nobody", PASSWORD)
    last = events(store.database)[-1]
    assert (last.action, last.user_name, last.entity_id) == ("auth.login_failed", "nobody", None)


def test_deactivated_accounts_cannot_sign_in_or_act(store: Store, users: dict[Role, Actor]) -> None:
    admin = users[Role.ADMIN]
    lee = users[Role.PRACTITIONER]
    store.deactivate_user(admin, lee.id, "left the clinic")
    with pytest.raises(AuthenticationFailed, match="deactivated"):
        store.authenticate("drlee", PASSWORD)
    with pytest.raises(PermissionDenied, match="deactivated"):
        store.create_patient(lee, PatientFields("C8", "Doe", "J", date(1970, 1, 1), Sex.MALE))
    # Never deleted and never reused.
    with pytest.raises(Conflict, match="never reused"):
        store.create_user(admin, "DrLee", "Another Lee", Role.PRACTITIONER, PASSWORD)


def test_role_change_applies_to_existing_actor(store: Store, users: dict[Role, Actor]) -> None:
    admin, sam = users[Role.ADMIN], users[Role.ASSISTANT]
    store.set_role(admin, sam.id, Role.AUDITOR, "moved to audit duty")
    with pytest.raises(PermissionDenied, match="auditor"):
        store.create_patient(sam, PatientFields("C7", "Doe", "J", date(1970, 1, 1), Sex.MALE))


def test_password_hash_never_enters_the_audit_trail(store: Store, admin: Actor) -> None:
    store.create_user(admin, "drlee", "Lee", Role.PRACTITIONER, PASSWORD)
    for event in events(store.database):
        assert "$argon2id$" not in (event.after or "") + (event.before or "")


def test_reset_and_change_password(store: Store, users: dict[Role, Actor]) -> None:
    admin, lee = users[Role.ADMIN], users[Role.PRACTITIONER]
    store.reset_password(admin, lee.id, "brand new secret", "forgot it")
    with pytest.raises(AuthenticationFailed):
        store.authenticate("drlee", PASSWORD)
    lee = store.authenticate("drlee", "brand new secret")
    store.change_password(lee, "brand new secret", "another secret!")
    assert store.authenticate("drlee", "another secret!").id == lee.id


@pytest.mark.real_hash
def test_passwords_use_argon2id_with_library_defaults() -> None:
    from argon2 import PasswordHasher

    from db import auth

    digest = auth.hash_password(PASSWORD)
    defaults = PasswordHasher()
    assert digest.startswith("$argon2id$")
    assert f"m={defaults.memory_cost},t={defaults.time_cost},p={defaults.parallelism}" in digest
    assert auth.verify_password(digest, PASSWORD)
    assert not auth.verify_password(digest, PASSWORD + "x")
