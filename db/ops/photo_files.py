"""Photo files travelling with ``export json`` and ``import``.

The export file's ``photos`` records are the manifest: each names its file by SHA-256
and size. ``export json --output FILE`` copies those files into ``FILE.files/`` (each
read back and checked against its hash first); ``import`` copies them from there into
the new database's managed folder, each checked again, and the import transaction
refuses to commit a photo row whose file is not in place, so there is never a row
without its file. Files copied for an import that then fails are removed again.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from db.database import Database
from db.engine import READ_ONLY
from db.errors import StoreError
from db.files import (
    ManagedFileError,
    ManagedFolder,
    StoredFile,
    is_sha256,
    managed_hashes,
    resolve_files_dir,
)


class PhotoFilesError(StoreError):
    """A photo file is missing or altered, in the database's folder or in an export's."""


def files_folder_for(export_file: Path) -> Path:
    """``FILE.files``: where ``export json --output FILE`` puts the photo files."""
    return export_file.with_name(export_file.name + ".files")


def live_folder(database: Database) -> ManagedFolder:
    """The database's managed-file folder (``$FORMULARY_FILES_DIR`` or its default place)."""
    return ManagedFolder(resolve_files_dir(database.path, database.db_id))


def export_files(database: Database, into: Path) -> int:
    """Copy every managed file the database names into ``into`` (created 0700); how many.

    Each file is read and checked against its SHA-256 first: a missing or altered
    photo raises :class:`PhotoFilesError` naming it (run ``formulary audit verify``).
    """
    reader = database.engine.execution_options(**{READ_ONLY: True})
    with reader.connect() as connection:
        wanted = managed_hashes(connection)
    if not wanted:
        return 0
    source = live_folder(database)
    target = ManagedFolder(into)
    target.create()
    for digest, _size in wanted:
        try:
            data = source.read(digest)
        except ManagedFileError as exc:
            raise PhotoFilesError(
                f"photo file {digest[:12]}… cannot be exported: {exc}"
            ) from exc
        target.put(data)
    return len(wanted)


def stage_import_files(source_dir: Path, database: Database) -> list[StoredFile]:
    """Copy the files of an export's ``.files`` folder into the database's folder.

    Every file must be named by the SHA-256 of its bytes (else :class:`PhotoFilesError`
    and nothing stays copied). Returns what was written, for :func:`discard`.
    """
    source = ManagedFolder(source_dir)
    target = live_folder(database)
    target.create()
    created: list[StoredFile] = []
    try:
        for entry in sorted(source_dir.iterdir()):
            if not entry.is_file() or entry.name.startswith("."):
                continue
            if not is_sha256(entry.name):
                raise PhotoFilesError(
                    f"{entry} is not named by a SHA-256; the export's photo folder holds only "
                    "the files 'export json' wrote"
                )
            try:
                data = source.read(entry.name)
            except ManagedFileError as exc:
                raise PhotoFilesError(f"the export's {exc}; nothing was imported") from exc
            created.append(target.restore(data))
    except BaseException:
        discard(database, created)
        raise
    return created


def discard(database: Database, created: list[StoredFile]) -> None:
    """Remove files :func:`stage_import_files` wrote (the import did not commit)."""
    folder = live_folder(database)
    for stored in created:
        folder.discard(stored)


def require_files(connection: sa.Connection, folder: ManagedFolder) -> None:
    """Inside an import's transaction: every photo row's file is in place, intact.

    Raises :class:`PhotoFilesError` (which rolls the import back) naming the first
    photo whose file is missing, and how to bring the files along.
    """
    for digest, size in managed_hashes(connection):
        problem = folder.check(digest, size)
        if problem is not None:
            raise PhotoFilesError(
                f"the file of photo {digest[:12]}… is {problem.kind} ({problem.detail}); "
                "keep the FILE.files folder that 'export json --output FILE' wrote next to the "
                "export file (or name it with --photo-files); nothing was imported"
            )
