"""``formulary export chart|session|all``: chart notes, CSV, FHIR and JSON, audited.

Every export signs a fresh audit checkpoint, prints it on what it writes and records
itself in the audit trail (see :mod:`db.ops.exports`). Files are created 0600 through a
temporary name; an existing file is replaced only with ``--force`` (or after a yes at
the terminal); names made from chart numbers cannot leave the chosen folder.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui.cli.errors import EXIT_IO, fail
from tui.cli.login import PasswordStdinOption, UserOption, signed_in, store_errors
from tui.cli.options import DbOption, JsonOption

if TYPE_CHECKING:
    from db.ops.exports import ExportResult
    from db.store import Actor, Store
    from formulary.records import Checkpoint

FormatOption = Annotated[
    str,
    typer.Option("--format", "-f", help="pdf, csv, fhir (FHIR R4B JSON bundle) or json."),
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o",
        help="File to write (pdf, fhir, json), or folder (csv, or an existing folder); "
        "default: the current folder under a name made from the chart number.",
    ),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace files that already exist, without asking.")
]
KeyDirOption = Annotated[
    Path | None,
    typer.Option("--key-dir", help="Directory of the checkpoint key and log "
                 "(default: $FORMULARY_KEY_DIR, else the user config directory)."),
]


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _confirm_replace(paths: Sequence[Path]) -> bool:
    """Ask at a terminal whether existing files may be replaced."""
    if not paths or not _interactive():
        return False
    names = ", ".join(str(p) for p in paths[:5]) + (" …" if len(paths) > 5 else "")
    return bool(typer.confirm(f"{names} already exist(s). Replace?", default=False))


def _delivery(
    output: Path | None, names: list[str], force: bool
) -> tuple[Callable[[Any], list[Path]], list[Path]]:
    """How to write a single export's files, and where they will land."""
    from tui.export_files import inside, to_file, to_folder

    if output is not None and len(names) == 1 and not output.is_dir():
        return to_file(output, force=force), [output]
    folder = output if output is not None else Path.cwd()
    return to_folder(folder, force=force), [inside(folder, n) for n in names]


def _run_one(
    ctx: typer.Context,
    *,
    fmt: str,
    output: Path | None,
    force: bool,
    db: str | None,
    user: str | None,
    password_stdin: bool,
    key_dir: Path | None,
    as_json: bool,
    export: Callable[[Store, Actor, Callable[[Any], list[Path]]], ExportResult],
    names_for: Callable[[Store, Actor], list[str]],
) -> None:
    from formulary.export.formats import FORMATS
    from tui.export_files import ExportPathError

    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    where = db or (ctx.find_root().obj or {}).get("db")
    with signed_in(where, user, password_stdin) as (store, actor):
        with store_errors():
            names = names_for(store, actor)
        try:
            deliver, targets = _delivery(output, names, force)
            existing = [t for t in targets if t.exists()]
            if existing and not force:
                if not _confirm_replace(existing):
                    fail(f"{existing[0]} already exists; pass --force to replace it")
                deliver, targets = _delivery(output, names, True)
            with store_errors():
                result = export(store, actor, deliver)
        except ExportPathError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write the export: {exc.strerror or exc}", EXIT_IO)
    _report([Exported.of(result)], targets, as_json)


@dataclass(frozen=True, slots=True)
class Exported:
    """What the report says about one export: an :class:`ExportResult` without its files.

    A result carries its rendered files (a FHIR bundle is about 70 KB); keeping the
    results of a clinic-wide export kept the whole export in memory (1.6 GB on
    20,000 patients), so only this much of each is kept once it is written.
    """

    chart_number: str
    format: str
    session_id: int | None
    audit_seq: int
    checkpoint: Checkpoint

    @classmethod
    def of(cls, result: ExportResult) -> Exported:
        """The reported part of ``result``."""
        return cls(result.chart_number, result.format, result.session_id, result.audit_seq,
                   result.checkpoint)


def _report(results: Sequence[Exported], paths: Sequence[Path], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({
            "files": [str(p) for p in paths],
            "exports": [
                {"chart_number": r.chart_number, "format": r.format,
                 "session_id": r.session_id, "audit_seq": r.audit_seq,
                 "checkpoint": r.checkpoint.line}
                for r in results
            ],
        }, indent=2, ensure_ascii=False))
        return
    for path in paths:
        typer.echo(f"wrote {path}")
    if len(results) == 1:
        typer.echo(f"audited as entry {results[0].audit_seq}")
        typer.echo(f"checkpoint: {results[0].checkpoint.line}")


def export_chart_command(
    ctx: typer.Context,
    chart_number: Annotated[str, typer.Argument(help="The patient's chart number.")],
    fmt: FormatOption = "pdf",
    output: OutputOption = None,
    force: ForceOption = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    key_dir: KeyDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export one patient's whole chart (PDF note, CSV, FHIR R4B bundle or JSON)."""
    from db.ops.exports import export_chart
    from formulary.export.formats import file_names, safe_file_name

    def names_for(store: Store, actor: Actor) -> list[str]:
        patient = store.find_patient(actor, chart_number)
        return file_names(safe_file_name(patient.chart_number), fmt)

    _run_one(
        ctx, fmt=fmt, output=output, force=force, db=db, user=user,
        password_stdin=password_stdin, key_dir=key_dir, as_json=as_json,
        export=lambda store, actor, deliver: export_chart(
            store, actor, chart_number, fmt, deliver, key_dir=key_dir),
        names_for=names_for,
    )


def export_session_command(
    ctx: typer.Context,
    session_id: Annotated[int, typer.Argument(help="The session's number (its id).")],
    fmt: FormatOption = "pdf",
    output: OutputOption = None,
    force: ForceOption = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    key_dir: KeyDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export one session's note (PDF, CSV, FHIR R4B bundle or JSON)."""
    from db.ops.exports import export_session, session_patient
    from formulary.export.formats import file_names, safe_file_name

    def names_for(store: Store, actor: Actor) -> list[str]:
        patient = session_patient(store, actor, session_id)
        stem = f"{safe_file_name(patient.chart_number)}-session-{session_id}"
        return file_names(stem, fmt)

    _run_one(
        ctx, fmt=fmt, output=output, force=force, db=db, user=user,
        password_stdin=password_stdin, key_dir=key_dir, as_json=as_json,
        export=lambda store, actor, deliver: export_session(
            store, actor, session_id, fmt, deliver, key_dir=key_dir),
        names_for=names_for,
    )


def export_all_command(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write into.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f",
            help="fhir (one bundle per patient), ndjson (FHIR Bulk Data: one file per "
            "resource type and a manifest), csv or json.",
        ),
    ] = "fhir",
    force: ForceOption = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    key_dir: KeyDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export every patient's chart into a folder, one audited export per patient."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from db.ops.exports import export_all, patients_on_file
    from formulary.export.formats import BULK_FORMATS, file_names, safe_file_name
    from tui.export_files import BatchFolder, ExportPathError, inside, prepare_folder
    from tui.heap import settle_heap

    if fmt == "ndjson":
        _export_ndjson(ctx, output, force, db, user, password_stdin, key_dir, as_json)
        return
    if fmt not in BULK_FORMATS:
        fail(f"export all writes {', '.join((*BULK_FORMATS, 'ndjson'))}; "
             "for PDF notes export each chart")
    # Memory stays bounded by a batch: of each result only its report is kept (all of
    # them for --json, which lists every export; else the first and the last).
    reported: list[Exported] = []
    exported = 0
    created = not output.exists()  # a folder this run makes is removed again if it fails
    where = db or (ctx.find_root().obj or {}).get("db")
    try:
        with signed_in(where, user, password_stdin) as (store, actor):
            with store_errors():
                patients = patients_on_file(store, actor)
            # Two chart numbers may make the same safe name: the later one gets its id.
            stems: dict[int, str] = {}
            taken: set[str] = set()
            for patient in patients:
                stem = safe_file_name(patient.chart_number)
                if stem in taken:
                    stem = f"{stem}-{patient.id}"
                taken.add(stem)
                stems[patient.id] = stem
            try:
                prepare_folder(output)
                existing = [target for p in patients for name in file_names(stems[p.id], fmt)
                            if (target := inside(output, name)).exists()]
            except ExportPathError as exc:
                fail(str(exc))
            if existing and not force:
                if not _confirm_replace(existing):
                    fail(f"{len(existing)} of the files already exist in {output} "
                         f"(first: {existing[0].name}); pass --force or choose an empty folder")
                force = True

            def rename_for(result: ExportResult) -> Callable[[str], str]:
                old = safe_file_name(result.chart_number)
                new = stems[result.patient_id]
                return lambda name: new + name[len(old):] if new != old else name

            # Files written a batch at a time and fsynced together before the batch's
            # audit entries commit; the collector's full passes kept off the start-up heap.
            deliver = BatchFolder(output, force=force, rename=rename_for, remember=as_json)
            settle_heap()
            columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(),
                       TimeRemainingColumn())
            with Progress(*columns, disable=as_json, transient=False) as progress:
                task = progress.add_task("Exporting charts", total=len(patients))
                try:
                    with store_errors():
                        for result in export_all(store, actor, fmt, deliver, key_dir=key_dir,
                                                 patients=patients, before_commit=deliver.commit):
                            exported += 1
                            if as_json or len(reported) < 2:
                                reported.append(Exported.of(result))
                            else:
                                reported[-1] = Exported.of(result)
                            progress.advance(task)
                except ExportPathError as exc:
                    fail(str(exc))
                except OSError as exc:
                    fail(f"cannot write the export: {exc.strerror or exc}", EXIT_IO)
                finally:
                    deliver.discard()  # what a failed batch left (nothing after success)
    except BaseException:
        if created and output.is_dir() and not any(output.iterdir()):
            output.rmdir()
        raise
    if as_json:
        _report(reported, deliver.written, True)
        return
    first, last = (reported[0], reported[-1]) if reported else (None, None)
    typer.echo(f"exported {exported} patient(s) as {fmt} into {output} "
               f"({deliver.moved} files)")
    if first is not None and last is not None:
        typer.echo(f"audited as entries {first.audit_seq}..{last.audit_seq}")
        typer.echo(f"last checkpoint: {last.checkpoint.line}")


def _export_ndjson(
    ctx: typer.Context,
    output: Path,
    force: bool,
    db: str | None,
    user: str | None,
    password_stdin: bool,
    key_dir: Path | None,
    as_json: bool,
) -> None:
    """``export all --format ndjson``: FHIR Bulk Data files, one audited export."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from db.ops.ndjson import bulk_file_names, export_ndjson
    from tui.export_files import ExportPathError, StagedFolder, inside, prepare_folder

    where = db or (ctx.find_root().obj or {}).get("db")
    with signed_in(where, user, password_stdin) as (store, actor):
        try:
            prepare_folder(output)
            existing = [p for p in (inside(output, n) for n in bulk_file_names()) if p.exists()]
            if existing and not force:
                if not _confirm_replace(existing):
                    fail(f"{len(existing)} of the files already exist in {output} "
                         f"(first: {existing[0].name}); pass --force or choose an empty folder")
                force = True
            staging = StagedFolder(output, force=force)
            columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(),
                       TimeRemainingColumn())
            with Progress(*columns, disable=as_json, transient=False) as progress:
                task = progress.add_task("Exporting the clinic", total=None)

                def advance(done: int, total: int) -> None:
                    if done == 1 or done % 50 == 0 or done == total:
                        progress.update(task, completed=done, total=total)

                with store_errors():
                    result = export_ndjson(store, actor, staging, key_dir=key_dir,
                                           progress=advance)
        except ExportPathError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write the export: {exc.strerror or exc}", EXIT_IO)
    if as_json:
        typer.echo(json.dumps({
            "files": [str(p) for p in result.files],
            "patients": result.patients,
            "resources": result.counts,
            "audit_seq": result.audit_seq,
            "checkpoint": result.checkpoint.line,
        }, indent=2, ensure_ascii=False))
        return
    typer.echo(f"exported {result.patients} patient(s) as FHIR NDJSON into {output} "
               f"({len(result.files)} files)")
    for kind, count in result.counts.items():
        typer.echo(f"  {kind}.ndjson: {count}")
    typer.echo(f"audited as entry {result.audit_seq}")
    typer.echo(f"checkpoint: {result.checkpoint.line}")


def register(group: typer.Typer) -> None:
    """Add ``chart``, ``session`` and ``all`` to the ``formulary export`` group."""
    group.command("chart")(export_chart_command)
    group.command("session")(export_session_command)
    group.command("all")(export_all_command)
