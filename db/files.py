"""The managed-file folder beside the database: files named by their SHA-256.

Photographs (and scanned consent forms) are kept as files, not as database blobs, in
one folder per database. Each file is named by the SHA-256 of its bytes (64 lower-case
hex digits, no extension), written once (0600, in a 0700 folder) and never changed: the
database row and its audit entry record the same hash, so ``formulary audit verify``
re-hashes every file and a swapped or edited file is caught.

Where the folder is, in order: an explicit directory, else ``$FORMULARY_FILES_DIR``,
else beside a SQLite database (``formulary.db`` -> ``formulary.db.files/``), else, for a
PostgreSQL database, ``<user data>/formulary/files/<db_id>``.

This module does no database work: the Store writes the row (and its audit entry) and
calls :meth:`ManagedFolder.put` inside the same unit of work, removing a file it has
just created when the transaction then fails (:meth:`ManagedFolder.discard`), so there
is never a row without its file nor a new file without its row.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db.errors import StoreError

#: Environment variable naming the managed-file folder (overrides the default place).
FILES_DIR_ENV = "FORMULARY_FILES_DIR"

#: Columns naming managed files, as ``(table, hash column, size column or None)``:
#: ``audit verify`` re-hashes the file of every row (retired ones too) and a backup or
#: export carries them. Append a new table's columns here when it stores files.
MANAGED_COLUMNS: list[tuple[str, str, str | None]] = [
    ("photo", "sha256", "size_bytes"),
    ("consent", "form_sha256", None),  # a consent's scanned paper form (docs/consent.md)
]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


class ManagedFileError(StoreError):
    """Base of managed-file problems; the message says what to do."""


class ManagedFolderMissing(ManagedFileError):
    """The folder does not exist (moved, not restored, or never created)."""


class ManagedFileMissing(ManagedFileError):
    """A file the database records is not in the folder."""


class ManagedFileMismatch(ManagedFileError):
    """A stored file's bytes no longer hash to its name (edited or swapped)."""


class ManagedFolderUnwritable(ManagedFileError):
    """The folder or a file in it cannot be written (permissions, full disk)."""


def sha256_hex(data: bytes) -> str:
    """The lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def is_sha256(text: str) -> bool:
    """Whether ``text`` is 64 lower-case hex digits (a managed file's name)."""
    return bool(_SHA256.match(text))


def managed_hashes(connection: Any) -> list[tuple[str, int | None]]:
    """Every ``(sha256, size)`` the rows of a database name.

    ``connection`` is a plain ``sqlite3`` connection (backups read their copy this way)
    or a SQLAlchemy connection; tables that do not exist yet are skipped on SQLite.
    """
    run = getattr(connection, "exec_driver_sql", None) or connection.execute
    found: dict[str, int | None] = {}
    for table, hash_column, size_column in MANAGED_COLUMNS:
        size_sql = size_column if size_column is not None else "NULL"
        try:
            rows = run(
                f"SELECT {hash_column}, {size_sql} FROM {table} "  # noqa: S608
                f"WHERE {hash_column} IS NOT NULL"
            ).fetchall()
        except Exception as exc:  # the table is not there (an older schema)
            if "no such table" in str(exc) or "does not exist" in str(exc):
                continue
            raise
        for digest, size in rows:
            if isinstance(digest, str) and is_sha256(digest):
                found[digest] = None if size is None else int(size)
    return sorted(found.items())


def resolve_files_dir(
    database_path: Path | None, db_id: str, files_dir: Path | str | None = None
) -> Path:
    """Where the managed files of a database live (see the module docstring)."""
    if files_dir is not None:
        return Path(files_dir).expanduser().absolute()
    env = os.environ.get(FILES_DIR_ENV)
    if env:
        return Path(env).expanduser().absolute()
    if database_path is not None:
        return database_path.with_name(f"{database_path.name}.files")
    import platformdirs

    return platformdirs.user_data_path("formulary", appauthor=False) / "files" / db_id


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file now in the folder: its hash, size, path, and whether this call wrote it."""

    sha256: str
    size: int
    path: Path
    created: bool


@dataclass(frozen=True, slots=True)
class FileProblem:
    """One managed file that is not as recorded: ``missing`` or ``altered``."""

    sha256: str
    kind: str
    detail: str


class ManagedFolder:
    """One database's managed-file folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"ManagedFolder({str(self.path)!r})"

    # -- the folder ---------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the folder is there (and is a folder)."""
        return self.path.is_dir()

    def create(self) -> None:
        """Create the folder (0700) if it is missing; its parents too."""
        try:
            if not self.path.is_dir():
                self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.path.chmod(0o700)
        except OSError as exc:
            raise ManagedFolderUnwritable(
                f"cannot create the managed file folder {self.path}: "
                f"{exc.strerror or exc}; check the parent folder's permissions"
            ) from exc

    def require(self) -> None:
        """Raise :class:`ManagedFolderMissing`, saying how to fix it, if the folder is gone."""
        if self.exists():
            return
        raise ManagedFolderMissing(
            f"the managed file folder {self.path} does not exist; if photos were stored "
            "before, put the folder back (or restore a backup); for a new clinic create it "
            "with `formulary photo folder --create` (or set $FORMULARY_FILES_DIR to where "
            "the files are)"
        )

    # -- files --------------------------------------------------------------------

    def path_for(self, sha256: str) -> Path:
        """The path of the file named ``sha256`` (which is checked to be a hash)."""
        if not is_sha256(sha256):
            raise ValueError(f"{sha256!r} is not a SHA-256 hex digest")
        return self.path / sha256

    def has(self, sha256: str) -> bool:
        """Whether a file named ``sha256`` is present (its content is not checked)."""
        return self.path_for(sha256).is_file()

    def put(self, data: bytes) -> StoredFile:
        """Store ``data`` under its SHA-256 (0600, atomically); reuse an intact copy.

        The folder must exist (:meth:`require`). A file of that name whose bytes do not
        hash to it (a damaged copy) is refused with :class:`ManagedFileMismatch` rather
        than overwritten: the damage is for ``audit verify`` to report.
        """
        self.require()
        digest = sha256_hex(data)
        target = self.path_for(digest)
        if target.exists():
            problem = self.check(digest)
            if problem is not None:
                raise ManagedFileMismatch(
                    f"a damaged copy of this file is already stored as {target} "
                    f"({problem.detail}); run `formulary audit verify` and restore it from a "
                    "backup"
                )
            return StoredFile(digest, len(data), target, created=False)
        tmp = self.path / f".{digest}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                # link() never replaces: two writers of the same bytes share one file.
                os.link(tmp, target)
                created = True
            except FileExistsError:
                created = False
            self._sync_dir()
        except OSError as exc:
            raise ManagedFolderUnwritable(
                f"cannot write into the managed file folder {self.path}: "
                f"{exc.strerror or exc}; nothing was stored"
            ) from exc
        finally:
            tmp.unlink(missing_ok=True)
        return StoredFile(digest, len(data), target, created=created)

    def restore(self, data: bytes) -> StoredFile:
        """Store ``data`` like :meth:`put`, but set a damaged copy of the same name aside.

        Used when bringing files back from a backup or an export: the damaged file is
        renamed ``<sha256>.damaged-<n>`` (kept for inspection, never deleted) and the
        good bytes take its name.
        """
        self.require()
        digest = sha256_hex(data)
        target = self.path_for(digest)
        if target.exists() and self.check(digest) is not None:
            counter = 1
            while (aside := self.path / f"{digest}.damaged-{counter}").exists():
                counter += 1
            try:
                os.replace(target, aside)
            except OSError as exc:
                raise ManagedFolderUnwritable(
                    f"cannot set the damaged {target} aside: {exc.strerror or exc}"
                ) from exc
        return self.put(data)

    def discard(self, stored: StoredFile) -> None:
        """Remove a file :meth:`put` has just created (its transaction failed)."""
        if stored.created:
            stored.path.unlink(missing_ok=True)

    def read(self, sha256: str) -> bytes:
        """The bytes of the file ``sha256``, checked against its name."""
        path = self.path_for(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            self.require()
            raise ManagedFileMissing(
                f"the stored file {sha256[:12]}… is missing from {self.path}; restore it "
                "from a backup (`formulary audit verify` lists every missing file)"
            ) from exc
        except OSError as exc:
            raise ManagedFolderUnwritable(
                f"cannot read {path}: {exc.strerror or exc}"
            ) from exc
        if sha256_hex(data) != sha256:
            raise ManagedFileMismatch(
                f"the stored file {sha256[:12]}… no longer matches its recorded SHA-256 "
                "(edited or swapped on disk); restore it from a backup"
            )
        return data

    def check(self, sha256: str, size: int | None = None) -> FileProblem | None:
        """None if the file ``sha256`` is present and intact, else what is wrong."""
        path = self.path_for(sha256)
        digest = hashlib.sha256()
        length = 0
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
                    length += len(chunk)
        except FileNotFoundError:
            return FileProblem(sha256, "missing", f"{path} is missing")
        except OSError as exc:
            return FileProblem(sha256, "missing", f"{path} cannot be read ({exc.strerror})")
        if digest.hexdigest() != sha256:
            return FileProblem(
                sha256, "altered", f"{path} no longer hashes to its name (edited or swapped)"
            )
        if size is not None and length != size:
            return FileProblem(
                sha256, "altered", f"{path} is {length} bytes, {size} recorded"
            )
        return None

    def names(self) -> Iterator[str]:
        """The hash names of the files in the folder (none if it does not exist)."""
        if not self.exists():
            return
        for entry in sorted(self.path.iterdir()):
            if is_sha256(entry.name) and entry.is_file():
                yield entry.name

    def unsafe_modes(self) -> list[str]:
        """Paths readable or writable by others than the owner (folder or files)."""
        found: list[str] = []
        if not self.exists():
            return found
        for path in [self.path, *(self.path / name for name in self.names())]:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                found.append(f"{path} ({oct(mode)})")
        return found

    def _sync_dir(self) -> None:
        # The new name must be durable before the row that names it commits.
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
