"""Signed checkpoints: the audit chain's head at one moment, on one printable line.

``FORMULARY-CHECKPOINT v1 db=<db_id> seq=<n> head=<64 hex> at=<UTC ISO> key=<key id> sig=<b64>``

The signature is Ed25519 over the UTF-8 bytes of the line up to, not including,
`` sig=``. A checkpoint kept outside the database (printed on an export, a backup
report, or the local checkpoint log) lets ``formulary audit verify`` notice rows
deleted from the tail or a database rolled back to an older copy, which the hash
chain alone cannot show.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from db.audit.canonical import format_utc
from db.audit.chain import read_head
from db.audit.keys import InstallationKey, key_id_of
from formulary.records import Checkpoint

MARKER = "FORMULARY-CHECKPOINT v1"

_LINE = re.compile(
    r"FORMULARY-CHECKPOINT v1"
    r" db=(?P<db>[A-Za-z0-9][A-Za-z0-9_-]{0,99})"
    r" seq=(?P<seq>0|[1-9][0-9]{0,18})"
    r" head=(?P<head>[0-9a-f]{64})"
    r" at=(?P<at>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z)"
    r" key=(?P<key>[0-9a-f]{16})"
    r" sig=(?P<sig>[A-Za-z0-9+/]{86}==)"
)


class CheckpointError(ValueError):
    """A checkpoint line that is malformed, forged, or for another database."""


def _payload(db_id: str, seq: int, head: str, at: str, key_id: str) -> str:
    return f"{MARKER} db={db_id} seq={seq} head={head} at={at} key={key_id}"


def make_checkpoint(
    session: Session | Connection,
    db_id: str,
    key: InstallationKey,
    *,
    now: datetime | None = None,
    log: bool = True,
    head: tuple[int, str] | None = None,
) -> Checkpoint:
    """Sign the current head of the chain and (by default) append it to the key's log.

    Call it after the transaction that wrote the entries has committed: a checkpoint
    of rows that are then rolled back would later read as a rollback. ``head`` is the
    head when the caller read it already in the same transaction.
    """
    if key.db_id != db_id:
        raise CheckpointError(f"key {key.key_id} belongs to database {key.db_id}, not {db_id}")
    seq, head_hash = head if head is not None else read_head(session)
    at = format_utc(now if now is not None else datetime.now(UTC))
    payload = _payload(db_id, seq, head_hash, at, key.key_id)
    sig = base64.b64encode(key.private_key.sign(payload.encode("utf-8"))).decode("ascii")
    line = f"{payload} sig={sig}"
    if log:
        append_to_log(key.log_path, line)
    return parse_checkpoint(line)


def append_to_log(path: Path, line: str) -> None:
    """Append one checkpoint line to a 0600 log file and make it durable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def parse_checkpoint(line: str) -> Checkpoint:
    """Parse one checkpoint line (surrounding whitespace allowed); signature not checked."""
    match = _LINE.fullmatch(line.strip())
    if match is None:
        raise CheckpointError(
            f"not a checkpoint line: {line.strip()[:120]!r} "
            f"(expected '{MARKER} db=… seq=… head=… at=… key=… sig=…')"
        )
    at = datetime.fromisoformat(match["at"][:-1]).replace(tzinfo=UTC)
    return Checkpoint(
        db_id=match["db"],
        seq=int(match["seq"]),
        head_hash=match["head"],
        at=at,
        key_id=match["key"],
        signature=match["sig"],
        line=match.group(0),
    )


def find_checkpoints(text: str, *, source: str = "text") -> list[Checkpoint]:
    """Every checkpoint in ``text``: one per line containing the marker, anywhere on it.

    Exports embed the line in a comment or footer, so the marker may be preceded and
    the line followed by other characters. A line carrying the marker that does not
    parse is an error.
    """
    found: list[Checkpoint] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        start = raw.find(MARKER)
        if start < 0:
            continue
        # The line may be followed by a footer's closing characters on the same line.
        match = _LINE.match(raw, start)
        try:
            found.append(parse_checkpoint(match.group(0) if match else raw[start:]))
        except CheckpointError as exc:
            raise CheckpointError(f"{source} line {number}: {exc}") from exc
    return found


def read_checkpoint_file(path: Path) -> list[Checkpoint]:
    """The checkpoints in a file (a checkpoint log, a saved line, an export's text)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint file {path}: {exc.strerror}") from exc
    return find_checkpoints(text, source=str(path))


def check_signature(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> None:
    """Raise :class:`CheckpointError` unless ``checkpoint`` was signed by ``public_key``."""
    expected_id = key_id_of(public_key)
    if checkpoint.key_id != expected_id:
        raise CheckpointError(
            f"checkpoint seq={checkpoint.seq} was signed by key {checkpoint.key_id}, "
            f"not by this installation's key {expected_id}"
        )
    payload = _payload(
        checkpoint.db_id,
        checkpoint.seq,
        checkpoint.head_hash,
        format_utc(checkpoint.at),
        checkpoint.key_id,
    )
    try:
        public_key.verify(base64.b64decode(checkpoint.signature, validate=True), payload.encode())
    except (InvalidSignature, binascii.Error) as exc:
        raise CheckpointError(
            f"checkpoint seq={checkpoint.seq} at={format_utc(checkpoint.at)} has a "
            "signature that does not verify: the line was altered or forged"
        ) from exc


def trusted_checkpoints(
    checkpoints: Iterable[Checkpoint], db_id: str, public_key: Ed25519PublicKey
) -> list[Checkpoint]:
    """Check database id and signature of each checkpoint; sorted by seq, duplicates merged."""
    unique: dict[str, Checkpoint] = {}
    for checkpoint in checkpoints:
        if checkpoint.db_id != db_id:
            raise CheckpointError(
                f"checkpoint seq={checkpoint.seq} is for database {checkpoint.db_id}, "
                f"not for this database ({db_id})"
            )
        check_signature(checkpoint, public_key)
        unique[checkpoint.line] = checkpoint
    return sorted(unique.values(), key=lambda c: (c.seq, c.at))
