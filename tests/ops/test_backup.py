"""``backup`` and ``restore``: verified copies, manifests, refusals, audited restores."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.audit.checkpoint import parse_checkpoint
from db.audit.verify import verify_chain
from db.ops.backup import BackupError, check_backup, manifest_path_of, sha256_of
from tests.ops.conftest import DEMO_ADMIN

Cli = Callable[..., Any]


def _backup(cli: Cli, db: Path | str, dest: Path) -> Any:
    return cli(["backup", str(dest), "--json", "--db", str(db), "--user", DEMO_ADMIN.username,
                "--password-stdin"], input=DEMO_ADMIN.password + "\n")


def _restore(cli: Cli, db: Path | str, src: Path, *extra: str) -> Any:
    return cli(["restore", str(src), "--json", "--db", str(db), "--user",
                DEMO_ADMIN.username, "--password-stdin", *extra],
               input=DEMO_ADMIN.password + "\n")


@contextmanager
def _sql(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that is committed and closed at the end (sqlite3's own ``with`` only
    commits)."""
    with closing(sqlite3.connect(path)) as conn, conn:
        yield conn


def _error(result: Any) -> str:
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return str(lines[0])


@pytest.fixture
def backed_up(demo_copy: Path, cli: Cli, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    dest = tmp_path / "backups" / "monday.db"
    dest.parent.mkdir()
    result = _backup(cli, demo_copy, dest)
    assert result.exit_code == 0, result.output
    return dest, json.loads(result.stdout)


def test_backup_is_private_verified_and_described_by_its_manifest(
    backed_up: tuple[Path, dict[str, Any]], demo_copy: Path
) -> None:
    dest, report = backed_up
    assert dest.stat().st_mode & 0o777 == 0o600
    manifest = json.loads(manifest_path_of(dest).read_text())
    assert manifest["sha256"] == sha256_of(dest) == report["sha256"]
    assert manifest["size"] == dest.stat().st_size
    checkpoint = parse_checkpoint(manifest["checkpoint"])
    assert checkpoint.db_id == manifest["db_id"]
    assert not dest.with_name(dest.name + "-wal").exists()  # one self-contained file
    with _sql(dest) as conn:
        last = conn.execute(
            "SELECT action, user_name FROM audit_event ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    assert last == ("database.backup", DEMO_ADMIN.username)  # the copy records its making
    assert check_backup(dest).sha256 == manifest["sha256"]


def test_backups_are_never_overwritten(
    backed_up: tuple[Path, dict[str, Any]], demo_copy: Path, cli: Cli
) -> None:
    dest, _ = backed_up
    before = sha256_of(dest)
    assert "already exists" in _error(_backup(cli, demo_copy, dest))
    assert sha256_of(dest) == before


def test_a_tampered_backup_is_refused_and_the_database_left_alone(
    backed_up: tuple[Path, dict[str, Any]], demo_copy: Path, cli: Cli
) -> None:
    dest, _ = backed_up
    with _sql(dest) as conn:
        conn.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        conn.execute("UPDATE patient SET diagnosis = 'edited' WHERE id = 1")
    before = sha256_of(demo_copy)
    message = _error(_restore(cli, demo_copy, dest))
    assert "does not match its manifest" in message
    assert sha256_of(demo_copy) == before
    assert not list(demo_copy.parent.glob("*.before-restore-*"))


def test_a_rehashed_manifest_does_not_hide_a_tampered_chain(
    backed_up: tuple[Path, dict[str, Any]], demo_copy: Path
) -> None:
    dest, _ = backed_up
    with _sql(dest) as conn:
        conn.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        conn.execute("UPDATE audit_event SET reason = 'nothing to see' WHERE seq = 10")
    manifest_file = manifest_path_of(dest)
    manifest = json.loads(manifest_file.read_text())
    manifest["sha256"], manifest["size"] = sha256_of(dest), dest.stat().st_size
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="seq 10"):
        check_backup(dest)


def test_backup_then_restore_brings_the_data_back_with_a_verified_chain(
    backed_up: tuple[Path, dict[str, Any]], demo_copy: Path, cli: Cli,
    open_db: Callable[..., Any],
) -> None:
    dest, _ = backed_up
    # A change after the backup, which the restore takes back.
    with _sql(demo_copy) as conn:
        patients_then = conn.execute("SELECT count(*) FROM patient").fetchone()[0]
    added = cli(["user", "add", "late.user", "--db", str(demo_copy), "--user",
                 DEMO_ADMIN.username, "--password-stdin"],
                input=f"{DEMO_ADMIN.password}\nlate-user-pass\n")
    assert added.exit_code == 0, added.output
    result = _restore(cli, demo_copy, dest)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    kept = Path(report["previous_file_kept_at"])
    assert kept.exists() and kept.name.startswith("demo.db.before-restore-")
    database = open_db(demo_copy)
    with database.engine.connect() as conn:
        users = {r[0] for r in conn.execute(sa.text("SELECT username FROM app_user"))}
        assert "late.user" not in users
        assert conn.execute(sa.text("SELECT count(*) FROM patient")).scalar_one() == patients_then
        last = conn.execute(sa.text(
            "SELECT action FROM audit_event ORDER BY seq DESC LIMIT 1")).scalar_one()
        assert last == "database.restore"
        checkpoint = parse_checkpoint(report["checkpoint"])
        assert verify_chain(conn, database.db_id, [checkpoint]).ok
    # The old file is whole and still opens.
    with _sql(kept) as conn:
        assert conn.execute("SELECT count(*) FROM app_user WHERE username = 'late.user'"
                            ).fetchone()[0] == 1


def test_restore_onto_a_missing_database_authenticates_against_the_backup(
    backed_up: tuple[Path, dict[str, Any]], cli: Cli, tmp_path: Path
) -> None:
    dest, _ = backed_up
    target = tmp_path / "elsewhere" / "formulary.db"
    wrong = cli(["restore", str(dest), "--db", str(target), "--user", DEMO_ADMIN.username,
                 "--password-stdin"], input="wrong-password\n")
    assert "wrong password" in _error(wrong)
    assert not target.exists()
    result = _restore(cli, target, dest)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["previous_file_kept_at"] is None
    assert target.stat().st_mode & 0o777 == 0o600


def test_restoring_another_databases_backup_needs_force(
    backed_up: tuple[Path, dict[str, Any]], cli: Cli, tmp_path: Path
) -> None:
    dest, _ = backed_up
    other = tmp_path / "other.db"
    init = cli(["init", "--db", str(other), "--admin", DEMO_ADMIN.username,
                "--password-stdin"], input=DEMO_ADMIN.password + "\n")
    assert init.exit_code == 0, init.output
    assert "pass --force" in _error(_restore(cli, other, dest))
    forced = _restore(cli, other, dest, "--force")
    assert forced.exit_code == 0, forced.output


def test_restore_refuses_while_the_database_is_open_elsewhere(
    backed_up: tuple[Path, dict[str, Any]], demo_copy: Path, cli: Cli
) -> None:
    dest, _ = backed_up
    with closing(sqlite3.connect(demo_copy)) as busy:
        busy.execute("BEGIN")
        busy.execute("SELECT count(*) FROM patient").fetchone()
        message = _error(_restore(cli, demo_copy, dest))
    assert "in use by another program" in message
    assert not list(demo_copy.parent.glob("*.before-restore-*"))
    assert not list(demo_copy.parent.glob(".*.restoring"))


def test_a_backup_without_manifest_is_refused(
    backed_up: tuple[Path, dict[str, Any]], demo_copy: Path, cli: Cli
) -> None:
    dest, _ = backed_up
    manifest_path_of(dest).unlink()
    assert "no manifest" in _error(_restore(cli, demo_copy, dest))


def test_only_administrators_back_up(demo_copy: Path, cli: Cli, tmp_path: Path) -> None:
    result = cli(["backup", str(tmp_path / "b.db"), "--db", str(demo_copy), "--user",
                  "nurse.lind", "--password-stdin"], input="lind-demo-2026\n")
    assert "cannot make backups" in _error(result)
    assert not (tmp_path / "b.db").exists()


def test_postgresql_backup_points_to_pg_dump(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    result = cli(["restore", str(tmp_path / "x.db"), "--db", url, "--user", "a",
                  "--password-stdin"], input="whatever-pass\n")
    assert "pg_dump" in _error(result)


@pytest.mark.storage
def test_backup_works_on_sqlite_and_names_pg_dump_on_postgresql(
    cli: Cli, new_location: Callable[[], str], tmp_path: Path
) -> None:
    location = new_location()
    init = cli(["init", "--db", location, "--admin", DEMO_ADMIN.username, "--password-stdin"],
               input=DEMO_ADMIN.password + "\n")
    assert init.exit_code == 0, init.output
    result = _backup(cli, location, tmp_path / "copy.db")
    if location.startswith("postgresql"):
        assert "pg_dump" in _error(result)
        assert not (tmp_path / "copy.db").exists()
    else:
        assert result.exit_code == 0, result.output
