"""Facts and limits read back from plain JSON (the database's copy of the library)."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest

from formulary.library import load_library
from formulary.safety import LimitPer
from formulary.safety.build import limits_from_library
from formulary.safety.documents import (
    amount_from_document,
    limits_from_documents,
    substances_from_forms,
)
from formulary.units.amount import Amount

LIB = load_library()


def plain(value: Any) -> Any:
    """What the database stores: dataclasses as objects, Decimals as strings."""

    def default(o: object) -> object:
        if isinstance(o, Decimal):
            return str(o)
        raise TypeError(o)

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif isinstance(value, tuple):
        value = [dataclasses.asdict(v) for v in value]
    return json.loads(json.dumps(value, default=default))


@pytest.mark.parametrize("ingredient", LIB.all(), ids=lambda i: i.key)
def test_every_library_form_reads_back_as_its_substance(ingredient: Any) -> None:
    substances = substances_from_forms(
        ingredient.key,
        ingredient.name,
        plain(ingredient.forms),
        product_specific_units=ingredient.product_specific_units,
    )
    assert substances == tuple(ingredient.substance(form.key) for form in ingredient.forms)


@pytest.mark.parametrize("ingredient", LIB.all(), ids=lambda i: i.key)
def test_every_library_limit_reads_back(ingredient: Any) -> None:
    forms = tuple(ingredient.substance(f.key) for f in ingredient.forms)
    read = limits_from_documents(ingredient.key, plain(ingredient.limits), forms)
    assert read == limits_from_library(ingredient)


def test_clinic_edited_and_broken_limits() -> None:
    items = [
        {"amount": {"value": "200", "unit": "mg"}, "per": "session", "source": ""},
        {"amount": {"value": "2", "unit": "g"}, "per": "course", "source": "clinic protocol"},
        {"amount": {"value": "10", "unit": "mg"}, "per": "wheal"},
        {"amount": {"value": "-1", "unit": "mg"}, "per": "session"},
        {"amount": {"value": "NaN", "unit": "mg"}, "per": "session"},
        {"amount": {"value": "5", "unit": "furlongs"}, "per": "session"},
        {"per": "session"},
        "not an object",
    ]
    read = limits_from_documents("biotin", items)
    assert [(lim.per, lim.amount, lim.source) for lim in read] == [
        (LimitPer.SESSION, Amount(Decimal(200), "mg"), "clinic"),
        (LimitPer.COURSE, Amount(Decimal(2), "g"), "clinic protocol"),
        (LimitPer.WHEAL, Amount(Decimal(10), "mg"), "clinic"),
    ]


@pytest.mark.parametrize(
    "value",
    [None, {}, {"value": "1"}, {"value": True, "unit": "mg"}, {"value": "1e999999", "unit": "mg"}],
)
def test_malformed_amounts_are_refused(value: Any) -> None:
    assert amount_from_document(value) is None


@pytest.mark.parametrize("ingredient", LIB.all(), ids=lambda i: i.key)
def test_every_library_document_gives_the_library_facts(ingredient: Any) -> None:
    from formulary.safety.build import facts_from_library
    from formulary.safety.documents import facts_from_document

    document = json.loads(json.dumps(LIB.document(ingredient.key)))
    assert facts_from_document(document, 7) == facts_from_library(ingredient, 7)


def test_a_clinic_document_with_next_to_nothing() -> None:
    from formulary.safety import IngredientStatus
    from formulary.safety.documents import facts_from_document

    facts = facts_from_document(
        {
            "key": "house-mix",
            "name": "House mix",
            "status": "suspended",
            "forms": ["junk", {"label": "house mix"}],
        }
    )
    assert facts.status is IngredientStatus.SUSPENDED
    assert facts.substance is not None and facts.substance.molar_mass is None
    assert facts_from_document({}).key == ""
