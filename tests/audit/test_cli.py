"""``formulary audit verify|checkpoint`` end to end: a real database opened by
``open_database``, the command run as a subprocess, exit codes and output checked."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from db.audit.chain import append_event
from db.audit.guards import install_guards, remove_guards
from db.database import Database, open_database
from tests.audit.conftest import PG_ENV

pytestmark = pytest.mark.storage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Database, str]]:
    """A migrated Formulary database and the --db value that opens it."""
    if request.param == "sqlite":
        location = str(tmp_path / "clinic.db")
        db = open_database(location)
        try:
            yield db, location
        finally:
            db.dispose()
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    name = f"formulary_auditcli_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    location = sa.make_url(base).set(database=name).render_as_string(hide_password=False)
    db = open_database(location)
    try:
        yield db, location
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FORMULARY_KEY_DIR": str(tmp_path / "keys")}
    env.pop("FORMULARY_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "tui", "audit", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def add_entries(db: Database, count: int) -> None:
    with Session(db.engine) as session:
        for n in range(count):
            append_event(
                session,
                db_id=db.db_id,
                user="dr.ada",
                workstation="room-1",
                action="example.update",
                # Not a table: the table replay has no row to hold these against.
                entity="example",
                entity_id=n,
                before={"grade": "III"},
                after={"grade": "IV"},
                reason="re-staged",
            )
        session.commit()


def attack(db: Database, statement: str) -> None:
    with db.engine.begin() as conn:
        remove_guards(conn)
        conn.execute(sa.text(statement))
        install_guards(conn)


def head(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT max(seq) FROM audit_event")).scalar() or 0)


def test_intact_chain_exits_0_and_states_the_unprotected_tail(
    database: tuple[Database, str], tmp_path: Path
) -> None:
    db, location = database
    add_entries(db, 5)
    n = head(db)
    result = run(tmp_path, "verify", "--db", location)
    assert result.returncode == 0, result.stderr
    assert f"intact: {n} entries" in result.stdout
    assert f"{n} entries lie after the newest checkpoint (there is none)" in result.stdout
    # The verification itself is audited, as the OS user unless --user is given.
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT user_name, action, after FROM audit_event ORDER BY seq DESC LIMIT 1")
        ).one()
    assert row.action == "audit.verify" and row.user_name.startswith("os:")
    assert json.loads(row.after)["status"] == "ok"
    result = run(tmp_path, "verify", "--db", location, "--user", "auditor.kim", "--json")
    out = json.loads(result.stdout)
    assert out["status"] == "ok" and out["rows"] == n + 1 and out["recorded_seq"] == n + 2


def test_checkpoint_then_edit_exits_2_naming_the_row(
    database: tuple[Database, str], tmp_path: Path
) -> None:
    db, location = database
    add_entries(db, 6)
    made = run(tmp_path, "checkpoint", "--db", location)
    assert made.returncode == 0, made.stderr
    line = made.stdout.strip()
    assert line.startswith(f"FORMULARY-CHECKPOINT v1 db={db.db_id} seq={head(db)} ")
    as_json = json.loads(run(tmp_path, "checkpoint", "--db", location, "--json").stdout)
    assert as_json["seq"] == head(db) and as_json["db_id"] == db.db_id
    assert as_json["line"].startswith("FORMULARY-CHECKPOINT v1 ")
    key = tmp_path / "keys" / f"{db.db_id}.ed25519"
    assert key.stat().st_mode & 0o777 == 0o600
    ok = run(tmp_path, "verify", "--db", location)
    assert ok.returncode == 0 and "0 entries lie after the newest checkpoint" in ok.stdout
    target = head(db) - 2
    attack(db, f"UPDATE audit_event SET reason = 'nothing happened' WHERE seq = {target}")
    bad = run(tmp_path, "verify", "--db", location)
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert f"ALTERED: seq {target}:" in bad.stdout


def test_truncation_behind_a_checkpoint_exits_3(
    database: tuple[Database, str], tmp_path: Path
) -> None:
    db, location = database
    add_entries(db, 6)
    saved = tmp_path / "export-footer.txt"
    made = run(tmp_path, "checkpoint", "--db", location)
    saved.write_text(f"Chart of J. Doe\n-- {made.stdout.strip()} --\n")
    (tmp_path / "keys" / f"{db.db_id}.checkpoints").unlink()  # only the export keeps it
    cut = head(db) - 3
    attack(db, f"DELETE FROM audit_event WHERE seq > {cut}")
    without = run(tmp_path, "verify", "--db", location)
    assert without.returncode == 0  # the chain alone cannot see a shortened tail
    result = run(tmp_path, "verify", "--db", location, "--checkpoint", str(saved))
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"TRUNCATED: the chain ends at seq {cut + 1}" in result.stdout  # + 1: the verify entry


def test_bad_input_is_one_line_on_stderr_with_exit_1(
    database: tuple[Database, str], tmp_path: Path
) -> None:
    db, location = database
    add_entries(db, 2)
    made = run(tmp_path, "checkpoint", "--db", location).stdout.strip()
    forged = tmp_path / "forged.txt"
    forged.write_text(re.sub(r" seq=(\d+) ", lambda m: f" seq={int(m[1]) + 7} ", made) + "\n")
    for args, words in [
        (("verify", "--db", location, "--checkpoint", str(forged)), "does not verify"),
        (("verify", "--db", location, "--checkpoint", str(tmp_path / "none")), "cannot read"),
        (("verify", "--db", str(tmp_path / "missing.db")), "no database at"),
        (("checkpoint", "--db", str(tmp_path / "missing.db")), "no database at"),
    ]:
        result = run(tmp_path, *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert not (tmp_path / "missing.db").exists()


def test_checkpoints_verify_elsewhere_with_the_public_key(
    database: tuple[Database, str], tmp_path: Path
) -> None:
    db, location = database
    add_entries(db, 3)
    line = run(tmp_path, "checkpoint", "--db", location).stdout
    saved = tmp_path / "cp.txt"
    saved.write_text(line)
    pub = tmp_path / "auditor.pub"
    pub.write_text((tmp_path / "keys" / f"{db.db_id}.ed25519.pub").read_text())
    env_keys = tmp_path / "keys"
    for f in env_keys.iterdir():
        f.unlink()  # the auditor's machine has no key and no log
    refused = run(tmp_path, "verify", "--db", location, "--checkpoint", str(saved))
    assert refused.returncode == 1 and "--public-key" in refused.stderr
    result = run(
        tmp_path, "verify", "--db", location, "--checkpoint", str(saved), "--public-key", str(pub)
    )
    assert result.returncode == 0, result.stderr
    assert "1 checkpoint(s) agree" in result.stdout
