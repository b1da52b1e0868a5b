"""``formulary photo add|list|export|retire|folder``: clinical photographs headless.

``add`` strips the file of location and camera metadata (a fresh JPEG or PNG, EXIF
orientation applied), stores it in the managed folder beside the database named by
its SHA-256, and records it (with the hash) in the audit trail, attached to one
session or one outcome of the patient. A photo attached in error is retired with a
reason, never deleted. Exit status: 0 done; 2 bad input (not an image, too large, bad
view or date, unknown patient, session or outcome), nothing saved; 4 a stored photo is
missing or no longer matches its recorded SHA-256 (``export``); 6 the managed folder is
missing or cannot be written, or the destination cannot be written.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui.cli.errors import EXIT_IO, fail
from tui.cli.login import PasswordStdinOption, UserOption, open_db, signed_in, store_errors
from tui.cli.options import DbOption, JsonOption, ReasonOption, db_location

if TYPE_CHECKING:
    from formulary.photos import Photo

#: Exit status when a stored photo is missing or altered (as ``audit verify``'s 4).
EXIT_PHOTO_ALTERED = 4

photo_app = typer.Typer(
    help="Attach, list, export and retire clinical photographs.", no_args_is_help=True
)

ChartArgument = Annotated[str, typer.Argument(help="The patient's chart number.")]



@contextmanager
def _file_errors() -> Iterator[None]:
    """The managed folder's problems: exit 6 (folder), 4 (a photo missing or altered)."""
    from db.files import ManagedFileError, ManagedFileMismatch, ManagedFileMissing

    try:
        yield
    except (ManagedFileMismatch, ManagedFileMissing) as exc:
        fail(str(exc), EXIT_PHOTO_ALTERED)
    except ManagedFileError as exc:
        fail(str(exc), EXIT_IO)


def photo_json(p: Photo) -> dict[str, Any]:
    """A photo as ``--json`` prints it."""
    return {
        "id": p.id,
        "patient_id": p.patient_id,
        "view": p.view.value,
        "taken_on": p.taken_on.isoformat(),
        "sha256": p.sha256,
        "size_bytes": p.size_bytes,
        "media_type": p.media_type,
        "width": p.width,
        "height": p.height,
        "session_id": p.session_id,
        "outcome_id": p.outcome_id,
        "note": p.note,
        "retired": p.retired,
        "retired_reason": p.retired_reason,
    }


def _line(p: Photo) -> str:
    to = f"session {p.session_id}" if p.session_id is not None else f"outcome {p.outcome_id}"
    state = f"  RETIRED: {p.retired_reason}" if p.retired else ""
    return (
        f"{p.id:>5}  {p.taken_on.isoformat()}  {p.view.value:<11} {to:<12} "
        f"{p.width}x{p.height} {p.size_bytes / 1024:.0f} KB  {p.sha256[:12]}…{state}"
    )


def _taken(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        fail(f"--taken: {text!r} is not a date; write YYYY-MM-DD")


@photo_app.command("add")
def add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The photo: JPEG, PNG or HEIC.")],
    chart: Annotated[str, typer.Option("--patient", help="The patient's chart number.")],
    view: Annotated[
        str,
        typer.Option(
            "--view", help="frontal, vertex, left, right, occipital or trichoscopy."
        ),
    ],
    taken: Annotated[str, typer.Option("--taken", help="The date taken, YYYY-MM-DD.")],
    session_id: Annotated[
        int | None, typer.Option("--session", help="The session it documents (its id).")
    ] = None,
    outcome_id: Annotated[
        int | None, typer.Option("--outcome", help="The outcome it documents (its id).")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="A short note.")] = "",
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Attach a photo to a session or an outcome (metadata stripped; audited)."""
    if (session_id is None) == (outcome_id is None):
        fail("attach the photo to one session or one outcome: give --session N or --outcome N")
    when = _taken(taken)
    with (
        signed_in(db_location(ctx, db), user, password_stdin) as (store, actor),
        store_errors(),
        _file_errors(),
    ):
        patient = store.find_patient(actor, chart)
        photo = store.attach_photo_file(
            actor,
            file,
            patient_id=patient.id,
            view=view,
            taken_on=when,
            session_id=session_id,
            outcome_id=outcome_id,
            note=note,
        )
    if as_json:
        typer.echo(json.dumps(photo_json(photo)))
    else:
        typer.echo(f"attached photo {photo.id}: {_line(photo).strip()}")


@photo_app.command("list")
def list_(
    ctx: typer.Context,
    chart: ChartArgument,
    current: Annotated[
        bool, typer.Option("--current", help="Leave out retired photos.")
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List a patient's photos by date taken (retired ones marked)."""
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        patient = store.find_patient(actor, chart)
        photos = store.list_photos(actor, patient.id, include_retired=not current)
    if as_json:
        typer.echo(json.dumps([photo_json(p) for p in photos]))
        return
    if not photos:
        typer.echo(f"no photos for {chart}")
    for p in photos:
        typer.echo(_line(p))


@photo_app.command("export")
def export(
    ctx: typer.Context,
    chart: ChartArgument,
    to: Annotated[Path, typer.Option("--to", help="The folder to write the copies into.")],
    photo_ids: Annotated[
        list[int] | None, typer.Option("--photo", help="Only this photo id; repeat for more.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing files.")] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Copy a patient's current photos (checked against their SHA-256) into a folder."""
    from formulary.photos import export_file_name as export_name
    from tui.export_files import ExportPathError, write_files

    with (
        signed_in(db_location(ctx, db), user, password_stdin) as (store, actor),
        store_errors(),
        _file_errors(),
    ):
        patient = store.find_patient(actor, chart)
        photos = store.list_photos(actor, patient.id, include_retired=bool(photo_ids))
        if photo_ids:
            known = {p.id for p in photos}
            unknown = [i for i in photo_ids if i not in known]
            if unknown:
                fail(f"--photo {unknown[0]}: not a photo of {chart}; see 'photo list'")
            photos = [p for p in photos if p.id in set(photo_ids)]
        if not photos:
            fail(f"{chart} has no photos to export")
        files = {
            export_name(chart, p): store.photo_bytes(actor, p.id)[1] for p in photos
        }
        made = not to.exists()
        written: list[Path] = []
        try:
            try:
                written = write_files(to, files, force=force)
            except ExportPathError as exc:
                fail(str(exc))
            except OSError as exc:
                fail(f"cannot write into {to}: {exc.strerror or exc}", EXIT_IO)
            store.record_photo_export(actor, [p.id for p in photos], str(to))
        except BaseException:
            # Copies whose export could not be audited must not stay behind (nor
            # the folder made for them): either both exist, or neither.
            for path in written:
                path.unlink(missing_ok=True)
            if made:
                with contextlib.suppress(OSError):
                    to.rmdir()
            raise
    if as_json:
        typer.echo(json.dumps([str(p) for p in written]))
        return
    for path in written:
        typer.echo(str(path))


@photo_app.command("retire")
def retire(
    ctx: typer.Context,
    photo_id: Annotated[int, typer.Argument(help="The photo's id (see 'photo list').")],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Withdraw a photo attached in error: kept with its file, marked, with the reason."""
    if not (reason or "").strip():
        fail("--reason is required: say why the photo is withdrawn (kept in the audit trail)")
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        photo = store.retire_photo(actor, photo_id, reason or "")
    typer.echo(f"retired photo {photo.id} ({photo.view.value}, {photo.taken_on.isoformat()})")


@photo_app.command("folder")
def folder(
    ctx: typer.Context,
    create: Annotated[
        bool, typer.Option("--create", help="Create the folder (0700) if it is missing.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Print where the photo files are kept; with --create, make the folder."""
    from db.store import Store

    database = open_db(db_location(ctx, db))
    try:
        files = Store(database).files
        with _file_errors():
            if create:
                files.create()
    finally:
        database.dispose()
    if files.exists():
        count = sum(1 for _ in files.names())
        typer.echo(f"{files.path}: {count} stored file(s)")
        return
    fail(
        f"{files.path} does not exist; run 'formulary photo folder --create' for a new "
        "clinic, or put the folder back (restore a backup) if photos were stored before",
        EXIT_IO,
    )
