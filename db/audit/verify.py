"""Recompute the audit chain and hold it against signed checkpoints.

Rows are streamed in ``seq`` order in batches (keyset pagination on the primary
key), so a chain of millions of entries never sits in memory at once. The first
problem in sequence order is reported:

* ``altered`` (exit 2): a row is missing (gap in ``seq``), does not link to its
  predecessor (``prev_hash``), or its contents no longer give its ``hash``;
* ``truncated`` (exit 3): a trusted checkpoint records a ``seq`` beyond the end of
  the chain (tail deleted, or an older copy restored), or the chain at a
  checkpoint's ``seq`` has a different hash (rolled back and re-written);
* ``ok`` (exit 0).

Checkpoints passed in must already be trusted (signature and database checked, see
:func:`db.audit.checkpoint.trusted_checkpoints`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _quote
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from db.audit.chain import DOMAIN_TAG, GENESIS_HASH, read_head
from formulary.records import Checkpoint

Status = Literal["ok", "altered", "truncated", "records"]
ProgressCallback = Callable[[int, int], None]

#: ``records``: the chain is intact but a table row or a signature disagrees with it.
EXIT_CODES: dict[Status, int] = {"ok": 0, "altered": 2, "truncated": 3, "records": 4}

# A bounded seq range rather than "seq > :after ... LIMIT :n": PostgreSQL plans the
# open-ended form as a full scan and sort on a table it has not analyzed yet (a
# restored or bulk-loaded chain), the bounded one always as a primary-key range scan.
_BATCH = text(
    "SELECT seq, ts_utc, user_name, workstation, action, entity, entity_id, before, after,"
    " reason, prev_hash, hash FROM audit_event WHERE seq > :after AND seq <= :upto"
    " ORDER BY seq"
)
_NEXT = text("SELECT min(seq) FROM audit_event WHERE seq > :after")


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What verification found. ``exit_code`` is what ``formulary audit verify`` returns."""

    db_id: str
    status: Status
    rows: int  # entries verified good, in seq order, before the first problem
    head_seq: int
    head_hash: str
    first_bad_seq: int | None
    problem: str | None
    checkpoint: Checkpoint | None
    checkpoints_checked: int
    newest_checkpoint_seq: int | None
    rows_after_checkpoint: int
    #: Rows of audited tables compared with the replay of the audit's after-images
    #: (None: the tables were not checked).
    table_rows_checked: int | None = None
    #: Signed sessions and addenda whose signature was recomputed (None: not checked).
    signatures_checked: int | None = None
    #: Managed files (photos) re-hashed against their rows (None: not checked).
    files_checked: int | None = None
    #: Table rows, signatures and managed files that disagree (the first few spelled out).
    record_problems: tuple[str, ...] = ()
    record_problem_count: int = 0

    @property
    def ok(self) -> bool:
        """True when the chain is intact and agrees with every checkpoint."""
        return self.status == "ok"

    @property
    def exit_code(self) -> int:
        """0 intact, 2 altered, 3 truncated/rolled back/identity changed, 4 records altered."""
        return EXIT_CODES[self.status]

    def summary(self) -> str:
        """A few plain sentences for a person: the verdict, then the unchecked tail."""
        if self.status == "ok":
            head = (
                f"audit chain intact: {self.rows} entries, head seq {self.head_seq}"
                f" hash {self.head_hash[:16]}…; {self.checkpoints_checked} checkpoint(s) agree."
            )
            head += self._records_sentence()
        elif self.status == "records":
            head = (
                f"audit chain intact ({self.rows} entries, {self.checkpoints_checked} "
                f"checkpoint(s) agree) but RECORDS ALTERED: {self.record_problem_count} "
                "row(s), signature(s) or file(s) disagree with it:\n  "
                + "\n  ".join(self.record_problems)
            )
            if self.record_problem_count > len(self.record_problems):
                head += f"\n  … and {self.record_problem_count - len(self.record_problems)} more"
        else:
            head = f"audit chain {self.status.upper()}: {self.problem}"
        if self.newest_checkpoint_seq is None:
            tail = (
                f"{self.rows_after_checkpoint} entries lie after the newest checkpoint "
                "(there is none): deleting rows from the end could not be detected."
            )
        else:
            tail = (
                f"{self.rows_after_checkpoint} entries lie after the newest checkpoint "
                f"(seq {self.newest_checkpoint_seq})."
            )
        return f"{head}\n{tail}"

    def _records_sentence(self) -> str:
        parts = []
        if self.table_rows_checked is not None:
            parts.append(f"{self.table_rows_checked} table rows match the audit trail")
        if self.signatures_checked is not None:
            parts.append(f"{self.signatures_checked} signatures recomputed and valid")
        if self.files_checked is not None:
            parts.append(f"{self.files_checked} stored files re-hashed and intact")
        return ("\n" + "; ".join(parts) + ".") if parts else ""

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready dict (for ``--json`` and for the ``audit.verify`` entry)."""
        return {
            "db_id": self.db_id,
            "status": self.status,
            "exit_code": self.exit_code,
            "rows": self.rows,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "checkpoint": None if self.checkpoint is None else self.checkpoint.line,
            "checkpoints_checked": self.checkpoints_checked,
            "newest_checkpoint_seq": self.newest_checkpoint_seq,
            "rows_after_checkpoint": self.rows_after_checkpoint,
            "table_rows_checked": self.table_rows_checked,
            "signatures_checked": self.signatures_checked,
            "files_checked": self.files_checked,
            "record_problems": list(self.record_problems),
            "record_problem_count": self.record_problem_count,
        }


def _json_text(value: Any) -> str:
    return "null" if value is None else _quote(value)


def _row_hash(prefix: str, row: Sequence[Any]) -> str:
    """The same bytes as :func:`db.audit.chain.compute_hash`, spelled out for speed.

    The nine keys in sorted order, each value quoted by the encoder json.dumps itself
    uses (``ensure_ascii=False``); the property tests hold the two paths equal.
    Raises TypeError when a column holds something other than text (or NULL).
    """
    entry_json = (
        '{"action":' + _quote(row[4])
        + ',"after":' + _json_text(row[8])
        + ',"before":' + _json_text(row[7])
        + ',"entity":' + _quote(row[5])
        + ',"entity_id":' + _json_text(row[6])
        + ',"reason":' + _json_text(row[9])
        + ',"ts_utc":' + _quote(row[1])
        + ',"user":' + _quote(row[2])
        + ',"workstation":' + _quote(row[3])
        + "}"
    )
    message = f"{prefix}{row[0]}\x00{row[10]}\x00{entry_json}"
    return hashlib.sha256(message.encode("utf-8")).hexdigest()


def verify_chain(
    session_or_connection: Session | Connection,
    db_id: str,
    checkpoints: Iterable[Checkpoint] = (),
    progress: ProgressCallback | None = None,
    *,
    batch_size: int = 10_000,
    on_batch: Callable[[Sequence[Sequence[Any]]], None] | None = None,
) -> VerifyReport:
    """Recompute every hash in ``seq`` order and compare with trusted ``checkpoints``.

    ``progress(done, total)`` is called after each batch (``total`` is the head seq
    when verification started). ``on_batch(rows)`` is given every batch whose rows
    all verified (``seq, ts_utc, user_name, workstation, action, entity, entity_id,
    before, after, reason, prev_hash, hash``), so the table replay reads the trail in
    the same pass (:class:`db.audit.replay.Replay`). Never writes.
    """
    conn = session_or_connection
    cps = sorted(checkpoints, key=lambda c: c.seq)
    for cp in cps:
        if cp.db_id != db_id:
            raise ValueError(f"checkpoint seq={cp.seq} is for database {cp.db_id}, not {db_id}")
    total, _ = read_head(conn)
    by_seq: dict[int, list[Checkpoint]] = {}
    for cp in cps:
        by_seq.setdefault(cp.seq, []).append(cp)

    prefix = f"{DOMAIN_TAG}\x00{db_id}\x00"
    expected = 1
    prev = GENESIS_HASH
    last_good_cp = 0
    status: Status = "ok"
    bad_seq: int | None = None
    problem: str | None = None
    bad_cp: Checkpoint | None = None

    def diverged(cp: Checkpoint, actual: str) -> str:
        return (
            f"the chain at seq {cp.seq} has hash {actual[:16]}… but the checkpoint made "
            f"{cp.at.strftime('%Y-%m-%dT%H:%M:%SZ')} recorded {cp.head_hash[:16]}…: the "
            f"database was rolled back or rewritten after seq {last_good_cp}"
        )

    # A checkpoint of the empty chain must name the genesis hash.
    for cp in by_seq.get(0, []):
        if cp.head_hash != GENESIS_HASH:
            status, bad_cp, problem = "truncated", cp, diverged(cp, GENESIS_HASH)

    # Rows below seq 1 are outside the walk (it starts after 0): they must not exist.
    stray = conn.execute(text("SELECT min(seq) FROM audit_event WHERE seq < 1")).scalar()
    if stray is not None and status == "ok":
        status, bad_seq = "altered", int(stray)
        problem = f"a row with seq {stray} exists; the chain starts at seq 1: rows were inserted"

    while status == "ok":
        after = expected - 1
        rows = conn.execute(_BATCH, {"after": after, "upto": after + batch_size}).all()
        if not rows:
            following = conn.execute(_NEXT, {"after": after}).scalar()
            if following is None:
                break  # the end of the chain
            status, bad_seq = "altered", expected
            problem = (
                f"seq {expected} is missing (the next row is seq {following}): rows were deleted"
            )
            break
        for row in rows:
            seq = int(row[0])
            if seq != expected:
                status, bad_seq = "altered", expected
                problem = (
                    f"seq {expected} is missing (the next row is seq {seq}): rows were deleted"
                )
                break
            if row[10] != prev:
                status, bad_seq = "altered", seq
                problem = (
                    f"seq {seq}: prev_hash does not match the hash of seq {seq - 1}: "
                    "rows were inserted, removed or reordered"
                )
                break
            try:
                digest = _row_hash(prefix, row)
            except (TypeError, UnicodeEncodeError):
                status, bad_seq = "altered", seq
                problem = f"seq {seq}: a field holds a value that is not text"
                break
            if digest != row[11]:
                status, bad_seq = "altered", seq
                problem = f"seq {seq}: the stored hash does not match the row's contents"
                break
            for cp in by_seq.get(seq, ()):
                if cp.head_hash != digest:
                    status, bad_cp = "truncated", cp
                    problem = diverged(cp, digest)
                    break
                last_good_cp = seq
            if status != "ok":
                break
            prev = digest
            expected += 1
        if on_batch is not None and status == "ok":
            on_batch(rows)
        if progress is not None:
            progress(expected - 1, max(total, expected - 1))

    verified = expected - 1
    head_seq, head_hash = verified, prev
    if status == "ok":
        beyond = [cp for cp in cps if cp.seq > head_seq]
        if beyond:
            cp = beyond[-1]
            status, bad_cp = "truncated", cp
            problem = (
                f"the chain ends at seq {head_seq} but a checkpoint made "
                f"{cp.at.strftime('%Y-%m-%dT%H:%M:%SZ')} recorded seq {cp.seq}: "
                f"{cp.seq - head_seq} entries were deleted from the end, or an older copy "
                "of the database was restored"
            )
    if status != "ok":
        # The tail count is about the whole table, not where the walk stopped.
        head_seq, head_hash = read_head(conn)
    newest = cps[-1].seq if cps else None
    return VerifyReport(
        db_id=db_id,
        status=status,
        rows=verified,
        head_seq=head_seq,
        head_hash=head_hash,
        first_bad_seq=bad_seq,
        problem=problem,
        checkpoint=bad_cp,
        checkpoints_checked=len(cps),
        newest_checkpoint_seq=newest,
        rows_after_checkpoint=max(0, head_seq - (newest or 0)),
    )
