"""The database pins its checkpoint key, and refuses writes over a rollback.

**Pinning.** The first time a database's key is used (``formulary init`` signs a
checkpoint straight away) the key's fingerprint and public key are recorded in the
audit chain itself: an entry ``key.pin`` on entity ``installation_key`` whose
``entity_id`` is the key id. From then on the key file must be that key: a missing,
replaced or unsafe key stops every write with one message naming the fix, and no key
is ever created silently again. The key changes only through ``formulary audit
rekey`` (an administrator, audited as ``key.rekey``), which writes a key-transition
line to the checkpoint log, signed by the old key when it still exists, so that
verification can follow the checkpoints from one key to the next.

**Rollback.** Before every write the database's chain is held against the newest
checkpoint in the installation's log: if the chain is shorter, or differs at the
checkpoint's seq, the database was restored from an older copy or rolled back, and
writing is refused until the newest backup is restored or an administrator
acknowledges the rollback (``formulary audit accept-rollback``, audited as
``audit.rollback_acknowledged``).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from db.audit.canonical import format_utc
from db.audit.chain import GENESIS_HASH, read_head
from db.audit.checkpoint import CheckpointError, append_to_log, check_signature, parse_checkpoint
from db.audit.keys import (
    InstallationKey,
    KeyMissingError,
    KeyUnsafeError,
    checkpoint_log_path,
    key_id_of,
    key_path,
    load_key,
    public_key_path,
    raw_public_bytes,
    resolve_key_dir,
)
from db.errors import KeyNotTrusted
from formulary.records import Checkpoint

#: Audit entity under which key pins and key changes are recorded.
KEY_ENTITY = "installation_key"
PIN_ACTION = "key.pin"
REKEY_ACTION = "key.rekey"
#: Audit entity/action of an acknowledged rollback.
ROLLBACK_ENTITY = "audit_rollback"
ROLLBACK_ACTION = "audit.rollback_acknowledged"

TRANSITION_MARKER = "FORMULARY-KEY-TRANSITION v1"

_TRANSITION = re.compile(
    r"FORMULARY-KEY-TRANSITION v1"
    r" db=(?P<db>[A-Za-z0-9][A-Za-z0-9_-]{0,99})"
    r" old=(?P<old>[0-9a-f]{16}|-)"
    r" old_pub=(?P<old_pub>[A-Za-z0-9+/]{43}=|-)"
    r" new=(?P<new>[0-9a-f]{16})"
    r" new_pub=(?P<new_pub>[A-Za-z0-9+/]{43}=)"
    r" at=(?P<at>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z)"
    r" sig=(?P<sig>[A-Za-z0-9+/]{86}==|none)"
)


#: The installation key cannot be trusted for writing; the message names the fix.
KeyProblem = KeyNotTrusted


@dataclass(frozen=True, slots=True)
class Pin:
    """The key a database is pinned to, as recorded in its audit chain."""

    key_id: str
    public_key: str  # standard base64 of the 32 raw bytes
    seq: int


@dataclass(frozen=True, slots=True)
class Transition:
    """A key change: ``old`` (None when the old key was lost) authorises ``new``."""

    db_id: str
    old_id: str | None
    old_public: Ed25519PublicKey | None
    new_id: str
    new_public: Ed25519PublicKey
    at: str
    signed: bool
    line: str


_PIN_QUERY = sa.text(
    "SELECT seq, entity_id, after FROM audit_event WHERE entity = :entity"
    " ORDER BY seq DESC LIMIT 1"
)


def read_pin(conn: Session | Connection) -> Pin | None:
    """The key the database is pinned to now, or None when no key was ever pinned."""
    row = conn.execute(_PIN_QUERY, {"entity": KEY_ENTITY}).first()
    return None if row is None else _pin(row[0], row[1], row[2])


def _pin(seq: Any, entity_id: Any, after: Any) -> Pin | None:
    if entity_id is None:
        return None
    try:
        public = str(json.loads(after or "{}").get("public_key", ""))
    except ValueError:
        public = ""
    return Pin(key_id=str(entity_id), public_key=public, seq=int(seq))


@dataclass(frozen=True)
class ChainState:
    """What a write (or a checkpoint) checks before it goes on, read in one query."""

    pin: Pin | None
    head: tuple[int, str]
    #: The hash stored at the newest checkpoint's entry (None: no such entry, or none asked).
    hash_at_checkpoint: str | None


# The head, the pin and the entry the newest checkpoint signed: three lookups by the
# primary key or an index, in one round trip (every write makes it).
_STATE_QUERY = sa.text(
    "SELECT 0 AS part, h.seq, h.hash AS a, NULL AS b FROM"
    " (SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1) AS h"
    " UNION ALL SELECT 1, p.seq, p.entity_id, p.after FROM"
    " (SELECT seq, entity_id, after FROM audit_event WHERE entity = :entity"
    "  ORDER BY seq DESC LIMIT 1) AS p"
    " UNION ALL SELECT 2, seq, hash, NULL FROM audit_event WHERE seq = :seq"
)


def read_chain_state(conn: Session | Connection, newest: Checkpoint | None) -> ChainState:
    """The pin (:func:`read_pin`), the head and the hash at ``newest``'s entry, at once."""
    head: tuple[int, str] = (0, GENESIS_HASH)
    pin: Pin | None = None
    at_checkpoint: str | None = None
    rows = conn.execute(
        _STATE_QUERY,
        {"entity": KEY_ENTITY, "seq": newest.seq if newest is not None else -1},
    ).all()
    for part, seq, a, b in rows:
        if part == 0:
            head = (int(seq), str(a))
        elif part == 1:
            pin = _pin(seq, a, b)
        else:
            at_checkpoint = str(a)
    return ChainState(pin, head, at_checkpoint)


def public_b64(public: Ed25519PublicKey) -> str:
    """Standard base64 of a public key's raw bytes."""
    return base64.b64encode(raw_public_bytes(public)).decode("ascii")


def pin_image(key: InstallationKey, *, previous: str | None = None) -> dict[str, Any]:
    """The ``after`` image of a pin or rekey entry."""
    return {
        "key_id": key.key_id,
        "public_key": public_b64(key.public_key),
        "previous_key_id": previous,
    }


def missing_message(db_id: str, pinned: str, key_dir: Path | str | None) -> str:
    """What to do when the pinned key's file is gone."""
    path = key_path(db_id, key_dir)
    return (
        f"the checkpoint key of this database (key {pinned}) is missing: {path} does not "
        "exist; nothing was saved. Restore that file from your key backup, or have an "
        "administrator run `formulary audit rekey` to replace the key (audited)"
    )


def trusted_key(
    db_id: str, pin: Pin | None, key_dir: Path | str | None
) -> tuple[InstallationKey | None, bool]:
    """The key to sign with, and whether it still has to be pinned (``pin`` is None).

    With a pin, the key file must exist, be private and be the pinned key; anything
    else raises :class:`KeyProblem` naming the fix. Without a pin (a database that
    never had its key used) the existing key is returned for pinning, or None when
    there is none yet (the caller creates one and pins it).
    """
    try:
        key = load_key(db_id, key_dir)
    except KeyMissingError as exc:
        if pin is None:
            return None, True
        raise KeyProblem(missing_message(db_id, pin.key_id, key_dir)) from exc
    except KeyUnsafeError as exc:
        raise KeyProblem(f"{exc}; nothing was saved") from exc
    if pin is None:
        return key, True
    if key.key_id != pin.key_id:
        raise KeyProblem(
            f"the checkpoint key in {key.path} is key {key.key_id}, but this database is "
            f"pinned to key {pin.key_id}: the key file was replaced; nothing was saved. Put "
            "the original key file back, or have an administrator run `formulary audit "
            "rekey` to change the key (audited)"
        )
    return key, False


# -- the checkpoint log: newest checkpoint, key transitions -------------------------------


def log_lines(db_id: str, key_dir: Path | str | None) -> list[str]:
    """Every line of ``db_id``'s checkpoint log (empty when there is none)."""
    path = checkpoint_log_path(db_id, key_dir)
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise KeyProblem(f"cannot read the checkpoint log {path}: {exc.strerror}") from exc


def tail_lines(db_id: str, key_dir: Path | str | None, size: int = 16_384) -> list[str]:
    """The last lines of ``db_id``'s checkpoint log (enough to hold its newest line)."""
    path = checkpoint_log_path(db_id, key_dir)
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            end = handle.tell()
            handle.seek(max(0, end - size))
            data = handle.read()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise KeyProblem(f"cannot read the checkpoint log {path}: {exc.strerror}") from exc
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[1:] if end > size else lines  # the first may be cut


def newest_checkpoint(lines: Iterable[str]) -> Checkpoint | None:
    """The last checkpoint line of a log (the newest one written)."""
    # From the end: only the newest line that parses matters (a log holds thousands).
    for line in reversed(list(lines)):
        if line.startswith("FORMULARY-CHECKPOINT"):
            try:
                return parse_checkpoint(line)
            except CheckpointError:
                continue
    return None


def parse_transition(line: str) -> Transition:
    """Parse (and, when signed, check) one key-transition line."""
    match = _TRANSITION.fullmatch(line.strip())
    if match is None:
        raise CheckpointError(f"not a key-transition line: {line.strip()[:120]!r}")
    try:
        new_public = Ed25519PublicKey.from_public_bytes(base64.b64decode(match["new_pub"]))
        old_public = (
            None
            if match["old_pub"] == "-"
            else Ed25519PublicKey.from_public_bytes(base64.b64decode(match["old_pub"]))
        )
    except (ValueError, binascii.Error) as exc:
        raise CheckpointError(f"key-transition line with a malformed key: {exc}") from exc
    if key_id_of(new_public) != match["new"] or (
        old_public is not None and key_id_of(old_public) != match["old"]
    ):
        raise CheckpointError("key-transition line whose key ids do not match its keys")
    signed = match["sig"] != "none"
    if signed:
        if old_public is None:
            raise CheckpointError("key-transition line signed without naming the old key")
        payload = line.strip().rsplit(" sig=", 1)[0]
        try:
            old_public.verify(base64.b64decode(match["sig"]), payload.encode("utf-8"))
        except (InvalidSignature, binascii.Error) as exc:
            raise CheckpointError(
                "a key-transition line's signature does not verify: the log was altered"
            ) from exc
    return Transition(
        db_id=match["db"],
        old_id=None if match["old"] == "-" else match["old"],
        old_public=old_public,
        new_id=match["new"],
        new_public=new_public,
        at=match["at"],
        signed=signed,
        line=match.group(0),
    )


def transitions_in(lines: Iterable[str], db_id: str) -> list[Transition]:
    """The key transitions of ``db_id`` in a log, oldest first."""
    found = []
    for line in lines:
        if line.startswith(TRANSITION_MARKER):
            transition = parse_transition(line)
            if transition.db_id == db_id:
                found.append(transition)
    return found


def trusted_public_keys(
    anchor: Ed25519PublicKey, transitions: Iterable[Transition]
) -> dict[str, Ed25519PublicKey]:
    """Every key trusted from ``anchor`` by following transitions both ways.

    Forward: a transition signed by a trusted old key trusts the new key. Backward:
    the current key trusts the key it replaced (recorded in the transition), so
    checkpoints made before a rekey still verify with the installation's key.
    """
    trusted = {key_id_of(anchor): anchor}
    items = list(transitions)
    changed = True
    while changed:
        changed = False
        for t in items:
            if t.old_id in trusted and t.signed and t.new_id not in trusted:
                trusted[t.new_id] = t.new_public
                changed = True
            if (
                t.new_id in trusted
                and t.old_id is not None
                and t.old_public is not None
                and t.old_id not in trusted
            ):
                trusted[t.old_id] = t.old_public
                changed = True
    return trusted


# -- rollback -------------------------------------------------------------------------------


def rollback_problem(
    conn: Session | Connection,
    db_id: str,
    newest: Checkpoint | None,
    head: tuple[int, str] | None = None,
) -> str | None:
    """Why the database is behind ``newest`` (the log's newest checkpoint), or None.

    ``head`` is the chain's head when the caller has it already (a writer's
    :func:`~db.audit.chain.transaction_head`); else it is read here.
    """
    if newest is None or newest.db_id != db_id:
        return None
    head_seq, _ = head if head is not None else read_head(conn)
    return _behind(
        newest,
        head_seq,
        lambda: conn.execute(
            sa.text("SELECT hash FROM audit_event WHERE seq = :seq"), {"seq": newest.seq}
        ).scalar(),
    )


def state_rollback_problem(
    state: ChainState, db_id: str, newest: Checkpoint | None
) -> str | None:
    """:func:`rollback_problem` over a :func:`read_chain_state` read with ``newest``."""
    if newest is None or newest.db_id != db_id:
        return None
    return _behind(newest, state.head[0], lambda: state.hash_at_checkpoint)


def _behind(newest: Checkpoint, head_seq: int, stored_hash: Callable[[], Any]) -> str | None:
    when = newest.at.strftime("%Y-%m-%d %H:%M UTC")
    if head_seq < newest.seq:
        return (
            f"this database ends at audit entry {head_seq}, but a checkpoint made {when} "
            f"recorded entry {newest.seq}: an older copy was restored or the database was "
            "rolled back, so writing is refused (it would reuse record numbers for different "
            "content). Restore the newest backup, or have an administrator run `formulary "
            "audit accept-rollback --reason ...` to carry on from this copy (audited)"
        )
    if newest.seq == 0:
        return None
    if stored_hash() != newest.head_hash:
        return (
            f"this database's audit entry {newest.seq} differs from the checkpoint made "
            f"{when}: the database was rolled back and written again, or replaced, so "
            "writing is refused. Restore the newest backup, or have an administrator run "
            "`formulary audit accept-rollback --reason ...` to carry on from this copy "
            "(audited)"
        )
    return None


def acknowledged_checkpoints(conn: Session | Connection) -> dict[str, int]:
    """Checkpoint lines declared superseded by an accepted rollback, and that entry's seq."""
    lines: dict[str, int] = {}
    for seq, after in conn.execute(
        sa.text("SELECT seq, after FROM audit_event WHERE entity = :e"), {"e": ROLLBACK_ENTITY}
    ):
        try:
            for line in json.loads(after or "{}").get("superseded", []):
                lines.setdefault(str(line), int(seq))
        except (ValueError, AttributeError, TypeError):
            continue
    return lines


def superseded_checkpoints(
    conn: Session | Connection, db_id: str, lines: Iterable[str]
) -> list[str]:
    """Checkpoint lines of the log that the chain no longer agrees with."""
    out = []
    head_seq, _ = read_head(conn)
    for line in lines:
        if not line.startswith("FORMULARY-CHECKPOINT"):
            continue
        try:
            cp = parse_checkpoint(line)
        except CheckpointError:
            continue
        if cp.db_id != db_id:
            continue
        if cp.seq > head_seq:
            out.append(cp.line)
            continue
        if cp.seq == 0:
            if cp.head_hash != GENESIS_HASH:
                out.append(cp.line)
            continue
        stored = conn.execute(
            sa.text("SELECT hash FROM audit_event WHERE seq = :seq"), {"seq": cp.seq}
        ).scalar()
        if stored != cp.head_hash:
            out.append(cp.line)
    return out


# -- rekey ----------------------------------------------------------------------------------


def new_key_files(
    db_id: str, key_dir: Path | str | None, pin: Pin | None = None
) -> tuple[InstallationKey, Transition]:
    """Replace ``db_id``'s key with a new one; the transition line (signed when possible).

    The old key file, if still there, is kept beside it as ``<db_id>.ed25519.<id>.retired``
    (its public key stays in the transition line). Returns the new key and the
    transition, already appended to the checkpoint log.
    """
    directory = resolve_key_dir(key_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = key_path(db_id, key_dir)
    old: InstallationKey | None
    try:
        old = load_key(db_id, key_dir)
    except (KeyMissingError, KeyUnsafeError):
        old = None
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    new_public = private.public_key()
    new_id = key_id_of(new_public)
    at = format_utc(datetime.now(UTC))
    old_id, old_pub = "-", "-"
    if old is not None:
        old_id, old_pub = old.key_id, public_b64(old.public_key)
    elif pin is not None and pin.public_key:
        # The old key is lost, but the database recorded its public half when it was
        # pinned: name it (unsigned), so checkpoints it made stay checkable.
        old_id, old_pub = pin.key_id, pin.public_key
    payload = (
        f"{TRANSITION_MARKER} db={db_id} old={old_id} old_pub={old_pub}"
        f" new={new_id} new_pub={public_b64(new_public)} at={at}"
    )
    sig = (
        base64.b64encode(old.private_key.sign(payload.encode("utf-8"))).decode("ascii")
        if old
        else "none"
    )
    line = f"{payload} sig={sig}"
    if path.exists():
        retired = path.with_name(f"{path.name}.{old.key_id if old else 'unusable'}.retired")
        os.replace(path, retired)
    _write_private(path, pem)
    pub = public_key_path(db_id, key_dir)
    pub.unlink(missing_ok=True)
    _write_private(
        pub,
        f"formulary-ed25519 {public_b64(new_public)} key={new_id} db={db_id}\n".encode(),
    )
    append_to_log(checkpoint_log_path(db_id, key_dir), line)
    key = load_key(db_id, key_dir)
    return key, parse_transition(line)


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def check_log_signatures(
    checkpoints: Iterable[Checkpoint], trusted: dict[str, Ed25519PublicKey]
) -> None:
    """Raise :class:`CheckpointError` unless each checkpoint is signed by a trusted key."""
    for cp in checkpoints:
        public = trusted.get(cp.key_id)
        if public is None:
            raise CheckpointError(
                f"checkpoint seq={cp.seq} was signed by key {cp.key_id}, which is neither "
                "this installation's key nor one it was rekeyed from"
            )
        check_signature(cp, public)
