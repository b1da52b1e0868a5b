"""Credential checks run outside the write transaction; failed logins are throttled."""

from __future__ import annotations

import threading

import pytest

from db import auth
from db.errors import AuthenticationFailed
from db.store import Actor, Store

from .conftest import PASSWORD
from .helpers import World

pytestmark = pytest.mark.storage


def test_argon2_runs_while_another_writer_commits(
    store: Store, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every login of a storm is held inside its password check until a writer has
    finished its writes: if a login held the write lock (or the advisory lock) during
    argon2, the writer could not finish and the storm would never be released."""
    writer_done = threading.Event()
    in_check = threading.Semaphore(0)
    real_verify = auth.verify_password

    def held_verify(password_hash: str, password: str) -> bool:
        in_check.release()
        assert writer_done.wait(60), "the writer never finished while logins were checked"
        return bool(real_verify(password_hash, password))

    monkeypatch.setattr(auth, "verify_password", held_verify)
    monkeypatch.setattr(auth, "burn_verification_time", lambda p: held_verify("x", p))
    failures: list[BaseException] = []

    def bad_login(name: str) -> None:
        try:
            store.authenticate(name, "wrong password!")
        except AuthenticationFailed:
            pass
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    storm = [
        threading.Thread(target=bad_login, args=("admin" if n % 2 else f"ghost{n}",))
        for n in range(8)
    ]
    for thread in storm:
        thread.start()
    for _ in storm:  # every login is now inside its password check
        assert in_check.acquire(timeout=60)
    monkeypatch.setattr(auth, "verify_password", real_verify)
    World(store, admin)  # several audited writes while eight logins are mid-argon2
    writer_done.set()
    for thread in storm:
        thread.join(60)
    assert not failures and not any(t.is_alive() for t in storm)


def test_failed_logins_are_throttled_exponentially_and_bounded(
    store: Store, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(auth, "pause", waits.append)
    for _ in range(9):
        with pytest.raises(AuthenticationFailed):
            store.authenticate("nobody", "wrong password!")
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    # Per workstation too: another unknown name from here waits as long.
    waits.clear()
    with pytest.raises(AuthenticationFailed):
        store.authenticate("someone-else", "wrong password!")
    assert waits == [8.0]
    # Another workstation, another user: no wait; a success clears the user's count.
    other = Store(store.database, workstation="room-2")
    waits.clear()
    other.authenticate("admin", PASSWORD)
    assert waits == [0.0]


def test_throttle_forgets_old_failures() -> None:
    throttle = auth.LoginThrottle()
    for n in range(6):
        throttle.failed("user:a", now=float(n))
    assert throttle.delay("user:a", now=6.0) == 4.0
    assert throttle.delay("user:a", now=6.0 + auth.THROTTLE_WINDOW_SECONDS) == 0.0


