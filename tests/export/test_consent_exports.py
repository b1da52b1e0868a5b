"""Consent in the exports: the FHIR Consent (R4B models), the chart PDF, the consent PDF."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.consent import Consent as FhirConsent
from pypdf import PdfReader

from formulary.consent import DEFAULT_TEMPLATE_TEXT, Consent, text_sha256
from formulary.export.consent_pdf import render_consent_pdf
from formulary.export.pdf_note import render_pdf
from formulary.records import PatientChart
from tests.export.fixtures import build_chart
from tests.export.test_fhir_bundle import validated, walk

SIGNED = datetime(2026, 1, 8, 9, 30, tzinfo=UTC)


def consent(**changes: Any) -> Consent:
    values: dict[str, Any] = dict(
        id=3, patient_id=7, course_id=5, template_version_id=1,
        template_name="Scalp mesotherapy for hair loss", template_version=2,
        text=DEFAULT_TEMPLATE_TEXT, text_sha256=text_sha256(DEFAULT_TEMPLATE_TEXT),
        typed_name="José Müller-Édouard", witness_username="amartin",
        witness_name="Dr Ana Martín-Pérez", signed_at=SIGNED, record_hash="ab" * 32,
    )
    values.update(changes)
    return Consent(**values)


def chart_with(*consents: Consent) -> PatientChart:
    return replace(build_chart(sessions=2, outcomes=1), consents=consents)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def test_a_consent_is_a_valid_fhir_consent_with_its_text_and_provenance() -> None:
    withdrawn = consent(id=4, withdrawn_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
                        withdrawn_by="amartin", withdrawn_reason="moving abroad")
    doc = validated(chart_with(consent(), withdrawn))
    found = [e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == "Consent"]
    assert len(found) == 2
    for resource in found:
        FhirConsent.model_validate(resource)
        assert resource["scope"]["coding"][0]["code"] == "treatment"
        assert resource["category"][0]["coding"][0]["code"] == "59284-0"
        assert resource["text"]["status"] == "generated"
        data = base64.b64decode(resource["sourceAttachment"]["data"]).decode("utf-8")
        assert text_sha256(data) == resource["identifier"][0]["value"]
    active, inactive = found
    assert active["status"] == "active" and active["provision"]["type"] == "permit"
    assert "Dutasteride induction" in active["text"]["div"]
    assert inactive["status"] == "inactive" and inactive["provision"]["type"] == "deny"
    assert inactive["provision"]["period"]["end"] == "2026-03-01T10:00:00Z"
    assert "moving abroad" in inactive["text"]["div"]
    provenances = [e["resource"] for e in doc["entry"]
                   if e["resource"]["resourceType"] == "Provenance"
                   and "Consent" in str(e["resource"]["target"])]
    assert len(provenances) == 2
    codes = {s["type"][0]["code"] for s in provenances[0]["signature"]}
    assert codes == {"1.2.840.10065.1.12.1.7", "1.2.840.10065.1.12.1.8"}
    urls = {e["fullUrl"] for e in doc["entry"]}
    for resource in (*found, *provenances):
        for node in walk(resource):
            if isinstance(node, dict) and "reference" in node:
                assert node["reference"] in urls, node
    composition = doc["entry"][0]["resource"]
    [section] = [s for s in composition["section"] if s["title"] == "Consent"]
    assert len(section["entry"]) == 2 and "signed 2026-01-08" in section["text"]["div"]


def test_a_chart_without_consent_says_so_in_the_composition() -> None:
    doc = validated(chart_with())
    [section] = [s for s in doc["entry"][0]["resource"]["section"] if s["title"] == "Consent"]
    assert "NO signed consent" in section["text"]["div"]
    assert "paper consent noted dated 2026-01-08" in section["text"]["div"]


def test_the_chart_pdf_lists_each_consent() -> None:
    text = pdf_text(render_pdf(chart_with(consent())))
    for expected in ("Consent3:signed", "Scalpmesotherapyforhairloss,version2",
                     text_sha256(DEFAULT_TEMPLATE_TEXT), "JoséMüller-Édouard",
                     "course:Dutasterideinduction", "DrAnaMartín-Pérez(amartin)"):
        assert expected in text, expected


def test_the_consent_pdf_prints_the_text_signature_and_withdrawal() -> None:
    withdrawn = consent(withdrawn_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
                        withdrawn_by="amartin", withdrawn_reason="moving abroad")
    text = pdf_text(render_consent_pdf(chart_with(withdrawn), withdrawn,
                                       course_name="Dutasteride induction"))
    for expected in ("Consenttotreatment", "MÜLLER-ÉDOUARD,José", "Painatinjection",
                     "Temporaryshedding", "Alternatives", "Thecourseplan", "WITHDRAWN",
                     "movingabroad", "JoséMüller-Édouard", text_sha256(DEFAULT_TEMPLATE_TEXT)):
        assert expected in text, expected
    assert "doesnotmatchtherecordedSHA-256" not in text


def test_a_changed_text_is_called_out_on_the_consent_pdf() -> None:
    tampered = consent(text=DEFAULT_TEMPLATE_TEXT.replace("Bruising", "Nothing"))
    text = pdf_text(render_consent_pdf(chart_with(tampered), tampered))
    assert "doesnotmatchtherecordedSHA-256" in text
