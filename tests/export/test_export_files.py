"""Export file writing: 0600, atomic, no silent overwrite, no escape from the folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.export_files import (
    ExportFileExists,
    ExportPathError,
    inside,
    safe_file_name,
    write_file,
    write_files,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_is_0600_and_complete(tmp_path: Path) -> None:
    target = write_file(tmp_path / "chart.pdf", b"%PDF-1.7 body")
    assert target.read_bytes() == b"%PDF-1.7 body"
    assert mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["chart.pdf"]  # no temporary left


def test_existing_file_is_kept_without_force(tmp_path: Path) -> None:
    target = tmp_path / "chart.pdf"
    target.write_bytes(b"old")
    with pytest.raises(ExportFileExists, match="--force"):
        write_file(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["chart.pdf"]
    write_file(target, b"new", force=True)
    assert target.read_bytes() == b"new" and mode(target) == 0o600


def test_symlink_and_folder_refused(tmp_path: Path) -> None:
    (tmp_path / "real").write_bytes(b"x")
    os.symlink(tmp_path / "real", tmp_path / "link")
    with pytest.raises(ExportPathError, match="symbolic link"):
        write_file(tmp_path / "link", b"y", force=True)
    with pytest.raises(ExportPathError, match="folder"):
        write_file(tmp_path, b"y", force=True)
    with pytest.raises(ExportPathError, match="does not exist"):
        write_file(tmp_path / "missing" / "x.pdf", b"y")


@pytest.mark.parametrize("name", ["../escape.csv", "..", ".", "a/b.csv", "", "x\0y"])
def test_names_that_escape_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ExportPathError):
        inside(tmp_path, name)


def test_write_files_checks_all_before_writing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.csv").write_bytes(b"keep")
    with pytest.raises(ExportFileExists):
        write_files(out, {"a.csv": b"1", "b.csv": b"2"})
    assert not (out / "a.csv").exists()
    written = write_files(tmp_path / "new", {"a.csv": b"1", "b.csv": b"2"})
    assert [p.name for p in written] == ["a.csv", "b.csv"]
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


def test_write_files_removes_what_it_wrote_when_one_file_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import tui.export_files as export_files

    real = export_files.write_file

    def full_after_one(path: Path, data: bytes, **kwargs: bool) -> Path:
        if path.name == "b.jpg":  # the disk fills up on the second file
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data, **kwargs)

    monkeypatch.setattr(export_files, "write_file", full_after_one)
    with pytest.raises(OSError, match="No space"):
        write_files(tmp_path, {"a.jpg": b"1", "b.jpg": b"2"})
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@given(st.text(max_size=60))
def test_safe_file_name_never_escapes(text: str) -> None:
    name = safe_file_name(text, ".json")
    assert "/" not in name and "\\" not in name and name not in {".", ".."}
    assert not name.startswith(".")
    folder = Path("/tmp/formulary-export-test")
    assert inside(folder, name).parent == folder.resolve()


def test_safe_file_name_keeps_chart_numbers() -> None:
    assert safe_file_name("C-000123", ".pdf") == "C-000123.pdf"
    assert safe_file_name("../../etc/passwd") == "etc_passwd"


class _Result:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files


def test_deliveries(tmp_path: Path) -> None:
    from tui.export_files import to_file, to_folder

    paths = to_folder(tmp_path / "out", rename=lambda n: "p1-" + n)(
        _Result({"a.csv": b"1", "b.csv": b"2"}))
    assert [p.name for p in paths] == ["p1-a.csv", "p1-b.csv"]
    (single,) = to_file(tmp_path / "note.pdf")(_Result({"x.pdf": b"%PDF"}))
    assert single.read_bytes() == b"%PDF" and mode(single) == 0o600
    with pytest.raises(ExportPathError, match="give a folder"):
        to_file(tmp_path / "two.csv")(_Result({"a.csv": b"1", "b.csv": b"2"}))
    with pytest.raises(ExportFileExists):
        to_file(tmp_path / "note.pdf")(_Result({"x.pdf": b"new"}))


class _Files:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files


def test_a_batch_folder_moves_files_into_place_only_on_commit(tmp_path: Path) -> None:
    from tui.export_files import BatchFolder

    folder: BatchFolder[_Files] = BatchFolder(tmp_path / "out")
    paths = folder(_Files({"a.json": b"A" * 100_000, "b.json": b"B"}))
    folder(_Files({"c.json": b"C"}))
    assert {p.name for p in paths} >= {"a.json", "b.json"}
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == []
    folder.commit()
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "b.json", "c.json"]
    assert (out / "a.json").read_bytes() == b"A" * 100_000
    assert all(mode(p) == 0o600 for p in out.iterdir())
    assert [p.name for p in folder.written] == ["a.json", "b.json", "c.json"]
    assert folder.moved == 3


def test_a_batch_folder_that_does_not_remember_counts_without_keeping_paths(
    tmp_path: Path,
) -> None:
    from tui.export_files import BatchFolder

    folder: BatchFolder[_Files] = BatchFolder(tmp_path, remember=False)
    for n in range(3):
        folder(_Files({f"{n}.json": b"x", f"{n}.csv": b"y"}))
        folder.commit()
    assert folder.moved == 6 and folder.written == []
    assert len(list(tmp_path.iterdir())) == 6


def test_a_batch_folder_never_replaces_a_file_that_appeared_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    from tui.export_files import BatchFolder

    folder: BatchFolder[_Files] = BatchFolder(tmp_path)
    folder(_Files({"a.json": b"new", "b.json": b"new"}))
    (tmp_path / "b.json").write_bytes(b"someone else's")  # between writing and commit
    with pytest.raises(ExportFileExists):
        folder.commit()
    assert (tmp_path / "b.json").read_bytes() == b"someone else's"
    # a.json was moved before b.json failed: the export's cleanup removes it (it is among
    # the paths the delivery returned); no temporary file is left either way.
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    with pytest.raises(ExportFileExists):
        folder(_Files({"b.json": b"again"}))  # checked when written, too


def test_a_discarded_batch_leaves_no_temporary_file(tmp_path: Path) -> None:
    from tui.export_files import BatchFolder

    folder: BatchFolder[_Files] = BatchFolder(tmp_path, force=True)
    (tmp_path / "a.json").write_bytes(b"old")
    folder(_Files({"a.json": b"new"}))
    folder.discard()
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    assert (tmp_path / "a.json").read_bytes() == b"old"
    folder(_Files({"a.json": b"new"}))
    folder.commit()  # force: replaces
    assert (tmp_path / "a.json").read_bytes() == b"new"
    with pytest.raises(ExportPathError):
        folder(_Files({"../x.json": b""}))


def test_a_file_not_written_is_one_sentence_with_the_fix() -> None:
    import errno as codes

    from tui.export_files import not_written

    target = Path("/exports/chart.pdf")
    full = not_written(target, OSError(codes.ENOSPC, "No space left on device"), "export",
                       "export again")
    assert full == (
        "Cannot write /exports/chart.pdf (No space left on device). Nothing was written and "
        "the export was not recorded; free some space on the disk holding /exports, then "
        "export again."
    )
    locked = not_written(target, PermissionError(codes.EACCES, "Permission denied"), "label",
                         "print it again")
    assert "make /exports writable for you, then print it again." in locked
    odd = not_written(target, OSError(codes.EIO, "Input/output error"), "print", "retry")
    assert "check that /exports is a folder you can write to" in odd
