"""verify_database / checkpoint_database in process, on a database from open_database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from db.audit.checkpoint import CheckpointError
from db.audit.keys import KeyMissingError
from db.audit.service import checkpoint_database, verify_database
from db.database import Database, open_database


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = open_database(str(tmp_path / "clinic.db"))
    try:
        yield db
    finally:
        db.dispose()


def _count(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM audit_event")).scalar() or 0)


def test_verification_is_recorded_unless_asked_not_to(database: Database, tmp_path: Path) -> None:
    before = _count(database)
    seen: list[tuple[int, int]] = []
    result = verify_database(
        database, user="auditor.kim", key_dir=tmp_path / "k", record=False,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert result.report.ok and result.recorded_seq is None and _count(database) == before
    assert result.sources == ()
    assert (seen[-1] == (before, before)) if before else seen == []
    result = verify_database(database, user="auditor.kim", key_dir=tmp_path / "k")
    assert result.recorded_seq == before + 1 and _count(database) == before + 1


def test_checkpoints_from_the_log_are_used_and_named(database: Database, tmp_path: Path) -> None:
    cp = checkpoint_database(database, key_dir=tmp_path / "k")
    result = verify_database(database, user="u", key_dir=tmp_path / "k", record=False)
    assert result.report.checkpoints_checked == 1
    assert result.report.newest_checkpoint_seq == cp.seq
    assert result.sources == (str(tmp_path / "k" / f"{database.db_id}.checkpoints"),)


def test_named_files_without_checkpoints_or_key_are_refused(
    database: Database, tmp_path: Path
) -> None:
    empty = tmp_path / "notes.txt"
    empty.write_text("no checkpoint here\n")
    with pytest.raises(CheckpointError, match="holds no FORMULARY-CHECKPOINT line"):
        verify_database(database, user="u", checkpoint_files=[empty], key_dir=tmp_path / "k")
    line = checkpoint_database(database, key_dir=tmp_path / "elsewhere").line
    saved = tmp_path / "cp.txt"
    saved.write_text(line + "\n")
    with pytest.raises(KeyMissingError, match="--public-key"):
        verify_database(database, user="u", checkpoint_files=[saved], key_dir=tmp_path / "k")
