"""Passwords, usernames and login lockout rules.

Passwords are hashed with argon2id at argon2-cffi's defaults. Usernames are unique
after NFKC normalisation and case folding, so ``Ｄr.Lee`` and ``dr.lee`` are the
same account. After :data:`MAX_FAILED_LOGINS` consecutive failures an account is
locked until an administrator unlocks it.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import TYPE_CHECKING

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


@cache
def _dummy_hash() -> str:
    return str(_hasher().hash(_DUMMY_PASSWORD))


def burn_verification_time(password: str) -> None:
    """Spend as long as a real verification, for logins with an unknown username."""
    verify_password(_dummy_hash(), password)
