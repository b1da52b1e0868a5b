"""argon2 work started ahead (db.auth_ahead): every answer is argon2's on the inputs asked."""

from __future__ import annotations

import os
import threading

import pytest

from db import auth
from db.auth_ahead import WORKER_NICENESS, PasswordsAhead
from db.errors import AuthenticationFailed, ValidationError
from db.store import Store

from .conftest import PASSWORD

pytestmark = pytest.mark.storage


def test_a_prepared_hash_verifies_and_is_served_once() -> None:
    with PasswordsAhead([("hash", PASSWORD), ("check", PASSWORD)]) as ahead:
        assert ahead.unused() == 2
        first = ahead.hash_password(PASSWORD)
        assert auth.verify_password(first, PASSWORD)
        assert ahead.verify_password(first, PASSWORD) is True
        assert ahead.unused() == 0
        # Nothing prepared any more: a new hash (another salt), still right.
        second = ahead.hash_password(PASSWORD)
        assert second != first
        assert ahead.verify_password(second, PASSWORD) is True


def test_a_prepared_check_answers_only_for_its_own_hash() -> None:
    other = auth.hash_password("another-password")
    with PasswordsAhead([("hash", PASSWORD), ("check", PASSWORD)]) as ahead:
        # Asked about a hash it did not make: argon2 on exactly that hash, now.
        assert ahead.verify_password(other, PASSWORD) is False
        assert ahead.unused() == 2
        assert ahead.verify_password(ahead.hash_password(PASSWORD), "wrong-password") is False
        assert ahead.unused() == 1  # the check prepared for PASSWORD is still waiting


def test_a_prepared_hash_does_not_skip_the_password_rules() -> None:
    with PasswordsAhead([("hash", "short"), ("hash", " padded-password")]) as ahead:
        with pytest.raises(ValidationError, match="shorter than"):
            ahead.hash_password("short")
        with pytest.raises(ValidationError, match="starts or ends with a space"):
            ahead.hash_password(" padded-password")


def test_a_check_without_a_hash_before_it_is_not_prepared() -> None:
    with PasswordsAhead([("check", PASSWORD)]) as ahead:
        assert ahead.unused() == 0


def test_closing_forgets_the_work_and_falls_back_to_argon2_now() -> None:
    ahead = PasswordsAhead([("hash", PASSWORD), ("check", PASSWORD)])
    ahead.close()
    assert ahead.unused() == 0
    made = ahead.hash_password(PASSWORD)
    assert ahead.verify_password(made, PASSWORD) is True


def test_a_store_signs_in_with_work_done_ahead(store: Store) -> None:
    threads: list[str] = []
    real_verify = auth.verify_password

    def spying(password_hash: str, password: str) -> bool:
        threads.append(threading.current_thread().name)
        return real_verify(password_hash, password)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "verify_password", spying)
        ahead = PasswordsAhead([("hash", PASSWORD), ("check", PASSWORD)])
        ahead_store = Store(store.database, passwords=ahead)
        admin = ahead_store.create_first_admin("boss", "The Boss", PASSWORD)
        assert ahead_store.authenticate("boss", PASSWORD).id == admin.id
        assert ahead.unused() == 0
        # A wrong password is checked by argon2 then and there, and refused.
        with pytest.raises(AuthenticationFailed):
            ahead_store.authenticate("boss", "not-the-password")
        ahead.close()
    assert threads[0].startswith("argon2-ahead")
    assert not threads[-1].startswith("argon2-ahead")


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="Unix scheduling priorities")
def test_the_work_ahead_runs_below_the_callers_priority() -> None:
    seen: list[int] = []
    real_hash = auth.hash_password

    def hashing(password: str) -> str:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return real_hash(password)

    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "hash_password", hashing)
        with PasswordsAhead([("hash", PASSWORD)]) as ahead:
            ahead.hash_password(PASSWORD)
    assert seen == [min(mine + WORKER_NICENESS, 19)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine


def test_work_that_failed_ahead_is_done_when_asked() -> None:
    calls = {"n": 0}
    real_hash = auth.hash_password

    def failing_once(password: str) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the worker's argon2 failed")
        return real_hash(password)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "hash_password", failing_once)
        with PasswordsAhead([("hash", PASSWORD), ("check", PASSWORD)]) as ahead:
            made = ahead.hash_password(PASSWORD)  # the prepared one failed: hashed here
            assert auth.verify_password(made, PASSWORD)
            # The check chained on the failed hash failed too: checked here instead.
            assert ahead.verify_password(made, PASSWORD) is True
            assert ahead.verify_password(made, "wrong-password") is False
