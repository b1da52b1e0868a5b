"""Every write command under every fault: one line, a documented exit code, nothing half-done.

The table below lists each command of the CLI that writes (to the database, a file or
the key folder). Each is first run on a healthy clinic, where it must succeed (so the
faults below exercise its real path), then on a fresh clinic with a fault injected:

* an unsafe key file (mode 0644) or a missing key folder after the key was pinned;
* a read-only database (SQLite ``query_only``);
* a full disk: ``ENOSPC`` from every file write and every fsync, and SQLite's
  "database or disk is full" at commit;
* missing folders for the files a command writes.

Each fault must give exactly one line on stderr starting ``formulary:``, an exit code
the documentation defines, no traceback, no new audit entry (sign-in entries aside),
and no file left in the output folder, partial or whole.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.audit.keys import key_path, resolve_key_dir
from db.audit.service import checkpoint_database
from tests.cli.test_fault_injection import DOCUMENTED, entries, invoke, non_login, one_line
from tests.cli.test_session_record import PASSWORD, Clinic, _open_clinic, session_file

CSV_PRODUCTS = (
    "name,manufacturer,presentation,volume_per_unit,gtin,ingredient,strength,form\n"
    "Biotin 3 mg/mL,Acme,ampoule,1 mL,,biotin,3 mg/mL,\n"
)
CSV_PATIENTS = (
    "chart_number,family_name,given_name,date_of_birth,sex\nC-77,Roux,Lea,1985-04-03,female\n"
)

Command = tuple[list[str], str]


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from db import auth

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", lambda: cheap)
    monkeypatch.setattr(auth, "pause", lambda _s: None)


def _signed_session(clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                    capsys: pytest.CaptureFixture[str]) -> int:
    record = session_file(tmp_path, clinic)
    code, out, err = invoke(monkeypatch, capsys, ["session", "record", str(record), "--db",
                                                  clinic.location, "--user", "drlee", "--json"])
    assert code == 0, err
    import json

    return int(json.loads(out)["session_id"])


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> Iterator[Clinic]:
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(tmp_path / "keys"))
    made = _open_clinic(str(tmp_path / "clinic.db"))
    checkpoint_database(made.database)  # the key's first use pins it, as init does
    try:
        yield made
    finally:
        made.database.dispose()


def commands(clinic: Clinic, tmp_path: Path, session_id: int) -> dict[str, Command]:
    """Every write command, as an administrator or the practitioner would run it."""
    db = ["--db", clinic.location]
    out = tmp_path / "out"
    inputs = tmp_path / "in"
    inputs.mkdir(exist_ok=True)
    (inputs / "products.csv").write_text(CSV_PRODUCTS, encoding="utf-8")
    (inputs / "patients.csv").write_text(CSV_PATIENTS, encoding="utf-8")
    record = session_file(inputs, clinic, idempotency_key="fault-retry-1", pain_score=3)
    admin = [*db, "--user", "admin"]
    lee = [*db, "--user", "drlee"]
    return {
        "user add": (["user", "add", "bob", "--role", "practitioner", "--full-name", "Bob",
                      *admin, "--password-stdin"], f"{PASSWORD}\nbob-password-1\n"),
        "user deactivate": (["user", "deactivate", "sam", "--reason", "left", *admin], ""),
        "user unlock": (["user", "unlock", "sam", "--reason", "locked out", *admin], ""),
        "user reset-password": (["user", "reset-password", "sam", "--reason", "forgot",
                                 *admin, "--password-stdin"], f"{PASSWORD}\nsam-password-2\n"),
        "product add": (["product", "add", "--name", "Zinc 2 mg/mL", "--presentation",
                         "ampoule", "--volume", "5 mL", "-i", "zinc=2 mg/mL", *lee], ""),
        "lot receive": (["lot", "receive", "--product", "Biotin 5 mg/mL", "--lot", "NEW-1",
                         "--expiry", "2099-01-01", "--quantity", "10 mL", *lee], ""),
        "ingredient add": (["ingredient", "add", "--name", "Adenosine", "--category", "other",
                            *lee], ""),
        "ingredient limit add": (["ingredient", "limit", "add", "biotin", "--per", "session",
                                  "--amount", "10 mg", "--source", "protocol", *lee], ""),
        "patient add": (["patient", "add", "--chart", "C-9", "--family", "Roux", "--given",
                         "Ana", "--born", "1990-01-02", "--sex", "female", *lee], ""),
        "patient update": (["patient", "update", "C-1", "--grade", "III", "--reason", "seen",
                            *lee], ""),
        "import-csv products": (["import-csv", "products", str(inputs / "products.csv"),
                                 *lee], ""),
        "product edit": (["product", "edit", "Biotin 2 mg/mL", "--manufacturer", "Acme2",
                          "--presentation", "ampoule", "--reason", "label", *lee], ""),
        "import-csv patients": (["import-csv", "patients", str(inputs / "patients.csv"),
                                 *lee], ""),
        "clinic set": (["clinic", "set", "--name", "Hair Clinic", "--address", "1 Main St",
                        *admin], ""),
        "session record": (["session", "record", str(record), *lee], ""),
        "label": (["label", str(session_id), "-o", str(out / "label.pdf"), *lee], ""),
        "export json": (["export", "json", "-o", str(out / "all.json"), *admin], ""),
        "export chart": (["export", "chart", "C-1", "--format", "pdf", "-o",
                          str(out / "c.pdf"), *lee], ""),
        "export session": (["export", "session", str(session_id), "--format", "pdf", "-o",
                            str(out / "s.pdf"), *lee], ""),
        "export all": (["export", "all", "--format", "csv", "-o", str(out / "all"), *admin],
                       ""),
        "backup": (["backup", str(out / "b.db"), *admin], ""),
        "audit checkpoint": (["audit", "checkpoint", *db], ""),
        "product retire": (["product", "retire", "Biotin 2 mg/mL", "--reason", "gone", *lee],
                           ""),
        "audit rekey": (["audit", "rekey", "--reason", "rotate", *admin], ""),
    }


#: Commands whose output goes to a file in ``out`` (the full-disk fault for files).
WRITES_FILES = {"label", "export json", "export chart", "export session", "export all",
                "backup"}
#: ``export all`` makes its output folder (with its parents), as documented.
MAKES_ITS_FOLDER = {"export all"}
#: Commands that write nothing to the database (a checkpoint goes to the key folder's
#: log): they may succeed on a read-only or full database.
NO_DATABASE_WRITE = {"audit checkpoint"}
#: ``audit rekey`` is the documented remedy for a lost or unsafe key: it must work then.
KEY_REMEDY = "audit rekey"


def _prepare(clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> dict[str, Command]:
    from decimal import Decimal

    from db.store import StrengthSpec
    from formulary.units.amount import Amount
    from tests.cli.test_session_record import ml

    session_id = _signed_session(clinic, tmp_path, monkeypatch, capsys)
    lee = clinic.lee
    biotin = next(i.id for i in clinic.store.list_ingredients(lee, "biotin") if i.key == "biotin")
    clinic.store.create_product(  # no lots yet: what is in it may still be edited
        lee, name="Biotin 2 mg/mL", volume_per_unit=ml("1"), manufacturer="Acme",
        ingredients=[StrengthSpec(biotin, Amount(Decimal(2), "mg/mL"))],
    )
    (tmp_path / "out").mkdir()
    return commands(clinic, tmp_path, session_id)


def _assert_refused(name: str, code: int, err: str) -> str:
    assert code in DOCUMENTED and code != 0, (name, code, err)
    return one_line(err)


def _assert_nothing_left(clinic: Clinic, tmp_path: Path, before: list[str], name: str) -> None:
    assert non_login(entries(clinic)) == non_login(before), name
    assert list((tmp_path / "out").iterdir()) == [], name


def test_every_command_succeeds_on_a_healthy_clinic(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    failed = []
    for name, (args, stdin) in _prepare(clinic, tmp_path, monkeypatch, capsys).items():
        code, _, err = invoke(monkeypatch, capsys, args, stdin)
        if code != 0:
            failed.append((name, code, err))
    assert failed == [], "\n".join(f"{n}: {c} {e.strip()}" for n, c, e in failed)


def test_an_unsafe_key_refuses_every_write(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = _prepare(clinic, tmp_path, monkeypatch, capsys)
    os.chmod(key_path(clinic.database.db_id), 0o644)
    remedy = table.pop(KEY_REMEDY)
    for name, (args, stdin) in table.items():
        before = entries(clinic)
        code, _, err = invoke(monkeypatch, capsys, args, stdin)
        assert "chmod 600" in _assert_refused(name, code, err), name
        _assert_nothing_left(clinic, tmp_path, before, name)
    code, _, err = invoke(monkeypatch, capsys, *remedy)
    assert code == 0 and non_login(entries(clinic))[-1] == "key.rekey", err


def test_a_missing_key_folder_refuses_every_write(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = _prepare(clinic, tmp_path, monkeypatch, capsys)
    shutil.move(resolve_key_dir(), tmp_path / "keys-elsewhere")
    remedy = table.pop(KEY_REMEDY)
    for name, (args, stdin) in table.items():
        before = entries(clinic)
        code, _, err = invoke(monkeypatch, capsys, args, stdin)
        line = _assert_refused(name, code, err)
        assert "key" in line, (name, line)
        _assert_nothing_left(clinic, tmp_path, before, name)
    assert not resolve_key_dir().exists()  # no key is ever created but by rekey
    code, _, err = invoke(monkeypatch, capsys, *remedy)
    assert code == 0 and non_login(entries(clinic))[-1] == "key.rekey", err


def _read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import db.engine as engines

    real = engines.make_engine

    def read_only(location: Any) -> sa.Engine:
        engine = real(location)

        @sa.event.listens_for(engine, "connect")
        def _query_only(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA query_only=ON")

        return engine

    monkeypatch.setattr(engines, "make_engine", read_only)


def test_a_read_only_database_refuses_every_write(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = _prepare(clinic, tmp_path, monkeypatch, capsys)
    before = entries(clinic)
    _read_only(monkeypatch)
    for name, (args, stdin) in table.items():
        code, _, err = invoke(monkeypatch, capsys, args, stdin)
        if name in NO_DATABASE_WRITE and code == 0:
            continue
        _assert_refused(name, code, err)
        _assert_nothing_left(clinic, tmp_path, before, name)


def _full_disk_for_files(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """ENOSPC from every write and fsync of a file under ``root`` (the output folder)."""
    full = OSError(errno.ENOSPC, "No space left on device")
    real_open = builtins.open
    real_os_open = os.open
    real_fsync = os.fsync
    doomed: set[int] = set()

    class Full(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, _data: Any) -> int:
            raise full

    def inside(path: Any) -> bool:
        try:
            return Path(os.fsdecode(path)).resolve().is_relative_to(root.resolve())
        except (TypeError, ValueError):
            return False

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | bytes | os.PathLike) and inside(file) and (
            "w" in mode or "a" in mode or "x" in mode
        ):
            handle = real_open(file, mode, *args, **kwargs)
            handle.close()
            raise full
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_os_open(path, flags, *args, **kwargs)
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR):
            doomed.add(fd)
        return fd

    def fake_fsync(fd: Any) -> None:
        number = fd if isinstance(fd, int) else fd.fileno()
        if number in doomed:
            raise full
        real_fsync(fd)

    real_write = os.write

    def fake_write(fd: int, data: Any) -> int:
        if fd in doomed:
            raise full
        return real_write(fd, data)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    monkeypatch.setattr(os, "fsync", fake_fsync)
    monkeypatch.setattr(os, "write", fake_write)
    import sqlite3

    real_backup = sqlite3.Connection.backup  # noqa: F841 - documents what is replaced
    import db.ops.backup as backup_ops

    def full_copy(_source: Path, partial: Path) -> None:
        partial.write_bytes(b"")  # the partial file exists, as a real copy leaves it
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(backup_ops, "_copy_with_backup_api", full_copy)


def test_a_full_disk_for_files_leaves_no_file_and_no_entry(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = _prepare(clinic, tmp_path, monkeypatch, capsys)
    for name in sorted(WRITES_FILES):
        args, stdin = table[name]
        before = entries(clinic)
        with monkeypatch.context() as patch:
            _full_disk_for_files(patch, tmp_path / "out")
            code, _, err = invoke(monkeypatch, capsys, args, stdin)
        line = _assert_refused(name, code, err)
        assert "space" in line or "full" in line, (name, line)
        assert list((tmp_path / "out").iterdir()) == [], name
        added = non_login(entries(clinic))[len(non_login(before)):]
        if name == "backup":
            # The copy holds its own entry, so it is made first; its failure follows it.
            assert added == ["database.backup", "database.backup_failed"], added
            assert "records the attempt" in line
        else:
            assert added == [], (name, added)


def _full_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's 'database or disk is full' at every commit."""
    import sqlite3

    import db.engine as engines

    real = engines.make_engine

    def full(location: Any) -> sa.Engine:
        engine = real(location)

        @sa.event.listens_for(engine, "commit")
        def _no_room(_conn: Any) -> None:
            raise sa.exc.OperationalError(
                "COMMIT", None, sqlite3.OperationalError("database or disk is full")
            )

        return engine

    monkeypatch.setattr(engines, "make_engine", full)


def test_a_full_disk_for_the_database_writes_nothing(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = _prepare(clinic, tmp_path, monkeypatch, capsys)
    before = entries(clinic)
    _full_database(monkeypatch)
    for name, (args, stdin) in table.items():
        code, _, err = invoke(monkeypatch, capsys, args, stdin)
        if name in NO_DATABASE_WRITE and code == 0:
            continue
        _assert_refused(name, code, err)
        _assert_nothing_left(clinic, tmp_path, before, name)


def test_missing_output_folders_are_one_line_before_anything_is_audited(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = _prepare(clinic, tmp_path, monkeypatch, capsys)
    (tmp_path / "out").rmdir()
    for name in sorted(WRITES_FILES - MAKES_ITS_FOLDER):
        args, stdin = table[name]
        before = entries(clinic)
        code, _, err = invoke(monkeypatch, capsys, args, stdin)
        line = _assert_refused(name, code, err)
        assert "does not exist" in line or "no such" in line.lower(), (name, line)
        assert non_login(entries(clinic)) == non_login(before), name
        assert not (tmp_path / "out").exists(), name


def test_a_missing_database_folder_is_one_line(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = _prepare(clinic, tmp_path, monkeypatch, capsys)
    gone = str(tmp_path / "nowhere" / "clinic.db")
    for name, (args, stdin) in table.items():
        moved = [gone if a == clinic.location else a for a in args]
        code, _, err = invoke(monkeypatch, capsys, moved, stdin)
        _assert_refused(name, code, err)
    assert not (tmp_path / "nowhere").exists()



def test_restore_import_and_init_under_faults_are_one_line_and_change_nothing(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import sqlite3

    import db.ops.backup as backup_ops

    table = _prepare(clinic, tmp_path, monkeypatch, capsys)
    code, _, err = invoke(monkeypatch, capsys, *table["backup"])
    assert code == 0, err
    code, _, err = invoke(monkeypatch, capsys, *table["export json"])
    assert code == 0, err
    db_file = Path(clinic.location)
    before_entries = entries(clinic)
    clinic.database.dispose()
    restore = ["restore", str(tmp_path / "out" / "b.db"), "--db", clinic.location,
               "--user", "admin", "--force"]

    # A full disk while the backup is staged beside the database.
    def full_copy(_source: Path, partial: Path) -> None:
        partial.write_bytes(b"half")
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as patch:
        patch.setattr(backup_ops, "_copy_with_backup_api", full_copy)
        code, _, err = invoke(monkeypatch, capsys, restore)
    _assert_refused("restore", code, err)
    assert non_login(entries(clinic)) == non_login(before_entries)  # untouched
    assert not list(db_file.parent.glob(".*.restoring"))

    # A backup that is missing, or whose manifest does not match it.
    (tmp_path / "out" / "b.db").rename(tmp_path / "out" / "moved.db")
    code, _, err = invoke(monkeypatch, capsys, restore)
    assert "b.db" in _assert_refused("restore", code, err)
    assert non_login(entries(clinic)) == non_login(before_entries)

    # import into a new database on a full disk: no database is left behind.
    target = tmp_path / "new" / "clinic.db"
    target.parent.mkdir()
    with monkeypatch.context() as patch:
        _full_database(patch)
        code, _, err = invoke(monkeypatch, capsys, [
            "import", str(tmp_path / "out" / "all.json"), "--db", str(target),
            "--user", "admin"])
    _assert_refused("import", code, err)
    if target.exists():  # an empty shell may exist; it holds no records
        with sqlite3.connect(target) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            assert "patient" not in names or not conn.execute(
                "SELECT 1 FROM patient LIMIT 1").fetchone()

    # init in a folder that cannot be written.
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = invoke(monkeypatch, capsys, [
            "init", "--db", str(locked / "clinic.db")], "admin\nAda\nadmin-password-1\n")
        if os.geteuid() != 0:  # root writes anywhere
            _assert_refused("init", code, err)
            assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)
