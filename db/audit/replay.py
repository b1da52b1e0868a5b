"""Hold the tables against the audit trail: replay the after-images, compare every row.

Every change the application saves is audited with the row's complete image
(``db.images``), so replaying the ``after`` images in ``seq`` order reproduces every
audited table exactly. A row edited, inserted or deleted behind the application's
back (plain SQL with the guard triggers dropped) no longer matches its replay; the
chain itself may still be intact, because the attacker never touched
``audit_event``.

Memory stays bounded by the number of rows, not their size: the replay keeps, per
row, a 16-byte digest of its last image's text and that image's ``seq`` (one
``bytes``, see :func:`mark`); the image is read again only for a row that differs,
to name the columns.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from db.audit import rowtext
from db.audit.canonical import CanonicalJSONError, canonical_json, dumps_plain
from db.audit.history import ADDED_COLUMNS

if TYPE_CHECKING:
    from db.audit.signatures import SignatureCheck

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


def _image_test(table: sa.Table) -> tuple[str, tuple[str, ...]]:
    """What :func:`_is_image` looks for in ``table``'s images: a prefix and key tokens."""
    names = sorted(c.key for c in table.columns)
    return f'{{"{names[0]}":', tuple(f'"{name}":' for name in names)


def _is_image(text: str, test: tuple[str, tuple[str, ...]]) -> bool:
    """True when ``text`` is a complete row image (every column, nothing else).

    Entries about a record that are not row changes (an export of a patient's chart,
    a failed login) carry other objects in ``after``; they are not replayed. The
    prefix test (keys are sorted) skips the rest for nearly all of them.
    """
    prefix, tokens = test
    if not text.startswith(prefix):
        return False
    # Every column's key is present. Keys are sorted, so each is looked for after the
    # previous one: one pass over the text instead of one per column. The earliest
    # match of a name is never after its top-level key (a nested occurrence can only
    # come earlier), so a real image always passes; values are JSON, so a token
    # '"name":' is a key, top-level or nested (nested objects of row images never
    # repeat a column's name with a different meaning).
    find = text.find
    at = len(prefix)
    for token in tokens[1:]:
        at = find(token, at)
        if at < 0:
            return False
    return True


def _compiled_test(test: tuple[str, tuple[str, ...]]) -> Callable[[str], bool]:
    """:func:`_is_image` for one table as a single expression (the feed's test).

    ``find(text, token_n, … find(text, token_2, len(prefix)) …) >= 0``: the same
    searches as the loop, each from where the previous key was found. A search that
    fails gives -1, and a search from -1 starts at the text's last character, where
    no token (at least four characters) fits, so it fails too: the expression is
    negative exactly when the loop returns False. One call instead of a Python loop
    with a call per column, for every entry of the trail; the tests hold the two
    equal. Generated from our table metadata only.
    """
    prefix, tokens = test
    if any(len(token) < 2 for token in tokens):  # pragma: no cover - '"x":' at least
        raise ValueError("a key token shorter than two characters breaks the -1 rule")
    search = repr(len(prefix))
    for token in tokens[1:]:
        search = f"find(t, {token!r}, {search})"
    names: dict[str, Any] = {"find": str.find}
    code = f"def is_image(t):\n    return t.startswith({prefix!r}) and {search} >= 0\n"
    exec(compile(code, f"<image test {prefix}>", "exec"), names)  # noqa: S102 - see above
    test_of: Callable[[str], bool] = names["is_image"]
    return test_of


def complete_image(entity: str, text: str, columns: frozenset[str]) -> str | None:
    """An image from before later migrations, completed to the table's columns now.

    None when ``text`` is not such an image: not an object, a key that is no column,
    or a missing column that no migration added (see :mod:`db.audit.history`).
    """
    added = ADDED_COLUMNS.get(entity)
    if added is None or not text.startswith('{"') or '"id":' not in text:
        return None
    try:
        image = json.loads(text)
    except ValueError:
        return None
    if not isinstance(image, dict) or not image.keys() <= columns:
        return None
    missing = columns - image.keys()
    if not missing or not missing <= added.keys():
        return None
    for name in missing:
        image[name] = added[name]
    try:
        return dumps_plain(image)
    except (TypeError, ValueError):
        return None


#: Bytes of a :func:`mark` that are the image's digest (the rest is its seq).
DIGEST_SIZE = 16


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=DIGEST_SIZE).digest()


def mark(seq: int, digest: bytes) -> bytes:
    """What the replay keeps for a row: its last image's digest, then that image's seq.

    One ``bytes`` rather than a ``(seq, digest)`` tuple: a dict of str to bytes holds
    no object the garbage collector tracks, so its collections never walk the replay
    (a million tuples in a tracked dict made them about a fifth of a large clinic's
    verification time). ``mark.startswith(digest)`` compares the digest.
    """
    return digest + seq.to_bytes(8, "big")


def seq_of(kept: bytes) -> int:
    """The seq of the image a :func:`mark` was taken from."""
    return int.from_bytes(kept[DIGEST_SIZE:], "big")


def _key_column(table: sa.Table) -> sa.Column[Any]:
    keys = list(table.primary_key.columns)
    if len(keys) != 1:
        raise ValueError(f"table {table.name} has no single-column primary key to replay by")
    return keys[0]


class Replay:
    """The audit trail's after-images, replayed: per row, the :func:`mark` of its last image.

    Fed the chain's rows in ``seq`` order, either by the chain walk itself
    (:func:`db.audit.verify.verify_chain`'s ``on_batch``, so the trail is read once)
    or by :meth:`read` on its own.
    """

    def __init__(self) -> None:
        self.tables = audited_tables()
        self.state: dict[str, dict[str, bytes]] = {t.name: {} for t in self.tables}
        self._tests = {t.name: _image_test(t) for t in self.tables}
        # Per entity: its image test and its rows' marks (one lookup per entry).
        self._feeding = {
            name: (_compiled_test(test), self.state[name]) for name, test in self._tests.items()
        }
        self._columns = {t.name: frozenset(c.key for c in t.columns) for t in self.tables}

    def _image_digest(self, entity: str, text: str) -> bytes | None:
        """The digest of ``text`` as a row image of ``entity`` (None: not a row image).

        An image written before a later migration added columns lacks them: it is read
        completed with the value the migration gave existing rows
        (:data:`db.audit.history.ADDED_COLUMNS`).
        """
        if _is_image(text, self._tests[entity]):
            return _digest(text)
        completed = complete_image(entity, text, self._columns[entity])
        return None if completed is None else _digest(completed)

    def feed(self, rows: Iterable[Sequence[Any]]) -> None:
        """Take chain rows (``seq, ts_utc, user, workstation, action, entity, entity_id,
        before, after, …`` as the chain walk reads them) in ``seq`` order."""
        feeding = self._feeding
        blake2b = hashlib.blake2b
        for row in rows:
            found = feeding.get(row[5])
            if found is None:
                continue
            entity_id = row[6]
            if entity_id is None:
                continue
            after = row[8]
            if after is not None:
                is_image, marks = found
                if is_image(after):
                    # mark(), spelled out: this runs for every entry of the trail.
                    marks[entity_id] = blake2b(
                        after.encode("utf-8"), digest_size=DIGEST_SIZE
                    ).digest() + int(row[0]).to_bytes(8, "big")
                elif row[5] in ADDED_COLUMNS:
                    digest = self._image_digest(row[5], after)
                    if digest is not None:
                        marks[entity_id] = mark(int(row[0]), digest)
            else:
                before = row[7]
                if before is not None and self._image_digest(row[5], before) is not None:
                    found[1].pop(entity_id, None)  # a hard delete

    def read(self, conn: Connection) -> None:
        """Read and feed the whole trail (when the chain walk did not feed it)."""
        query = sa.text(
            "SELECT seq, ts_utc, user_name, workstation, action, entity, entity_id, before,"
            " after FROM audit_event WHERE seq > :after AND seq <= :upto ORDER BY seq"
        )
        upto_max = conn.execute(sa.text("SELECT max(seq) FROM audit_event")).scalar() or 0
        after_seq = 0
        while after_seq < upto_max:
            self.feed(conn.execute(query, {"after": after_seq, "upto": after_seq + _BATCH}))
            after_seq += _BATCH


def replay_tables(
    conn: Connection,
    *,
    progress: Callable[[str], None] | None = None,
    replay: Replay | None = None,
    signatures: SignatureCheck | None = None,
) -> ReplayReport:
    """Compare every audited table with the replay of ``audit_event``'s after-images.

    Read-only; call it on the same read transaction as the chain walk so both see one
    snapshot. The chain should be verified first: a replay of an altered chain proves
    nothing. ``replay`` is the trail already fed by the chain walk; without it the
    trail is read here. ``signatures``, when given, is handed every formulation
    version and session row as it goes by (each is read and serialised once).

    Each current row is serialised from the driver's values (:mod:`db.audit.rowtext`)
    and its digest compared with its last image's; only a row that differs (or that
    the fast path cannot serialise) goes through the general serialiser, which
    decides, and names the columns.
    """
    if replay is None:
        replay = Replay()
        replay.read(conn)
    if progress is not None:
        progress("audit images replayed")

    problems: list[RowProblem] = []
    count = 0
    checked = 0

    def found(problem: RowProblem | None) -> None:
        nonlocal count
        if problem is not None:
            count += 1
            if len(problems) < MAX_LISTED:
                problems.append(problem)

    for table in replay.tables:
        key = _key_column(table)
        # Rows are taken out of the replay as they are found: what is left at the end
        # is in the trail but not in the table (deleted behind the application's back).
        expected = replay.state[table.name]
        pop = expected.pop
        try:
            shape: rowtext.RowShape | None = rowtext.shape_of(table, key.key)
        except ValueError:
            shape = None  # a table with secret columns: the general path, row by row
        if shape is None:
            for mapping in _typed_rows(conn, table, key):
                row_id = str(mapping[key.key])
                checked += 1
                found(_check_typed(conn, table, row_id, mapping, pop(row_id, None)))
        else:
            index = shape.key_index
            hand: Callable[[Sequence[Any], list[str] | None], None] | None = None
            if signatures is not None:
                hand = {
                    "treatment_session": signatures.session,
                    "formulation_version": signatures.version,
                }.get(table.name)
            blake2b = hashlib.blake2b
            if hand is not None:
                joined = shape.joined
                for page in rowtext.pages(conn, shape):
                    checked += len(page)
                    for row in page:
                        row_id = str(row[index])
                        try:
                            values: list[str] | None = shape.values(row)
                        except (rowtext.Slow, ValueError, TypeError, ArithmeticError):
                            values = None
                        hand(row, values)
                        mine = pop(row_id, None)
                        if mine is not None and values is not None:
                            try:
                                if mine.startswith(
                                    blake2b(
                                        joined(values).encode("utf-8"), digest_size=DIGEST_SIZE
                                    ).digest()
                                ):
                                    continue
                            except ValueError:
                                pass  # the general path decides
                        found(_check_one(conn, table, key, row_id, mine))
            else:
                text = shape.text
                for page in rowtext.pages(conn, shape):
                    checked += len(page)
                    for row in page:
                        row_id = str(row[index])
                        mine = pop(row_id, None)
                        if mine is not None:
                            try:
                                if mine.startswith(
                                    blake2b(
                                        text(row).encode("utf-8"), digest_size=DIGEST_SIZE
                                    ).digest()
                                ):
                                    continue
                            except (rowtext.Slow, ValueError, TypeError, ArithmeticError):
                                pass  # the general path decides
                        found(_check_one(conn, table, key, row_id, mine))
        for row_id in sorted(expected, key=_natural):
            found(
                RowProblem(
                    table.name,
                    row_id,
                    (),
                    f"table {table.name} row {row_id} is in the audit trail "
                    f"(seq {seq_of(expected[row_id])}) but missing from the table: deleted "
                    "behind the application's back",
                )
            )
        if progress is not None:
            progress(f"table {table.name} compared")
    return ReplayReport(
        tables=tuple(t.name for t in replay.tables),
        rows_checked=checked,
        problems=tuple(problems),
        problem_count=count,
    )


def _typed_rows(conn: Connection, table: sa.Table, key: sa.Column[Any]) -> Iterator[Any]:
    last: Any = None
    while True:
        stmt = sa.select(table).order_by(key).limit(_BATCH)
        if last is not None:
            stmt = stmt.where(key > last)
        batch = conn.execute(stmt).all()
        if not batch:
            return
        for row in batch:
            yield row._mapping
        last = batch[-1]._mapping[key.key]


def _check_one(
    conn: Connection,
    table: sa.Table,
    key: sa.Column[Any],
    row_id: str,
    mine: bytes | None,
) -> RowProblem | None:
    """The general path for one row the fast path could not clear."""
    row = conn.execute(sa.select(table).where(key == key.type.python_type(row_id))).first()
    if row is None:  # pragma: no cover - read on the same snapshot
        return None
    return _check_typed(conn, table, row_id, row._mapping, mine)


def _check_typed(
    conn: Connection,
    table: sa.Table,
    row_id: str,
    values: Any,
    mine: bytes | None,
) -> RowProblem | None:
    from db.images import REDACTED
    from db.ops.bulk import image_of, plain_image_json

    secret = any(name == table.name for name, _ in REDACTED)
    try:
        text = (
            canonical_json(image_of(table, dict(values)))
            if secret
            else plain_image_json(table, values)
        )
    except (CanonicalJSONError, TypeError, ValueError) as exc:
        return RowProblem(table.name, row_id, (), f"table {table.name} row {row_id}: {exc}")
    if mine is not None and mine.startswith(_digest(text)):
        return None
    return _explain(conn, table.name, row_id, text, mine)


def _natural(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (0, text)


def _explain(
    conn: Connection, table: str, row_id: str, actual_text: str, mine: bytes | None
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
    seq = seq_of(mine)
    stored = conn.execute(
        sa.text("SELECT after FROM audit_event WHERE seq = :seq"), {"seq": seq}
    ).scalar()
    expected: dict[str, Any] = json.loads(stored) if stored else {}
    actual: dict[str, Any] = json.loads(actual_text)
    for name, value in ADDED_COLUMNS.get(table, {}).items():
        expected.setdefault(name, value)  # an image from before the column was added
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
