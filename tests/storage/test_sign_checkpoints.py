"""Every signature (session or addendum) is followed by a signed audit checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from db.audit.checkpoint import read_checkpoint_file
from db.audit.keys import checkpoint_log_path, load_key
from db.audit.service import verify_database
from db.errors import CheckpointFailed
from db.store import Actor, Store
from formulary.records import Role

from .conftest import PASSWORD
from .helpers import World, events

pytestmark = pytest.mark.storage


def test_signing_writes_a_checkpoint_of_the_committed_head(
    store: Store, users: dict[Role, Actor], tmp_path: Path
) -> None:
    lee = users[Role.PRACTITIONER]
    # The key was pinned (in the test's key folder) by the first write; it stays there.
    world = World(store, lee)
    signed = store.sign_session(lee, store.save_session_draft(lee, world.draft()).id, PASSWORD)
    head = events(store.database)[-1]
    assert store.last_checkpoint is not None
    assert (store.last_checkpoint.seq, store.last_checkpoint.head_hash) == (head.seq, head.hash)
    signed_at_seq = head.seq

    store.add_addendum(lee, signed.id, "pain score was 3", "charting error", PASSWORD)
    head = events(store.database)[-1]
    assert store.last_checkpoint.seq == head.seq

    log = checkpoint_log_path(store.database.db_id, store.key_dir)
    logged = read_checkpoint_file(log)
    assert [cp.seq for cp in logged] == [signed_at_seq, head.seq]
    assert load_key(store.database.db_id, store.key_dir).key_id == logged[-1].key_id

    result = verify_database(store.database, user="auditor", key_dir=store.key_dir, record=False)
    assert result.report.exit_code == 0, result.report.summary()


def test_truncating_after_a_signed_session_is_caught(
    store: Store, users: dict[Role, Actor], tmp_path: Path
) -> None:
    lee = users[Role.PRACTITIONER]
    # The key was pinned (in the test's key folder) by the first write; it stays there.
    world = World(store, lee)
    store.sign_session(lee, store.save_session_draft(lee, world.draft()).id, PASSWORD)
    head = events(store.database)[-1].seq
    with store.database.engine.begin() as conn:
        if store.database.dialect == "sqlite":
            conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
        else:
            conn.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        conn.execute(sa.text("DELETE FROM audit_event WHERE seq = :s"), {"s": head})
    result = verify_database(store.database, user="auditor", key_dir=store.key_dir, record=False)
    assert result.report.exit_code == 3, result.report.summary()


def test_an_unwritable_key_dir_is_one_clear_error_after_the_commit(
    store: Store, users: dict[Role, Actor], monkeypatch: pytest.MonkeyPatch
) -> None:
    import db.audit.checkpoint as checkpoint

    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    draft = store.save_session_draft(lee, world.draft())

    def full_disk(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    # The key folder fills up between the write's checks and the checkpoint after it.
    monkeypatch.setattr(checkpoint, "append_to_log", full_disk)
    with pytest.raises(CheckpointFailed, match="signed and saved"):
        store.sign_session(lee, draft.id, PASSWORD)
    assert store.get_session(lee, draft.id).signature is not None
