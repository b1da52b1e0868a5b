"""JSON export: every record field, exact decimals as strings, ISO times."""

from __future__ import annotations

import json

from formulary.export.json_export import FORMAT_NAME, render_json
from formulary.records import PatientChart


def test_json_document(chart: PatientChart) -> None:
    doc = json.loads(render_json(chart).decode("utf-8"))
    assert doc["format"] == FORMAT_NAME and doc["version"] == 1
    body = doc["chart"]
    assert body["patient"]["display_name"] == "MÜLLER-ÉDOUARD, José"
    assert body["patient"]["sex"] == "male"
    assert body["patient"]["date_of_birth"] == "1984-05-17"
    line = body["formulation_versions"][0]["ingredient_lines"][0]
    assert line["final_concentration"] == {"value": "0.05", "unit": "mg/mL"}
    session = body["sessions"][0]
    assert session["performed_at"] == "2026-01-12T09:37:00+00:00"
    assert session["technique"] == "nappage"
    assert session["zones"][4] == {
        "zone": "vertex", "volume": {"value": "0.8", "unit": "mL"}, "points": None
    }
    assert session["signature"]["signer"]["full_name"] == "Dr Ana Martín-Pérez"
    assert session["prepared_by"] == {"id": 3, "username": "mlind",
                                      "full_name": "Maja Lind, RN", "role": "assistant"}
    assert body["sessions"][1]["prepared_by"]["username"] == "amartin"
    assert body["checkpoint"]["line"] == chart.checkpoint.line  # type: ignore[union-attr]
    assert len(body["sessions"]) == len(chart.sessions)


def test_non_ascii_is_kept_verbatim(chart: PatientChart) -> None:
    assert "Müller-Édouard".encode() in render_json(chart)
