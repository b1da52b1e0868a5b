"""The demo's sixty signatures: real, each checkpointed, in one signing run per signer.

The doctor also witnesses the twelve consents in that run."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from db.audit.checkpoint import read_checkpoint_file
from db.audit.keys import checkpoint_log_path
from db.database import Database
from db.store.signing import SIGNING_RUN_BEGIN as BEGIN
from db.store.signing import SIGNING_RUN_END as END


def test_every_demo_signature_is_in_its_signers_run_and_checkpointed(
    demo_file: Path, open_db: object
) -> None:
    database: Database = open_db(demo_file)  # type: ignore[operator]
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT seq, user_name, action, after, reason FROM audit_event "
                "WHERE action IN ('signing_run.begin', 'signing_run.end', 'session.sign', "
                "'consent.sign') "
                "ORDER BY seq"
            )
        ).all()
        signed = connection.execute(
            sa.text("SELECT count(*) FROM treatment_session WHERE status = 'signed'")
        ).scalar_one()
    begins = {json.loads(r.after)["run"]: r.user_name for r in rows if r.action == BEGIN}
    ends = {json.loads(r.after)["run"]: json.loads(r.after) for r in rows if r.action == END}
    signatures = [r for r in rows if r.action == "session.sign"]
    witnessed = [r for r in rows if r.action == "consent.sign"]
    assert sorted(begins.values()) == ["admin", "dr.okafor"]
    assert set(ends) == set(begins)
    assert len(signatures) == signed == 60
    assert len(witnessed) == 12
    for run, signer in begins.items():
        mine = [s for s in signatures + witnessed if f"signing run {run}" in (s.reason or "")]
        assert mine and all(s.user_name == signer for s in mine)
        assert ends[run]["signatures"] == len(mine)
    # Every consent was witnessed in the doctor's run: none needed a second full check.
    doctors = next(run for run, signer in begins.items() if signer == "dr.okafor")
    assert all(f"signing run {doctors}" in (w.reason or "") for w in witnessed)
    assert sum(e["signatures"] for e in ends.values()) == 60 + 12
    # Every signature was followed by its own checkpoint (before the next signature;
    # the first one also covers the key's pinning entry), as in the app.
    log = read_checkpoint_file(checkpoint_log_path(database.db_id, demo_file.parent / "keys"))
    seqs = [s.seq for s in signatures] + [float("inf")]
    for at, following in itertools.pairwise(seqs):
        assert any(at <= cp.seq < following for cp in log), at


def test_the_demo_declares_all_of_its_argon2_work(tmp_path: Path, open_db: object) -> None:
    """``password_steps`` is the build's argon2 work exactly, so all of it runs ahead."""
    import threading

    from db import auth
    from db.auth_ahead import PasswordsAhead
    from db.ops.demo import build_demo
    from db.ops.demo_data import password_steps

    where: list[str] = []
    real_hash, real_verify = auth.hash_password, auth.verify_password

    def hashing(password: str) -> str:
        where.append(threading.current_thread().name)
        return real_hash(password)

    def verifying(password_hash: str, password: str) -> bool:
        where.append(threading.current_thread().name)
        return real_verify(password_hash, password)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "hash_password", hashing)
        patch.setattr(auth, "verify_password", verifying)
        database: Database = open_db(tmp_path / "demo.db", create=True)  # type: ignore[operator]
        with PasswordsAhead(password_steps()) as ahead:
            build_demo(database, passwords=ahead)
            assert ahead.unused() == 0
    assert len(where) == len(password_steps())
    assert all(name.startswith("argon2-ahead") for name in where)
