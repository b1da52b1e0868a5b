"""Photographs: attach (stripped, stored by SHA-256), list, read back, retire.

An attach is all or nothing: the file is decoded and stripped before the write
transaction (CPU work holds no lock), then, inside it, the stripped copy is put in the
managed folder and the row and its audit entry are written. If anything fails after
the file was written, the file this call created is removed again, so there is never
a row without its file nor a new file without its row, and a failed attach leaves no
audit entry.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlmodel import col, select

from db import loaders
from db.errors import Conflict, NotFound, ValidationError
from db.files import ManagedFileError, StoredFile
from db.store import validate as check
from db.store._base import (
    ADMINS,
    EVERYONE,
    PREPARERS,
    Actor,
    StoreBase,
    require_reason,
    snapshot,
)
from db.tables.installation import InstallationRow
from db.tables.outcomes import OutcomeRow
from db.tables.people import PatientRow, UserRow
from db.tables.photos import PhotoRow
from db.tables.sessions import SessionRow
from formulary.photos import (
    MIN_MAX_BYTES,
    Photo,
    PhotoRejected,
    PhotoView,
    check_size,
    prepare_photo,
)

#: Oldest date a photo may carry.
EARLIEST = date(1900, 1, 1)


def parse_view(text: str | PhotoView) -> PhotoView:
    """The view named by ``text`` or :class:`ValidationError` listing the views."""
    try:
        return PhotoView(str(text).strip().lower())
    except ValueError:
        names = ", ".join(v.value for v in PhotoView)
        raise ValidationError(f"unknown view {text!r}; use one of {names}") from None


class PhotosStore(StoreBase):
    """Clinical photographs and the clinic's photo size limit."""

    def photo_limit(self, actor: Actor) -> int:
        """The largest photo file accepted, in bytes (a clinic setting)."""
        with self._read(actor, EVERYONE, "read the clinic settings") as db:
            row = db.exec(select(InstallationRow).order_by(col(InstallationRow.id))).first()
            return row.photo_max_bytes if row is not None else MIN_MAX_BYTES

    def set_photo_limit(self, actor: Actor, limit_bytes: int) -> None:
        """Change the largest photo file accepted (administrators; 1 to 200 MB)."""
        check.photo_limit(limit_bytes)
        with self._write(actor, ADMINS, "change the clinic settings") as uow:
            row = uow.session.exec(select(InstallationRow).with_for_update()).one()
            before = snapshot(row)
            row.photo_max_bytes = limit_bytes
            uow.update(row, before, "installation.set_photo_limit", None)

    def attach_photo_file(
        self,
        actor: Actor,
        path: Path,
        *,
        patient_id: int,
        view: PhotoView | str,
        taken_on: date,
        session_id: int | None = None,
        outcome_id: int | None = None,
        note: str = "",
    ) -> Photo:
        """Read ``path`` (refusing an oversize file before reading it) and attach it."""
        limit = self.photo_limit(actor)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise ValidationError(f"{path} does not exist; give the photo file's path") from None
        except OSError as exc:
            raise ValidationError(f"cannot read {path}: {exc.strerror}") from exc
        if path.is_dir():
            raise ValidationError(f"{path} is a folder; give the photo file itself")
        try:
            check_size(size, limit)
            data = path.read_bytes()
        except PhotoRejected as exc:
            raise ValidationError(str(exc)) from exc
        except OSError as exc:
            raise ValidationError(f"cannot read {path}: {exc.strerror}") from exc
        return self.attach_photo(
            actor,
            data,
            patient_id=patient_id,
            view=view,
            taken_on=taken_on,
            session_id=session_id,
            outcome_id=outcome_id,
            note=note,
            limit=limit,
        )

    def attach_photo(
        self,
        actor: Actor,
        data: bytes,
        *,
        patient_id: int,
        view: PhotoView | str,
        taken_on: date,
        session_id: int | None = None,
        outcome_id: int | None = None,
        note: str = "",
        limit: int | None = None,
    ) -> Photo:
        """Strip ``data`` of location and camera metadata, store it, record it, audited.

        Exactly one of ``session_id`` and ``outcome_id`` names what the photo documents;
        it must be the patient's. Raises :class:`ValidationError` (not an image, too
        large, bad date or view), :class:`NotFound`, :class:`Conflict` (the same photo is
        already attached to the patient) or a :class:`~db.files.ManagedFileError` (the
        managed folder is missing or cannot be written). Nothing is stored on failure.
        """
        the_view = parse_view(view)
        if (session_id is None) == (outcome_id is None):
            raise ValidationError(
                "attach the photo to one session or one outcome (give exactly one of them)"
            )
        if not EARLIEST <= taken_on <= date.today() + timedelta(days=1):
            raise ValidationError(
                f"the date taken {taken_on.isoformat()} is not possible: give a date between "
                f"{EARLIEST.isoformat()} and today"
            )
        clean_note = check.text(note, "note", limit=500, multiline=True)
        self.files.require()
        if limit is None:
            limit = self.photo_limit(actor)
        try:
            prepared = prepare_photo(data, limit)
        except PhotoRejected as exc:
            raise ValidationError(str(exc)) from exc
        stored: StoredFile | None = None
        try:
            with self._write(actor, PREPARERS, "attach photos") as uow:
                uow.get(PatientRow, patient_id, "patient")
                if session_id is not None:
                    owner = uow.get(SessionRow, session_id, "session").patient_id
                else:
                    assert outcome_id is not None
                    owner = uow.get(OutcomeRow, outcome_id, "outcome").patient_id
                if owner != patient_id:
                    what = "session" if session_id is not None else "outcome"
                    raise ValidationError(f"that {what} belongs to another patient")
                same = uow.session.exec(
                    select(PhotoRow).where(
                        PhotoRow.patient_id == patient_id,
                        PhotoRow.sha256 == _digest(prepared.data),
                        col(PhotoRow.retired_at).is_(None),
                    )
                ).first()
                if same is not None:
                    raise Conflict(
                        f"this photo is already attached to the patient as photo {same.id} "
                        f"({same.view}, {same.taken_on.isoformat()})"
                    )
                stored = self.files.put(prepared.data)
                row = uow.add(
                    PhotoRow(
                        patient_id=patient_id,
                        session_id=session_id,
                        outcome_id=outcome_id,
                        view=the_view.value,
                        taken_on=taken_on,
                        sha256=stored.sha256,
                        size_bytes=stored.size,
                        media_type=prepared.media_type,
                        width=prepared.width,
                        height=prepared.height,
                        note=clean_note,
                        created_at=uow.now,
                        created_by_id=actor.id,
                    ),
                    "photo.attach",
                )
                result = loaders.photo(row)
        except BaseException:
            if stored is not None:
                self.files.discard(stored)
            raise
        return result

    def retire_photo(self, actor: Actor, photo_id: int, reason: str) -> Photo:
        """Withdraw a photo attached in error: kept (row, file, audit), marked, with a reason."""
        why = require_reason(reason, "retire a photo")
        with self._write(actor, PREPARERS, "retire photos") as uow:
            row = uow.get(PhotoRow, photo_id, "photo", for_update=True)
            if row.retired_at is not None:
                raise Conflict(f"photo {photo_id} was already retired ({row.retired_reason})")
            before = snapshot(row)
            row.retired_at = uow.now
            row.retired_reason = why
            row.retired_by_id = actor.id
            uow.update(row, before, "photo.retire", why)
            return loaders.photo(row)

    def list_photos(
        self, actor: Actor, patient_id: int, *, include_retired: bool = True
    ) -> list[Photo]:
        """A patient's photos by date taken (then attach order)."""
        with self._read(actor, EVERYONE, "see photos") as db:
            if db.get(PatientRow, patient_id) is None:
                raise NotFound(f"patient {patient_id} does not exist; pick one from the list")
            users = {u.id: u for u in db.exec(select(UserRow)).all() if u.id is not None}
            found = loaders.photos_of(db, [patient_id], users).get(patient_id, [])
        return [p for p in found if include_retired or not p.retired]

    def get_photo(self, actor: Actor, photo_id: int) -> Photo:
        """One photo's record."""
        with self._read(actor, EVERYONE, "see photos") as db:
            row = db.get(PhotoRow, photo_id)
            if row is None:
                raise NotFound(f"photo {photo_id} does not exist; list them with 'photo list'")
            return loaders.photo(row)

    def photo_bytes(self, actor: Actor, photo_id: int) -> tuple[Photo, bytes]:
        """The photo's record and its stored bytes, checked against the recorded SHA-256.

        Raises :class:`~db.files.ManagedFileMissing` or
        :class:`~db.files.ManagedFileMismatch` when the file is gone or was changed.
        """
        photo = self.get_photo(actor, photo_id)
        data = self.files.read(photo.sha256)
        if len(data) != photo.size_bytes:
            raise ManagedFileError(
                f"photo {photo_id}'s file is {len(data)} bytes, {photo.size_bytes} recorded; "
                "restore it from a backup"
            )
        return photo, data

    def record_photo_export(self, actor: Actor, photo_ids: list[int], destination: str) -> None:
        """Audit that copies of photos left the database (``photo export``, open in viewer)."""
        with self._write(actor, EVERYONE, "export photos") as uow:
            uow.audit(
                "photo.export",
                "photo",
                photo_ids[0] if len(photo_ids) == 1 else None,
                None,
                {"photo_ids": sorted(photo_ids), "destination": destination[:500]},
                None,
            )


def _digest(data: bytes) -> str:
    from db.files import sha256_hex

    return sha256_hex(data)
