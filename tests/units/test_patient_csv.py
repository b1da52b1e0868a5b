"""The patients CSV parser and exact pound conversion, with Hypothesis."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formulary.body import KG_PER_LB, BodyMeasureError, parse_weight
from formulary.csv_table import CsvImportError
from formulary.patient_csv import parse_date, parse_patients
from formulary.records import Sex

TODAY = date(2026, 12, 2)
HEADER = ["chart_number", "family_name", "given_name", "date_of_birth", "sex", "weight"]

names = st.text(
    alphabet=st.characters(categories=["L"], max_codepoint=0x24F), min_size=1, max_size=30
)
born = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
weights = st.decimals(min_value=Decimal("3"), max_value=Decimal("300"), places=1)


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerows([HEADER, *rows])
    return out.getvalue()


@given(
    patients=st.lists(
        st.tuples(names, names, born, st.sampled_from(list(Sex)), weights,
                  st.sampled_from(["kg", "lb"])),
        min_size=1, max_size=8,
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_every_valid_row_reads_back_exactly(
    patients: list[tuple[str, str, date, Sex, Decimal, str]], delimiter: str
) -> None:
    rows = [
        [f"C-{i}", family, given_name, dob.isoformat(), sex.value, f"{w} {unit}"]
        for i, (family, given_name, dob, sex, w, unit) in enumerate(patients)
    ]
    specs = parse_patients(_csv(rows, delimiter), today=TODAY)
    assert [s.line for s in specs] == list(range(2, 2 + len(rows)))
    for spec, (family, given_name, dob, sex, w, unit) in zip(specs, patients, strict=True):
        assert (spec.family_name, spec.given_name, spec.date_of_birth, spec.sex) == (
            family.strip(), given_name.strip(), dob, sex
        )
        assert spec.weight is not None
        assert spec.weight.entered.value == w and spec.weight.entered.unit == unit
        expected = w if unit == "kg" else w * KG_PER_LB
        assert spec.weight.kg.value == expected


@given(patients=st.lists(st.tuples(names, born), min_size=2, max_size=6),
       bad=st.data())
def test_each_bad_cell_is_named_by_line_and_column(
    patients: list[tuple[str, date]], bad: st.DataObject
) -> None:
    rows = [[f"C-{i}", n, n, d.isoformat(), "female", ""] for i, (n, d) in enumerate(patients)]
    victim = bad.draw(st.integers(min_value=0, max_value=len(rows) - 1))
    column, value = bad.draw(
        st.sampled_from(
            [("date_of_birth", "1986-02-30"), ("sex", "q"), ("weight", "70"),
             ("weight", "70 mg"), ("date_of_birth", (TODAY + timedelta(days=1)).isoformat())]
        )
    )
    rows[victim][HEADER.index(column)] = value
    with pytest.raises(CsvImportError) as caught:
        parse_patients(_csv(rows), today=TODAY)
    assert [(p.line, p.column) for p in caught.value.problems] == [(victim + 2, column)]


def test_duplicate_chart_numbers_and_missing_columns() -> None:
    text = _csv(
        [["C-1", "A", "B", "1980-01-01", "f", ""], ["c-1", "C", "D", "1981-01-01", "m", ""]]
    )
    with pytest.raises(CsvImportError) as caught:
        parse_patients(text, today=TODAY)
    first = caught.value.problems[0]
    assert first.line == 3 and "also on line 2" in first.message
    with pytest.raises(CsvImportError) as caught:
        parse_patients("chart_number,family_name\nC-1,A\n", today=TODAY)
    assert {p.column for p in caught.value.problems} == {"given_name", "date_of_birth", "sex"}


@given(st.decimals(min_value=Decimal("2.3"), max_value=Decimal("880"), places=3))
def test_pounds_convert_to_kilograms_without_rounding(pounds: Decimal) -> None:
    weight = parse_weight(f"{pounds} lb")
    assert weight.kg.value == pounds * Decimal("0.45359237")
    assert weight.kg.value / KG_PER_LB == pounds


@pytest.mark.parametrize("text", ["70", "seventy kg", "70 stone", "0.2 kg", "900 kg"])
def test_weights_that_cannot_be_read_say_why(text: str) -> None:
    with pytest.raises(BodyMeasureError):
        parse_weight(text)


@given(st.dates())
def test_every_real_date_parses_and_impossible_days_are_named(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    with pytest.raises(ValueError, match="does not exist"):
        parse_date(f"{day.year:04d}-02-30")
