"""FHIR export: the bundle validates against the fhir.resources R4B (4.3.0) models."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import example, given, settings
from hypothesis import strategies as st

from formulary.export.fhir_bundle import NotStamped, fhir_bundle, render_fhir, signature_type
from formulary.export.selection import only_session
from formulary.records import IngredientLine, PatientChart, Practitioner, Role, SessionStatus
from formulary.units.amount import Amount
from tests.export.fixtures import build_chart


def resources(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == kind]


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def validated(chart: PatientChart) -> dict[str, Any]:
    data = render_fhir(chart)
    Bundle.model_validate_json(data)  # raises on any invalid element
    doc: dict[str, Any] = json.loads(data)
    return doc


def test_document_bundle_composition_first(chart: PatientChart) -> None:
    doc = validated(chart)
    assert doc["resourceType"] == "Bundle" and doc["type"] == "document"
    assert doc["timestamp"] == "2026-06-01T14:05:09Z"
    assert doc["identifier"]["value"].startswith("urn:uuid:")
    composition = doc["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["status"] == "final"
    audit = composition["section"][-1]
    assert audit["title"] == "Audit checkpoint"
    assert chart.checkpoint is not None and chart.checkpoint.line in audit["text"]["div"]


def test_every_reference_resolves_inside_the_bundle(chart: PatientChart) -> None:
    references_resolve(validated(chart))


def references_resolve(doc: dict[str, Any]) -> None:
    urls = {e["fullUrl"] for e in doc["entry"]}
    assert len(urls) == len(doc["entry"])
    for entry in doc["entry"]:
        local = {c["id"] for c in entry["resource"].get("contained", [])}
        for node in walk(entry["resource"]):
            if isinstance(node, dict) and "reference" in node:
                ref = node["reference"]
                assert ref in urls or (ref.startswith("#") and ref[1:] in local), ref


def test_patient_practitioners_allergies(chart: PatientChart) -> None:
    doc = validated(chart)
    (patient,) = resources(doc, "Patient")
    assert patient["identifier"][0]["value"] == "C-000123"
    assert patient["name"][0]["family"] == "Müller-Édouard"
    assert patient["birthDate"] == "1984-05-17" and patient["gender"] == "male"
    names = {p["name"][0]["text"] for p in resources(doc, "Practitioner")}
    assert names == {"Dr Ana Martín-Pérez", "Dr Lukas Brünner", "Maja Lind, RN"}
    allergies = {a["code"]["text"] for a in resources(doc, "AllergyIntolerance")}
    assert allergies == {"Procaine", "Cyanocobalamin (cobalt)"}
    conditions = {c["code"]["text"] for c in resources(doc, "Condition")}
    assert "Keloid tendency (family history)" in conditions
    assert "Androgenetic alopecia (Norwood III vertex)" in conditions


def test_medication_per_version_with_ratio_strengths(chart: PatientChart) -> None:
    doc = validated(chart)
    meds = resources(doc, "Medication")
    assert [m["code"]["text"] for m in meds] == [
        "Dutasteride scalp cocktail, version 1",
        "Dutasteride scalp cocktail, version 2",
    ]
    by_name = {i["itemCodeableConcept"]["text"]: i for i in meds[1]["ingredient"]}
    dut = by_name["Dutasteride"]["strength"]
    assert dut["numerator"] == {"value": 0.05, "unit": "mg",
                                "system": "http://unitsofmeasure.org", "code": "mg"}
    assert dut["denominator"]["value"] == 1 and dut["denominator"]["code"] == "mL"
    assert by_name["Biotin"]["strength"]["numerator"]["value"] == 0.75
    assert "Dexpanthenol (D-form)" in by_name


def test_one_administration_per_session(chart: PatientChart) -> None:
    doc = validated(chart)
    admins = resources(doc, "MedicationAdministration")
    signed = [s for s in chart.sessions if s.status is SessionStatus.SIGNED]
    assert len(signed) < len(chart.sessions)  # the fixture holds a draft
    assert [a["identifier"][0]["value"] for a in admins] == [str(s.id) for s in signed]
    assert {a["status"] for a in admins} == {"completed"}
    first = admins[0]
    assert first["status"] == "completed"
    assert first["effectiveDateTime"] == "2026-01-12T09:37:00Z"
    dosage = first["dosage"]
    assert dosage["route"]["coding"][0]["code"] == "372464004"
    assert dosage["route"]["coding"][0]["system"] == "http://snomed.info/sct"
    assert dosage["site"]["coding"][0]["code"] == "41695006"
    assert dosage["dose"] == {"value": 2, "unit": "mL", "system": "http://unitsofmeasure.org",
                              "code": "mL"}
    assert dosage["method"]["text"] == "nappage; needle 30 G x 4 mm; depth 1.5 mm"
    assert "vertex 0.8 mL" in dosage["text"]
    assert first["performer"][0]["actor"]["display"] == "Dr Ana Martín-Pérez"
    contained = {m["id"]: m for m in first["contained"]}
    assert first["medicationReference"]["reference"] == "#prepared"
    prepared = contained.pop("prepared")
    lots = {m["batch"]["lotNumber"]: m["batch"]["expirationDate"] for m in contained.values()}
    assert lots["DUT-2511-α"] == "2026-05-31" and len(lots) == 5
    # every lot is an ingredient of the prepared syringe, by reference
    items = {i["itemReference"]["reference"][1:] for i in prepared["ingredient"]
             if "itemReference" in i}
    assert items == set(contained)
    notes = " | ".join(n["text"] for n in admins[1]["note"])
    assert "Adverse event: bruising" in notes and "Pain score: 4/10" in notes
    assert "Addendum (late entry)" in notes and "Post-care:" in notes
    sections = {x["title"]: x for x in doc["entry"][0]["resource"]["section"]}
    assert "1 unsigned draft session(s) not included" in sections["Sessions"]["text"]["div"]


def performers(admin: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(function code or "", actor reference, actor display) of each performer."""
    return [(p["function"]["coding"][0]["code"] if "function" in p else "",
             p["actor"]["reference"], p["actor"]["display"]) for p in admin["performer"]]


def test_who_prepared_a_session_is_a_second_performer(chart: PatientChart) -> None:
    doc = validated(chart)
    practitioners = {p["identifier"][0]["value"]: p for p in resources(doc, "Practitioner")}
    url = {e["resource"]["id"]: e["fullUrl"] for e in doc["entry"]}
    ana, maja = (url[practitioners[u]["id"]] for u in ("amartin", "mlind"))
    admins = resources(doc, "MedicationAdministration")
    # Session 1: prepared by the assistant, signed (performed) by the practitioner.
    assert performers(admins[0]) == [("", ana, "Dr Ana Martín-Pérez"),
                                     ("preparer", maja, "Maja Lind, RN")]
    function = admins[0]["performer"][1]["function"]
    assert function == {"coding": [{"system": "urn:formulary:performer-function",
                                    "code": "preparer", "display": "Preparer"}],
                        "text": "prepared the syringe"}
    assert "Prepared by Maja Lind, RN" in admins[0]["text"]["div"]
    assert "Signed by Dr Ana Martín-Pérez" in admins[0]["text"]["div"]
    # Session 2: she prepared and signed it herself; both functions are said.
    assert performers(admins[1]) == [("", ana, "Dr Ana Martín-Pérez"),
                                     ("preparer", ana, "Dr Ana Martín-Pérez")]
    # Preparing is not signing: she attests nothing and signs no Provenance.
    composition = doc["entry"][0]["resource"]
    assert "Maja Lind, RN" not in {a["party"]["display"] for a in composition["attester"]}
    assert all(p["signature"][0]["who"]["reference"] != maja
               for p in resources(doc, "Provenance"))


def test_a_preparer_the_chart_does_not_list_is_still_a_practitioner(
    chart: PatientChart,
) -> None:
    doc = validated(replace(chart, practitioners=chart.practitioners[:2]))
    names = [p["name"][0]["text"] for p in resources(doc, "Practitioner")]
    assert names.count("Maja Lind, RN") == 1
    references_resolve(doc)


def test_a_session_without_its_preparer_has_the_signer_as_its_one_performer(
    chart: PatientChart,
) -> None:
    sessions = tuple(replace(s, prepared_by=None) for s in chart.sessions)
    doc = validated(replace(chart, sessions=sessions))
    for admin in resources(doc, "MedicationAdministration"):
        assert [f for f, _, _ in performers(admin)] == [""]
        assert "Prepared by" not in admin["text"]["div"]


def test_provenance_for_signatures_and_addenda(chart: PatientChart) -> None:
    doc = validated(chart)
    provenances = resources(doc, "Provenance")
    signed = [s for s in chart.sessions if s.signature is not None]
    addenda = [a for s in chart.sessions for a in s.addenda]
    assert len(provenances) == len(signed) + len(addenda)
    addendum = [p for p in provenances if "reason" in p]
    assert addendum[0]["reason"][0]["text"] == "late entry"
    assert addendum[0]["signature"][0]["who"]["display"] == "Dr Lukas Brünner"
    sig = provenances[0]["signature"][0]
    assert sig["type"][0]["code"] == "1.2.840.10065.1.12.1.1"
    assert sig["when"] == "2026-01-12T10:02:00Z"
    assert provenances[0]["activity"]["coding"][0]["code"] == "LA"
    # an addendum is an Addendum Signature (ASTM E1762 .15), its activity an APPEND
    assert addendum[0]["signature"][0]["type"][0]["code"] == "1.2.840.10065.1.12.1.15"
    assert addendum[0]["activity"]["coding"][0]["code"] == "APPEND"


def test_signature_types_by_meaning() -> None:
    assert signature_type("author")[0] == "1.2.840.10065.1.12.1.1"
    assert signature_type("review") == ("1.2.840.10065.1.12.1.13", "Review Signature")
    assert signature_type("validation")[0] == "1.2.840.10065.1.12.1.6"
    assert signature_type("author", addendum=True)[0] == "1.2.840.10065.1.12.1.15"


def test_signers_attest_the_composition(chart: PatientChart) -> None:
    composition = validated(chart)["entry"][0]["resource"]
    parties = {a["party"]["display"]: a for a in composition["attester"]}
    assert set(parties) == {"Dr Ana Martín-Pérez", "Dr Lukas Brünner"}
    assert {a["mode"] for a in parties.values()} == {"legal"}


def test_every_resource_has_a_generated_narrative(chart: PatientChart) -> None:
    doc = validated(chart)
    for entry in doc["entry"]:
        text = entry["resource"]["text"]
        assert text["status"] == "generated", entry["resource"]["resourceType"]
        assert text["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml"><p>')


def test_two_clinics_with_the_same_chart_numbers_share_no_id(chart: PatientChart) -> None:
    one = validated(replace(chart, clinic=replace(chart.clinic, identifier="clinic-one")))
    two = validated(replace(chart, clinic=replace(chart.clinic, identifier="clinic-two")))
    urls_one = {e["fullUrl"] for e in one["entry"]}
    urls_two = {e["fullUrl"] for e in two["entry"]}
    assert urls_one.isdisjoint(urls_two)
    systems = {i["system"] for e in one["entry"] for i in e["resource"].get("identifier", [])
               if isinstance(i, dict)}
    assert "urn:formulary:clinic-one:chart-number" in systems


def test_observations_for_outcomes(chart: PatientChart) -> None:
    doc = validated(chart)
    obs = resources(doc, "Observation")
    density = [o for o in obs if o["code"]["text"] == "Hair density"]
    diameter = [o for o in obs if o["code"]["text"] == "Hair shaft diameter"]
    assert [o["valueQuantity"]["value"] for o in density] == [128, 135, 142, 149]
    assert density[0]["valueQuantity"]["code"] == "{hairs}/cm2"
    assert diameter[0]["valueQuantity"]["code"] == "um"
    assert diameter[0]["valueQuantity"]["value"] == 52.5


def test_never_ucum_U_and_toxin_units_have_no_code(chart: PatientChart) -> None:
    version = chart.formulation_versions[1]
    toxin = IngredientLine(999, "Botulinum toxin type A", "", Amount(Decimal(10), "units"),
                           Amount(Decimal(5), "units/mL"))
    chart = replace(chart, formulation_versions=(
        chart.formulation_versions[0],
        replace(version, ingredient_lines=(*version.ingredient_lines, toxin)),
    ))
    doc = validated(chart)
    codes = {n.get("code") for n in walk(doc) if isinstance(n, dict) and "unit" in n}
    assert "U" not in codes
    med = resources(doc, "Medication")[1]
    strength = med["ingredient"][-1]["strength"]
    assert strength["numerator"] == {"value": 5, "unit": "units"}
    assert "code" not in strength["numerator"]


def test_single_session_bundle(chart: PatientChart) -> None:
    doc = validated(only_session(chart, 1002))
    assert len(resources(doc, "MedicationAdministration")) == 1
    assert len(resources(doc, "Medication")) == 1
    assert len(resources(doc, "Provenance")) == 2  # signature and addendum


def test_decimals_stay_exact_in_the_json() -> None:
    from formulary.export.fhir_bundle import dumps

    assert dumps({"a": Decimal("0.05"), "b": Decimal("2"),
                  "c": Decimal("0.12345678901234567891")}) == (
        '{"a":0.05,"b":2,"c":0.12345678901234567891}')


def test_unstamped_chart_is_refused(chart: PatientChart) -> None:
    with pytest.raises(NotStamped):
        fhir_bundle(replace(chart, checkpoint=None))
    with pytest.raises(NotStamped):
        fhir_bundle(replace(chart, exported_at=None))


def test_same_chart_same_resource_ids(chart: PatientChart) -> None:
    assert render_fhir(chart) == render_fhir(chart)


def test_chart_without_sessions_or_outcomes_validates() -> None:
    doc = validated(build_chart(sessions=0, outcomes=0))
    sections = {s["title"]: s for s in doc["entry"][0]["resource"]["section"]}
    assert sections["Sessions"]["emptyReason"]["coding"][0]["code"] == "nilknown"
    assert resources(doc, "MedicationAdministration") == []


@settings(max_examples=40)
@given(text=st.text(min_size=1, max_size=30))
def test_any_free_text_still_validates(text: str) -> None:
    base = build_chart(sessions=2, outcomes=1)
    patient = replace(base.patient, given_name=text, family_name=text,
                      allergies=(replace(base.patient.allergies[0], substance=text,
                                         reaction=text),))
    first, second = base.sessions
    lots = (replace(first.lots[0], lot_number=text, component_name=text), *first.lots[1:])
    addendum = replace(second.addenda[0], text=text, reason=text)
    preparer = Practitioner(9, text, text, Role.ASSISTANT)  # any name, any username
    sessions = (
        replace(first, notes=text, anaesthesia=text, post_care=text, lots=lots,
                prepared_by=preparer),
        replace(second, addenda=(addendum,)),
    )
    outcomes = (replace(base.outcomes[0], notes=text, scale_grade=text),)
    doc = validated(replace(base, patient=patient, sessions=sessions, outcomes=outcomes))
    first_admin = resources(doc, "MedicationAdministration")[0]
    assert [p.get("function", {}).get("text") for p in first_admin["performer"]] == [
        None, "prepared the syringe"]
    references_resolve(doc)
    for node in walk(doc):
        if isinstance(node, str):
            assert node, "FHIR strings may not be empty"
            assert all(ch in "\t\n\r" or ord(ch) >= 32 for ch in node), repr(node)


@settings(max_examples=30)
@given(text=st.text(min_size=1, max_size=20))
@example(text="\xa0")  # a name that is only a no-break space: FHIR's pattern refuses it
@example(text="\u2028\u3000")
def test_ndjson_lines_are_clean_resources_whatever_the_text(text: str) -> None:
    from formulary.export.fhir_bundle import ndjson_lines, validate_resource

    base = build_chart(sessions=2, outcomes=1)
    preparer = Practitioner(9, text, text, Role.ASSISTANT)
    chart = replace(base, patient=replace(base.patient, given_name=text),
                    sessions=(replace(base.sessions[0], notes=text, prepared_by=preparer),
                              base.sessions[1]))
    for kind, resource_id, line in ndjson_lines(chart):
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        resource = json.loads(line)
        assert resource["resourceType"] == kind and resource["id"] == resource_id
        validate_resource(resource)
        for node in walk(resource):
            if isinstance(node, str):
                assert all(ch in "\t\n\r" or ord(ch) >= 32 for ch in node), repr(node)
                assert not any(0x7F <= ord(ch) < 0xA0 for ch in node), repr(node)


@settings(max_examples=300)
@given(text=st.text(max_size=80) | st.text(
    alphabet=st.sampled_from("au01fb\\\x7f\x85\xa0\xb5\u1680\u2007\u2013\u2028\u202f\u3000\u30a2"
                             "\ufffe\uffff\ud800\x0c\x08\n"), max_size=80))
@example(text="\u30a2" * 200)  # many lead bytes: the whole text goes to the pattern
def test_the_fast_check_for_forbidden_characters_agrees_with_the_pattern(text: str) -> None:
    """The byte-level check that decides whether to clean equals the reference pattern."""
    from formulary.export.fhir_bundle import _UNSAFE_TEXT, _unsafe, dumps

    json_text = dumps({"text": text})
    expected = _UNSAFE_TEXT.search(json_text) is not None
    try:
        data = json_text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: always cleaned
        assert expected
        return
    assert _unsafe(data) == expected
