"""Backups of a SQLite database, verified, and restores that check before they replace.

``backup`` records a ``database.backup`` audit entry and signs a checkpoint of the
chain's head *first*, so the copy contains the entry of its own making and the
manifest's checkpoint covers it. It then copies the live database with SQLite's
online backup API into a private (0600) temporary file, turns the copy into one
self-contained file (rollback journal, no ``-wal``), renames it into place and
verifies it: ``PRAGMA integrity_check``, the same database id, and the whole audit
chain recomputed and held against that checkpoint. A manifest
``<PATH>.manifest.json`` records the copy's SHA-256, size, database id, schema
revision, audit head and checkpoint line. The managed files the copy's rows name
(photos, :mod:`db.files`) are copied, each checked against its SHA-256, into
``<PATH>.files/`` (0700, files 0600) and listed in the manifest; a file already missing
or altered in the live folder is listed as missing (the backup is still made, and says
so: ``formulary audit verify`` names the damage).

``restore`` checks all of that again before touching anything: the file's SHA-256
and size against the manifest, integrity, chain and checkpoint, and the database id
against the database it would replace (a different id is refused unless forced),
and every listed managed file against its hash; the files are then copied into the
target's managed folder (a damaged file there is set aside, never deleted).
It stages the copy next to the target, records a ``database.restore`` entry in it
and signs a checkpoint, then sets the current file aside (never deleted) and moves
the staged copy into place with one atomic rename.

PostgreSQL is backed up with its own tools (``pg_dump``); these functions say so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from db.audit.canonical import format_utc
from db.audit.chain import append_event, read_head
from db.audit.checkpoint import CheckpointError, check_signature, make_checkpoint, parse_checkpoint
from db.audit.keys import CheckpointKeyError, load_key
from db.audit.verify import verify_chain
from db.database import Database
from db.errors import FileNotWritten, StoreError

#: Identifies a manifest file and its layout.
MANIFEST_FORMAT = "formulary-backup-manifest"
MANIFEST_VERSION = 2
#: Manifest versions this Formulary restores (1: before photos, no managed files).
READABLE_VERSIONS = (1, 2)

_PG_MESSAGE = (
    "backing up a PostgreSQL database is pg_dump's job: run "
    "`pg_dump --format=custom --file=PATH <database URL>` (and pg_restore to restore); "
    "`formulary backup` and `formulary restore` copy SQLite database files"
)


class BackupError(StoreError):
    """A backup could not be made, or a backup is not fit to restore; says why."""


class BackupNotWritten(BackupError, FileNotWritten):
    """The backup (or a restore's staged copy) could not be written: full disk, read-only."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a backup's manifest records."""

    file: str
    sha256: str
    size: int
    db_id: str
    schema_revision: str | None
    created_at: str
    created_by: str
    audit_head_seq: int
    audit_head_hash: str
    checkpoint: str
    #: The managed files copied beside the backup, as ``(sha256, size)``.
    files: tuple[tuple[str, int], ...] = ()
    #: Managed files the database names that were missing or altered when backed up.
    files_missing: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The manifest as written to ``<PATH>.manifest.json``."""
        return {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "file": self.file,
            "sha256": self.sha256,
            "size": self.size,
            "db_id": self.db_id,
            "schema_revision": self.schema_revision,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "audit_head_seq": self.audit_head_seq,
            "audit_head_hash": self.audit_head_hash,
            "checkpoint": self.checkpoint,
            "files_folder": files_folder_of(Path(self.file)).name,
            "files": [{"sha256": h, "size": n} for h, n in self.files],
            "files_missing": list(self.files_missing),
        }


@dataclass(frozen=True, slots=True)
class BackupResult:
    """A verified backup."""

    path: Path
    manifest_path: Path
    manifest: Manifest
    chain_rows: int


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """A completed restore."""

    target: Path
    set_aside: Path | None
    manifest: Manifest
    checkpoint: str
    chain_rows: int
    #: Managed files (photos) copied back into the database's managed folder.
    files_restored: int = 0


def files_folder_of(path: Path) -> Path:
    """``<PATH>.files``: the managed files (photos) of the backup ``path``."""
    return path.with_name(path.name + ".files")


def manifest_path_of(path: Path) -> Path:
    """``<PATH>.manifest.json``."""
    return path.with_name(path.name + ".manifest.json")


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def refuse_postgresql(database: Database) -> None:
    """Raise :class:`BackupError` with the pg_dump advice unless ``database`` is SQLite."""
    if database.dialect != "sqlite" or database.path is None:
        raise BackupError(_PG_MESSAGE)


# -- backup ----------------------------------------------------------------------------


def backup_database(
    database: Database,
    dest: Path,
    *,
    user: str,
    workstation: str,
    key_dir: Path | str | None = None,
    now: datetime | None = None,
) -> BackupResult:
    """Copy ``database`` to ``dest`` (a new file), verify the copy, write its manifest.

    ``user`` is the signed-in administrator who asked (it goes into the audit entry).
    Raises :class:`BackupError` when the destination is unusable or the copy does not
    verify (the bad copy is then removed; the live database is never touched).
    """
    refuse_postgresql(database)
    assert database.path is not None
    source = database.path
    dest = dest.expanduser().absolute()
    manifest_path = manifest_path_of(dest)
    _check_destination(source, dest, manifest_path)
    moment = now if now is not None else datetime.now(UTC)

    # The key and the chain are checked first: a refusal leaves no audit entry behind.
    key = _signing_key(database, key_dir)
    # The entry first: the copy then holds the record of its own making. Should the
    # copy then fail, a database.backup_failed entry says so (an auditor never sees a
    # backup recorded that does not exist).
    with database.engine.begin() as connection:
        entry = append_event(
            connection,
            db_id=database.db_id,
            user=user,
            workstation=workstation,
            action="database.backup",
            entity="database",
            entity_id=database.db_id,
            before=None,
            after={"path": str(dest), "source": str(source)},
            reason=None,
            now=moment,
        )
    try:
        return _copy_verify_and_describe(
            database, source, dest, manifest_path, user, moment, key, key_dir
        )
    except (BackupError, OSError, sqlite3.Error) as exc:
        for path in (dest, manifest_path):
            path.unlink(missing_ok=True)
        shutil.rmtree(files_folder_of(dest), ignore_errors=True)
        note = _record_failure(database, user, workstation, entry.seq, dest, exc, key)
        if isinstance(exc, BackupNotWritten):
            raise BackupNotWritten(
                f"{exc}{note}; free space or pick another folder and try again"
            ) from exc
        if isinstance(exc, BackupError):
            raise BackupError(f"{exc}{note}") from exc
        raise BackupNotWritten(
            f"the backup could not be written to {dest} ({exc}); nothing was left there"
            f"{note}; free space or pick another folder and try again"
        ) from exc


def _copy_verify_and_describe(
    database: Database,
    source: Path,
    dest: Path,
    manifest_path: Path,
    user: str,
    moment: datetime,
    key: Any,
    key_dir: Path | str | None,
) -> BackupResult:
    with database.engine.connect() as connection:
        checkpoint = make_checkpoint(connection, database.db_id, key, now=moment)
        revision = _revision(connection)

    partial = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    try:
        _copy_with_backup_api(source, partial)
        os.replace(partial, dest)
        _fsync_dir(dest.parent)
    except (OSError, sqlite3.Error) as exc:
        dest.unlink(missing_ok=True)
        raise BackupNotWritten(
            f"the backup could not be written to {dest} ({exc}); nothing was left there"
        ) from exc
    finally:
        partial.unlink(missing_ok=True)

    try:
        report_rows, head_seq, head_hash = verify_file(
            dest, database.db_id, checkpoint.line, key_dir=key_dir
        )
    except BackupError as exc:
        dest.unlink(missing_ok=True)
        raise BackupError(f"the backup did not verify and was removed: {exc}") from exc
    try:
        copied, missing = _copy_managed_files(database, dest)
    except (OSError, StoreError) as exc:
        dest.unlink(missing_ok=True)
        shutil.rmtree(files_folder_of(dest), ignore_errors=True)
        raise BackupError(
            f"the photo files could not be copied beside the backup ({exc}); the backup was "
            "removed"
        ) from exc
    manifest = Manifest(
        file=dest.name,
        sha256=sha256_of(dest),
        size=dest.stat().st_size,
        db_id=database.db_id,
        schema_revision=revision,
        created_at=format_utc(moment),
        created_by=user,
        audit_head_seq=head_seq,
        audit_head_hash=head_hash,
        checkpoint=checkpoint.line,
        files=tuple(copied),
        files_missing=tuple(missing),
    )
    _write_private(manifest_path, json.dumps(manifest.to_json(), indent=2) + "\n")
    return BackupResult(dest, manifest_path, manifest, report_rows)


def _record_failure(
    database: Database,
    user: str,
    workstation: str,
    backup_seq: int,
    dest: Path,
    exc: BaseException,
    key: Any,
) -> str:
    """Append ``database.backup_failed`` after a recorded backup that was not made.

    Returns the sentence the error message ends with: that the failure is recorded
    (and checkpointed), or why it could not be.
    """
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    try:
        with database.engine.begin() as connection:
            failed = append_event(
                connection,
                db_id=database.db_id,
                user=user,
                workstation=workstation,
                action="database.backup_failed",
                entity="database",
                entity_id=database.db_id,
                before=None,
                after={"backup_seq": backup_seq, "path": str(dest), "error": reason},
                reason=None,
            )
        with database.engine.connect() as connection:
            make_checkpoint(connection, database.db_id, key)
    except (sa.exc.SQLAlchemyError, OSError, CheckpointKeyError) as again:
        why = str(getattr(again, "orig", again)).strip().splitlines()[0]
        return (
            f". The backup entry (seq {backup_seq}) stands in the audit trail and its "
            f"failure could not be recorded after it ({why})"
        )
    return (
        f". The audit trail records the attempt (seq {backup_seq}) and its failure "
        f"(seq {failed.seq})"
    )


def _copy_managed_files(
    database: Database, dest: Path
) -> tuple[list[tuple[str, int]], list[str]]:
    """Copy the files the backup's rows name into ``<dest>.files``; (copied, missing)."""
    from db.files import ManagedFileError, ManagedFolder, managed_hashes, resolve_files_dir

    conn = sqlite3.connect(f"file:{dest}?mode=ro", uri=True)
    try:
        wanted = managed_hashes(conn)
    finally:
        conn.close()
    copied: list[tuple[str, int]] = []
    missing: list[str] = []
    if not wanted:
        return copied, missing
    assert database.path is not None
    live = ManagedFolder(resolve_files_dir(database.path, database.db_id))
    into = ManagedFolder(files_folder_of(dest))
    into.create()
    for digest, _size in wanted:
        try:
            data = live.read(digest)
        except ManagedFileError:
            missing.append(digest)
            continue
        copied.append((digest, into.put(data).size))
    return copied, missing


def _check_destination(source: Path, dest: Path, manifest_path: Path) -> None:
    taken = [p for p in (dest, manifest_path, files_folder_of(dest)) if p.exists()]
    if taken:
        raise BackupError(
            f"{taken[0]} already exists; "
            "give a new file name (backups are never overwritten)"
        )
    if not dest.parent.is_dir():
        raise BackupError(f"the folder {dest.parent} does not exist; create it first")
    siblings = {source.with_name(source.name + s) for s in ("-wal", "-shm", "-journal")}
    if dest == source or dest in siblings:
        raise BackupError(f"{dest} is the database itself or one of its files; pick another path")


def _copy_with_backup_api(source: Path, partial: Path) -> None:
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial, isolation_level=None)
        try:
            src.backup(dst)
            # One self-contained file: the copy needs no -wal beside it to be whole.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    with partial.open("rb+") as handle:
        os.fsync(handle.fileno())


def verify_file(
    path: Path,
    db_id: str,
    checkpoint_line: str,
    *,
    key_dir: Path | str | None = None,
) -> tuple[int, int, str]:
    """Check a database file: integrity, id, chain and the checkpoint it must contain.

    Returns ``(rows verified, head seq, head hash)``. The checkpoint's signature is
    checked when this installation has the database's key; a copy carried to a new
    machine is still checked against the checkpoint's sequence and head hash.
    """
    checkpoint = _parse(checkpoint_line)
    if checkpoint.db_id != db_id:
        raise BackupError(
            f"the checkpoint is for database {checkpoint.db_id}, not {db_id}: "
            "the manifest belongs to another backup"
        )
    try:
        key = load_key(db_id, key_dir)
    except CheckpointKeyError:
        key = None
    if key is not None:
        try:
            check_signature(checkpoint, key.public_key)
        except CheckpointError as exc:
            raise BackupError(str(exc)) from exc
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            result = conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not a readable SQLite database ({exc})") from exc
        if [tuple(r) for r in result] != [("ok",)]:
            raise BackupError(f"{path} fails SQLite's integrity check: {result[0][0]}")
        try:
            row = conn.execute("SELECT db_id FROM installation ORDER BY id LIMIT 1").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not a Formulary database ({exc})") from exc
    finally:
        conn.close()
    if row is None or row[0] != db_id:
        found = None if row is None else row[0]
        raise BackupError(f"{path} holds database {found}, not {db_id}")
    engine = sa.create_engine(f"sqlite+pysqlite:///file:{path}?mode=ro&uri=true")
    try:
        with engine.connect() as connection:
            report = verify_chain(connection, db_id, [checkpoint])
    finally:
        engine.dispose()
    if not report.ok:
        raise BackupError(f"its audit chain does not verify: {report.problem}")
    return report.rows, report.head_seq, report.head_hash


# -- restore ---------------------------------------------------------------------------


def read_manifest(backup: Path) -> Manifest:
    """The manifest next to ``backup``, checked for shape (not yet against the file)."""
    path = manifest_path_of(backup)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(
            f"no manifest {path.name} next to {backup.name}; only backups made by "
            "`formulary backup` (with their manifest) can be restored"
        ) from exc
    except (OSError, ValueError) as exc:
        raise BackupError(f"the manifest {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"{path} is not a Formulary backup manifest")
    if data.get("version") not in READABLE_VERSIONS:
        raise BackupError(
            f"{path} is manifest version {data.get('version')}; this Formulary reads "
            f"version {MANIFEST_VERSION}"
        )
    try:
        return Manifest(
            file=str(data["file"]),
            sha256=str(data["sha256"]),
            size=int(data["size"]),
            db_id=str(data["db_id"]),
            schema_revision=None if data["schema_revision"] is None else str(
                data["schema_revision"]
            ),
            created_at=str(data["created_at"]),
            created_by=str(data["created_by"]),
            audit_head_seq=int(data["audit_head_seq"]),
            audit_head_hash=str(data["audit_head_hash"]),
            checkpoint=str(data["checkpoint"]),
            files=tuple(
                (_hash(item["sha256"]), int(item["size"])) for item in data.get("files", [])
            ),
            files_missing=tuple(_hash(h) for h in data.get("files_missing", [])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupError(f"the manifest {path} is missing or mangles a field ({exc})") from exc


def _hash(value: Any) -> str:
    from db.files import is_sha256

    if not isinstance(value, str) or not is_sha256(value):
        raise ValueError(f"{value!r} is not a SHA-256")
    return value


def check_backup_files(backup: Path, manifest: Manifest) -> None:
    """Every managed file the manifest lists is beside the backup, intact and its size."""
    from db.files import ManagedFolder

    folder = ManagedFolder(files_folder_of(backup))
    for digest, size in manifest.files:
        problem = folder.check(digest, size)
        if problem is not None:
            raise BackupError(
                f"the backup's photo file {digest[:12]}… is {problem.kind} "
                f"({problem.detail}); use another backup, or copy {folder.path.name} back "
                "beside the backup file"
            )


def check_backup(backup: Path, *, key_dir: Path | str | None = None) -> Manifest:
    """Everything that can be checked about a backup without touching any database."""
    backup = backup.expanduser().absolute()
    if not backup.is_file():
        raise BackupError(f"no backup file at {backup}")
    manifest = read_manifest(backup)
    size = backup.stat().st_size
    if size != manifest.size or sha256_of(backup) != manifest.sha256:
        raise BackupError(
            f"{backup.name} does not match its manifest (SHA-256 or size differs): "
            "the file was damaged or altered after the backup; use another backup"
        )
    _, head_seq, head_hash = verify_file(backup, manifest.db_id, manifest.checkpoint,
                                         key_dir=key_dir)
    if (head_seq, head_hash) != (manifest.audit_head_seq, manifest.audit_head_hash):
        raise BackupError(
            f"{backup.name}'s audit head (seq {head_seq}) is not the one its manifest "
            f"records (seq {manifest.audit_head_seq})"
        )
    check_backup_files(backup, manifest)
    return manifest


def current_db_id(target: Path) -> str | None:
    """The database id of the SQLite file at ``target``, or None when there is none."""
    if not target.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT db_id FROM installation ORDER BY id LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None
    return None if row is None else str(row[0])


def stage_restore(backup: Path, target: Path) -> Path:
    """Copy a checked backup next to ``target`` (0600), ready to be opened and moved in."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.{os.getpid()}.restoring")
    staged.unlink(missing_ok=True)
    try:
        _copy_with_backup_api(backup.expanduser().absolute(), staged)
    except (OSError, sqlite3.Error) as exc:
        staged.unlink(missing_ok=True)  # a full disk leaves no half-written copy
        # Said as a backup's copy is (BackupError): one line naming the folder, not an
        # unexpected error.
        raise BackupNotWritten(
            f"the backup could not be copied beside {target} ({exc}); nothing was "
            "restored and the database is unchanged"
        ) from exc
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return staged


def record_restore(
    staged: Database,
    backup: Path,
    manifest: Manifest,
    *,
    user: str,
    workstation: str,
    replaced: Path | None,
    key_dir: Path | str | None = None,
    now: datetime | None = None,
) -> str:
    """Audit the restore inside the staged copy and sign a checkpoint; the line."""
    moment = now if now is not None else datetime.now(UTC)
    with staged.engine.begin() as connection:
        append_event(
            connection,
            db_id=staged.db_id,
            user=user,
            workstation=workstation,
            action="database.restore",
            entity="database",
            entity_id=staged.db_id,
            before=None,
            after={
                "backup": str(backup.expanduser().absolute()),
                "backup_sha256": manifest.sha256,
                "backup_checkpoint": manifest.checkpoint,
                "replaced_file_kept_at": None if replaced is None else str(replaced),
            },
            reason=None,
            now=moment,
        )
    # signing_key, not writable_key: restoring an older copy is this very act, by an
    # administrator, audited; its checkpoint becomes the log's newest.
    from db.audit.service import signing_key

    try:
        key = signing_key(staged, key_dir)
    except (CheckpointKeyError, StoreError) as exc:
        raise BackupError(str(exc)) from exc
    with staged.engine.connect() as connection:
        return make_checkpoint(connection, staged.db_id, key, now=moment).line


def aside_path(target: Path, now: datetime | None = None) -> Path:
    """Where the current database file is kept when a restore replaces it."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    aside = target.with_name(f"{target.name}.before-restore-{stamp}")
    counter = 1
    while aside.exists():
        aside = target.with_name(f"{target.name}.before-restore-{stamp}-{counter}")
        counter += 1
    return aside


def finish_restore(staged: Path, target: Path, aside: Path) -> Path | None:
    """Set the current ``target`` aside as ``aside`` (never deleted), move ``staged`` in.

    Returns ``aside``, or None when there was no current file. The caller must have
    closed every connection to both files.
    """
    _fold_wal(staged)
    kept: Path | None = None
    if target.exists():
        _fold_wal(target)
        os.replace(target, aside)
        kept = aside
    for suffix in ("-wal", "-shm", "-journal"):
        # Leftovers of the old file must never be applied to the restored one.
        leftover = target.with_name(target.name + suffix)
        if leftover.exists():
            if kept is not None:
                os.replace(leftover, kept.with_name(kept.name + suffix))
            else:
                leftover.unlink()
    os.replace(staged, target)
    _fsync_dir(target.parent)
    return kept


def restore_database(
    location: str | Path | None,
    backup: Path,
    *,
    username: str,
    password: str,
    workstation: str,
    force: bool = False,
    key_dir: Path | str | None = None,
) -> RestoreResult:
    """Check ``backup``, then replace the SQLite database at ``location`` with it.

    The administrator is authenticated against the current database when there is
    one (else against the backup itself). A backup of another database (different
    id) is refused unless ``force``. The current file is kept beside the restored one
    as ``<name>.before-restore-<UTC time>``. Raises :class:`BackupError` or the
    Store's own errors (wrong password, not an administrator).
    """
    from db.database import open_database
    from db.engine import resolve
    from db.store import Store
    from db.store.roles import ADMINS, require_role

    where = resolve(location)
    if where.path is None:
        raise BackupError(_PG_MESSAGE)
    target = where.path
    backup = backup.expanduser().absolute()
    manifest = check_backup(backup, key_dir=key_dir)
    current = current_db_id(target)
    if target.exists() and current is None and not force:
        raise BackupError(
            f"{target} exists but is not a readable Formulary database; check --db, "
            "or pass --force to replace it (it is kept aside, not deleted)"
        )
    if current is not None and current != manifest.db_id and not force:
        raise BackupError(
            f"the backup is of database {manifest.db_id} but {target} is database {current}; "
            "check --db, or pass --force to replace it (it is kept aside, not deleted)"
        )
    authenticated = False
    if current is not None:
        live = open_database(target, create=False)
        try:
            store = Store(live, workstation)
            if store.has_users():
                require_role(store.authenticate(username, password), ADMINS, "restore backups")
                authenticated = True
        finally:
            live.dispose()
    if current is not None:
        _fold_wal(target)  # refuses now, before anything is staged, if the file is in use
    files_restored = restore_managed_files(backup, manifest, target)
    staged_path = stage_restore(backup, target)
    try:
        staged = open_database(staged_path, create=False)
        try:
            if not authenticated:
                actor = Store(staged, workstation).authenticate(username, password)
                require_role(actor, ADMINS, "restore backups")
            aside = aside_path(target)
            line = record_restore(
                staged, backup, manifest, user=username, workstation=workstation,
                replaced=aside if target.exists() else None, key_dir=key_dir,
            )
        finally:
            staged.dispose()
        kept = finish_restore(staged_path, target, aside)
    finally:
        staged_path.unlink(missing_ok=True)
    rows, _, _ = verify_file(target, manifest.db_id, line, key_dir=key_dir)
    return RestoreResult(target, kept, manifest, line, rows, files_restored)


def restore_managed_files(backup: Path, manifest: Manifest, target: Path) -> int:
    """Copy the backup's managed files into the managed folder of ``target``; how many.

    Done before the database file is swapped in: extra files in a content-addressed
    folder are harmless, a restored row without its file is not. A damaged file of the
    same name is set aside (:meth:`db.files.ManagedFolder.restore`).
    """
    from db.files import ManagedFileError, ManagedFolder, resolve_files_dir

    if not manifest.files:
        return 0
    source = ManagedFolder(files_folder_of(backup))
    into = ManagedFolder(resolve_files_dir(target, manifest.db_id))
    try:
        into.create()
        for digest, _size in manifest.files:
            into.restore(source.read(digest))
    except ManagedFileError as exc:
        raise BackupError(f"the photo files could not be restored: {exc}") from exc
    return len(manifest.files)


def _fold_wal(path: Path) -> None:
    """Checkpoint the WAL into the main file and leave it in rollback-journal mode.

    This needs the only connection to the file, so it also proves nobody else has it
    open (a restore must never swap a file from under a running app).
    """
    conn = sqlite3.connect(path, isolation_level=None, timeout=2)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()
        if mode is None or str(mode[0]).lower() != "delete":
            raise sqlite3.OperationalError("database is locked")
    except sqlite3.OperationalError as exc:
        raise BackupError(
            f"{path} is in use by another program (is Formulary open on a workstation?); "
            "close it everywhere and run the restore again; nothing was changed"
        ) from exc
    finally:
        conn.close()


# -- helpers ---------------------------------------------------------------------------


def _signing_key(database: Database, key_dir: Path | str | None) -> Any:
    from db.audit.service import writable_key

    try:
        return writable_key(database, key_dir)
    except (CheckpointKeyError, StoreError) as exc:
        raise BackupError(str(exc)) from exc


def _parse(line: str) -> Any:
    try:
        return parse_checkpoint(line)
    except CheckpointError as exc:
        raise BackupError(f"the manifest's checkpoint is not valid: {exc}") from exc


def _revision(connection: sa.Connection) -> str | None:
    from db.migrate import current_revision

    return current_revision(connection)


def _write_private(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, path)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can fsync a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def head_of(database: Database) -> tuple[int, str]:
    """``(seq, hash)`` of the audit chain's head (for reports)."""
    with database.engine.connect() as connection:
        return read_head(connection)
