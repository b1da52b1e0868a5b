"""Verification and checkpoints for an open database: what the CLI and the TUI call.

These functions gather the checkpoints to trust (the installation's checkpoint log
plus any files named), check their signatures, verify the chain on a read-only
connection (no write lock is held while a long chain is re-hashed), and record the
verification itself as an ``audit.verify`` entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import Connection
from sqlmodel import Session

from db.audit.chain import append_event
from db.audit.checkpoint import (
    CheckpointError,
    find_checkpoints,
    make_checkpoint,
    read_checkpoint_file,
)
from db.audit.keys import (
    CheckpointKeyError,
    InstallationKey,
    KeyMissingError,
    checkpoint_log_path,
    load_key,
    load_or_create_key,
    read_public_key,
    resolve_key_dir,
)
from db.audit.pinning import (
    KEY_ENTITY,
    PIN_ACTION,
    ChainState,
    KeyProblem,
    Pin,
    acknowledged_checkpoints,
    check_log_signatures,
    log_lines,
    pin_image,
    read_pin,
    transitions_in,
    trusted_key,
    trusted_public_keys,
)
from db.audit.replay import Replay
from db.audit.verify import ProgressCallback, VerifyReport, verify_chain
from db.database import Database
from db.engine import READ_ONLY
from db.files import ManagedFolder, resolve_files_dir
from db.workstation import workstation_name as workstation_name
from formulary.records import Checkpoint

#: Action recorded after every verification.
VERIFY_ACTION = "audit.verify"


@dataclass(frozen=True, slots=True)
class Verification:
    """A verification's report, where its checkpoints came from, and its own audit seq."""

    report: VerifyReport
    sources: tuple[str, ...]
    recorded_seq: int | None
    #: Why the verification could not be recorded (a read-only database), or None.
    not_recorded: str | None = None




def other_logs(db_id: str, key_dir: Path | str | None) -> list[Path]:
    """Checkpoint logs in the key directory that belong to other database ids."""
    directory = resolve_key_dir(key_dir)
    try:
        logs = sorted(directory.glob("*.checkpoints"))
    except OSError:
        return []
    return [p for p in logs if p.name != f"{db_id}.checkpoints"]


def identity_problem(
    conn: Connection, db_id: str, key_dir: Path | str | None, has_own_log: bool
) -> str | None:
    """Why this database's id looks changed (every log in the key dir is read), or None.

    A database's id is bound into every hash, so someone who changes it and recomputes
    the chain escapes the checkpoints of the old id. The key directory still holds the
    old id's log and key: if the database is pinned to a key that is filed under
    another id, or its id matches no log while other databases' logs are there, it is
    reported.
    """
    others = other_logs(db_id, key_dir)
    pin = read_pin(conn)
    if pin is not None:
        for log in others:
            other_id = log.name[: -len(".checkpoints")]
            try:
                key = load_key(other_id, key_dir)
            except (CheckpointKeyError, ValueError):
                continue
            if key.key_id == pin.key_id:
                return (
                    f"this database claims id {db_id}, but its pinned key {pin.key_id} is "
                    f"the key of database {other_id} (log {log}): the database id was "
                    "changed and the chain recomputed"
                )
    if not has_own_log and others:
        names = ", ".join(p.name for p in others[:3])
        return (
            f"this database's id {db_id} matches no checkpoint log in "
            f"{resolve_key_dir(key_dir)} (it holds {names}): the id was changed, or this "
            "is not the installation's database"
        )
    return None


def gather_checkpoints(
    db_id: str,
    files: Iterable[Path] = (),
    *,
    key_dir: Path | str | None = None,
    public_key_file: Path | None = None,
    use_log: bool = True,
    superseded: dict[str, int] | None = None,
) -> tuple[list[Checkpoint], tuple[str, ...]]:
    """Trusted checkpoints for ``db_id`` from the local log and ``files``.

    Signatures are checked against ``public_key_file`` when given (an auditor's copy),
    else against the installation key in ``key_dir``, following the key transitions
    recorded in the log (checkpoints made before a rekey stay verifiable). Lines in
    ``superseded`` (acknowledged rollbacks) are left out. Raises
    :class:`~db.audit.checkpoint.CheckpointError` for a malformed, forged or foreign
    checkpoint, and :class:`~db.audit.keys.KeyMissingError` when checkpoints are
    named but no key is available to check them.
    """
    found: list[Checkpoint] = []
    sources: list[str] = []
    log = checkpoint_log_path(db_id, key_dir)
    lines: list[str] = []
    if use_log and log.exists():
        lines = log_lines(db_id, key_dir)
        found.extend(find_checkpoints("\n".join(lines), source=str(log)))
        sources.append(str(log))
    for path in files:
        from_file = read_checkpoint_file(path)
        if not from_file:
            raise CheckpointError(f"{path} holds no FORMULARY-CHECKPOINT line")
        found.extend(from_file)
        sources.append(str(path))
    if superseded:
        # An acknowledgement counts only once a checkpoint signed after it covers it:
        # an entry forged into the chain by SQL is never covered, because writing stops
        # while the chain disagrees with the newest checkpoint.
        cover = max((cp.seq for cp in found if cp.line not in superseded), default=0)
        found = [cp for cp in found if superseded.get(cp.line, cover + 1) > cover]
    if not found:
        return [], tuple(sources)
    public: Ed25519PublicKey
    if public_key_file is not None:
        public = read_public_key(public_key_file)
    else:
        try:
            public = load_key(db_id, key_dir).public_key
        except KeyMissingError as exc:
            raise KeyMissingError(
                f"{exc}; or give the installation's public key with --public-key"
            ) from exc
    for cp in found:
        if cp.db_id != db_id:
            raise CheckpointError(
                f"checkpoint seq={cp.seq} is for database {cp.db_id}, "
                f"not for this database ({db_id})"
            )
    trusted = trusted_public_keys(public, transitions_in(lines, db_id))
    check_log_signatures(found, trusted)
    unique = {cp.line: cp for cp in found}
    return sorted(unique.values(), key=lambda c: (c.seq, c.at)), tuple(sources)


def verify_database(
    database: Database,
    *,
    user: str,
    checkpoint_files: Iterable[Path] = (),
    key_dir: Path | str | None = None,
    public_key_file: Path | None = None,
    use_log: bool = True,
    progress: ProgressCallback | None = None,
    record: bool = True,
    workstation: str | None = None,
    records: bool = True,
    files_dir: Path | str | None = None,
) -> Verification:
    """Verify ``database``: chain, every checkpoint, identity, tables and signatures.

    With ``records`` (the default) the current rows of every audited table are held
    against the replay of the audit's after-images, every signature is recomputed and
    every managed file (photos) is re-hashed against its row (``files_dir``: the
    managed-file folder when it is not in its default place, see :mod:`db.files`).
    The ``audit.verify`` entry (written after verifying, so it is not part of what was
    just verified) carries the report's figures in ``after``; on a read-only database
    it cannot be written, and ``recorded_seq`` is None with ``not_recorded`` saying why.
    """
    reader = database.engine.execution_options(**{READ_ONLY: True})
    with reader.connect() as conn:
        superseded = acknowledged_checkpoints(conn)
        checkpoints, sources = gather_checkpoints(
            database.db_id,
            checkpoint_files,
            key_dir=key_dir,
            public_key_file=public_key_file,
            use_log=use_log,
            superseded=superseded,
        )
        has_log = use_log and checkpoint_log_path(database.db_id, key_dir).exists()
        replay = Replay() if records else None
        report = verify_chain(
            conn,
            database.db_id,
            checkpoints,
            progress,
            on_batch=None if replay is None else replay.feed,
        )
        if report.ok and use_log and public_key_file is None:
            problem = identity_problem(conn, database.db_id, key_dir, has_log)
            if problem is not None:
                report = replace(report, status="truncated", problem=problem)
        if report.ok and records:
            folder = ManagedFolder(resolve_files_dir(database.path, database.db_id, files_dir))
            report = _check_records(conn, report, replay, folder)
        conn.rollback()
    recorded: int | None = None
    not_recorded: str | None = None
    if record:
        summary = report.to_json()
        summary["checkpoint_sources"] = list(sources)
        try:
            with Session(database.engine) as session:
                event = append_event(
                    session,
                    db_id=database.db_id,
                    user=user,
                    workstation=workstation or workstation_name(),
                    action=VERIFY_ACTION,
                    entity="audit_event",
                    entity_id=None,
                    before=None,
                    after=summary,
                    reason=None,
                )
                session.commit()
                recorded = event.seq
        except (sa.exc.OperationalError, OSError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            not_recorded = f"the database cannot be written ({reason})"
    return Verification(
        report=report, sources=sources, recorded_seq=recorded, not_recorded=not_recorded
    )


def _check_records(
    conn: Connection, report: VerifyReport, replay: Replay | None, folder: ManagedFolder
) -> VerifyReport:
    from db.audit.files import check_managed_files
    from db.audit.replay import replay_tables
    from db.audit.signatures import SignatureCheck

    check = SignatureCheck(conn)
    tables = replay_tables(conn, replay=replay, signatures=check)
    signatures = check.finish()
    files = check_managed_files(conn, folder)
    problems = (
        [p.message for p in tables.problems] + list(signatures.problems) + list(files.problems)
    )
    count = tables.problem_count + signatures.problem_count + files.problem_count
    return replace(
        report,
        status="ok" if count == 0 else "records",
        problem=None if count == 0 else problems[0],
        table_rows_checked=tables.rows_checked,
        signatures_checked=signatures.sessions_checked + signatures.addenda_checked,
        files_checked=files.files_checked,
        record_problems=tuple(problems[:20]),
        record_problem_count=count,
    )


def signing_key(database: Database, key_dir: Path | str | None = None) -> InstallationKey:
    """The installation key, checked against the database's pin (pinned on first use).

    Raises :class:`~db.audit.pinning.KeyProblem` when the pinned key is missing,
    replaced or unsafe. A database whose key was never used gets its key (the
    existing file, else a new one) pinned now, in an audited ``key.pin`` entry.
    """
    reader = database.engine.execution_options(**{READ_ONLY: True})
    with reader.connect() as conn:
        pin = read_pin(conn)
        conn.rollback()
    key, needs_pin = trusted_key(database.db_id, pin, key_dir)
    if not needs_pin:
        assert key is not None
        return key
    if key is None:
        key = load_or_create_key(database.db_id, key_dir)
    with Session(database.engine) as session:
        if read_pin(session) is None:  # another process may have pinned meanwhile
            append_event(
                session,
                db_id=database.db_id,
                user="system",
                workstation=workstation_name(),
                action=PIN_ACTION,
                entity=KEY_ENTITY,
                entity_id=key.key_id,
                before=None,
                after=pin_image(key),
                reason="checkpoint key pinned at its first use",
            )
            session.commit()
    again = read_pin_of(database)
    if again is not None and again.key_id != key.key_id:
        raise KeyProblem(
            f"this database was pinned meanwhile to key {again.key_id}, not {key.key_id}; "
            "nothing was saved; try again"
        )
    return key


def writable_key(database: Database, key_dir: Path | str | None = None) -> InstallationKey:
    """:func:`signing_key`, after checking that the database may be written at all.

    For writers that append to the chain outside the Store's unit of work (the whole-
    clinic export, backup): call it *before* appending, so that a missing key or a
    rolled-back copy refuses the operation with nothing written.
    """
    from db.audit.pinning import newest_checkpoint, rollback_problem, tail_lines
    from db.errors import RolledBack

    key = signing_key(database, key_dir)
    reader = database.engine.execution_options(**{READ_ONLY: True})
    with reader.connect() as conn:
        problem = rollback_problem(
            conn, database.db_id, newest_checkpoint(tail_lines(database.db_id, key_dir))
        )
        conn.rollback()
    if problem is not None:
        raise RolledBack(problem)
    return key


def read_pin_of(database: Database) -> Pin | None:
    """The database's pinned key (a short read-only transaction)."""
    reader = database.engine.execution_options(**{READ_ONLY: True})
    with reader.connect() as conn:
        pin = read_pin(conn)
        conn.rollback()
    return pin


def checkpoint_database(
    database: Database, *, key_dir: Path | str | None = None, acknowledged: bool = False
) -> Checkpoint:
    """Sign the chain's current head with the pinned installation key (see :func:`signing_key`).

    Refused (:class:`~db.errors.RolledBack`) when the chain is behind the log's newest
    checkpoint; only ``accept-rollback`` signs over its own acknowledgement
    (``acknowledged``), never a plain checkpoint (an acknowledgement forged into the
    chain by SQL must stay uncovered).

    The checkpoint is appended to the installation's checkpoint log and returned;
    callers print ``checkpoint.line`` on their export or backup report.
    """
    from db.audit.pinning import newest_checkpoint, read_chain_state, tail_lines

    reader = database.engine.execution_options(**{READ_ONLY: True})
    with reader.connect() as conn:
        # One read transaction, one query, for the pin, the rollback check and the head
        # signed (a checkpoint follows every signature). A key still to be pinned is
        # pinned first, in its own write, and the chain read again after it.
        newest = newest_checkpoint(tail_lines(database.db_id, key_dir))
        state = read_chain_state(conn, newest)
        key, needs_pin = trusted_key(database.db_id, state.pin, key_dir)
        if not needs_pin:
            assert key is not None
            try:
                return _sign_head(conn, database.db_id, key, acknowledged, newest, state)
            finally:
                conn.rollback()
        conn.rollback()
    key = signing_key(database, key_dir)
    with reader.connect() as conn:
        try:
            newest = newest_checkpoint(tail_lines(database.db_id, key_dir))
            state = read_chain_state(conn, newest)
            return _sign_head(conn, database.db_id, key, acknowledged, newest, state)
        finally:
            conn.rollback()


def _sign_head(
    conn: sa.Connection,
    db_id: str,
    key: InstallationKey,
    acknowledged: bool,
    newest: Checkpoint | None,
    state: ChainState,
) -> Checkpoint:
    from db.audit.pinning import state_rollback_problem
    from db.errors import RolledBack

    # Never sign over a rolled-back chain: that checkpoint would make the older copy
    # look current. Only a rollback an administrator acknowledged (its entry names the
    # superseded checkpoint) may be signed over.
    problem = state_rollback_problem(state, db_id, newest)
    if problem is not None and not (
        acknowledged and newest is not None and newest.line in acknowledged_checkpoints(conn)
    ):
        raise RolledBack(problem)
    return make_checkpoint(conn, db_id, key, head=state.head)
