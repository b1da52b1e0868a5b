"""Hold the tables against the audit trail: replay the after-images, compare every row.

Every change the application saves is audited with the row's complete image
(``db.images``), so replaying the ``after`` images in ``seq`` order reproduces every
audited table exactly. A row edited, inserted or deleted behind the application's
back (plain SQL with the guard triggers dropped) no longer matches its replay; the
chain itself may still be intact, because the attacker never touched
``audit_event``.

Memory stays bounded by the number of rows, not their size: the replay keeps, per
row, the ``seq`` of its last image and a 16-byte digest of that image's text; the
image is read again only for a row that differs, to name the columns.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from db.audit.canonical import CanonicalJSONError, canonical_json

#: Tables that hold no audited rows: the chain itself and the migration stamp.
NOT_AUDITED = frozenset({"audit_event", "alembic_version"})

#: How many differences are spelled out (the count is always given).
MAX_LISTED = 20

_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One row that disagrees with the audit trail."""

    table: str
    row_id: str
    columns: tuple[str, ...]
    message: str


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What the replay found: rows compared, problems (the first few spelled out)."""

    tables: tuple[str, ...]
    rows_checked: int
    problems: tuple[RowProblem, ...]
    problem_count: int

    @property
    def ok(self) -> bool:
        """True when every row of every audited table matches its replay."""
        return self.problem_count == 0


def audited_tables() -> list[sa.Table]:
    """Every table whose rows the audit trail accounts for (all but the chain itself)."""
    import db.tables  # noqa: F401 - registers every table on the metadata

    _load_table_modules()
    return [
        t for name, t in sorted(SQLModel.metadata.tables.items()) if name not in NOT_AUDITED
    ]


def _load_table_modules() -> None:
    import importlib
    import pkgutil

    import db.tables as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")


def _is_image(text: str, columns: tuple[str, set[str]]) -> bool:
    """True when ``text`` is a complete row image (every column, nothing else).

    Entries about a record that are not row changes (an export of a patient's chart,
    a failed login) carry other objects in ``after``; they are not replayed. The
    prefix test (keys are sorted) skips parsing for nearly all of them.
    """
    prefix, names = columns
    if not text.startswith(prefix):
        return False
    # Every column's key is present (keys are sorted, values are JSON, so a key token
    # '"name":' right after '{' or ',' is a top-level or nested key; nested objects
    # of row images never repeat a column's name with a different meaning).
    return all(f'"{name}":' in text for name in names)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _key_column(table: sa.Table) -> sa.Column[Any]:
    keys = list(table.primary_key.columns)
    if len(keys) != 1:
        raise ValueError(f"table {table.name} has no single-column primary key to replay by")
    return keys[0]


def replay_tables(
    conn: Connection,
    *,
    progress: Callable[[str], None] | None = None,
) -> ReplayReport:
    """Replay the after-images of ``audit_event`` and compare every audited table.

    Read-only; call it on the same read transaction as the chain walk so both see one
    snapshot. The chain should be verified first: a replay of an altered chain proves
    nothing.
    """
    from db.images import REDACTED
    from db.ops.bulk import image_of, plain_image_json

    secret_tables = {name for name, _ in REDACTED}

    tables = audited_tables()
    names = {t.name for t in tables}
    state: dict[str, dict[str, tuple[int, bytes]]] = {name: {} for name in names}
    columns = {t.name: (f'{{"{min(c.key for c in t.columns)}":', {c.key for c in t.columns})
               for t in tables}
    after_seq = 0
    query = sa.text(
        "SELECT seq, entity, entity_id, before, after FROM audit_event"
        " WHERE seq > :after AND seq <= :upto ORDER BY seq"
    )
    upto_max = conn.execute(sa.text("SELECT max(seq) FROM audit_event")).scalar() or 0
    while after_seq < upto_max:
        rows = conn.execute(query, {"after": after_seq, "upto": after_seq + _BATCH}).all()
        after_seq += _BATCH
        for seq, entity, entity_id, before, after in rows:
            if entity not in names or entity_id is None:
                continue
            if after is not None:
                if _is_image(after, columns[entity]):
                    state[entity][entity_id] = (int(seq), _digest(after))
            elif before is not None and _is_image(before, columns[entity]):
                state[entity].pop(entity_id, None)  # a hard delete
    if progress is not None:
        progress("audit images replayed")

    problems: list[RowProblem] = []
    count = 0
    checked = 0
    for table in tables:
        key = _key_column(table)
        expected = state[table.name]
        secret = table.name in secret_tables
        seen: set[str] = set()
        last: Any = None
        while True:
            stmt = sa.select(table).order_by(key).limit(_BATCH)
            if last is not None:
                stmt = stmt.where(key > last)
            batch = conn.execute(stmt).all()
            if not batch:
                break
            for row in batch:
                values = row._mapping
                last = values[key.key]
                row_id = str(last)
                seen.add(row_id)
                checked += 1
                try:
                    text = (
                        canonical_json(image_of(table, dict(values)))
                        if secret
                        else plain_image_json(table, values)  # type: ignore[arg-type]
                    )
                except (CanonicalJSONError, TypeError, ValueError) as exc:
                    problem: RowProblem | None = RowProblem(
                        table.name, row_id, (), f"table {table.name} row {row_id}: {exc}"
                    )
                else:
                    mine = expected.get(row_id)
                    if mine is not None and mine[1] == _digest(text):
                        continue
                    problem = _explain(conn, table.name, row_id, text, mine)
                if problem is not None:
                    count += 1
                    if len(problems) < MAX_LISTED:
                        problems.append(problem)
        for row_id in sorted(set(expected) - seen, key=_natural):
            count += 1
            if len(problems) < MAX_LISTED:
                problems.append(
                    RowProblem(
                        table.name,
                        row_id,
                        (),
                        f"table {table.name} row {row_id} is in the audit trail "
                        f"(seq {expected[row_id][0]}) but missing from the table: deleted "
                        "behind the application's back",
                    )
                )
        if progress is not None:
            progress(f"table {table.name} compared")
    return ReplayReport(
        tables=tuple(t.name for t in tables),
        rows_checked=checked,
        problems=tuple(problems),
        problem_count=count,
    )


def _natural(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (0, text)


def _explain(
    conn: Connection, table: str, row_id: str, actual_text: str, mine: tuple[int, bytes] | None
) -> RowProblem | None:
    """Name the columns of a row that differs; None if it only differs in spelling."""
    if mine is None:
        return RowProblem(
            table,
            row_id,
            (),
            f"table {table} row {row_id} has no audit entry: inserted behind the "
            "application's back",
        )
    seq = mine[0]
    stored = conn.execute(
        sa.text("SELECT after FROM audit_event WHERE seq = :seq"), {"seq": seq}
    ).scalar()
    expected: dict[str, Any] = json.loads(stored) if stored else {}
    actual: dict[str, Any] = json.loads(actual_text)
    if expected == actual:
        return None
    columns = tuple(
        sorted(k for k in set(expected) | set(actual) if expected.get(k) != actual.get(k))
    )
    shown = ", ".join(
        f"{c} is {_short(actual.get(c))} but the audit trail (seq {seq}) has "
        f"{_short(expected.get(c))}"
        for c in columns[:3]
    )
    more = f" and {len(columns) - 3} more column(s)" if len(columns) > 3 else ""
    return RowProblem(
        table,
        row_id,
        columns,
        f"table {table} row {row_id}: {shown}{more}: changed behind the application's back",
    )


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "…"


def describe(problems: Iterable[RowProblem]) -> list[str]:
    """The problems' messages, for reports."""
    return [p.message for p in problems]
