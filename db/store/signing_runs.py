"""Signing runs: one full password check for a series of signatures by one signer.

21 CFR 11.200(a)(1)(i): within one continuous period of controlled access, the first
signing uses every component and each later one at least the component only the
signer can execute. Session signatures and a consent's witness signature are both
signatures of the signed-in user, so both may belong to a run.
"""

from __future__ import annotations

import secrets
import time

import sqlalchemy as sa
from sqlmodel import Session

from db.errors import AuthenticationFailed, ValidationError
from db.store._base import SIGNERS, Actor, UnitOfWork, require_role
from db.store.signing import (
    SIGNING_RUN_BEGIN,
    SIGNING_RUN_END,
    SIGNING_RUN_ENTITY,
    SIGNING_RUN_IDLE_SECONDS,
    SIGNING_RUN_MAX_SECONDS,
    RunCredential,
    SigningRun,
)
from db.store.users import UsersStore
from db.tables.people import UserRow
from db.types import utcnow


class SigningRunsStore(UsersStore):
    """Opening, using and closing signing runs (the Store's part of the mixins)."""

    def begin_signing_run(self, actor: Actor, password: str) -> SigningRun:
        """Check ``actor``'s password in full once, for a series of signatures.

        The first signing of a series uses every component: the signed-in account and
        its password, verified here with argon2 (a failure counts toward the lockout
        like any other). Then :meth:`sign_session`, :meth:`record_session` and
        :meth:`sign_consent` (the witness's signature) with ``run=`` take the same
        password again for each signature and compare it with this one (a keyed hash
        kept in this Store's memory) instead of running argon2 again, as long as the
        run is continuous: the same signer, no pause longer than
        :data:`~db.store.signing.SIGNING_RUN_IDLE_SECONDS` between signatures, at most
        :data:`~db.store.signing.SIGNING_RUN_MAX_SECONDS` in all, the account neither
        locked, deactivated nor given a new password meanwhile. Outside those bounds a
        signature falls back to the full check. Audited as ``signing_run.begin``; each
        signature in the run names it in its ``session.sign`` (or ``consent.sign``) reason;
        :meth:`end_signing_run` closes it (``signing_run.end``, with the count).
        """
        require_role(actor, SIGNERS, "sign sessions")
        seen_hash = self._password_hash(actor)
        self.verify_password(actor, password)
        run = SigningRun(secrets.token_hex(8), actor.id, actor.username, utcnow())
        # The run as the audit trail records it: begun here, ended with its count.
        image = {
            "run": run.id,
            "signer_id": actor.id,
            "idle_limit_seconds": SIGNING_RUN_IDLE_SECONDS,
            "max_seconds": SIGNING_RUN_MAX_SECONDS,
            "signatures": 0,
            "ended": False,
        }
        with self._write(actor, SIGNERS, "sign sessions") as uow:
            stored = uow.session.get(UserRow, actor.id)
            if stored is None or stored.password_hash != seen_hash:
                raise AuthenticationFailed(
                    f"the password of {actor.username} was changed while it was being "
                    "checked; begin the signing run again with the new one"
                )
            uow.audit(
                SIGNING_RUN_BEGIN,
                SIGNING_RUN_ENTITY,
                run.id,
                None,
                image,
                "first signing of a series in one continuous session: account and password "
                "checked in full; later signatures in the run give the password again, "
                "compared with this one (21 CFR 11.200(a)(1)(i))",
            )
        with self._signing_runs_lock:
            self._signing_runs[run.id] = RunCredential.create(run, password, seen_hash, image)
        return run

    def end_signing_run(self, actor: Actor, run: SigningRun) -> int:
        """Close ``run`` (audited as ``signing_run.end``); returns its signature count.

        A run that idled out or outlived its limit is over already; ending it still
        records the end. Ending a run twice, or one this Store never opened, is refused.
        """
        if run.user_id != actor.id:
            raise ValidationError("a signing run is ended by the signer who began it")
        with self._signing_runs_lock:
            held = self._signing_runs.pop(run.id, None)
        if held is None or held.run != run:
            raise ValidationError(f"signing run {run.id} is not open on this workstation")
        with self._write(actor, SIGNERS, "sign sessions") as uow:
            uow.audit(
                SIGNING_RUN_END,
                SIGNING_RUN_ENTITY,
                run.id,
                held.image,
                {**held.image, "signatures": held.signatures, "ended": True},
                None,
            )
        return held.signatures

    def _password_hash(self, actor: Actor) -> str:
        with self._reader.connect() as connection:
            with Session(bind=connection) as db:
                row = db.get(UserRow, actor.id)
                found = None if row is None else row.password_hash
            connection.rollback()
        if found is None:
            raise AuthenticationFailed(f"the account {actor.username} no longer exists")
        return found

    def _signature_credential(
        self, actor: Actor, password: str, run: SigningRun | None
    ) -> RunCredential | None:
        """The run a signature may use, or None once the password was checked in full."""
        if run is not None and run.user_id == actor.id:
            with self._signing_runs_lock:
                held = self._signing_runs.get(run.id)
            if held is not None and held.run == run and held.accepts(password, time.monotonic()):
                return held
        self.verify_password(actor, password)
        return None

    def _signed_in_run(self, credential: RunCredential | None) -> None:
        if credential is not None:
            with self._signing_runs_lock:
                credential.signatures += 1
                credential.last_used = time.monotonic()

    def _run_note(
        self, uow: UnitOfWork, actor: Actor, credential: RunCredential | None
    ) -> str | None:
        """The audit reason's note for a signature made in a run (None outside one).

        The run's password stands for the stored one only while that is unchanged:
        checked here, under the write lock, with the account's state.
        """
        if credential is None:
            return None
        table = UserRow.__table__  # type: ignore[attr-defined]
        stored = uow.session.execute(
            sa.select(table.c.password_hash).where(table.c.id == actor.id)
        ).scalar()
        if stored != credential.password_hash:
            raise AuthenticationFailed(
                f"the password of {actor.username} was changed during the signing run; "
                "sign again with the new password"
            )
        return (
            f"signing run {credential.run.id}: password given and compared with the one "
            "verified when the run began"
        )
