"""argon2 work started ahead, on a second core, for a series of accounts known in advance.

argon2 is deliberately slow (about a tenth of a second per hash or check here) and
runs in C without holding Python's lock. A caller that knows which passwords it will
hash and check, in which order (the demo builder: its three accounts, their sign-ins
and its two signing runs), starts that work here on a worker thread while the main
thread goes on importing, creating the database and writing records.

Every hash and every check is still a full argon2 operation on exactly the inputs
the Store gives: :meth:`PasswordsAhead.verify_password` answers from a prepared check
only when it was made against the very hash and password asked about, and each
prepared result is used once. Anything not prepared (or prepared for other inputs)
is computed then and there, as :mod:`db.auth` would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Literal

from db import auth

#: One step of the work: hash a password, or check it against its latest prepared hash.
Step = tuple[Literal["hash", "check"], str]


class PasswordsAhead:
    """Prepared argon2 hashes and checks, served once each; :mod:`db.auth` for the rest.

    Use as a context manager (or call :meth:`close`): closing cancels what was not
    started and forgets the passwords.
    """

    def __init__(self, steps: Iterable[Step]) -> None:
        # argon2's extension loads here, not on the worker: loaded there, it held up
        # whatever the caller was importing meanwhile by about 25 ms.
        auth.load_hasher()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="argon2-ahead", initializer=_yield_to_the_caller
        )
        self._hashes: dict[str, list[Future[str]]] = {}
        self._checks: dict[str, list[Future[tuple[str, bool]]]] = {}
        latest: dict[str, Future[str]] = {}
        for kind, password in steps:
            if kind == "hash":
                made = self._pool.submit(auth.hash_password, password)
                latest[password] = made
                self._hashes.setdefault(password, []).append(made)
            elif password in latest:
                # One worker runs the steps in order, so the hash is ready by now.
                self._checks.setdefault(password, []).append(
                    self._pool.submit(_check, latest[password], password)
                )

    def hash_password(self, password: str) -> str:
        """A prepared hash of ``password`` (the policy checked first), or a new one."""
        auth.check_password(password)
        with self._lock:
            queue = self._hashes.get(password)
            prepared = queue.pop(0) if queue else None
        if prepared is not None:
            try:
                return prepared.result()
            except Exception:  # noqa: S110 - cancelled, or it failed there: hashed here
                pass
        return auth.hash_password(password)

    def verify_password(self, password_hash: str, password: str) -> bool:
        """A prepared check of exactly this hash and password, or a new one."""
        with self._lock:
            queue = list(self._checks.get(password, ()))
        for prepared in queue:
            try:
                checked_hash, correct = prepared.result()
            except Exception:  # noqa: S112 - cancelled, or it failed there: checked here
                continue
            if checked_hash != password_hash:
                continue
            with self._lock:
                waiting = self._checks.get(password, [])
                if prepared in waiting:
                    waiting.remove(prepared)
                    return correct
        return auth.verify_password(password_hash, password)

    def unused(self) -> int:
        """Prepared hashes and checks nobody asked for (a caller's plan that drifted)."""
        with self._lock:
            return sum(len(q) for q in self._hashes.values()) + sum(
                len(q) for q in self._checks.values()
            )

    def close(self) -> None:
        """Cancel the work not started and forget the passwords."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._hashes.clear()
            self._checks.clear()

    def __enter__(self) -> PasswordsAhead:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


#: How much lower the worker runs than the thread that started it (Unix nice steps).
WORKER_NICENESS = 10


def _yield_to_the_caller() -> None:
    """Lower the worker's scheduling priority (and so its argon2 lanes' threads').

    argon2 computes its four lanes on threads of its own, made by the worker and
    inheriting its priority. At the same priority, on a two-core machine they would
    take a share of the core the caller's own work runs on; lowered, they use what
    the caller leaves. The work is the same; only who waits for whom changes.
    """
    import contextlib
    import os

    if hasattr(os, "setpriority"):
        # Refused (it never is for lowering): the work is as right, only less polite.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)


def _check(made: Future[str], password: str) -> tuple[str, bool]:
    password_hash = made.result()
    return password_hash, auth.verify_password(password_hash, password)
