"""The administrator recovery code: the way back in when every administrator is locked out.

``formulary init`` prints a one-time recovery code. Only its argon2id hash is kept,
in the audit trail (entity ``recovery_code``, action ``recovery.code_set``; the code
is 125 random bits, so its hash can sit in a trail that auditors read). The code
unlocks an administrator account and, optionally, sets its password; that use is
audited (``user.recover``) and the code is replaced in the same transaction by a
new one, printed once.
"""

from __future__ import annotations

import base64
import json
import secrets
import time

import sqlalchemy as sa
from sqlmodel import select

from db import auth
from db.errors import AuthenticationFailed, NotFound, PermissionDenied
from db.images import row_image
from db.store._base import ADMINS, SYSTEM_USER, Actor, StoreBase, UnitOfWork, snapshot
from db.tables.people import UserRow
from formulary.records import Role

RECOVERY_ENTITY = "recovery_code"
RECOVERY_SET = "recovery.code_set"
RECOVERY_USED = "user.recover"
RECOVERY_FAILED = "recovery.failed"

_WRONG = "the recovery code is wrong; type it exactly as printed (dashes optional)"


def new_code() -> str:
    """25 base32 characters (125 random bits) in five groups: ``ABCDE-FGHIJ-…``."""
    raw = base64.b32encode(secrets.token_bytes(16)).decode("ascii")[:25]
    return "-".join(raw[i : i + 5] for i in range(0, 25, 5))


def normalise(code: str) -> str:
    """The code as hashed: upper case, without dashes or spaces."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


class RecoveryStore(StoreBase):
    """Issuing and using the administrator recovery code."""

    def _store_code(self, uow: UnitOfWork, user: str | None = None) -> str:
        code = new_code()
        digest = auth._hasher().hash(normalise(code))
        uow.audit(
            RECOVERY_SET,
            RECOVERY_ENTITY,
            None,
            None,
            {"argon2": digest},
            "one-time administrator recovery code issued",
            user=user,
        )
        return code

    def issue_recovery_code(self, actor: Actor) -> str:
        """A new recovery code (administrators), replacing any earlier one; print it once."""
        with self._write(actor, ADMINS, "issue a recovery code", guard=False) as uow:
            return self._store_code(uow)

    def _stored_hash(self) -> str | None:
        with self._reader.connect() as conn:
            after = conn.execute(
                sa.text(
                    "SELECT after FROM audit_event WHERE entity = :e AND action = :a"
                    " ORDER BY seq DESC LIMIT 1"
                ),
                {"e": RECOVERY_ENTITY, "a": RECOVERY_SET},
            ).scalar()
            conn.rollback()
        if after is None:
            return None
        try:
            return str(json.loads(after)["argon2"])
        except (ValueError, KeyError, TypeError):
            return None

    def recover_admin(
        self, username: str, code: str, new_password: str | None = None
    ) -> tuple[Actor, str]:
        """Unlock (and reactivate) the administrator ``username`` with the recovery code.

        With ``new_password`` its password is replaced too. Audited as ``user.recover``;
        the code is then replaced by a new one, returned with the account to print once.
        A wrong code is audited and throttled like a failed login.
        """
        new_hash = self.passwords.hash_password(new_password) if new_password is not None else None
        throttle_key = "recovery"
        auth.pause(self.login_throttle.delay(throttle_key, now=time.monotonic()))
        stored = self._stored_hash()
        correct = stored is not None and self.passwords.verify_password(stored, normalise(code))
        key = auth.username_key(username)
        failure: Exception
        with self._write(None, ADMINS, "recover an administrator", guard=False) as uow:
            if not correct or self._stored_hash_in(uow) != stored:
                self.login_throttle.failed(throttle_key, now=time.monotonic())
                uow.audit(
                    RECOVERY_FAILED, RECOVERY_ENTITY, None, None, None,
                    "wrong recovery code" if stored else "no recovery code was issued",
                    user=SYSTEM_USER,
                )
                failure = AuthenticationFailed(
                    _WRONG if stored else "this database has no recovery code; "
                    "restore a backup or ask your supplier"
                )
            else:
                row = uow.session.exec(
                    select(UserRow).where(UserRow.username_key == key).with_for_update()
                ).first()
                if row is None:
                    failure = NotFound(f"there is no account {username}; check the name")
                elif Role(row.role) is not Role.ADMIN:
                    failure = PermissionDenied(
                        f"{row.username} is not an administrator; the recovery code only "
                        "restores administrators (who then unlock the others)"
                    )
                else:
                    before = snapshot(row)
                    row.locked = False
                    row.failed_logins = 0
                    row.active = True
                    if new_hash is not None:
                        row.password_hash = new_hash
                    row.updated_at = uow.now
                    uow.session.add(row)
                    uow.session.flush()
                    uow.audit(
                        RECOVERY_USED,
                        "app_user",
                        row.id,
                        before,
                        row_image(row),
                        "administrator restored with the recovery code"
                        + ("; password replaced" if new_hash is not None else ""),
                        user=row.username,
                    )
                    fresh = self._store_code(uow, user=row.username)
                    assert row.id is not None
                    return Actor(row.id, row.username, row.full_name, Role.ADMIN), fresh
        raise failure

    def _stored_hash_in(self, uow: UnitOfWork) -> str | None:
        # Under the write lock: the code must not have been used (and replaced) meanwhile.
        after = uow.session.execute(
            sa.text(
                "SELECT after FROM audit_event WHERE entity = :e AND action = :a"
                " ORDER BY seq DESC LIMIT 1"
            ),
            {"e": RECOVERY_ENTITY, "a": RECOVERY_SET},
        ).scalar()
        if after is None:
            return None
        try:
            return str(json.loads(after)["argon2"])
        except (ValueError, KeyError, TypeError):
            return None
