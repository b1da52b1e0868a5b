"""One entry point over the renderers: a stamped chart and a format in, named files out.

The file names are suggestions built from the chart number (made safe for any file
system); the caller decides where they go.
"""

from __future__ import annotations

import re
from typing import Final

from formulary.export.selection import only_session
from formulary.records import Checkpoint, PatientChart

#: Formats of ``formulary export chart|session``.
FORMATS: Final = ("pdf", "csv", "fhir", "json")
#: Formats of ``formulary export all`` (a PDF per patient is a print job, not an export).
BULK_FORMATS: Final = ("fhir", "csv", "json")


class UnknownFormat(ValueError):
    """A format name that is not one of :data:`FORMATS`."""


class NotStamped(ValueError):
    """A chart without its export time and checkpoint was handed to the renderers."""


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(text: str, suffix: str = "") -> str:
    """``text`` as a portable file name: letters, digits, ``.``, ``_`` and ``-`` only.

    ``C-000123`` stays as it is; ``../../etc/passwd`` becomes ``etc_passwd``; the
    result never starts with a dot, so it is never hidden nor ``..``.
    """
    stem = _UNSAFE.sub("_", text).strip("._-") or "unnamed"
    return stem[:120] + suffix


def file_stem(chart: PatientChart, session_id: int | None = None) -> str:
    """The stem of the suggested file names: the chart number, plus the session."""
    stem = safe_file_name(chart.patient.chart_number)
    return f"{stem}-session-{session_id}" if session_id is not None else stem


def file_names(stem: str, fmt: str) -> list[str]:
    """The names :func:`render_files` gives the files of ``fmt`` for ``stem``."""
    if fmt not in FORMATS:
        raise UnknownFormat(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    suffixes = {
        "pdf": [".pdf"],
        "fhir": [".fhir.json"],
        "json": [".json"],
        "csv": ["-sessions.csv", "-session_components.csv", "-manifest.txt"],
    }[fmt]
    return [stem + suffix for suffix in suffixes]


def render_files(
    chart: PatientChart,
    fmt: str,
    *,
    session_id: int | None = None,
    stem: str | None = None,
    validate: bool = True,
    compact: bool = False,
) -> dict[str, bytes]:
    """The export of ``chart`` (narrowed to ``session_id`` if given) as name -> bytes.

    ``pdf``, ``fhir`` and ``json`` give one file; ``csv`` gives the sessions and
    components tables and a manifest carrying the checkpoint. The chart must already
    carry its export time and checkpoint. ``validate=False`` skips checking a FHIR
    bundle against the models (a bulk export checks a sample); ``compact`` writes
    FHIR and JSON without indentation (a bulk export, for programs).
    """
    if fmt not in FORMATS:
        raise UnknownFormat(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    checkpoint = chart.checkpoint
    if chart.exported_at is None or checkpoint is None:
        raise NotStamped(
            "the chart must carry its export time and a fresh audit checkpoint "
            "before it is rendered"
        )
    if session_id is not None:
        chart = only_session(chart, session_id)
    name = stem or file_stem(chart, session_id)
    files = _render(chart, fmt, name, session_id, checkpoint, validate, compact)
    assert list(files) == file_names(name, fmt)  # one source of truth for the names
    return files


def _render(
    chart: PatientChart,
    fmt: str,
    name: str,
    session_id: int | None,
    checkpoint: Checkpoint,
    validate: bool,
    compact: bool,
) -> dict[str, bytes]:
    if fmt == "pdf":
        from formulary.export.pdf_note import render_pdf

        title = "Mesotherapy session note" if session_id is not None else "Mesotherapy chart note"
        return {f"{name}.pdf": render_pdf(chart, title=title)}
    if fmt == "fhir":
        from formulary.export.fhir_bundle import render_fhir

        return {f"{name}.fhir.json": render_fhir(chart, validate=validate, compact=compact)}
    if fmt == "json":
        from formulary.export.json_export import render_json

        return {f"{name}.json": render_json(chart, compact=compact)}
    from formulary.export.csv_export import render_csv
    from formulary.export.manifest import render_manifest

    tables = {
        f"{name}-{table}": data
        for table, data in render_csv(chart).items()
    }
    patient = chart.patient
    manifest = render_manifest(
        tables,
        checkpoint=checkpoint,
        subject=f"{patient.chart_number} {patient.display_name}",
        export_format="csv",
    )
    return {**tables, f"{name}-manifest.txt": manifest}
