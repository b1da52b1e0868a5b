"""Faults injected under the write commands: one line on stderr, a documented exit code,
nothing half-written, no audit entry for what was refused, never a traceback.

The commands run in this process through the console entry point (``run``), so that
faults can be injected with monkeypatch (a full disk, a read-only database), and in a
subprocess where a real process must die (SIGKILL mid-write).
"""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.audit.keys import key_path
from db.audit.service import checkpoint_database, verify_database
from tests.cli.test_session_record import (
    PASSWORD,
    ROOT,
    Clinic,
    _open_clinic,
    session_file,
)
from tui.cli.errors import EXIT_IO, EXIT_USAGE

#: Exit codes a write command may end with (docs/operations.md, docs/audit.md).
DOCUMENTED = {1, 2, 3, 4, 5, 6, 70}


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[Clinic]:
    made = _open_clinic(str(tmp_path / "clinic.db"))
    try:
        yield made
    finally:
        made.database.dispose()


def invoke(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    stdin: str = "",
) -> tuple[int, str, str]:
    """Run ``formulary ARGS`` through the console entry point in this process."""
    from tui.cli.main import run

    monkeypatch.setattr(sys, "argv", ["formulary", *args])
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    monkeypatch.setenv("FORMULARY_PASSWORD", PASSWORD)
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        run()
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), out, err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("formulary: "), err
    assert "Traceback" not in err
    return lines[0]


def entries(clinic: Clinic) -> list[str]:
    with clinic.database.engine.connect() as conn:
        return [str(a) for (a,) in conn.execute(sa.text("SELECT action FROM audit_event"))]


def non_login(actions: list[str]) -> list[str]:
    return [a for a in actions if not a.startswith("auth.")]


def write_commands(clinic: Clinic, tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    db = ["--db", clinic.location]
    record = str(session_file(tmp_path, clinic))
    return {
        "user add": (
            ["user", "add", "bob", "--role", "practitioner", "--full-name", "Bob", *db,
             "--user", "admin", "--password-stdin"],
            f"{PASSWORD}\nbob-password-1\n",
        ),
        "session record": (["session", "record", record, *db, "--user", "drlee"], ""),
        "export json": (
            ["export", "json", "-o", str(tmp_path / "out" / "all.json"), *db, "--user", "admin"],
            "",
        ),
        "export chart": (
            ["export", "chart", "C-1", "--format", "pdf", "-o", str(tmp_path / "out" / "c.pdf"),
             *db, "--user", "drlee"],
            "",
        ),
        "backup": (["backup", str(tmp_path / "out" / "b.db"), *db, "--user", "admin"], ""),
        "audit checkpoint": (["audit", "checkpoint", *db], ""),
    }


def test_an_unsafe_key_refuses_every_write_with_nothing_written(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "out").mkdir()
    checkpoint_database(clinic.database)  # the key's first use pins it
    os.chmod(key_path(clinic.database.db_id), 0o644)
    for name, (args, stdin) in write_commands(clinic, tmp_path).items():
        before = entries(clinic)
        code, _, err = invoke(monkeypatch, capsys, args, stdin)
        assert code in DOCUMENTED and code != 0, name
        assert "chmod 600" in one_line(err), name
        assert non_login(entries(clinic)) == non_login(before), name
    assert list((tmp_path / "out").iterdir()) == []


def test_missing_folders_are_one_line_before_anything_is_audited(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    checkpoint_database(clinic.database)  # the key's first use pins it
    for name, (args, stdin) in write_commands(clinic, tmp_path).items():
        if name not in {"export json", "backup", "export chart"}:
            continue
        before = entries(clinic)
        code, _, err = invoke(monkeypatch, capsys, args, stdin)
        assert code in DOCUMENTED and code != 0, name
        assert "does not exist" in one_line(err), name
        assert non_login(entries(clinic)) == non_login(before), name


def test_a_full_disk_leaves_no_file_and_says_what_happened(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "out").mkdir()
    commands = write_commands(clinic, tmp_path)
    real_fdopen = os.fdopen

    class FullDisk(io.StringIO):
        def write(self, _text: str) -> int:
            raise OSError(28, "No space left on device")

    def full_fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        os.close(fd)
        return FullDisk()

    with monkeypatch.context() as patch:
        patch.setattr(os, "fdopen", full_fdopen)
        code, _, err = invoke(monkeypatch, capsys, *commands["export json"])
    assert os.fdopen is real_fdopen
    assert code == EXIT_IO and "No space left on device" in one_line(err)
    assert list((tmp_path / "out").iterdir()) == []

    import db.ops.backup as backup

    def full_copy(_source: Path, partial: Path) -> None:
        partial.write_bytes(b"half a database")
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as patch:
        patch.setattr(backup, "_copy_with_backup_api", full_copy)
        code, _, err = invoke(monkeypatch, capsys, *commands["backup"])
    assert code == EXIT_IO and "disk is full" in one_line(err)
    assert list((tmp_path / "out").iterdir()) == []


def test_a_read_only_database_refuses_writes_and_verify_still_answers(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import db.engine as engines

    real = engines.make_engine

    def read_only(location: Any) -> sa.Engine:
        engine = real(location)

        @sa.event.listens_for(engine, "connect")
        def _query_only(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA query_only=ON")

        return engine

    before = entries(clinic)
    monkeypatch.setattr(engines, "make_engine", read_only)
    code, _, err = invoke(monkeypatch, capsys, *write_commands(clinic, tmp_path)["session record"])
    assert code == EXIT_USAGE and "readonly" in one_line(err).replace("-", "")
    code, out, err = invoke(monkeypatch, capsys, ["audit", "verify", "--db", clinic.location])
    assert code == 0, err
    assert "was not recorded: the database cannot be written" in out
    assert entries(clinic) == before


def test_bad_and_foreign_inputs_are_one_line(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = invoke(monkeypatch, capsys, ["session", "record", str(nested), "--db",
                                                clinic.location, "--user", "drlee"])
    assert code == EXIT_USAGE, err
    one_line(err)
    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    before = foreign.read_bytes()
    code, _, err = invoke(monkeypatch, capsys, ["audit", "verify", "--db", str(foreign)])
    assert code == 1 and "not a Formulary database" in one_line(err)
    assert foreign.read_bytes() == before
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    code, _, err = invoke(monkeypatch, capsys, ["audit", "verify", "--db", str(empty)])
    assert code == 1 and "empty" in one_line(err)
    assert empty.read_bytes() == b""


@pytest.mark.parametrize("delay", [0.8, 2.0])
def test_sigkill_mid_write_leaves_an_intact_chain_and_at_most_one_session(
    clinic: Clinic, tmp_path: Path, delay: float
) -> None:
    record = session_file(tmp_path, clinic)
    env = {**os.environ, "FORMULARY_PASSWORD": PASSWORD}
    env.pop("FORMULARY_DB", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "session", "record", str(record),
         "--db", clinic.location, "--user", "drlee"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=60)
    assert b"Traceback" not in err
    clinic.database.dispose()
    result = verify_database(clinic.database, user="os:test", record=False)
    assert result.report.ok, result.report.summary()
    sessions = clinic.store.list_sessions(clinic.lee, clinic.patient_id)
    assert len(sessions) <= 1
    # Retrying the same file never makes a second session.
    again = subprocess.run(
        [sys.executable, "-m", "tui", "session", "record", str(record),
         "--db", clinic.location, "--user", "drlee", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert again.returncode in (0, 5), again.stderr
    assert len(clinic.store.list_sessions(clinic.lee, clinic.patient_id)) == 1
