"""Photographs in the chart exports: the PDF's before/after pages and FHIR Media."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from db.files import sha256_hex
from formulary.export.fhir_bundle import FILE_SHA256_SYSTEM, render_fhir
from formulary.export.pdf_note import render_pdf
from formulary.photos import Photo, PhotoView, before_after, prepare_photo
from formulary.records import PatientChart
from tests.export.fixtures import build_chart
from tests.export.test_pdf_note import Note
from tests.photos import images


def _photo(ident: int, view: PhotoView, taken: date, data: bytes, **kw: Any) -> Photo:
    prepared = prepare_photo(data)
    return Photo(
        id=ident, patient_id=1, view=view, taken_on=taken, sha256=sha256_hex(prepared.data),
        size_bytes=len(prepared.data), media_type=prepared.media_type,
        width=prepared.width, height=prepared.height, **kw,
    )


def _chart(*, with_files: bool = True) -> tuple[PatientChart, list[Photo]]:
    chart = build_chart()
    session_id = chart.sessions[0].id
    outcome_id = chart.outcomes[0].id
    raw = {
        1: images.jpeg(120, 160, color=(200, 0, 0)),
        2: images.jpeg(120, 160, color=(0, 200, 0)),
        3: images.png(100, 100),
        4: images.jpeg(60, 80, color=(9, 9, 9)),
    }
    photos = [
        _photo(1, PhotoView.FRONTAL, date(2026, 1, 10), raw[1], session_id=session_id),
        _photo(2, PhotoView.FRONTAL, date(2026, 5, 10), raw[2], outcome_id=outcome_id),
        _photo(3, PhotoView.VERTEX, date(2026, 3, 1), raw[3], outcome_id=outcome_id,
               note="clipped field"),
        _photo(4, PhotoView.FRONTAL, date(2026, 6, 1), raw[4], session_id=session_id,
               retired_reason="another patient's photo",
               retired_at=build_chart().exported_at),
    ]
    files = {p.sha256: prepare_photo(raw[p.id]).data for p in photos} if with_files else {}
    return replace(chart, photos=tuple(photos), photo_files=files), photos


def test_before_after_takes_earliest_and_latest_current_photo_per_view() -> None:
    _, photos = _chart()
    pairs = before_after(photos)
    assert [(v, a.id, b.id) for v, a, b in pairs] == [
        (PhotoView.FRONTAL, 1, 2), (PhotoView.VERTEX, 3, 3)]


def test_pdf_has_a_before_after_page_per_view() -> None:
    chart, _ = _chart()
    note = Note(render_pdf(chart))
    frontal = [p for p in note.pages if "Photographs: Frontal, before and after" in p]
    vertex = [p for p in note.pages if "Photographs: Vertex, before and after" in p]
    assert len(frontal) == 1 and len(vertex) == 1
    assert "Before: 2026-01-10" in frontal[0] and "After: 2026-05-10" in frontal[0]
    assert "One photograph of this view so far" in vertex[0]
    pages = {i: page for i, page in enumerate(note.reader.pages)}
    frontal_page = next(i for i, t in enumerate(note.pages) if "Frontal, before" in t)
    assert len(pages[frontal_page].images) == 2
    assert "Photo 4;" not in frontal[0], "a retired photo is not printed"


def test_pdf_says_so_when_a_photo_file_is_missing() -> None:
    chart, _ = _chart(with_files=False)
    note = Note(render_pdf(chart))
    note.has("the stored file is missing or no longer matches its recorded SHA-256")


def test_chart_without_photos_has_no_photo_page() -> None:
    note = Note(render_pdf(build_chart()))
    assert "Photographs:" not in note.text


def test_fhir_media_validates_and_names_the_file_by_sha256() -> None:
    chart, photos = _chart()
    data = render_fhir(chart)
    Bundle.model_validate_json(data)
    doc = json.loads(data)
    media = [e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == "Media"]
    assert len(media) == 4
    by_id = {m["identifier"][0]["value"]: m for m in media}
    first = by_id["1"]
    assert {"system": FILE_SHA256_SYSTEM, "value": photos[0].sha256} in first["identifier"]
    assert "hash" not in first["content"], "FHIR's hash is SHA-1 of data the bundle lacks"
    assert first["content"]["contentType"] == "image/jpeg"
    assert first["createdDateTime"] == "2026-01-10"
    assert first["view"]["text"] == "Frontal"
    assert by_id["4"]["status"] == "entered-in-error"
    urls = {e["fullUrl"] for e in doc["entry"]}
    kinds = {e["fullUrl"]: e["resource"]["resourceType"] for e in doc["entry"]}
    assert kinds[first["partOf"][0]["reference"]] == "MedicationAdministration"
    assert kinds[by_id["2"]["partOf"][0]["reference"]] == "Observation"
    assert first["subject"]["reference"] in urls
    composition = doc["entry"][0]["resource"]
    assert any(s["title"] == "Photographs" and len(s["entry"]) == 4
               for s in composition["section"])
