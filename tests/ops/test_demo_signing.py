"""The demo's sixty signatures: real, each checkpointed, in one signing run per signer.

The doctor also witnesses the twelve consents in that run."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

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
