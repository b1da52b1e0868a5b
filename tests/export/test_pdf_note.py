"""The PDF chart note: parse the written PDF and find every charted field in its text."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from formulary.export.pdf_note import font_paths, render_pdf
from formulary.export.plot import NO_MEASUREMENTS
from formulary.export.selection import SessionNotInChart, only_session
from formulary.records import PatientChart
from tests.export.fixtures import build_chart


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


class Note:
    def __init__(self, data: bytes) -> None:
        self.reader = PdfReader(io.BytesIO(data))
        self.pages = [page.extract_text() for page in self.reader.pages]
        self.text = squash("\n".join(self.pages))

    def has(self, *fragments: str) -> None:
        missing = [f for f in fragments if squash(f) not in self.text]
        assert not missing, f"not in the PDF text: {missing}"


@pytest.fixture(scope="module")
def note() -> Note:
    return Note(render_pdf(build_chart()))


def test_header_identity_allergies(note: Note) -> None:
    note.has(
        "Mesotherapy chart note",
        "Clínica Capilar Zürich-Süd",
        "Bahnhofstrasse 12, 8001 Zürich",
        "MÜLLER-ÉDOUARD, José",
        "C-000123",
        "1984-05-17",
        "Androgenetic alopecia",
        "Norwood III vertex",
        "paper consent noted dated 2026-01-08",
        "Procaine",
        "urticaria",
        "Cyanocobalamin (cobalt)",
        "Takes apixaban 5 mg twice daily; bruising risk discussed",
        "Keloid tendency (family history)",
    )


def test_each_formulation_version_as_a_table(note: Note) -> None:
    note.has(
        "Dutasteride scalp cocktail, version 1",
        "Dutasteride scalp cocktail, version 2",
        "Ingredient Form Amount per session Final concentration",
        "Dutasteride 0.1 mg 0.05 mg/mL",
        "Dexpanthenol D-form 100 mg 50 mg/mL",
        "Biotin 1 mg 0.5 mg/mL",
        "Biotin 1.5 mg 0.75 mg/mL",
        "Pyridoxine hydrochloride hydrochloride 20 mg 10 mg/mL",
        "Lidocaine hydrochloride hydrochloride 4 mg 2 mg/mL",
        "Note: Biotin raised, lidocaine halved after session 2",
        "Dutasteride induction 6 14 days 2026-01-12",
    )


def test_every_session_field(note: Note) -> None:
    chart = build_chart()
    for session in chart.sessions:
        note.has(f"Session {session.session_number} of 6 (Dutasteride induction) | "
                 f"{session.performed_at:%Y-%m-%d %H:%M} UTC")
    note.has(
        "Technique nappage",
        "Technique point-by-point",
        "Needle 30 G x 4 mm",
        "Depth 1.5 mm",
        "Total volume 2 mL",
        "frontal left temporal right temporal mid-scalp vertex total",
        "0.4 mL 0.15 mL 0.15 mL 0.5 mL 0.8 mL 2 mL",
        "Component Lot Expiry Drawn",
        "Dutasteride 0.01 % w/v DUT-2511-α 2026-05-31 1 mL",
        "Biotin 5 mg/mL BIO-88ü 2026-11-30 0.3 mL",
        "Anaesthesia Topical lidocaine 4 % cream, 30 min",
        "Adverse events bruising, mild, Small haematoma at vertex",
        "Pain score 4/10",
        "Post-care No washing for 24 h; avoid sun and sauna for 48 h",
        # Who prepared each session, on the line before who signed it.
        "Prepared by Maja Lind, RN (mlind) "
        "Signed: Dr Ana Martín-Pérez (amartin), 2026-01-12 10:02 UTC, meaning: author",
        "Prepared by Dr Ana Martín-Pérez (amartin) Signed: Dr Ana Martín-Pérez (amartin), "
        "2026-01-26",
        "Addendum, reason: late entry. Bruise at vertex resolved by day 3 (patient phoned).",
        "Addendum signed: Dr Lukas Brünner (lbrunner), 2026-01-29 09:44 UTC, meaning: author",
        "Safety warning acknowledged: 12 days since the previous session",
        "reason: Patient travelling; agreed with prescriber",
        "2026-02-23 09:58 UTC | DRAFT, NOT SIGNED",
        "Prepared by Dr Ana Martín-Pérez (amartin) Not signed (draft)",
    )
    assert "SHA-256" in note.text and chart.sessions[0].signature is not None
    assert bare(chart.sessions[0].signature.content_hash) in bare(note.text)


def test_outcomes_table_and_plot_image(note: Note) -> None:
    note.has("Outcomes", "Measured Zone Density Shaft diameter Grade",
             "Baseline, µ-scope 20×", "photos/C-000123/20260405-vertex.jpg")
    images = [img for page in note.reader.pages for img in page.images]
    assert len(images) == 1 and images[0].data.startswith(b"\x89PNG")
    assert NO_MEASUREMENTS not in note.text


def test_footer_on_every_page(note: Note) -> None:
    chart = build_chart()
    assert chart.checkpoint is not None
    total = len(note.pages)
    assert total >= 2
    for number, text in enumerate(note.pages, start=1):
        assert f"Page {number} of {total}" in text
        assert "Exported 2026-06-01 14:05 UTC" in text
        assert bare(chart.checkpoint.line) in bare(text), f"checkpoint missing on {number}"
        assert "MÜLLER-ÉDOUARD, José" in text  # running header


def _fonts(reader: PdfReader) -> list[Any]:
    fonts = []
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        page_fonts = resources["/Font"].get_object()
        assert isinstance(page_fonts, DictionaryObject)
        for ref in page_fonts.values():
            fonts.append(ref.get_object())
    return fonts


def test_fonts_are_embedded_unicode(note: Note) -> None:
    fonts = _fonts(note.reader)
    assert fonts
    for font in fonts:
        assert font["/Subtype"] == "/Type0"
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, "TrueType font program must be embedded"
        assert "DejaVu" in str(font["/BaseFont"])
    assert "µ" in note.text and "é" in note.text and "ü" in note.text and "α" in note.text


def test_no_outcomes_says_so_in_words() -> None:
    text = Note(render_pdf(build_chart(sessions=1, outcomes=0))).text
    assert NO_MEASUREMENTS in text
    one = Note(render_pdf(build_chart(sessions=1, outcomes=1)))
    assert len([i for p in one.reader.pages for i in p.images]) == 1


def test_single_session_note(chart: PatientChart) -> None:
    narrowed = only_session(chart, 1002)
    note = Note(render_pdf(narrowed, title="Session note"))
    note.has("Session note", "Session 2 of 6 (Dutasteride induction)",
             "Dutasteride scalp cocktail, version 1", "Addendum, reason: late entry")
    assert "Session 1 of 6" not in note.text and "version 2" not in note.text
    with pytest.raises(SessionNotInChart):
        only_session(chart, 4242)


def test_empty_chart_and_hostile_text(chart: PatientChart) -> None:
    session = replace(chart.sessions[0], notes="tab\there\x00nul\r\nnext line " + "x" * 300)
    patient = replace(chart.patient, allergies=(), conditions=())
    note = Note(render_pdf(replace(chart, sessions=(session,), patient=patient)))
    note.has("Allergies: none recorded.", "Conditions and contraindications: none recorded.",
             "tab here nul")
    empty = Note(render_pdf(build_chart(sessions=0, outcomes=0)))
    empty.has("No sessions recorded.", NO_MEASUREMENTS)


def test_fonts_come_from_matplotlib() -> None:
    regular, bold = font_paths()
    assert regular.name == "DejaVuSans.ttf" and bold.name == "DejaVuSans-Bold.ttf"
    assert "matplotlib" in regular.parts


def test_checkpoint_is_one_whole_line_in_the_file_bytes() -> None:
    chart = build_chart(sessions=2, outcomes=0)
    assert chart.checkpoint is not None
    data = render_pdf(chart)
    line = chart.checkpoint.line.encode("ascii")
    assert data.count(line) == 1
    (holder,) = [raw for raw in data.splitlines() if line in raw]
    assert holder.startswith(b"/Subject (Audit checkpoint: FORMULARY-CHECKPOINT v1")
    meta = PdfReader(io.BytesIO(data)).metadata
    assert meta is not None and meta.subject == f"Audit checkpoint: {chart.checkpoint.line}"


def test_a_decision_is_printed_once_and_a_missing_lot_never_silently(chart: PatientChart) -> None:
    from datetime import UTC, datetime

    from formulary.records import Component, Override, Practitioner, Role
    from formulary.units.amount import Amount

    at = datetime(2026, 1, 12, 9, 40, tzinfo=UTC)
    # Two components with the same ingredient raise the same finding once each.
    twice = Override("contraindication.ingredient", "Lidocaine with pregnancy: avoid",
                     "block", "benefit discussed with the patient", "amartin", at)
    version = chart.formulation_versions[0]
    powder = Component(99, 6, "Biotin powder", Amount(Decimal(2), "mg"), ingredient_id=103)
    version = replace(version, components=(*version.components, powder))
    long_name = Practitioner(9, "akonst", "Dr Anna Alexandra Konstantinopoulou-Whitfield",
                             Role.PRACTITIONER)
    first = chart.sessions[0]
    assert first.signature is not None
    signed = replace(first, overrides=(twice, twice),
                     signature=replace(first.signature, signer=long_name))
    unsigned = replace(chart.sessions[3], formulation_version_id=version.id)
    note = Note(render_pdf(replace(chart, formulation_versions=(version,
                                                                *chart.formulation_versions[1:]),
                                   sessions=(signed, unsigned),
                                   practitioners=(*chart.practitioners, long_name))))
    assert note.text.count("Lidocaine with pregnancy: avoid") == 1
    note.has("Safety block overridden: Lidocaine with pregnancy: avoid",
             "signed by amartin at",
             "Signed: Dr Anna Alexandra Konstantinopoulou-Whitfield (akonst)",
             # Signed without an acknowledgement (an old record): said loudly.
             "Biotin powder no lot recorded: traceability lost",
             "Biotin powder no lot recorded")
    assert "not recorded" not in note.text.replace("no lot recorded", "").replace(
        "none recorded", "")


def test_times_are_local_beside_utc() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from formulary.export.display import show_local_time

    winter = datetime(2026, 1, 12, 10, 2, tzinfo=UTC)
    zurich = ZoneInfo("Europe/Zurich")
    assert show_local_time(winter, zurich) == "2026-01-12 11:02 CET (10:02 UTC)"
    assert show_local_time(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), zurich) == (
        "2026-07-02 01:30 CEST (2026-07-01 23:30 UTC)"
    )
    assert show_local_time(winter, ZoneInfo("UTC")) == "2026-01-12 10:02 UTC"
    assert show_local_time(None) == ""
    note = Note(render_pdf(build_chart(sessions=1, outcomes=0), zone=zurich))
    note.has("2026-01-12 10:37 CET (09:37 UTC) | SIGNED",
             "Signed: Dr Ana Martín-Pérez (amartin), 2026-01-12 11:02 CET (10:02 UTC)")


def test_a_weight_entered_in_pounds_prints_as_a_chart_weight() -> None:
    """172 lb is stored as exact kg (78.01788764); the note prints 78 kg, not eight decimals."""
    from formulary.units.amount import Amount

    chart = build_chart()
    exact = Amount(Decimal("78.01788764"), "kg")
    text = Note(render_pdf(replace(chart, patient=replace(chart.patient, weight_kg=exact)))).text
    assert "78 kg" in text
    assert "78.0178" not in text
