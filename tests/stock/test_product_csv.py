"""The product CSV core: round trips, every bad cell named, never a crash."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formulary.csv_table import CsvImportError
from formulary.gs1 import gtin_check_digit
from formulary.product_csv import parse_products, resolve_ingredients
from formulary.records import Presentation
from formulary.units.amount import Amount

HEADER = ["name", "presentation", "volume_per_unit", "ingredient", "strength", "form", "gtin"]

names = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghij-0123456789", min_size=1, max_size=30
)
names = names.map(str.strip).filter(bool)
gtins = st.one_of(
    st.just(""),
    st.text(alphabet="0123456789", min_size=12, max_size=12).map(
        lambda p: p + str(gtin_check_digit(p))
    ),
)
products = st.lists(
    st.tuples(
        names,
        st.sampled_from([Presentation.AMPOULE, Presentation.VIAL, Presentation.PREFILLED_SYRINGE]),
        st.integers(min_value=1, max_value=100),
        st.lists(
            st.tuples(st.sampled_from(["biotin", "zinc", "dexpanthenol"]), st.integers(1, 999)),
            min_size=1,
            max_size=3,
            unique_by=lambda t: t[0],
        ),
        gtins,
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda p: " ".join(p[0].split()).casefold(),
)


def _write(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


@settings(max_examples=60, deadline=None)
@given(products, st.sampled_from([",", ";", "\t"]))
def test_what_is_written_is_read_back(items: list[Any], delimiter: str) -> None:
    rows = []
    for name, presentation, ml, lines, gtin in items:
        for i, (ingredient, mg) in enumerate(lines):
            first = i == 0
            rows.append(
                [
                    name,
                    presentation.label if first else "",
                    f"{ml} mL" if first else "",
                    ingredient,
                    f"{mg} mg/mL",
                    "",
                    gtin if first else "",
                ]
            )
    parsed = parse_products(_write(rows, delimiter))
    assert [p.name for p in parsed] == [i[0] for i in items]
    for spec, (_, presentation, ml, lines, gtin) in zip(parsed, items, strict=True):
        assert spec.presentation is presentation
        assert spec.volume_per_unit == Amount(Decimal(ml), "mL")
        assert spec.gtin == (gtin.zfill(14) if gtin else "")
        assert [(x.ingredient, x.strength.value) for x in spec.ingredients] == [
            (ing, Decimal(mg)) for ing, mg in lines
        ]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_or_names_its_problems(text: str) -> None:
    try:
        parse_products(text)
    except CsvImportError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.line >= 1 and "\n" not in problem.message


def test_each_bad_cell_is_named_by_line_and_column() -> None:
    text = _write(
        [
            ["A", "ampoule", "1 mL", "biotin", "400 IU", "", ""],
            ["B", "sachet", "1 mL", "biotin", "5 mg/mL", "", ""],
            ["C", "vial", "five", "biotin", "5 mg/mL", "", "123"],
            ["A", "vial", "", "zinc", "1 mg/mL", "", ""],
        ]
    )
    with pytest.raises(CsvImportError) as caught:
        parse_products(text)
    found = [(p.line, p.column) for p in caught.value.problems]
    assert found == [
        (2, "strength"),
        (3, "presentation"),
        (4, "volume_per_unit"),
        (4, "gtin"),
        (5, "presentation"),
    ]


def test_header_problems() -> None:
    with pytest.raises(CsvImportError, match="required column missing"):
        parse_products("name,presentation\nA,vial\n")
    with pytest.raises(CsvImportError, match="unknown column 'colour'"):
        parse_products(",".join([*HEADER, "colour"]) + "\n")
    with pytest.raises(CsvImportError, match="empty"):
        parse_products("")
    with pytest.raises(CsvImportError, match="no products"):
        parse_products(",".join(HEADER) + "\n")


def test_multi_line_cells_keep_line_numbers() -> None:
    text = _write(
        [
            ["A\nsecond line", "vial", "1 mL", "biotin", "5 mg/mL", "", ""],
            ["B", "vial", "1 mL", "biotin", "400 IU", "", ""],
        ]
    )
    with pytest.raises(CsvImportError) as caught:
        parse_products(text)
    assert [(p.line, p.column) for p in caught.value.problems] == [(4, "strength")]


def test_ingredient_names_resolved_or_named() -> None:
    specs = parse_products(_write([["A", "vial", "1 mL", "Biotin", "5 mg/mL", "", ""]]))
    assert resolve_ingredients(specs, {"biotin": [7]}) == {2: 7}
    with pytest.raises(CsvImportError, match="line 2, column ingredient: no ingredient"):
        resolve_ingredients(specs, {})
    with pytest.raises(CsvImportError, match="names 2 ingredients"):
        resolve_ingredients(specs, {"biotin": [7, 8]})
