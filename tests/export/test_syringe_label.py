"""The syringe label PDF, read back with pypdf: every required fact, and the barcode."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from formulary.export.code128 import decode_modules, parse_session_code
from formulary.export.selection import SessionNotInChart
from formulary.export.syringe_label import (
    SIZES,
    LabelError,
    SyringeLabel,
    label_for,
    render_label,
)
from formulary.records import PatientChart
from tests.export.fixtures import build_chart

ZURICH = ZoneInfo("Europe/Zurich")
MM = 72 / 25.4


def label(chart: PatientChart, index: int = 1, **kwargs: object) -> SyringeLabel:
    session = chart.sessions[index]
    return label_for(chart, session.id, prepared_by="Maja Lind, RN", zone=ZURICH,
                     **kwargs)  # type: ignore[arg-type]


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def barcodes(data: bytes) -> list[str]:
    """The text of every barcode drawn on every page, read from the filled rectangles."""
    found = []
    for page in PdfReader(io.BytesIO(data)).pages:
        stream = page.get_contents()
        assert stream is not None
        ops = re.findall(rb"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re f",
                         stream.get_data())
        rows: dict[tuple[float, float], list[tuple[float, float]]] = {}
        for x, y, w, h in ops:
            rows.setdefault((round(float(y), 1), round(float(h), 1)), []).append(
                (float(x), float(w)))
        for bars in rows.values():
            bars.sort()
            module = min(w for _, w in bars)
            bits: list[str] = []
            end = bars[0][0]
            for x, w in bars:
                gap = round((x - end) / module)
                if gap > 15:  # wider than any space: the next label's barcode
                    found.append(decode_modules("".join(bits)))
                    bits = []
                    gap = 0
                bits.append("0" * gap)
                bits.append("1" * round(w / module))
                end = x + w
            found.append(decode_modules("".join(bits)))
    return found


def test_the_label_carries_every_fact_usp_797_asks_for() -> None:
    chart = build_chart()
    made = label(chart)
    data = render_label(made, "4x6")
    text = " ".join(text_of(data).split())
    assert "MÜLLER-ÉDOUARD, José" in text and "C-000123" in text
    session = chart.sessions[1]
    prepared = session.performed_at.astimezone(ZURICH)
    assert f"Prepared {prepared:%Y-%m-%d %H:%M} CET by Maja Lind, RN" in text
    assert "Use before 2026-01-26 11:44 CET" in text  # the clinic's default: 1 h
    assert "Total volume 2 mL" in text and "Intradermal (scalp)" in text
    assert "Dutasteride: 0.1 mg, final 0.05 mg/mL" in text
    for lot in session.lots:
        assert f"Lot {lot.lot_number} exp {lot.expiry.isoformat()}" in text
    assert "SESSION-1002" in text


@pytest.mark.parametrize("size", sorted(SIZES))
def test_every_size_has_its_page_and_a_barcode_the_app_opens(size: str) -> None:
    chart = build_chart()
    made = label(chart)
    data = render_label(made, size)
    reader = PdfReader(io.BytesIO(data))
    stock = SIZES[size]
    box = reader.pages[0].mediabox
    assert sorted((round(float(box.width) / MM, 1), round(float(box.height) / MM, 1))) == (
        sorted((round(stock.page_w, 1), round(stock.page_h, 1))))
    codes = barcodes(data)
    assert codes and all(parse_session_code(c) == made.session_id for c in codes)
    text = " ".join(text_of(data).split())
    for lot in chart.sessions[1].lots:  # nothing is cut: continuation labels if needed
        assert lot.lot_number in text


def test_a_small_label_that_cannot_hold_everything_continues() -> None:
    data = render_label(label(build_chart()), "62x29")
    reader = PdfReader(io.BytesIO(data))
    if len(reader.pages) > 1:
        assert "label 1 of 2" in reader.pages[0].extract_text()
    assert len(barcodes(data)) == len(reader.pages)


def test_a4_sheet_places_copies_in_cells() -> None:
    data = render_label(label(build_chart()), "a4-24", copies=3)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    assert len(barcodes(data)) == 3 * (1 if "of 2" not in text_of(data) else 2)


def test_beyond_use_follows_the_clinic_setting_in_local_time() -> None:
    chart = build_chart()
    chart = replace(chart, clinic=replace(chart.clinic, beyond_use_minutes=90))
    made = label(chart)
    assert (made.beyond_use - made.prepared_at).total_seconds() == 90 * 60
    assert made.beyond_use.tzinfo is ZURICH
    assert label(chart, beyond_use_minutes=15).beyond_use == made.prepared_at.replace() + (
        made.beyond_use - made.prepared_at) / 6


def test_bad_requests_are_refused() -> None:
    chart = build_chart()
    with pytest.raises(SessionNotInChart):
        label_for(chart, 999_999, prepared_by="x", zone=ZURICH)
    with pytest.raises(LabelError, match="unknown label size"):
        render_label(label(chart), "A7")
    with pytest.raises(LabelError, match="copies"):
        render_label(label(chart), "62x29", copies=0)


@settings(max_examples=15, deadline=None)
@given(name=st.text(min_size=1, max_size=60), lot=st.text(min_size=1, max_size=30))
def test_any_text_prints_without_losing_the_barcode(name: str, lot: str) -> None:
    chart = build_chart(sessions=2, outcomes=0)
    patient = replace(chart.patient, given_name=name)
    first, second = chart.sessions
    second = replace(second, lots=(replace(second.lots[0], lot_number=lot), *second.lots[1:]))
    made = label(replace(chart, patient=patient, sessions=(first, second)))
    data = render_label(made, "62x29")
    assert all(parse_session_code(c) == made.session_id for c in barcodes(data))
