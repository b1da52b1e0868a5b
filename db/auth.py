"""Passwords, usernames and login lockout rules.

Passwords are hashed with argon2id at argon2-cffi's defaults. Usernames are unique
after NFKC normalisation and case folding, so ``Ｄr.Lee`` and ``dr.lee`` are the
same account. After :data:`MAX_FAILED_LOGINS` consecutive failures an account is
locked until an administrator unlocks it.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import TYPE_CHECKING, Protocol

from db.errors import ValidationError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

#: Consecutive failed logins that lock an account.
MAX_FAILED_LOGINS = 5

#: Shortest password accepted.
MIN_PASSWORD_LENGTH = 8

#: A hash verified against when the user does not exist, so timing does not reveal it.
_DUMMY_PASSWORD = "formulary-no-such-user"  # noqa: S105 - not a credential


@cache
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


def load_hasher() -> None:
    """Import argon2 and make the hasher now, on the calling thread."""
    _hasher()


def username_key(username: str) -> str:
    """The comparison key of a username: NFKC, case-folded, NFKC again, trimmed."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())
    return folded.strip()


def check_username(username: str) -> str:
    """The username as it will be stored, or :class:`ValidationError` saying why not."""
    name = unicodedata.normalize("NFKC", username).strip()
    if not name:
        raise ValidationError("the username is empty; type a username")
    if len(name) > 100:
        raise ValidationError("the username is longer than 100 characters; shorten it")
    if any(unicodedata.category(ch).startswith(("C", "Z")) and ch != " " for ch in name):
        raise ValidationError("the username contains control or separator characters; remove them")
    if " " in name:
        raise ValidationError("the username contains a space; use letters, digits, '.', '-' or '_'")
    return name


def check_password(password: str) -> None:
    """Refuse a password too short to protect a clinical record."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"the password is shorter than {MIN_PASSWORD_LENGTH} characters; choose a longer one"
        )
    if password.strip() != password:
        raise ValidationError("the password starts or ends with a space; remove it")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (after checking it is long enough)."""
    check_password(password)
    return str(_hasher().hash(password))


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


class PasswordHashing(Protocol):
    """Where a Store's argon2 work on account passwords is done."""

    def hash_password(self, password: str) -> str:
        """An argon2id hash of ``password`` (after checking it is long enough)."""
        ...

    def verify_password(self, password_hash: str, password: str) -> bool:
        """True when ``password`` matches ``password_hash``."""
        ...


class Argon2Now:
    """argon2 run when asked, on the calling thread (every Store's default)."""

    def hash_password(self, password: str) -> str:
        """See :func:`hash_password`."""
        return hash_password(password)

    def verify_password(self, password_hash: str, password: str) -> bool:
        """See :func:`verify_password`."""
        return verify_password(password_hash, password)


@cache
def _dummy_hash() -> str:
    return str(_hasher().hash(_DUMMY_PASSWORD))


def burn_verification_time(password: str) -> None:
    """Spend as long as a real verification, for logins with an unknown username."""
    verify_password(_dummy_hash(), password)


# -- throttling ------------------------------------------------------------------------

#: Failures forgiven before any delay (a mistyped password or two costs nothing).
THROTTLE_FREE_FAILURES = 2
#: First delay once the free failures are spent, doubled for each further one (seconds).
THROTTLE_BASE_SECONDS = 0.5
#: The longest a login is ever held back.
THROTTLE_MAX_SECONDS = 8.0
#: A failure older than this no longer counts.
THROTTLE_WINDOW_SECONDS = 300.0


class LoginThrottle:
    """Failed logins per username and per workstation, and the delay they earn.

    After ``n`` recent failures of the same username or the same workstation (whichever
    is more), beyond the first ``THROTTLE_FREE_FAILURES``, the next attempt waits
    ``base * 2**(n - free - 1)`` seconds, at most ``THROTTLE_MAX_SECONDS``. The wait
    happens before the password is checked and outside every transaction, so a storm
    of bad logins slows only itself, never other writers.
    The Store keeps one per workstation it serves (the app's whole life; one CLI
    command); across processes the per-account lockout still applies.
    """

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._failures: dict[str, list[float]] = {}

    def delay(self, *keys: str, now: float) -> float:
        """Seconds the next attempt under ``keys`` must wait."""
        with self._lock:
            worst = 0
            for key in keys:
                recent = [
                    t for t in self._failures.get(key, []) if now - t < THROTTLE_WINDOW_SECONDS
                ]
                self._failures[key] = recent
                worst = max(worst, len(recent))
        counted = worst - THROTTLE_FREE_FAILURES
        if counted <= 0:
            return 0.0
        return float(min(THROTTLE_BASE_SECONDS * 2 ** (counted - 1), THROTTLE_MAX_SECONDS))

    def failed(self, *keys: str, now: float) -> None:
        """Count a failure under each key."""
        with self._lock:
            for key in keys:
                bucket = self._failures.setdefault(key, [])
                bucket.append(now)
                del bucket[:-64]  # the delay is bounded long before this

    def succeeded(self, key: str) -> None:
        """A correct password clears that username's failures."""
        with self._lock:
            self._failures.pop(key, None)


def pause(seconds: float) -> None:
    """Sleep (a seam for tests)."""
    import time

    if seconds > 0:
        time.sleep(seconds)
