"""Users: the first administrator, accounts, logins and lockout."""

from __future__ import annotations

from sqlmodel import col, select

from db import auth
from db.errors import AccountLocked, AuthenticationFailed, Conflict, NotFound, ValidationError
from db.images import row_image
from db.store._base import ADMINS, Actor, StoreBase, UnitOfWork, require_reason, snapshot
from db.store.inputs import UserInfo
from db.tables.people import UserRow
from formulary import clinic as clinic_rules
from formulary.records import Clinic, Role

_FAILED = "unknown username or wrong password; check both and try again"


def _actor(row: UserRow) -> Actor:
    assert row.id is not None
    return Actor(row.id, row.username, row.full_name, Role(row.role))


def _info(row: UserRow) -> UserInfo:
    assert row.id is not None
    return UserInfo(
        row.id,
        row.username,
        row.full_name,
        Role(row.role),
        row.active,
        row.locked,
        row.failed_logins,
    )


def _full_name(full_name: str) -> str:
    from db.store import validate as check

    # Control characters are refused before runs of spaces are evened out (the name
    # is printed on signatures), so that a tab or line break is not silently kept.
    name = " ".join(check.text(full_name, "full name", limit=200).split())
    if not name:
        raise ValidationError("the full name is empty; type the name printed on signatures")
    if len(name) > 200:
        raise ValidationError("the full name is longer than 200 characters; shorten it")
    return name


class UsersStore(StoreBase):
    """Accounts and authentication."""

    def has_users(self) -> bool:
        """True once any account exists (the app asks for a first admin otherwise)."""
        with self._reader.connect() as connection:
            from sqlmodel import Session

            with Session(bind=connection) as db:
                return db.exec(select(UserRow.id).limit(1)).first() is not None

    def _new_user(
        self, uow: UnitOfWork, username: str, full_name: str, role: Role, password: str
    ) -> UserRow:
        name = auth.check_username(username)
        key = auth.username_key(name)
        existing = uow.session.exec(select(UserRow).where(UserRow.username_key == key)).first()
        if existing is not None:
            raise Conflict(
                f"the username {name!r} is taken (usernames are never reused); choose another"
            )
        row = UserRow(
            username=name,
            username_key=key,
            full_name=_full_name(full_name),
            role=Role(role).value,
            password_hash=self.passwords.hash_password(password),
            created_at=uow.now,
            updated_at=uow.now,
        )
        return uow.add(row, "user.create")

    def create_first_admin(self, username: str, full_name: str, password: str) -> Actor:
        """Create the first administrator; refused once any user exists.

        The managed-file folder (photos, scans) is created first, beside the database:
        a new clinic can attach a photo at once, and a folder that cannot be created
        stops here, before anything is written.
        """
        self.files.create()
        with self._write(None, ADMINS, "create the first administrator") as uow:
            if uow.session.exec(select(UserRow.id).limit(1)).first() is not None:
                raise Conflict(
                    "this database already has users; sign in as an administrator to add more"
                )
            row = self._new_user(uow, username, full_name, Role.ADMIN, password)
            uow.user = row.username
            return _actor(row)

    def create_user(
        self, actor: Actor, username: str, full_name: str, role: Role, password: str
    ) -> UserInfo:
        """Add an account (administrators only)."""
        with self._write(actor, ADMINS, "add users") as uow:
            return _info(self._new_user(uow, username, full_name, role, password))

    def _user_for_change(self, uow: UnitOfWork, user_id: int) -> UserRow:
        return uow.get(UserRow, user_id, "user", for_update=True)

    def deactivate_user(self, actor: Actor, user_id: int, reason: str) -> UserInfo:
        """Deactivate an account (accounts are never deleted); needs a reason."""
        why = require_reason(reason, "deactivate a user")
        if user_id == actor.id:
            raise ValidationError("you cannot deactivate your own account; ask another admin")
        with self._write(actor, ADMINS, "deactivate users") as uow:
            row = self._user_for_change(uow, user_id)
            before = snapshot(row)
            row.active = False
            row.updated_at = uow.now
            uow.update(row, before, "user.deactivate", why)
            return _info(row)

    def reactivate_user(self, actor: Actor, user_id: int, reason: str) -> UserInfo:
        """Reactivate a deactivated account; needs a reason."""
        why = require_reason(reason, "reactivate a user")
        with self._write(actor, ADMINS, "reactivate users") as uow:
            row = self._user_for_change(uow, user_id)
            before = snapshot(row)
            row.active = True
            row.updated_at = uow.now
            uow.update(row, before, "user.reactivate", why)
            return _info(row)

    def unlock_user(self, actor: Actor, user_id: int, reason: str) -> UserInfo:
        """Unlock an account locked by failed logins; needs a reason."""
        why = require_reason(reason, "unlock a user")
        with self._write(actor, ADMINS, "unlock users") as uow:
            row = self._user_for_change(uow, user_id)
            before = snapshot(row)
            row.locked = False
            row.failed_logins = 0
            row.updated_at = uow.now
            uow.update(row, before, "user.unlock", why)
            return _info(row)

    def set_role(self, actor: Actor, user_id: int, role: Role, reason: str) -> UserInfo:
        """Change an account's role; needs a reason."""
        why = require_reason(reason, "change a role")
        if user_id == actor.id and Role(role) is not Role.ADMIN:
            raise ValidationError("you cannot remove your own administrator role")
        with self._write(actor, ADMINS, "change roles") as uow:
            row = self._user_for_change(uow, user_id)
            before = snapshot(row)
            row.role = Role(role).value
            row.updated_at = uow.now
            uow.update(row, before, "user.set_role", why)
            return _info(row)

    def reset_password(
        self, actor: Actor, user_id: int, new_password: str, reason: str
    ) -> UserInfo:
        """Set another user's password (administrators); also unlocks the account."""
        why = require_reason(reason, "reset a password")
        new_hash = self.passwords.hash_password(new_password)
        with self._write(actor, ADMINS, "reset passwords") as uow:
            row = self._user_for_change(uow, user_id)
            before = snapshot(row)
            row.password_hash = new_hash
            row.locked = False
            row.failed_logins = 0
            row.updated_at = uow.now
            uow.update(row, before, "user.reset_password", why)
            return _info(row)

    def change_password(self, actor: Actor, old_password: str, new_password: str) -> None:
        """Change one's own password (the old one must be right)."""
        self.verify_password(actor, old_password)
        new_hash = self.passwords.hash_password(new_password)
        with self._write(actor, frozenset(Role), "change your password") as uow:
            row = self._user_for_change(uow, actor.id)
            before = snapshot(row)
            row.password_hash = new_hash
            row.updated_at = uow.now
            uow.update(row, before, "user.change_password", None)

    def set_clinic(self, actor: Actor, name: str, address: str = "") -> None:
        """Set the clinic name and address printed on every export (administrators)."""
        self.update_clinic(actor, name=name, address=address)

    def clinic(self, actor: Actor) -> Clinic:
        """The clinic's details and settings as exports print them (any signed-in user)."""
        from db.loaders import clinic

        with self._read(actor, frozenset(Role), "see the clinic details") as db:
            return clinic(db, self.workstation)

    def set_clinic_settings(
        self,
        actor: Actor,
        *,
        identifier: str | None = None,
        beyond_use_minutes: int | None = None,
    ) -> None:
        """Change the clinic identifier and/or the label's beyond-use time (administrators).

        The identifier names the clinic in every export's identifier systems and
        resource ids: changing it renames every exported resource, so it is audited
        like any other change. ``""`` goes back to the default (the database id).
        """
        self.update_clinic(actor, identifier=identifier, beyond_use_minutes=beyond_use_minutes)

    def update_clinic(
        self,
        actor: Actor,
        *,
        name: str | None = None,
        address: str | None = None,
        identifier: str | None = None,
        beyond_use_minutes: int | None = None,
        photo_limit_bytes: int | None = None,
    ) -> None:
        """Change any of the clinic's details in one transaction (administrators).

        ``None`` leaves a detail as it is. Everything is checked before anything is
        written (:mod:`db.store.validate`, bounds from :mod:`formulary.clinic`), so a
        refusal writes nothing. Each part that changes is audited under its own action:
        ``installation.set_clinic`` (name, address), ``installation.set_clinic_settings``
        (identifier, beyond-use time), ``installation.set_photo_limit``; a part left as
        it was is not audited.
        """
        from db.store import validate as check
        from db.tables.installation import InstallationRow

        details: dict[str, object] = {}
        settings: dict[str, object] = {}
        photos: dict[str, object] = {}
        if name is not None:
            details["clinic_name"] = check.text(
                name, "clinic name", limit=clinic_rules.NAME_LIMIT, required=True
            )
        if address is not None:
            details["clinic_address"] = check.text(
                address, "clinic address", limit=clinic_rules.ADDRESS_LIMIT, multiline=True
            )
        if identifier is not None:
            settings["clinic_identifier"] = check.clinic_identifier(identifier)
        if beyond_use_minutes is not None:
            settings["beyond_use_minutes"] = check.beyond_use_minutes(beyond_use_minutes)
        if photo_limit_bytes is not None:
            photos["photo_max_bytes"] = check.photo_limit(photo_limit_bytes)
        parts = (
            ("installation.set_clinic", details),
            ("installation.set_clinic_settings", settings),
            ("installation.set_photo_limit", photos),
        )
        with self._write(actor, ADMINS, "change the clinic details") as uow:
            row = uow.session.exec(select(InstallationRow).with_for_update()).one()
            for action, values in parts:
                if values:
                    before = snapshot(row)
                    for column, value in values.items():
                        setattr(row, column, value)
                    uow.update(row, before, action, None)

    def list_users(self, actor: Actor) -> list[UserInfo]:
        """Every account, active or not (administrators and auditors)."""
        with self._read(actor, frozenset({Role.ADMIN, Role.AUDITOR}), "list users") as db:
            rows = db.exec(select(UserRow).order_by(col(UserRow.username_key))).all()
            return [_info(r) for r in rows]

    # -- authentication -------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> Actor:
        """Sign in. Every success and failure is audited; 5 failures lock the account.

        Raises :class:`AuthenticationFailed` (unknown user, wrong password, inactive
        account) or :class:`AccountLocked`.
        """
        return self._check_credentials(username, password, purpose="login")

    def verify_password(self, actor: Actor, password: str, *, purpose: str = "signature") -> None:
        """Re-check a signed-in user's password (before signing); failures count too.

        ``purpose`` names the audit action of a failure (``auth.<purpose>_failed``):
        ``signature`` for signing a session or addendum, ``override`` for a safety override.
        """
        self._check_credentials(actor.username, password, purpose=purpose)

    def _check_credentials(self, username: str, password: str, *, purpose: str) -> Actor:
        # argon2 is deliberately slow: it runs after a read and outside the write
        # transaction (no write lock, no advisory lock), and failed attempts are
        # throttled before it, so a storm of bad logins cannot stall other writers.
        import time

        key = auth.username_key(username)
        user_key, station_key = f"user:{key}", f"workstation:{self.workstation}"
        auth.pause(self.login_throttle.delay(user_key, station_key, now=time.monotonic()))
        with self._reader.connect() as connection:
            from sqlmodel import Session

            with Session(bind=connection) as db:
                seen = db.exec(select(UserRow).where(UserRow.username_key == key)).first()
                seen_hash = None if seen is None else seen.password_hash
                seen_locked = seen is not None and seen.locked
            connection.rollback()
        if seen_hash is None:
            auth.burn_verification_time(password)
            correct = False
        elif seen_locked:
            correct = False  # no need to spend argon2 on a locked account
        else:
            correct = self.passwords.verify_password(seen_hash, password)
        if correct:
            self.login_throttle.succeeded(user_key)
        else:
            self.login_throttle.failed(user_key, station_key, now=time.monotonic())
        failure: Exception | None = None
        actor: Actor | None = None
        with self._write(None, ADMINS, "sign in", guard=False) as uow:
            row = uow.session.exec(
                select(UserRow).where(UserRow.username_key == key).with_for_update()
            ).first()
            if row is not None and row.password_hash != seen_hash:
                # The password was changed between the check and now: check again
                # (rare; this one time under the lock is the price of correctness).
                correct = self.passwords.verify_password(row.password_hash, password)
            if row is None:
                uow.audit(
                    f"auth.{purpose}_failed",
                    "app_user",
                    None,
                    None,
                    None,
                    "unknown username",
                    user=_audit_name(username),
                )
                failure = AuthenticationFailed(_FAILED)
            elif row.locked:
                uow.audit(
                    f"auth.{purpose}_refused",
                    "app_user",
                    row.id,
                    None,
                    None,
                    "account locked",
                    user=row.username,
                )
                failure = AccountLocked(
                    f"the account {row.username} is locked after {auth.MAX_FAILED_LOGINS} "
                    "failed logins; an administrator must unlock it"
                )
            elif not correct:
                before = snapshot(row)
                row.failed_logins += 1
                row.locked = row.failed_logins >= auth.MAX_FAILED_LOGINS
                row.updated_at = uow.now
                uow.session.add(row)
                uow.session.flush()
                uow.audit(
                    f"auth.{purpose}_failed",
                    "app_user",
                    row.id,
                    before,
                    row_image(row),
                    "wrong password" + ("; account locked" if row.locked else ""),
                    user=row.username,
                )
                failure = (
                    AccountLocked(
                        f"wrong password; the account {row.username} is now locked after "
                        f"{auth.MAX_FAILED_LOGINS} failed attempts; an administrator must "
                        "unlock it"
                    )
                    if row.locked
                    else AuthenticationFailed(_FAILED)
                )
            elif not row.active:
                uow.audit(
                    f"auth.{purpose}_refused",
                    "app_user",
                    row.id,
                    None,
                    None,
                    "account deactivated",
                    user=row.username,
                )
                failure = AuthenticationFailed(
                    f"the account {row.username} is deactivated; ask an administrator"
                )
            elif purpose == "login":
                before = snapshot(row)
                changed = row.failed_logins != 0
                row.failed_logins = 0
                if changed:
                    row.updated_at = uow.now
                    uow.session.add(row)
                    uow.session.flush()
                uow.audit(
                    "auth.login",
                    "app_user",
                    row.id,
                    before if changed else None,
                    row_image(row) if changed else None,
                    None,
                    user=row.username,
                )
            # A correct signature password is not audited on its own: the signature it
            # authorises is, and a signature refused for other reasons leaves no trace.
            if failure is None and row is not None:
                actor = _actor(row)
        if failure is not None:
            raise failure
        assert actor is not None
        return actor

    def get_user(self, actor: Actor, user_id: int) -> UserInfo:
        """One account."""
        with self._read(actor, frozenset(Role), "read users") as db:
            row = db.get(UserRow, user_id)
            if row is None:
                raise NotFound(f"user {user_id} does not exist; pick one from the list")
            return _info(row)


def _audit_name(username: str) -> str:
    # What was typed, trimmed to what the audit column holds (it may not be a user).
    text = "".join(ch for ch in username if ch.isprintable()).strip() or "(empty)"
    return text[:200]
