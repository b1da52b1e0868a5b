"""The managed-file folder: hash names, 0600/0700, atomic writes, damage detected."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.files import (
    FILES_DIR_ENV,
    ManagedFileMismatch,
    ManagedFileMissing,
    ManagedFolder,
    ManagedFolderMissing,
    resolve_files_dir,
    sha256_hex,
)


def _folder(tmp_path: Path) -> ManagedFolder:
    folder = ManagedFolder(tmp_path / "clinic.db.files")
    folder.create()
    return folder


def test_folder_beside_a_sqlite_file_and_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(FILES_DIR_ENV, raising=False)
    db = tmp_path / "clinic.db"
    assert resolve_files_dir(db, "x") == tmp_path / "clinic.db.files"
    assert resolve_files_dir(db, "x", tmp_path / "elsewhere") == tmp_path / "elsewhere"
    monkeypatch.setenv(FILES_DIR_ENV, str(tmp_path / "env"))
    assert resolve_files_dir(db, "x") == tmp_path / "env"
    monkeypatch.delenv(FILES_DIR_ENV)
    assert resolve_files_dir(None, "abc").parts[-2:] == ("files", "abc")


def test_put_names_by_sha256_with_private_modes(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    stored = folder.put(b"photo bytes")
    assert stored.sha256 == sha256_hex(b"photo bytes") and stored.created
    assert stored.path.name == stored.sha256 and stored.size == 11
    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.path.stat().st_mode) == 0o700
    again = folder.put(b"photo bytes")
    assert not again.created and again.path == stored.path
    assert folder.read(stored.sha256) == b"photo bytes"
    assert list(folder.names()) == [stored.sha256]
    assert [p.name for p in folder.path.iterdir()] == [stored.sha256], "no temp file left"
    assert folder.unsafe_modes() == []


def test_missing_folder_says_how_to_fix(tmp_path: Path) -> None:
    folder = ManagedFolder(tmp_path / "gone")
    with pytest.raises(ManagedFolderMissing, match="formulary photo folder --create"):
        folder.put(b"x")
    assert not folder.path.exists(), "nothing created behind the user's back"


def test_damage_is_reported_not_overwritten(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    stored = folder.put(b"original")
    stored.path.chmod(0o600)
    stored.path.write_bytes(b"swapped")
    problem = folder.check(stored.sha256)
    assert problem is not None and problem.kind == "altered"
    with pytest.raises(ManagedFileMismatch):
        folder.read(stored.sha256)
    with pytest.raises(ManagedFileMismatch, match="audit verify"):
        folder.put(b"original")
    assert stored.path.read_bytes() == b"swapped"
    stored.path.unlink()
    missing = folder.check(stored.sha256)
    assert missing is not None and missing.kind == "missing"
    with pytest.raises(ManagedFileMissing):
        folder.read(stored.sha256)


def test_discard_removes_only_what_put_created(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    first = folder.put(b"a")
    second = folder.put(b"a")
    folder.discard(second)
    assert first.path.exists()
    folder.discard(first)
    assert not first.path.exists()


def test_path_for_refuses_anything_but_a_hash(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    for bad in ["../etc/passwd", "A" * 64, "0" * 63, ""]:
        with pytest.raises(ValueError):
            folder.path_for(bad)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2048))
def test_put_then_read_round_trips(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = _folder(Path(tmp))
        stored = folder.put(data)
        assert folder.read(stored.sha256) == data
        assert folder.check(stored.sha256, len(data)) is None
        assert folder.check(stored.sha256, len(data) + 1) is not None
