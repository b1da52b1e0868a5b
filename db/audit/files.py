"""Hold the managed files against the rows that name them: re-hash every file.

A photo row's SHA-256 is in the audit chain (its row image), and the replay
(:mod:`db.audit.replay`) already proves the row still says what was audited. This check
closes the last gap: the file on disk must still hash to that value, so a photo that
was deleted, edited or swapped for another is reported by ``formulary audit verify``
(exit 4, records altered).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from db.files import MANAGED_COLUMNS, ManagedFolder, is_sha256

#: How many problems are spelled out (the count is always given).
MAX_LISTED = 20


@dataclass(frozen=True, slots=True)
class FilesReport:
    """Files re-hashed and those missing or altered (the first few spelled out)."""

    files_checked: int
    problems: tuple[str, ...]
    problem_count: int


def _table_exists(conn: Connection, table: str) -> bool:
    return table in set(sa.inspect(conn).get_table_names())


def check_managed_files(conn: Connection, folder: ManagedFolder) -> FilesReport:
    """Re-hash the file of every row in :data:`db.files.MANAGED_COLUMNS`."""
    checked = 0
    problems: list[str] = []
    count = 0
    for table, hash_column, size_column in MANAGED_COLUMNS:
        if not _table_exists(conn, table):
            continue  # a database from before the table's migration
        size_sql = size_column if size_column is not None else "NULL"
        rows = conn.execute(
            sa.text(
                f"SELECT id, {hash_column}, {size_sql} FROM {table} "  # noqa: S608
                f"WHERE {hash_column} IS NOT NULL ORDER BY id"
            )
        ).all()
        if rows and not folder.exists():
            count += len(rows)
            problems.append(
                f"the managed file folder {folder.path} is missing: {len(rows)} {table} "
                "file(s) cannot be checked; put the folder back or restore a backup"
            )
            continue
        for ident, digest, size in rows:
            checked += 1
            if not isinstance(digest, str) or not is_sha256(digest):
                count += 1
                if len(problems) < MAX_LISTED:
                    problems.append(f"{table} {ident}: the recorded hash {digest!r} is not SHA-256")
                continue
            problem = folder.check(digest, None if size is None else int(size))
            if problem is None:
                continue
            count += 1
            if len(problems) < MAX_LISTED:
                what = "MISSING" if problem.kind == "missing" else "ALTERED"
                problems.append(f"{table} {ident}: file {what}: {problem.detail}")
    return FilesReport(files_checked=checked, problems=tuple(problems), problem_count=count)
