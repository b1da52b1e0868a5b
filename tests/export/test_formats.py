"""The format dispatcher: names, contents and refusals."""

from __future__ import annotations

from dataclasses import replace

import pytest

from formulary.export.formats import (
    FORMATS,
    NotStamped,
    UnknownFormat,
    render_files,
    safe_file_name,
)
from formulary.records import PatientChart


@pytest.mark.parametrize(
    ("fmt", "names"),
    [
        ("pdf", ["C-000123.pdf"]),
        ("fhir", ["C-000123.fhir.json"]),
        ("json", ["C-000123.json"]),
        ("csv", ["C-000123-sessions.csv", "C-000123-session_components.csv",
                 "C-000123-manifest.txt"]),
    ],
)
def test_names_per_format(chart: PatientChart, fmt: str, names: list[str]) -> None:
    files = render_files(chart, fmt)
    assert list(files) == names
    assert all(files.values())


def test_single_session_names_and_content(chart: PatientChart) -> None:
    files = render_files(chart, "csv", session_id=1002)
    assert "C-000123-session-1002-sessions.csv" in files
    rows = files["C-000123-session-1002-sessions.csv"].decode().splitlines()
    assert len(rows) == 2 and rows[1].startswith("1002,")
    assert set(FORMATS) == {"pdf", "csv", "fhir", "json"}


def test_refusals(chart: PatientChart) -> None:
    with pytest.raises(UnknownFormat, match="choose one of pdf, csv, fhir, json"):
        render_files(chart, "docx")
    with pytest.raises(NotStamped):
        render_files(replace(chart, checkpoint=None), "json")


def test_safe_file_name() -> None:
    assert safe_file_name("C-000123", ".pdf") == "C-000123.pdf"
    assert safe_file_name("../../etc/passwd") == "etc_passwd"
    assert safe_file_name("...") == "unnamed"
    assert safe_file_name("Müller 7") == "M_ller_7"


def test_file_names_match_what_is_rendered(chart: PatientChart) -> None:
    from formulary.export.formats import file_names

    for fmt in FORMATS:
        assert list(render_files(chart, fmt, stem="x")) == file_names("x", fmt)
    with pytest.raises(UnknownFormat):
        file_names("x", "xml")
