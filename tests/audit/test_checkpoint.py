"""Checkpoint keys and lines: where keys live, how lines parse, what signatures catch."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from db.audit.canonical import format_utc
from db.audit.chain import GENESIS_HASH, append_event
from db.audit.checkpoint import (
    CheckpointError,
    find_checkpoints,
    make_checkpoint,
    parse_checkpoint,
    read_checkpoint_file,
    trusted_checkpoints,
)
from db.audit.keys import (
    KEY_DIR_ENV,
    KeyMissingError,
    KeyUnsafeError,
    load_key,
    load_or_create_key,
    public_key_path,
    read_public_key,
    resolve_key_dir,
)
from tests.audit.conftest import ChainDB

DB = "0f6c1e0e4b6a4d2b9d0f1a2b3c4d5e6f"


def test_key_created_private_in_private_dir_and_reused(tmp_path: Path) -> None:
    key_dir = tmp_path / "cfg" / "keys"
    key = load_or_create_key(DB, key_dir)
    assert stat.S_IMODE(key.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    assert key.path == key_dir / f"{DB}.ed25519"
    again = load_or_create_key(DB, key_dir)
    assert again.key_id == key.key_id and len(key.key_id) == 16
    public = read_public_key(public_key_path(DB, key_dir))
    assert public.public_bytes_raw() == key.public_key.public_bytes_raw()


def test_key_dir_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_DIR_ENV, str(tmp_path / "env"))
    assert resolve_key_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_key_dir() == tmp_path / "env"
    monkeypatch.delenv(KEY_DIR_ENV)
    assert resolve_key_dir().parts[-2:] == ("formulary", "keys")


def test_missing_and_unsafe_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyMissingError, match="audit checkpoint"):
        load_key(DB, tmp_path)
    key = load_or_create_key(DB, tmp_path)
    key.path.chmod(0o644)
    with pytest.raises(KeyUnsafeError, match="chmod 600"):
        load_key(DB, tmp_path)
    key.path.chmod(0o600)
    key.path.write_text("not a key")
    with pytest.raises(KeyUnsafeError, match="PEM"):
        load_key(DB, tmp_path)


def test_db_id_must_be_a_safe_file_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot name a key file"):
        load_or_create_key("../etc", tmp_path)


@pytest.mark.storage
def test_checkpoint_signs_the_head_and_is_logged(chain_db: ChainDB, tmp_path: Path) -> None:
    key = load_or_create_key(chain_db.db_id, tmp_path)
    with chain_db.engine.connect() as conn:
        empty = make_checkpoint(conn, chain_db.db_id, key)
    assert (empty.seq, empty.head_hash) == (0, GENESIS_HASH)
    with Session(chain_db.engine) as session:
        event = append_event(
            session,
            db_id=chain_db.db_id,
            user="u",
            workstation="w",
            action="backup.create",
            entity="database",
            entity_id=None,
            before=None,
            after=None,
            reason=None,
        )
        session.commit()
        head = event.hash
    with chain_db.engine.connect() as conn:
        cp = make_checkpoint(conn, chain_db.db_id, key, now=datetime(2026, 5, 6, tzinfo=UTC))
    assert cp.seq == 1 and cp.head_hash == head and cp.key_id == key.key_id
    assert cp.line.startswith(f"FORMULARY-CHECKPOINT v1 db={chain_db.db_id} seq=1 head={head} ")
    assert "at=2026-05-06T00:00:00.000000Z" in cp.line and "\n" not in cp.line
    logged = read_checkpoint_file(key.log_path)
    assert [c.line for c in logged] == [empty.line, cp.line]
    assert stat.S_IMODE(key.log_path.stat().st_mode) == 0o600
    assert trusted_checkpoints(logged, chain_db.db_id, key.public_key) == [empty, cp]


def _line(tmp_path: Path) -> tuple[str, object]:
    key = load_or_create_key(DB, tmp_path)
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE audit_event (seq INTEGER, hash TEXT)"))
        conn.execute(sa.text(f"INSERT INTO audit_event VALUES (7, '{'ab' * 32}')"))
        cp = make_checkpoint(conn, DB, key, log=False)
    return cp.line, key


def test_any_edit_of_a_signed_line_is_caught(tmp_path: Path) -> None:
    line, key = _line(tmp_path)
    pub = key.public_key  # type: ignore[attr-defined]
    assert trusted_checkpoints([parse_checkpoint(line)], DB, pub)
    for old, new in [(" seq=7 ", " seq=8 "), ("ab" * 32, "ab" * 31 + "ac"), ("at=20", "at=19")]:
        forged = parse_checkpoint(line.replace(old, new))
        with pytest.raises(CheckpointError, match="does not verify"):
            trusted_checkpoints([forged], DB, pub)
    other = load_or_create_key("another-db", tmp_path)
    with pytest.raises(CheckpointError, match="not by this installation's key"):
        trusted_checkpoints([parse_checkpoint(line)], DB, other.public_key)
    with pytest.raises(CheckpointError, match="not for this database"):
        trusted_checkpoints([parse_checkpoint(line)], "another-db", pub)


def test_lines_are_found_inside_exports_and_bad_ones_named(tmp_path: Path) -> None:
    line, _ = _line(tmp_path)
    text = f"Chart note\n# {line}\nfooter\n"
    assert [c.line for c in find_checkpoints(text)] == [line]
    with pytest.raises(CheckpointError, match=r"export\.csv line 2"):
        find_checkpoints("x\n# FORMULARY-CHECKPOINT v1 db=x seq=1\n", source="export.csv")
    with pytest.raises(CheckpointError, match="not a checkpoint line"):
        parse_checkpoint("hello")


@given(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,20}", fullmatch=True),
    st.integers(0, 2**62),
    st.binary(min_size=32, max_size=32),
    st.datetimes(timezones=st.just(UTC)),
    st.binary(min_size=64, max_size=64),
)
def test_lines_round_trip(db: str, seq: int, head: bytes, at: datetime, sig: bytes) -> None:
    import base64

    at_text = format_utc(at)
    line = (
        f"FORMULARY-CHECKPOINT v1 db={db} seq={seq} head={head.hex()} at={at_text} "
        f"key={'0' * 16} sig={base64.b64encode(sig).decode()}"
    )
    cp = parse_checkpoint(line)
    assert (cp.db_id, cp.seq, cp.head_hash, cp.at, cp.line) == (db, seq, head.hex(), at, line)
