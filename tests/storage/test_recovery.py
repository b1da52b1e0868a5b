"""The administrator recovery code: unlocks a locked-out administrator, once."""

from __future__ import annotations

import pytest

from db import auth
from db.errors import AccountLocked, AuthenticationFailed, PermissionDenied
from db.store import Actor, Store
from formulary.records import Role

from .conftest import PASSWORD

pytestmark = pytest.mark.storage


def _lock_out(store: Store, name: str) -> None:
    for _ in range(auth.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            store.authenticate(name, "wrong password!")
    with pytest.raises(AccountLocked):
        store.authenticate(name, PASSWORD)


def test_the_code_unlocks_the_only_admin_once_and_is_replaced(
    store: Store, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = store.issue_recovery_code(admin)
    assert len(code) == 29 and code.count("-") == 4
    _lock_out(store, "admin")
    recovered, fresh = store.recover_admin("admin", code.lower().replace("-", " "))
    assert recovered.username == "admin" and fresh != code
    store.authenticate("admin", PASSWORD)
    # Used up: the old code no longer works; the new one does, and can set a password.
    _lock_out(store, "admin")
    with pytest.raises(AuthenticationFailed, match="recovery code is wrong"):
        store.recover_admin("admin", code)
    store.recover_admin("admin", fresh, "a brand new password")
    store.authenticate("admin", "a brand new password")
    actions = [e.action for e in store.audit_events(admin, entity="recovery_code")]
    assert actions.count("recovery.code_set") == 3 and "recovery.failed" in actions
    assert "user.recover" in {e.action for e in store.audit_events(admin, entity="app_user")}
    # Only its hash is kept: the code itself is nowhere in the trail.
    texts = " ".join(str(e.after) for e in store.audit_events(admin, entity="recovery_code"))
    assert fresh not in texts and fresh.replace("-", "") not in texts


def test_the_code_restores_administrators_only(store: Store, admin: Actor) -> None:
    code = store.issue_recovery_code(admin)
    store.create_user(admin, "drlee", "Dr Lee", Role.PRACTITIONER, PASSWORD)
    with pytest.raises(PermissionDenied, match="not an administrator"):
        store.recover_admin("drlee", code)
    store.recover_admin("admin", code)  # the refusal did not use the code up
