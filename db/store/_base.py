"""The Store's foundation: who is acting, role checks, and the unit of work.

Every write runs in one :class:`UnitOfWork`: one database transaction holding the
change, one audit entry per changed row (its complete before and after images) and
every derived effect. It commits all of it or none of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from db.audit.chain import (
    PG_APPEND_LOCK_KEY,
    AuditInputError,
    append_entries,
    build_entry,
)
from db.auth import PasswordHashing
from db.database import Database
from db.engine import READ_ONLY, is_busy_error
from db.errors import (
    CheckpointFailed,
    Conflict,
    DatabaseUnavailable,
    KeyNotTrusted,
    NotFound,
    PermissionDenied,
    RolledBack,
    ValidationError,
)
from db.files import ManagedFolder, resolve_files_dir
from db.images import row_image, table_name
from db.store import clock
from db.store.roles import (
    ADMINS,
    AUDIT_READERS,
    EVERYONE,
    PREPARERS,
    SIGNERS,
    Actor,
    require_role,
)
from db.store.signing import RunCredential
from db.tables.people import UserRow
from db.workstation import workstation_name
from formulary import text as plain_text
from formulary.records import Checkpoint, Role

# The role sets and Actor are declared once in db.store.roles; the Store's areas
# take them from here together with the unit of work.
__all__ = [
    "ADMINS",
    "AUDIT_READERS",
    "EVERYONE",
    "PREPARERS",
    "SIGNERS",
    "SYSTEM_USER",
    "Actor",
    "StoreBase",
    "UnitOfWork",
    "require_reason",
    "require_role",
    "snapshot",
]

#: Audit user name of changes made by the application itself (library seeding).
SYSTEM_USER = "system"

#: Attempts at BEGIN IMMEDIATE when SQLite reports busy despite the busy timeout.
BEGIN_ATTEMPTS = 8

R = TypeVar("R", bound=SQLModel)


#: Rows one write transaction keeps alive at most (see :class:`_WriteSession`).
HELD_ROWS = 50_000


class _WriteSession(Session):
    """The session of one write transaction: it keeps the rows it loads until it ends.

    The identity map holds rows weakly: a row read, let go and needed again in the same
    transaction (the signer's account, the course, a lot) was read from the database
    again, a dozen such reads per signature. Bounded, for the exports that read
    thousands of rows in one transaction; past the bound a row is simply read again.
    """


@sa.event.listens_for(_WriteSession, "loaded_as_persistent")
def _hold_loaded(session: Session, instance: object) -> None:
    held: list[object] = session.info.setdefault("held", [])
    if len(held) < HELD_ROWS:
        held.append(instance)


def require_reason(reason: str | None, what: str) -> str:
    """The trimmed reason, or :class:`ValidationError` when none was given."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError(f"give a reason to {what}; changes to a record are explained")
    if len(text) > 500:
        raise ValidationError("the reason is longer than 500 characters; shorten it")
    if (wrong := plain_text.problem(text, multiline=True)) is not None:
        raise ValidationError(f"the reason {wrong}")
    return text


class UnitOfWork:
    """One open write transaction; records an audit entry for every row it changes."""

    def __init__(self, session: Session, *, db_id: str, user: str, workstation: str) -> None:
        self.session = session
        self.db_id = db_id
        self.user = user
        self.workstation = workstation
        #: One clock reading for the whole transaction: every row and entry agrees.
        self.now: datetime = clock.now()

    def get(self, model: type[R], ident: int, what: str, *, for_update: bool = False) -> R:
        """The row ``ident`` of ``model`` or :class:`NotFound` naming ``what``."""
        row = self.session.get(model, ident, with_for_update=for_update or None)
        if row is None or getattr(row, "deleted_at", None) is not None:
            raise NotFound(f"{what} {ident} does not exist; pick one from the list")
        return row

    def get_many(
        self, model: type[R], idents: Iterable[int], *, for_update: bool = False
    ) -> dict[int, R]:
        """The rows of ``model`` among ``idents`` that exist and are not retired, by id.

        One query for them all, where :meth:`get` would make one each; the caller
        raises :class:`NotFound` for an id it needs and does not find.
        """
        wanted = sorted(set(idents))
        if not wanted:
            return {}
        table = model.__table__  # type: ignore[attr-defined]
        query = select(model).where(table.c.id.in_(wanted))
        if for_update:
            query = query.with_for_update()
        return {
            int(row.id): row  # type: ignore[attr-defined]
            for row in self.session.exec(query).all()
            if getattr(row, "deleted_at", None) is None
        }

    def add(self, row: R, action: str, reason: str | None = None) -> R:
        """Insert ``row`` and audit it (``before`` empty, ``after`` the full row)."""
        self.session.add(row)
        self.session.flush()
        self.audit(action, table_name(row), _ident(row), None, row_image(row), reason)
        return row

    def update(self, row: R, before: dict[str, Any], action: str, reason: str | None) -> bool:
        """Write the changes made to ``row`` since ``before`` was taken; False if none."""
        self.session.add(row)
        self.session.flush()
        after = row_image(row)
        if after == before:
            return False
        self.audit(action, table_name(row), _ident(row), before, after, reason)
        return True

    def add_all(self, rows: Sequence[R], action: str, reason: str | None = None) -> None:
        """Insert ``rows`` in one flush, then audit each in order (as :meth:`add` does)."""
        self.session.add_all(rows)
        self.session.flush()
        self._audit_all(
            [(action, table_name(row), _ident(row), None, row_image(row), reason) for row in rows]
        )

    def update_all(
        self,
        changed: Sequence[tuple[R, dict[str, Any]]],
        action: str,
        reason: str | None,
    ) -> None:
        """Write the changes to each ``(row, before)`` in one flush, then audit each in order."""
        self.session.add_all([row for row, _ in changed])
        self.session.flush()
        items = []
        for row, before in changed:
            after = row_image(row)
            if after != before:
                items.append((action, table_name(row), _ident(row), before, after, reason))
        self._audit_all(items)

    def _audit_all(
        self,
        items: Sequence[
            tuple[
                str, str, int | str | None, dict[str, Any] | None, dict[str, Any] | None,
                str | None,
            ]
        ],
        *,
        user: str | None = None,
    ) -> None:
        """Append one audit entry per item (action, entity, id, before, after, reason)."""
        try:
            entries = [
                (
                    build_entry(
                        user=user or self.user,
                        workstation=self.workstation,
                        action=action,
                        entity=entity,
                        entity_id=entity_id,
                        before=before,
                        after=after,
                        reason=reason,
                        now=self.now,
                    ),
                    before,
                    after,
                )
                for action, entity, entity_id, before, after, reason in items
            ]
        except AuditInputError as exc:
            raise ValidationError(str(exc)) from exc
        append_entries(self.session, self.db_id, entries)

    @staticmethod
    def differs(row: SQLModel, before: dict[str, Any]) -> bool:
        """True when ``row`` now differs from ``before`` other than in ``updated_at``."""
        after = row_image(row)
        return {k: v for k, v in after.items() if k != "updated_at"} != {
            k: v for k, v in before.items() if k != "updated_at"
        }

    def audit(
        self,
        action: str,
        entity: str,
        entity_id: int | str | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        reason: str | None,
        *,
        user: str | None = None,
    ) -> None:
        """Append one audit entry in this transaction."""
        self._audit_all([(action, entity, entity_id, before, after, reason)], user=user)


def _ident(row: SQLModel) -> int:
    value = getattr(row, "id", None)
    assert isinstance(value, int), "rows are flushed before they are audited"
    return value


def snapshot(row: SQLModel) -> dict[str, Any]:
    """The before-image of ``row`` (take it before changing anything)."""
    return row_image(row)


class StoreBase:
    """Connection handling shared by every area of the Store."""

    def __init__(
        self,
        database: Database,
        workstation: str | None = None,
        *,
        key_dir: Path | str | None = None,
        files_dir: Path | str | None = None,
        passwords: PasswordHashing | None = None,
    ) -> None:
        self.database = database
        self.workstation = (workstation or workstation_name())[:200]
        self._reader = database.engine.execution_options(**{READ_ONLY: True})
        #: Where the installation key and checkpoint log live (None: the default place).
        self.key_dir = key_dir
        #: The managed-file folder (photos, scans) beside the database (db.files).
        self.files = ManagedFolder(
            resolve_files_dir(database.path, database.db_id, files_dir)
        )
        #: The checkpoint written after the last signature made through this Store.
        self.last_checkpoint: Checkpoint | None = None
        from db.auth import Argon2Now, LoginThrottle

        #: Where account passwords are hashed and checked (argon2, on this thread unless
        #: a caller that knows its accounts in advance prepared the work: db.auth_ahead).
        self.passwords: PasswordHashing = passwords or Argon2Now()
        #: Failed logins through this Store (per username and per workstation).
        self.login_throttle = LoginThrottle()
        #: Signing runs this Store opened and has not ended, by id (db.store.signing).
        self._signing_runs: dict[str, RunCredential] = {}
        self._signing_runs_lock = threading.Lock()

    def _checkpoint(self, what: str, *, acknowledged: bool = False) -> Checkpoint:
        """Sign the chain's new head after a signature has committed.

        Runs after the commit, never inside it: a checkpoint must only ever name a head
        that is durable, or a rollback would look like tampering.
        """
        from db.audit.keys import CheckpointKeyError
        from db.audit.service import checkpoint_database

        try:
            checkpoint = checkpoint_database(
                self.database, key_dir=self.key_dir, acknowledged=acknowledged
            )
        except (OSError, ValueError, KeyNotTrusted, CheckpointKeyError) as exc:
            raise CheckpointFailed(
                f"the {what} is signed and saved, but its audit checkpoint could not be "
                f"written ({exc}); do not record it again: fix the key folder and run "
                "'formulary audit checkpoint'"
            ) from exc
        self.last_checkpoint = checkpoint
        return checkpoint

    # -- transactions -------------------------------------------------------------

    def _begin(self) -> Session:
        delay = 0.02
        for attempt in range(BEGIN_ATTEMPTS):
            session = _WriteSession(
                self.database.engine, expire_on_commit=False, autoflush=False
            )
            try:
                session.connection()  # BEGIN IMMEDIATE happens here on SQLite
                if self.database.dialect == "postgresql":
                    # Take the audit append lock first, before any row lock: writers
                    # queue in one order and can never deadlock on each other.
                    session.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_APPEND_LOCK_KEY}
                    )
                return session
            except sa.exc.OperationalError as exc:
                session.close()
                if not is_busy_error(exc):
                    raise _unavailable(exc) from exc
                if attempt == BEGIN_ATTEMPTS - 1:
                    raise Conflict(
                        "the database stayed busy with another workstation's change; try again"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")  # pragma: no cover

    def _guard(self, uow: UnitOfWork) -> None:
        """Refuse the write unless the key is the pinned one and the chain is not rolled back.

        Runs inside the write transaction (the lock is held, so the head read is the
        one this write extends). The key is pinned at its first use, the first
        checkpoint (``init`` makes one at once); until then there is no key to check.
        See :mod:`db.audit.pinning`.
        """
        from db.audit.chain import note_head
        from db.audit.pinning import (
            newest_checkpoint,
            read_chain_state,
            state_rollback_problem,
            tail_lines,
            trusted_key,
        )

        db_id = self.database.db_id
        newest = newest_checkpoint(tail_lines(db_id, self.key_dir))
        state = read_chain_state(uow.session, newest)
        # The head this write extends: the appends start from it without reading it again.
        note_head(uow.session.connection(), *state.head)
        if state.pin is not None:
            trusted_key(db_id, state.pin, self.key_dir)
        problem = state_rollback_problem(state, db_id, newest)
        if problem is not None:
            raise RolledBack(problem)

    @contextmanager
    def transaction(
        self,
        actor: Actor | None,
        allowed: frozenset[Role],
        what: str,
        *,
        guard: bool = True,
    ) -> Iterator[UnitOfWork]:
        """One write transaction for ``actor`` (None: the application itself).

        The public unit of work: checks that ``actor``'s role is in ``allowed`` (and that
        the stored account still allows it), takes the write lock (``BEGIN IMMEDIATE`` on
        SQLite, the audit append lock on PostgreSQL) and yields a :class:`UnitOfWork`.
        Everything written through it (rows via ``uow.add``/``uow.update``, entries via
        ``uow.audit``) commits together when the block ends, or not at all when it
        raises. ``what`` completes the refusal messages ("cannot <what>").
        Every write first checks the pinned key and the newest checkpoint (see
        :meth:`_guard`); ``guard=False`` only for what must work while writing is
        refused (signing in, replacing the key, acknowledging a rollback, recovery).
        """
        if actor is not None:
            require_role(actor, allowed, what)
        session = self._begin()
        try:
            uow = UnitOfWork(
                session,
                db_id=self.database.db_id,
                user=actor.username if actor is not None else SYSTEM_USER,
                workstation=self.workstation,
            )
            if actor is not None:
                _check_still_allowed(session, actor, allowed, what)
            if guard:
                self._guard(uow)
            yield uow
            session.commit()
        except sa.exc.IntegrityError as exc:
            session.rollback()
            raise Conflict(
                f"could not {what}: it conflicts with a record saved meanwhile; reload and retry"
            ) from exc
        except sa.exc.OperationalError as exc:
            session.rollback()
            raise _unavailable(exc) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self, actor: Actor, allowed: frozenset[Role], what: str) -> Iterator[Session]:
        """A read-only database session (no write lock) after checking ``actor``'s role.

        The public way to read what no Store method returns (exports load whole charts
        through it). Nothing can be written: the connection is read-only and rolled back.
        """
        require_role(actor, allowed, what)
        session = Session(self._reader, expire_on_commit=False, autoflush=False)
        try:
            yield session
        except sa.exc.OperationalError as exc:
            raise _unavailable(exc) from exc
        finally:
            session.rollback()
            session.close()

    # The Store's own areas spell them this way; the same methods.
    _write = transaction
    _read = reading


def _unavailable(exc: sa.exc.OperationalError) -> DatabaseUnavailable:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return DatabaseUnavailable(
        f"the database did not answer ({reason}); nothing was saved, check the connection "
        "and try again"
    )


def _check_still_allowed(
    session: Session, actor: Actor, allowed: frozenset[Role], what: str
) -> None:
    # The Actor was issued at login; an administrator may have deactivated, locked or
    # re-roled the account since. The stored row decides (its three columns: every
    # write reads them, and the whole row was most of that write's fixed cost).
    table = UserRow.__table__  # type: ignore[attr-defined]
    row = session.execute(
        sa.select(table.c.active, table.c.locked, table.c.role).where(table.c.id == actor.id)
    ).first()
    if row is None or not row.active:
        raise PermissionDenied(f"the account {actor.username} is deactivated; sign in again")
    if row.locked:
        raise PermissionDenied(
            f"the account {actor.username} is locked; an administrator must unlock it"
        )
    stored = Actor(actor.id, actor.username, actor.full_name, Role(row.role))
    require_role(stored, allowed, what)
