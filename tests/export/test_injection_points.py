"""Injection points per zone, and the volume each point received, in every export."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

from formulary.export.csv_export import sessions_csv
from formulary.export.fhir_bundle import render_fhir
from formulary.export.pdf_note import render_pdf
from formulary.records import PatientChart, ScalpZone, ZoneVolume
from formulary.units.amount import Amount
from tests.export.fixtures import build_chart
from tests.export.test_pdf_note import Note


def _with_points() -> PatientChart:
    """The test chart with points charted in the first session's vertex and frontal zones."""
    chart = build_chart()
    first = chart.sessions[0]
    zones = tuple(
        replace(z, points={ScalpZone.VERTEX: 16, ScalpZone.FRONTAL: 3}.get(z.zone))
        for z in first.zones
    )
    assert any(z.points for z in zones), "the fixture's first session has these zones"
    return replace(chart, sessions=(replace(first, zones=zones), *chart.sessions[1:]))


def _zone(chart: PatientChart, zone: ScalpZone) -> ZoneVolume:
    return next(z for z in chart.sessions[0].zones if z.zone is zone)


def test_volume_per_point_is_derived() -> None:
    zone = ZoneVolume(ScalpZone.VERTEX, Amount(Decimal("0.8"), "mL"), 16)
    assert zone.volume_per_point == Amount(Decimal("0.05"), "mL")
    assert ZoneVolume(ScalpZone.VERTEX, zone.volume).volume_per_point is None


def test_csv_has_points_and_volume_per_point() -> None:
    chart = _with_points()
    rows = list(csv.DictReader(io.StringIO(sessions_csv(chart).decode("utf-8"), newline="")))
    first = next(r for r in rows if r["session_id"] == str(chart.sessions[0].id))
    vertex = _zone(chart, ScalpZone.VERTEX)
    assert first["points_vertex"] == "16"
    assert first["volume_per_point_vertex_unit"] == "mL"
    assert vertex.volume_per_point is not None
    assert first["volume_per_point_vertex"] == str(vertex.volume_per_point.value.normalize())
    assert first["points_occipital"] == "" and first["volume_per_point_occipital"] == ""


def test_pdf_shows_points_and_volume_each() -> None:
    chart = _with_points()
    note = Note(render_pdf(chart))
    vertex = _zone(chart, ScalpZone.VERTEX)
    assert vertex.volume_per_point is not None
    note.has("16 points")
    assert "points not recorded" in note.text  # the zones without points say so


def test_fhir_dosage_text_names_points() -> None:
    chart = _with_points()
    doc: dict[str, Any] = json.loads(render_fhir(chart))
    texts = [
        e["resource"]["dosage"].get("text", "")
        for e in doc["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    ]
    assert any("vertex" in t and "16 points" in t and "each" in t for t in texts)
