"""Verification and checkpoints for an open database: what the CLI and the TUI call.

These functions gather the checkpoints to trust (the installation's checkpoint log
plus any files named), check their signatures, verify the chain on a read-only
connection (no write lock is held while a long chain is re-hashed), and record the
verification itself as an ``audit.verify`` entry.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session

from db.audit.chain import append_event
from db.audit.checkpoint import (
    CheckpointError,
    make_checkpoint,
    read_checkpoint_file,
    trusted_checkpoints,
)
from db.audit.keys import (
    KeyMissingError,
    checkpoint_log_path,
    load_key,
    load_or_create_key,
    read_public_key,
)
from db.audit.verify import ProgressCallback, VerifyReport, verify_chain
from db.database import Database
from db.engine import READ_ONLY
from formulary.records import Checkpoint

#: Action recorded after every verification.
VERIFY_ACTION = "audit.verify"


@dataclass(frozen=True, slots=True)
class Verification:
    """A verification's report, where its checkpoints came from, and its own audit seq."""

    report: VerifyReport
    sources: tuple[str, ...]
    recorded_seq: int | None


def workstation_name() -> str:
    """This machine's name as audit entries record it."""
    return (socket.gethostname() or "unknown")[:200]


def gather_checkpoints(
    db_id: str,
    files: Iterable[Path] = (),
    *,
    key_dir: Path | str | None = None,
    public_key_file: Path | None = None,
    use_log: bool = True,
) -> tuple[list[Checkpoint], tuple[str, ...]]:
    """Trusted checkpoints for ``db_id`` from the local log and ``files``.

    Signatures are checked against ``public_key_file`` when given (an auditor's copy),
    else against the installation key in ``key_dir``. Raises
    :class:`~db.audit.checkpoint.CheckpointError` for a malformed, forged or foreign
    checkpoint, and :class:`~db.audit.keys.KeyMissingError` when checkpoints are
    named but no key is available to check them.
    """
    found: list[Checkpoint] = []
    sources: list[str] = []
    log = checkpoint_log_path(db_id, key_dir)
    if use_log and log.exists():
        found.extend(read_checkpoint_file(log))
        sources.append(str(log))
    for path in files:
        from_file = read_checkpoint_file(path)
        if not from_file:
            raise CheckpointError(f"{path} holds no FORMULARY-CHECKPOINT line")
        found.extend(from_file)
        sources.append(str(path))
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
    return trusted_checkpoints(found, db_id, public), tuple(sources)


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
) -> Verification:
    """Verify ``database``'s chain against every trusted checkpoint; audit the result.

    The ``audit.verify`` entry (written after verifying, so it is not part of what was
    just verified) carries the report's figures in ``after``.
    """
    checkpoints, sources = gather_checkpoints(
        database.db_id,
        checkpoint_files,
        key_dir=key_dir,
        public_key_file=public_key_file,
        use_log=use_log,
    )
    reader = database.engine.execution_options(**{READ_ONLY: True})
    with reader.connect() as conn:
        report = verify_chain(conn, database.db_id, checkpoints, progress)
        conn.rollback()
    recorded: int | None = None
    if record:
        summary = report.to_json()
        summary["checkpoint_sources"] = list(sources)
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
            recorded = event.seq
            session.commit()
    return Verification(report=report, sources=sources, recorded_seq=recorded)


def checkpoint_database(database: Database, *, key_dir: Path | str | None = None) -> Checkpoint:
    """Sign the chain's current head with the installation key (created on first use).

    The checkpoint is appended to the installation's checkpoint log and returned;
    callers print ``checkpoint.line`` on their export or backup report.
    """
    key = load_or_create_key(database.db_id, key_dir)
    reader = database.engine.execution_options(**{READ_ONLY: True})
    with reader.connect() as conn:
        checkpoint = make_checkpoint(conn, database.db_id, key)
        conn.rollback()
    return checkpoint
