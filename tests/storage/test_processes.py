"""Real processes: a writer killed with SIGKILL mid-run, and two writers at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from db.database import open_database
from db.store import Actor, Store
from db.tables.sessions import SessionRow
from formulary.records import Role, SessionStatus

from .conftest import PASSWORD
from .helpers import World, chain_problems, count_rows, ml, replay_problems

pytestmark = [pytest.mark.storage, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def spawn(url: str, user: str, world: World, count: int) -> subprocess.Popen[str]:
    args = [
        sys.executable,
        "-m",
        "tests.storage.writer",
        url,
        user,
        PASSWORD,
        str(world.patient.id),
        str(world.version.id),
        str(world.lot.id),
        str(count),
    ]
    return subprocess.Popen(
        args,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_sigkill_mid_run_loses_no_acknowledged_write(
    engine_url: str, store: Store, users: dict[Role, Actor]
) -> None:
    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    child = spawn(engine_url, "drlee", world, 0)
    acknowledged: list[int] = []
    assert child.stdout is not None
    deadline = time.monotonic() + 120
    try:
        while len(acknowledged) < 6 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            acknowledged.append(int(line.split()[1]))
        time.sleep(0.03)  # land the kill somewhere inside the next write
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    tail = child.stdout.read()
    acknowledged += [int(line.split()[1]) for line in tail.splitlines() if line.startswith("ok ")]
    assert len(acknowledged) >= 6, child.stderr.read() if child.stderr else ""
    store.database.dispose()

    reopened = open_database(engine_url, create=False)
    try:
        if reopened.dialect == "sqlite":
            with reopened.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert chain_problems(reopened) == []
        assert replay_problems(reopened) == []
        again = Store(reopened, "checker")
        for session_id in acknowledged:
            assert again.get_session(lee, session_id).status is SessionStatus.SIGNED
        signed = [s for s in again.list_sessions(lee, world.patient.id) if s.signature]
        # Stock agrees with what the signed sessions drew, to the last write.
        assert again.get_lot(lee, world.lot.id).quantity_on_hand == ml(str(1000 - len(signed)))
    finally:
        reopened.dispose()


def test_two_writers_at_once_lose_nothing(
    engine_url: str, store: Store, users: dict[Role, Actor]
) -> None:
    admin = users[Role.ADMIN]
    store.create_user(admin, "drkim", "Dr Kim", Role.PRACTITIONER, PASSWORD)
    world = World(store, users[Role.PRACTITIONER])
    per_writer = 8
    children = [spawn(engine_url, name, world, per_writer) for name in ("drlee", "drkim")]
    outputs = [child.communicate(timeout=300) for child in children]
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert "locked" not in err and "busy" not in err
        assert out.count("ok ") == per_writer
    ids = {int(line.split()[1]) for out, _ in outputs for line in out.splitlines()}
    assert len(ids) == 2 * per_writer
    assert count_rows(store.database, SessionRow) == 2 * per_writer
    lee = users[Role.PRACTITIONER]
    assert store.get_lot(lee, world.lot.id).quantity_on_hand == ml(str(1000 - 2 * per_writer))
    assert chain_problems(store.database) == []
    assert replay_problems(store.database) == []
