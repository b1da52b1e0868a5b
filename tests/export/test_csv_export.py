"""CSV export: parse what was written; round trip; injection-safe; RFC 4180 framing."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from formulary.export.csv_export import (
    COMPONENT_COLUMNS,
    COMPONENTS_FILE,
    SESSION_COLUMNS,
    SESSIONS_FILE,
    components_csv,
    render_csv,
    sessions_csv,
)
from formulary.export.safe_text import FORMULA_TRIGGERS, restore
from formulary.records import PatientChart, Practitioner, Role
from tests.export.fixtures import INJECTION_NOTE, build_chart

TEXT_COLUMNS = {"anaesthesia", "post_care", "notes", "lot_number", "component", "prepared_by",
                "prepared_by_name"}


def parse(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8")  # strict: must be valid UTF-8
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_both_files_are_named_and_rendered(chart: PatientChart) -> None:
    files = render_csv(chart)
    assert list(files) == [SESSIONS_FILE, COMPONENTS_FILE]
    assert files[SESSIONS_FILE] == sessions_csv(chart)


def test_sessions_one_row_each_oldest_first(chart: PatientChart) -> None:
    rows = parse(sessions_csv(chart))
    assert [r["session_id"] for r in rows] == [str(s.id) for s in chart.sessions]
    assert list(rows[0]) == list(SESSION_COLUMNS)
    first = rows[0]
    assert first["chart_number"] == "C-000123"
    assert first["performed_at"] == "2026-01-12T09:37:00+00:00"
    assert first["status"] == "signed"
    assert first["course_name"] == "Dutasteride induction"
    assert first["session_number"] == "1"
    assert first["formulation_version"] == "1"
    assert first["technique"] == "nappage"
    assert (first["needle_gauge"], first["needle_length"], first["needle_length_unit"]) == (
        "30", "4", "mm")
    assert (first["total_volume"], first["total_volume_unit"]) == ("2", "mL")
    assert (first["volume_vertex"], first["volume_vertex_unit"]) == ("0.8", "mL")
    assert first["volume_occipital"] == ""
    assert first["signed_by"] == "amartin"
    assert first["signed_by_name"] == "Dr Ana Martín-Pérez"
    assert first["signature_meaning"] == "author"
    # Who prepared it, in the last two columns (added after the signature's).
    assert list(SESSION_COLUMNS[-2:]) == ["prepared_by", "prepared_by_name"]
    assert (first["prepared_by"], first["prepared_by_name"]) == ("mlind", "Maja Lind, RN")
    assert (rows[1]["prepared_by"], rows[1]["prepared_by_name"]) == (
        "amartin", "Dr Ana Martín-Pérez")
    second = rows[1]
    assert "bruising" in second["adverse_events"]
    assert "late entry" in second["addenda"] and "Bruise at vertex" in second["addenda"]
    assert "interval.too_short" in rows[2]["overrides"]
    draft = rows[3]
    assert draft["status"] == "draft" and draft["signed_by"] == ""
    assert draft["prepared_by"] == "amartin"  # a draft names who is preparing it
    unknown = replace(chart, sessions=(replace(chart.sessions[0], prepared_by=None),))
    (row,) = parse(sessions_csv(unknown))
    assert (row["prepared_by"], row["prepared_by_name"]) == ("", "")


def test_components_join_sessions_by_id(chart: PatientChart) -> None:
    rows = parse(components_csv(chart))
    assert list(rows[0]) == list(COMPONENT_COLUMNS)
    assert len(rows) == sum(len(s.lots) for s in chart.sessions)
    session_ids = {r["session_id"] for r in parse(sessions_csv(chart))}
    assert {r["session_id"] for r in rows} == session_ids
    dut = rows[0]
    assert (dut["component"], dut["lot_number"], dut["lot_expiry"]) == (
        "Dutasteride 0.01 % w/v", "DUT-2511-α", "2026-05-31")
    assert (dut["amount"], dut["amount_unit"], dut["drawn"]) == ("1", "mL", "1")
    biotin_v2 = [r for r in rows if r["session_id"] == "1003" and r["position"] == "3"]
    assert biotin_v2[0]["amount"] == "0.3" and biotin_v2[0]["lot_number"] == "BIO-88ü"


def test_component_without_lot_gets_one_empty_row(chart: PatientChart) -> None:
    first = chart.sessions[0]
    stripped = replace(chart, sessions=(replace(first, lots=first.lots[1:]),))
    rows = parse(components_csv(stripped))
    assert len(rows) == len(first.lots)
    assert rows[0]["lot_number"] == "" and rows[0]["component"] == "Dutasteride 0.01 % w/v"


def test_injection_note_is_neutralised(chart: PatientChart) -> None:
    raw = sessions_csv(chart).decode("utf-8")
    row = parse(sessions_csv(chart))[1]
    assert row["notes"] == "'" + INJECTION_NOTE
    assert restore(row["notes"]) == INJECTION_NOTE
    assert parse(sessions_csv(chart))[2]["notes"].startswith("'-10 %")
    assert "\r\n" in raw and raw.endswith("\r\n")


def test_no_text_cell_starts_a_formula(chart: PatientChart) -> None:
    for data in render_csv(chart).values():
        for row in parse(data):
            for column, value in row.items():
                if column in TEXT_COLUMNS and value:
                    assert value[0] not in FORMULA_TRIGGERS, (column, value)


def test_empty_chart_writes_headers_only(chart: PatientChart) -> None:
    empty = replace(chart, sessions=())
    assert sessions_csv(empty).decode() == ",".join(SESSION_COLUMNS) + "\r\n"
    assert parse(components_csv(empty)) == []


# Plain text, and text that opens with a formula trigger (or quotes before one), so that
# injection attempts are common rather than one in a thousand.
free_text = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda head, tail: head + tail,
        st.sampled_from([*sorted(FORMULA_TRIGGERS), "'=", "''+", "=cmd|' /C calc'!A0"]),
        st.text(max_size=30),
    ),
)


@given(notes=free_text, anaesthesia=free_text, post_care=free_text, lot=free_text,
       component=free_text, preparer=free_text, preparer_name=free_text)
def test_round_trip_of_any_text(
    notes: str, anaesthesia: str, post_care: str, lot: str, component: str, preparer: str,
    preparer_name: str,
) -> None:
    base = build_chart(sessions=1, outcomes=0)
    session = base.sessions[0]
    version = base.formulation_versions[0]
    first = replace(version.components[0], name=component)
    version = replace(version, components=(first, *version.components[1:]))
    session = replace(
        session,
        notes=notes,
        anaesthesia=anaesthesia,
        post_care=post_care,
        lots=(replace(session.lots[0], lot_number=lot), *session.lots[1:]),
        prepared_by=Practitioner(9, preparer, preparer_name, Role.ASSISTANT),
    )
    chart = replace(base, sessions=(session,),
                    formulation_versions=(version, *base.formulation_versions[1:]))
    (row,) = parse(sessions_csv(chart))
    for column, original in (("notes", notes), ("anaesthesia", anaesthesia),
                             ("post_care", post_care), ("prepared_by", preparer),
                             ("prepared_by_name", preparer_name)):
        assert not row[column] or row[column][0] not in FORMULA_TRIGGERS
        assert restore(row[column]) == original
    components = parse(components_csv(chart))
    assert len(components) == len(session.lots)
    assert restore(components[0]["lot_number"]) == lot
    assert restore(components[0]["component"]) == component
    for cell in (components[0]["lot_number"], components[0]["component"]):
        assert not cell or cell[0] not in FORMULA_TRIGGERS
