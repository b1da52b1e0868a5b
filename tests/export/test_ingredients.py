"""The formulation table computed from components when a version carries no lines."""

from __future__ import annotations

import json
from dataclasses import replace

from formulary.export.display import show_amount
from formulary.export.fhir_bundle import render_fhir
from formulary.export.ingredients import ingredient_table
from formulary.export.pdf_note import render_pdf
from formulary.records import PatientChart
from tests.export.test_pdf_note import Note


def _bare(chart: PatientChart) -> PatientChart:
    return replace(chart, formulation_versions=tuple(
        replace(v, ingredient_lines=()) for v in chart.formulation_versions))


def shown(chart: PatientChart, index: int) -> list[tuple[str, str, str]]:
    version = chart.formulation_versions[index]
    return [(line.ingredient_name, show_amount(line.amount_per_session),
             show_amount(line.final_concentration))
            for line in ingredient_table(chart, version).lines]


def test_computed_lines_equal_the_charted_ones(chart: PatientChart) -> None:
    assert shown(_bare(chart), 0) == shown(chart, 0)
    assert shown(_bare(chart), 1) == shown(chart, 1)
    assert ("Dutasteride", "0.1 mg", "0.05 mg/mL") in shown(_bare(chart), 1)


def test_without_final_volume_the_drawn_volume_is_used(chart: PatientChart) -> None:
    bare = _bare(chart)
    version = replace(bare.formulation_versions[0], final_volume=None)
    table = ingredient_table(bare, version)
    assert not table.problem
    assert show_amount(table.lines[0].final_concentration) == "0.05 mg/mL"  # 2 mL drawn


def test_missing_strengths_are_reported_not_guessed(chart: PatientChart) -> None:
    bare = replace(_bare(chart), products=chart.products[1:])
    table = ingredient_table(bare, bare.formulation_versions[0])
    assert table.lines == ()
    assert "strengths of Dutasteride 0.01 % w/v are not on record" in table.problem
    Note(render_pdf(bare)).has("Ingredient amounts could not be computed")


def test_pdf_and_fhir_use_computed_lines(chart: PatientChart) -> None:
    bare = _bare(chart)
    Note(render_pdf(bare)).has("Dutasteride 0.1 mg 0.05 mg/mL", "Biotin 1.5 mg 0.75 mg/mL")
    doc = json.loads(render_fhir(bare))
    meds = [e["resource"] for e in doc["entry"] if e["resource"]["resourceType"] == "Medication"]
    strengths = {i["itemCodeableConcept"]["text"]: i["strength"]["numerator"]["value"]
                 for i in meds[1]["ingredient"]}
    assert strengths["Biotin"] == 0.75 and strengths["Dutasteride"] == 0.05
