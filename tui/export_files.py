"""Writing exported files safely: 0600, never half-written, never over a file unasked.

Each file is written to a temporary name in its destination folder, flushed to disk
and then moved into place, so a reader never sees half a chart and a crash leaves no
partial file under the real name. Without ``force`` an existing file is never
replaced, even one that appears between the check and the move (the move is a hard
link, which fails if the name is taken). Names built from stored data (a chart
number) are reduced to a safe file name and must land inside the chosen folder.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import BinaryIO, Generic, Protocol, TypeVar

from formulary.export.formats import safe_file_name

__all__ = [
    "BatchFolder",
    "ExportFileExists",
    "ExportPathError",
    "StagedFolder",
    "check_destination",
    "inside",
    "prepare_folder",
    "safe_file_name",
    "sync_folder",
    "to_file",
    "to_folder",
    "write_file",
    "write_files",
]

FILE_MODE = 0o600
FOLDER_MODE = 0o700


class ExportPathError(ValueError):
    """The destination cannot be used: it exists, escapes its folder, or is not a file."""


class ExportFileExists(ExportPathError):
    """The destination exists and replacing it was not allowed."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists; pass --force to replace it")
        self.path = path


def not_written(target: Path, exc: OSError, what: str, again: str) -> str:
    """One sentence for a file the app could not write: why, that nothing was kept, the fix.

    ``what`` names the act that was not audited ("print"), ``again`` how to try once
    more ("press f4 again").
    """
    import errno

    why = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        fix = f"free some space on the disk holding {target.parent}"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = f"make {target.parent} writable for you"
    else:
        fix = f"check that {target.parent} is a folder you can write to"
    return (f"Cannot write {target} ({why}). Nothing was written and the {what} was not "
            f"recorded; {fix}, then {again}.")


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, refusing any ``name`` that would put the file elsewhere."""
    if not name or name in {".", ".."} or "/" in name or "\\" in name or "\0" in name:
        raise ExportPathError(f"{name!r} is not a plain file name")
    root = folder.resolve()
    target = (root / name).resolve()
    if target.parent != root:
        raise ExportPathError(f"{name!r} would be written outside {folder}")
    return root / name


def prepare_folder(folder: Path) -> Path:
    """Create ``folder`` (0700) if needed; refuse something that is not a folder."""
    if folder.exists() and not folder.is_dir():
        raise ExportPathError(f"{folder} exists and is not a folder")
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    return folder


def check_destination(path: Path, *, force: bool) -> None:
    """Raise unless ``path`` may be written: a new name, or an existing file with force."""
    if path.is_symlink():
        raise ExportPathError(f"{path} is a symbolic link; choose another name")
    if path.exists():
        if path.is_dir():
            raise ExportPathError(f"{path} is a folder; give a file name")
        if not force:
            raise ExportFileExists(path)
    if not path.parent.is_dir():
        raise ExportPathError(f"folder {path.parent} does not exist")


def write_file(path: Path, data: bytes, *, force: bool = False, sync_folder: bool = True) -> Path:
    """Write ``data`` to ``path`` (mode 0600) via a temporary file and an atomic move.

    ``sync_folder=False`` leaves making the move durable to the caller
    (:func:`sync_folder`, once for many files).
    """
    check_destination(path, force=force)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if force:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # fails if the name was taken meanwhile
            except FileExistsError:
                raise ExportFileExists(path) from None
            except OSError:  # a filesystem without hard links: check, then move
                check_destination(path, force=False)
                os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    if sync_folder:
        _sync_folder(path.parent)
    return path


def write_files(
    folder: Path, files: Mapping[str, bytes], *, force: bool = False, sync_folder: bool = True
) -> list[Path]:
    """Write several files into ``folder``; every name is checked before any is written.

    All or nothing: when one cannot be written (a full disk), those written before it
    are removed again.
    """
    prepare_folder(folder)
    targets = {name: inside(folder, name) for name in files}
    for target in targets.values():
        check_destination(target, force=force)
    written: list[Path] = []
    try:
        for name, data in files.items():
            written.append(write_file(targets[name], data, force=force, sync_folder=False))
    except BaseException:
        _unlink_all(written)
        raise
    if sync_folder:
        _sync_folder(folder)
    return written


def sync_folder(folder: Path) -> None:
    """Make the files moved into ``folder`` durable (one fsync of the folder)."""
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    # Make the rename itself durable; some platforms cannot open a folder.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class HasFiles(Protocol):
    """An export's result, as far as writing it is concerned."""

    @property
    def files(self) -> Mapping[str, bytes]: ...


def to_folder(
    folder: Path,
    *,
    force: bool = False,
    rename: Callable[[str], str] | None = None,
    sync: bool = True,
) -> Callable[[HasFiles], list[Path]]:
    """A ``deliver`` for :mod:`db.ops.exports`: every file into ``folder`` under its name.

    ``rename`` may change the suggested names (it must return plain file names);
    ``sync=False`` leaves the folder's fsync to the caller (once per batch).
    """

    def deliver(result: HasFiles) -> list[Path]:
        named = {(rename(n) if rename else n): data for n, data in result.files.items()}
        return write_files(folder, named, force=force, sync_folder=sync)

    return deliver


def to_file(path: Path, *, force: bool = False) -> Callable[[HasFiles], list[Path]]:
    """A ``deliver`` for a one-file export (PDF, FHIR, JSON) written exactly to ``path``."""

    def deliver(result: HasFiles) -> list[Path]:
        if len(result.files) != 1:
            raise ExportPathError(
                f"this export makes {len(result.files)} files; give a folder, not a file name"
            )
        (data,) = result.files.values()
        return [write_file(path, data, force=force)]

    return deliver


class StagedFolder:
    """Files streamed into ``folder`` under temporary names, moved into place at once.

    The :class:`db.ops.ndjson.Staging` of a bulk export: :meth:`open` gives a 0600
    temporary file per name, :meth:`publish` syncs them and moves each into place
    (never over an existing file unless ``force``), :meth:`discard` removes whatever
    was written, published or not.
    """

    def __init__(self, folder: Path, *, force: bool = False) -> None:
        self.folder = prepare_folder(folder)
        self.force = force
        self._parts: dict[str, tuple[Path, BinaryIO]] = {}
        self._published: list[Path] = []

    def open(self, name: str) -> BinaryIO:
        """A new temporary file that will become ``folder/name``."""
        target = inside(self.folder, name)
        check_destination(target, force=self.force)
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=self.folder)
        os.fchmod(fd, FILE_MODE)
        handle = os.fdopen(fd, "wb", buffering=1 << 20)
        self._parts[name] = (Path(temporary), handle)
        return handle

    def publish(self) -> list[Path]:
        """Sync every file and move it to its name; returns the paths written."""
        for name, (temporary, handle) in self._parts.items():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            target = inside(self.folder, name)
            if self.force:
                os.replace(temporary, target)
            else:
                try:
                    os.link(temporary, target)
                except FileExistsError:
                    raise ExportFileExists(target) from None
                os.unlink(temporary)
            self._published.append(target)
        _sync_folder(self.folder)
        return list(self._published)

    def discard(self) -> None:
        """Remove every file of this export, temporary or published."""
        for temporary, handle in self._parts.values():
            with contextlib.suppress(OSError):
                handle.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        for path in self._published:
            path.unlink(missing_ok=True)
        self._parts.clear()
        self._published.clear()


#: Threads that fsync a batch's files at once: a journaling filesystem commits
#: concurrent fsyncs together (measured here: 50 files in 0.03-0.05 s instead of 0.28 s).
SYNC_THREADS = 8


R = TypeVar("R", bound="HasFiles")


class BatchFolder(Generic[R]):
    """A ``deliver`` for ``export_all`` whose files are made durable a batch at a time.

    :meth:`deliver` writes each file (0600) under a temporary name in ``folder`` and
    returns its final path and the temporary one (both are removed if the batch
    fails); :meth:`commit`, called once per batch before its transaction commits
    (``export_all(before_commit=...)``), fsyncs the batch's files in parallel, moves
    each to its name (never over an existing file unless ``force``) and fsyncs the
    folder. Every file is durable before its audit entry commits, as with
    :func:`to_folder`, but the batch's fsyncs overlap instead of queueing one by one.
    :meth:`discard` removes what a failed batch left. ``moved`` counts the files
    moved into place so far and ``written`` lists them, unless ``remember=False``
    (a clinic-wide export that reports only the count keeps no path per file).
    """

    def __init__(self, folder: Path, *, force: bool = False,
                 rename: Callable[[R], Callable[[str], str]] | None = None,
                 remember: bool = True) -> None:
        self.folder = prepare_folder(folder).resolve()
        self.force = force
        self.rename = rename
        self.remember = remember
        self.moved = 0
        self.written: list[Path] = []
        self._pending: list[tuple[int, Path, Path]] = []  # (fd, temporary, target)

    def target(self, name: str) -> Path:
        """``folder / name`` for a plain file name that may be written (see :func:`inside`)."""
        if not name or name in {".", ".."} or "/" in name or "\\" in name or "\0" in name:
            raise ExportPathError(f"{name!r} is not a plain file name")
        # The folder is resolved once; a plain name cannot leave it except through a
        # symbolic link, which check_destination refuses.
        path = self.folder / name
        check_destination(path, force=self.force)
        return path

    def __call__(self, result: R) -> list[Path]:
        """Write ``result``'s files under temporary names (see the class notes)."""
        rename = self.rename(result) if self.rename is not None else None
        targets = [(self.target(rename(n) if rename else n), data)
                   for n, data in result.files.items()]
        paths: list[Path] = []
        for target, data in targets:
            fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                             dir=self.folder)
            self._pending.append((fd, Path(temporary), target))
            paths += [target, Path(temporary)]
            os.fchmod(fd, FILE_MODE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        return paths

    def commit(self) -> None:
        """Make the batch's files durable and move them into place (see the class notes)."""
        from concurrent.futures import ThreadPoolExecutor

        pending, self._pending = self._pending, []
        try:
            try:
                with ThreadPoolExecutor(min(SYNC_THREADS, max(1, len(pending)))) as pool:
                    list(pool.map(os.fsync, [fd for fd, _, _ in pending]))
            finally:
                for fd, _, _ in pending:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            for _, temporary, target in pending:
                self._move(temporary, target)
                self.moved += 1
                if self.remember:
                    self.written.append(target)
        except BaseException:
            _unlink_all(temporary for _, temporary, _ in pending)
            raise
        _sync_folder(self.folder)

    def _move(self, temporary: Path, target: Path) -> None:
        if self.force:
            os.replace(temporary, target)
            return
        try:
            os.link(temporary, target)  # fails if the name was taken meanwhile
        except FileExistsError:
            raise ExportFileExists(target) from None
        except OSError:  # a filesystem without hard links: check, then move
            check_destination(target, force=False)
            os.replace(temporary, target)
        else:
            os.unlink(temporary)

    def discard(self) -> None:
        """Remove the temporary files of a batch that did not commit."""
        for fd, _, _ in self._pending:
            with contextlib.suppress(OSError):
                os.close(fd)
        _unlink_all(temporary for _, temporary, _ in self._pending)
        self._pending.clear()


def _unlink_all(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
