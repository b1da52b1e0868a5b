"""Photographs in the Store, on both engines: attach, strip, audit, retire, verify."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from db.audit.service import verify_database
from db.database import Database
from db.errors import Conflict, NotFound, PermissionDenied, ValidationError
from db.files import FILES_DIR_ENV, ManagedFileMismatch, ManagedFolderMissing
from db.store import Actor, PatientFields, Store
from db.tables.photos import PhotoRow
from formulary.photos import PhotoView
from formulary.records import Role, Sex
from tests.photos import images

from .helpers import count_rows, events, replay_problems

pytestmark = pytest.mark.storage


@pytest.fixture(autouse=True)
def _files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # PostgreSQL has no file to sit beside: every test keeps its files in tmp_path.
    folder = tmp_path / "managed"
    monkeypatch.setenv(FILES_DIR_ENV, str(folder))
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(tmp_path / "keys"))
    yield folder


@pytest.fixture
def clinic(store: Store, users: dict[Role, Actor]) -> tuple[Actor, int, int]:
    """A practitioner, a patient and an outcome of theirs to attach photos to."""
    lee = users[Role.PRACTITIONER]
    patient = store.create_patient(
        lee,
        PatientFields(
            chart_number="P-1", family_name="Hair", given_name="Hana",
            date_of_birth=date(1985, 5, 5), sex=Sex.FEMALE,
        ),
    )
    outcome = store.record_outcome(
        lee, patient_id=patient.id, measured_at=datetime.now(UTC), scale_grade="III"
    )
    return lee, patient.id, outcome.id


def test_attach_strips_location_and_camera_and_audits_the_hash(
    store: Store, database: Database, clinic: tuple[Actor, int, int]
) -> None:
    lee, pid, oid = clinic
    original = images.jpeg(orientation=6)
    assert images.has_location_or_camera(original)
    photo = store.attach_photo(
        lee, original, patient_id=pid, view="Frontal", taken_on=date(2026, 11, 2), outcome_id=oid
    )
    assert photo.view is PhotoView.FRONTAL and photo.media_type == "image/jpeg"
    stored = store.files.path_for(photo.sha256).read_bytes()
    assert not images.has_location_or_camera(stored)
    with Image.open(io.BytesIO(stored)) as back:
        assert back.size == (32, 64), "orientation applied to the pixels"
        assert not back.getexif().get_ifd(images.GPS_IFD)
    attach = [e for e in events(database) if e.action == "photo.attach"]
    assert len(attach) == 1 and attach[0].after is not None
    after = json.loads(attach[0].after)
    assert after["sha256"] == photo.sha256
    assert after["size_bytes"] == len(stored) == photo.size_bytes
    assert replay_problems(database) == []
    report = verify_database(database, user="t", record=False).report
    assert report.ok and report.files_checked == 1


@pytest.mark.parametrize("maker", [images.png, images.heic])
def test_png_and_heic_are_taken(
    store: Store, clinic: tuple[Actor, int, int], maker: object
) -> None:
    lee, pid, oid = clinic
    assert callable(maker)
    photo = store.attach_photo(
        lee, maker(), patient_id=pid, view=PhotoView.VERTEX, taken_on=date(2026, 1, 1),
        outcome_id=oid,
    )
    data = store.files.read(photo.sha256)
    assert not images.has_location_or_camera(data)
    assert photo.media_type == ("image/png" if maker is images.png else "image/jpeg")


def _refused(store: Store, database: Database, before_events: int) -> None:
    assert count_rows(database, PhotoRow) == 0
    assert list(store.files.names()) == []
    assert len(events(database)) == before_events, "no audit entry for a failed attach"


def test_bad_inputs_are_refused_with_nothing_written(
    store: Store, database: Database, clinic: tuple[Actor, int, int], tmp_path: Path
) -> None:
    lee, pid, oid = clinic
    n = len(events(database))
    base = {"patient_id": pid, "view": "frontal", "taken_on": date(2026, 1, 1), "outcome_id": oid}
    cases: list[tuple[bytes, dict[str, object], type[Exception], str]] = [
        (b"%PDF-1.4 not a picture", {}, ValidationError, "not an image"),
        (images.gif(), {}, ValidationError, "GIF"),
        (images.jpeg()[:200], {}, ValidationError, "damaged"),
        (images.jpeg(), {"view": "sideways"}, ValidationError, "unknown view"),
        (images.jpeg(), {"taken_on": date.today() + timedelta(days=5)}, ValidationError,
         "not possible"),
        (images.jpeg(), {"outcome_id": None}, ValidationError, "exactly one"),
        (images.jpeg(), {"session_id": 1}, ValidationError, "exactly one"),
        (images.jpeg(), {"outcome_id": 999}, NotFound, "outcome 999"),
        (images.jpeg(), {"patient_id": 999}, NotFound, "patient 999"),
        (b"", {}, ValidationError, "empty"),
    ]
    for data, change, error, words in cases:
        with pytest.raises(error, match=words):
            store.attach_photo(lee, data, **{**base, **change})  # type: ignore[arg-type]
        _refused(store, database, n)
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff" * (2 * 1024 * 1024))
    store.set_photo_limit(users_admin(store), 1024 * 1024)
    n = len(events(database))
    with pytest.raises(ValidationError, match=r"larger than the clinic's photo limit of 1\.0 MB"):
        store.attach_photo_file(lee, big, patient_id=pid, view="vertex",
                                taken_on=date(2026, 1, 1), outcome_id=oid)
    with pytest.raises(ValidationError, match="does not exist"):
        store.attach_photo_file(lee, tmp_path / "nope.jpg", patient_id=pid, view="vertex",
                                taken_on=date(2026, 1, 1), outcome_id=oid)
    _refused(store, database, n)


def users_admin(store: Store) -> Actor:
    from tests.storage.conftest import PASSWORD

    return store.authenticate("admin", PASSWORD)


def test_photo_limit_is_an_audited_admin_setting(
    store: Store, database: Database, users: dict[Role, Actor]
) -> None:
    assert store.photo_limit(users[Role.ASSISTANT]) == 25 * 1024 * 1024
    with pytest.raises(PermissionDenied):
        store.set_photo_limit(users[Role.PRACTITIONER], 10 * 1024 * 1024)
    with pytest.raises(ValidationError, match="out of range"):
        store.set_photo_limit(users[Role.ADMIN], 10)
    store.set_photo_limit(users[Role.ADMIN], 10 * 1024 * 1024)
    assert store.clinic(users[Role.AUDITOR]).photo_max_bytes == 10 * 1024 * 1024
    assert [e.action for e in events(database)][-1] == "installation.set_photo_limit"


def test_missing_folder_is_explained_and_nothing_written(
    store: Store, database: Database, clinic: tuple[Actor, int, int]
) -> None:
    lee, pid, oid = clinic
    store.files.path.rmdir()
    n = len(events(database))
    with pytest.raises(ManagedFolderMissing, match=r"does not exist.*--create"):
        store.attach_photo(lee, images.jpeg(), patient_id=pid, view="frontal",
                           taken_on=date(2026, 1, 1), outcome_id=oid)
    assert not store.files.exists()
    _refused(store, database, n)


def test_a_failed_write_removes_the_file_it_made(
    store: Store, database: Database, clinic: tuple[Actor, int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lee, pid, oid = clinic
    n = len(events(database))
    from db import loaders

    def broken(*args: object, **kwargs: object) -> object:
        # After the file is put and the row and its audit entry are written, inside
        # the transaction: everything must be rolled back and the file removed.
        raise OSError("disk full")

    monkeypatch.setattr(loaders, "photo", broken)
    with pytest.raises(OSError, match="disk full"):
        store.attach_photo(lee, images.jpeg(), patient_id=pid, view="frontal",
                           taken_on=date(2026, 1, 1), outcome_id=oid)
    _refused(store, database, n)


def test_duplicate_is_refused_and_retire_keeps_the_record(
    store: Store, database: Database, clinic: tuple[Actor, int, int]
) -> None:
    lee, pid, oid = clinic
    args = {"patient_id": pid, "view": "left", "taken_on": date(2026, 2, 1), "outcome_id": oid}
    first = store.attach_photo(lee, images.jpeg(), **args)  # type: ignore[arg-type]
    with pytest.raises(Conflict, match=f"already attached to the patient as photo {first.id}"):
        store.attach_photo(lee, images.jpeg(), **args)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="reason"):
        store.retire_photo(lee, first.id, " ")
    retired = store.retire_photo(lee, first.id, "wrong patient's picture")
    assert retired.retired and retired.retired_reason == "wrong patient's picture"
    assert store.files.has(first.sha256), "the file stays with the record"
    with pytest.raises(Conflict, match="already retired"):
        store.retire_photo(lee, first.id, "again")
    assert [p.retired for p in store.list_photos(lee, pid)] == [True]
    assert store.list_photos(lee, pid, include_retired=False) == []
    again = store.attach_photo(lee, images.jpeg(), **args)  # type: ignore[arg-type]
    assert again.sha256 == first.sha256 and again.id != first.id
    assert events(database)[-2].action == "photo.retire"
    assert events(database)[-2].reason == "wrong patient's picture"


def test_auditor_reads_but_cannot_attach(
    store: Store, users: dict[Role, Actor], clinic: tuple[Actor, int, int]
) -> None:
    lee, pid, oid = clinic
    photo = store.attach_photo(lee, images.png(), patient_id=pid, view="occipital",
                               taken_on=date(2026, 3, 3), outcome_id=oid)
    audrey = users[Role.AUDITOR]
    assert store.photo_bytes(audrey, photo.id)[1] == store.files.read(photo.sha256)
    with pytest.raises(PermissionDenied):
        store.attach_photo(audrey, images.jpeg(), patient_id=pid, view="occipital",
                           taken_on=date(2026, 3, 3), outcome_id=oid)


def test_tampered_or_missing_photo_fails_audit_verify(
    store: Store, database: Database, clinic: tuple[Actor, int, int]
) -> None:
    lee, pid, oid = clinic
    one = store.attach_photo(lee, images.jpeg(), patient_id=pid, view="frontal",
                             taken_on=date(2026, 1, 1), outcome_id=oid)
    two = store.attach_photo(lee, images.png(), patient_id=pid, view="vertex",
                             taken_on=date(2026, 1, 1), outcome_id=oid)
    path = store.files.path_for(one.sha256)
    # Swap in another picture: a plausible file, just not the one recorded.
    path.write_bytes(images.jpeg(color=(1, 2, 3)))
    report = verify_database(database, user="t", record=False).report
    assert report.status == "records" and report.exit_code == 4
    assert any(f"photo {one.id}: file ALTERED" in p for p in report.record_problems)
    with pytest.raises(ManagedFileMismatch):
        store.photo_bytes(lee, one.id)
    store.files.path_for(two.sha256).unlink()
    report = verify_database(database, user="t", record=False).report
    assert report.record_problem_count == 2
    assert any(f"photo {two.id}: file MISSING" in p for p in report.record_problems)


def test_export_json_and_import_carry_the_photos_on_this_engine(
    store: Store, database: Database, clinic: tuple[Actor, int, int],
    url_factory: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The photo records travel in the JSON, the files beside it, on both engines; the
    import refuses a photo row whose file is not in the target's folder."""
    from db.database import open_database
    from db.ops.photo_files import PhotoFilesError, export_files, stage_import_files
    from db.ops.transfer import export_document, import_file
    from tests.storage.conftest import PASSWORD

    lee, pid, oid = clinic
    photo = store.attach_photo(lee, images.jpeg(), patient_id=pid, view="occipital",
                               taken_on=date(2026, 2, 2), outcome_id=oid)
    admin = store.authenticate("admin", PASSWORD)
    document = export_document(database, admin)
    assert [p["sha256"] for p in document["records"]["photos"]] == [photo.sha256]
    carried = tmp_path / "export.files"
    assert export_files(database, carried) == 1
    text = json.dumps(document).encode()

    target = open_database(url_factory())
    try:
        # The target keeps its files elsewhere: a folder of its own.
        monkeypatch.setenv(FILES_DIR_ENV, str(tmp_path / "target-files"))
        other = Store(target, workstation="test-ws")
        new_admin = other.create_first_admin("admin", "Ada Admin", PASSWORD)
        with pytest.raises(PhotoFilesError, match="nothing was imported"):
            import_file(target, new_admin, io.BytesIO(text), source_name="export.json")
        assert list(other.files.names()) == []
        created = stage_import_files(carried, target)
        assert [c.sha256 for c in created] == [photo.sha256]
        import_file(target, new_admin, io.BytesIO(text), source_name="export.json")
        patient = other.find_patient(new_admin, "P-1")
        assert [p.sha256 for p in other.list_photos(new_admin, patient.id)] == [photo.sha256]
        assert other.files.read(photo.sha256) == store.files.read(photo.sha256)
        from db.audit.files import check_managed_files

        with target.engine.connect() as connection:
            files = check_managed_files(connection, other.files)
        assert (files.files_checked, files.problem_count) == (1, 0)
    finally:
        target.dispose()
