"""Read and check the library's data file (``ingredients.json``).

Every rule the rest of the app relies on is checked here once, at load time, so a
bad edit of the data file fails loudly with the entry and field named, instead of
surfacing later as a wrong conversion: numbers are exact positive decimals written
as strings, every entry has sources, keys are unique slugs, units are canonical.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from formulary.library.errors import LibraryDataError
from formulary.library.model import (
    CATEGORIES,
    CAUTION_CODES,
    DOSE_PERS,
    LIMIT_SOURCE_KINDS,
    SECONDARY_ONLY,
    SOURCE_KINDS,
    ActivityBasis,
    Caution,
    DoseFigure,
    DosePer,
    Form,
    Ingredient,
    IUFact,
    Reference,
    Status,
    StockStrength,
    parse_source,
)
from formulary.units.amount import Amount
from formulary.units.substance import Basis

SCHEMA_VERSION = 1

#: Canonical unit strings the data file may use (a subset of formulary.units').
STRENGTH_UNITS = frozenset({"mg/mL", "mcg/mL", "IU/mL", "units/mL", "% w/v"})
DOSE_UNITS = frozenset({"mg", "mcg", "mL"})
IU_MASS_UNITS = {"mg": Decimal(1), "mcg": Decimal("0.001")}

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class SharedSynonym:
    """A name deliberately given to several entries, so that typing it forces a choice."""

    name: str
    keys: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class LibraryData:
    """The parsed, checked content of the data file."""

    ingredients: tuple[Ingredient, ...]
    shared_synonyms: tuple[SharedSynonym, ...]
    # Each entry exactly as the data file writes it (JSON values), by key.
    documents: Mapping[str, Mapping[str, object]]


class _Fields:
    """Typed access to one JSON object, naming the entry and field in every error."""

    def __init__(self, raw: object, where: str) -> None:
        if not isinstance(raw, Mapping):
            raise LibraryDataError(f"library data: {where}: expected an object")
        self._raw = cast("Mapping[str, object]", raw)
        self.where = where

    def fail(self, field: str, problem: str) -> LibraryDataError:
        return LibraryDataError(f"library data: {self.where}.{field}: {problem}")

    def get(self, field: str, default: object = None) -> object:
        return self._raw.get(field, default)

    def text(self, field: str, *, required: bool = False, default: str = "") -> str:
        value = self._raw.get(field, default)
        if not isinstance(value, str):
            raise self.fail(field, "expected text")
        if required and not value.strip():
            raise self.fail(field, "must not be empty")
        return value

    def texts(self, field: str, *, required: bool = False) -> tuple[str, ...]:
        value = self._raw.get(field, [])
        if not isinstance(value, list) or not all(
            isinstance(item, str) and item.strip() for item in value
        ):
            raise self.fail(field, "expected a list of non-empty texts")
        if required and not value:
            raise self.fail(field, "must list at least one")
        return tuple(cast("list[str]", value))

    def source(self, field: str, *, required: bool = True) -> str:
        """A source text that starts with its kind ("label: …", "secondary: …")."""
        value = self.text(field, required=required)
        if value and not parse_source(value).kind:
            raise self.fail(
                field, f"must start with its kind, one of {sorted(SOURCE_KINDS)}, and a colon"
            )
        return value

    def objects(self, field: str) -> list[object]:
        value = self._raw.get(field, [])
        if not isinstance(value, list):
            raise self.fail(field, "expected a list")
        return cast("list[object]", value)

    def flag(self, field: str, default: bool = False) -> bool:
        value = self._raw.get(field, default)
        if not isinstance(value, bool):
            raise self.fail(field, "expected true or false")
        return value

    def decimal(self, field: str, *, required: bool = True) -> Decimal | None:
        value = self._raw.get(field)
        if value is None and not required:
            return None
        # Strings keep the figure exactly as the source printed it; a JSON float would not.
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            raise self.fail(field, f"expected a decimal number written as text, got {value!r}")
        number = Decimal(value)
        if number <= 0:
            raise self.fail(field, "must be positive")
        return number

    def amount(self, field: str, units: frozenset[str] | Mapping[str, Decimal]) -> Amount:
        inner = _Fields(self._raw.get(field), f"{self.where}.{field}")
        value = inner.decimal("value")
        unit = inner.text("unit", required=True)
        if unit not in units:
            raise inner.fail("unit", f"{unit!r} is not one of {sorted(units)}")
        assert value is not None
        return Amount(value, unit)


def _basis(raw: object, where: str) -> Basis:
    fields = _Fields(raw, where)
    count = fields.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise fields.fail("count", "expected a positive whole number")
    molar_mass = fields.decimal("molar_mass")
    assert molar_mass is not None
    return Basis(
        key=fields.text("key", required=True),
        label=fields.text("label", required=True),
        molar_mass=molar_mass,
        count=count,
    )


def _iu_fact(raw: object, where: str) -> IUFact:
    fields = _Fields(raw, where)
    mass = fields.amount("mass_per_iu", IU_MASS_UNITS)
    return IUFact(
        form=fields.text("form", required=True),
        mass_per_iu=mass,
        mass_per_iu_mg=mass.value * IU_MASS_UNITS[mass.unit],
        source=fields.source("source"),
        note=fields.text("note"),
    )


def _activity(raw: object, where: str) -> ActivityBasis:
    fields = _Fields(raw, where)
    mass = fields.amount("mass_per_iu", IU_MASS_UNITS)
    return ActivityBasis(
        key=fields.text("key", required=True),
        label=fields.text("label", required=True),
        mass_per_iu_mg=mass.value * IU_MASS_UNITS[mass.unit],
        source=fields.source("source"),
        note=fields.text("note"),
    )


def _form(raw: object, where: str) -> Form:
    fields = _Fields(raw, where)
    label = fields.text("label", required=True)
    valence = fields.get("valence")
    if valence is not None and (
        not isinstance(valence, int) or isinstance(valence, bool) or valence < 1
    ):
        raise fields.fail("valence", "expected a positive whole number or null")
    bases = tuple(
        _basis(item, f"{where}.bases[{i}]") for i, item in enumerate(fields.objects("bases"))
    )
    iu_facts = tuple(
        _iu_fact(item, f"{where}.iu_bases[{i}]")
        for i, item in enumerate(fields.objects("iu_bases"))
    )
    activity = tuple(
        _activity(item, f"{where}.activity_bases[{i}]")
        for i, item in enumerate(fields.objects("activity_bases"))
    )
    if activity and not iu_facts:
        raise fields.fail("activity_bases", "an activity basis needs the form's IU")
    for fact in iu_facts:
        # The units engine looks an IU up by the substance's form label.
        if fact.form != label:
            raise fields.fail("iu_bases", f"IU form {fact.form!r} must equal the label {label!r}")
    if len({basis.key for basis in bases}) != len(bases):
        raise fields.fail("bases", "basis keys must be unique")
    return Form(
        key=fields.text("key", required=True),
        label=label,
        formula=fields.text("formula"),
        molar_mass=fields.decimal("molar_mass", required=False),
        molar_mass_note=fields.text("molar_mass_note"),
        convert_moles=fields.flag("convert_moles", default=True),
        bases=bases,
        iu_facts=iu_facts,
        valence=valence,
        valence_note=fields.text("valence_note"),
        note=fields.text("note"),
        synonyms=fields.texts("synonyms"),
        activity_bases=activity,
    )


def _strength(raw: object, where: str) -> StockStrength:
    fields = _Fields(raw, where)
    return StockStrength(
        amount=fields.amount("amount", STRENGTH_UNITS),
        basis=fields.text("basis", required=True),
        note=fields.text("note"),
    )


def _dose(raw: object, where: str) -> DoseFigure:
    fields = _Fields(raw, where)
    per = fields.text("per", required=True)
    if per not in DOSE_PERS:
        raise fields.fail("per", f"{per!r} is not one of {list(DOSE_PERS)}")
    return DoseFigure(
        amount=fields.amount("amount", DOSE_UNITS),
        per=cast("DosePer", per),
        basis=fields.text("basis", required=True),
        source=fields.source("source"),
        note=fields.text("note"),
        condition=fields.text("condition"),
        region=fields.text("region"),
        within_hours=fields.decimal("within_hours", required=False),
    )


def _caution(raw: object, where: str) -> Caution:
    fields = _Fields(raw, where)
    code = fields.text("code", required=True)
    if code not in CAUTION_CODES:
        raise fields.fail("code", f"{code!r} is not one of {list(CAUTION_CODES)}")
    return Caution(
        code=code,
        text=fields.text("text", required=True),
        with_keys=fields.texts("with"),
        source=fields.source("source", required=False),
    )


def _ingredient(raw: object, index: int) -> Ingredient:
    key = raw.get("key") if isinstance(raw, Mapping) else None
    fields = _Fields(raw, f"ingredients[{index}]" + (f" ({key})" if isinstance(key, str) else ""))
    key = fields.text("key", required=True)
    if not _SLUG.fullmatch(key):
        raise fields.fail("key", f"{key!r} is not a lower-case slug like 'zinc-sulfate'")
    category = fields.text("category", required=True)
    if category not in CATEGORIES:
        raise fields.fail("category", f"{category!r} is not one of {list(CATEGORIES)}")
    forms = tuple(
        _form(item, f"{fields.where}.forms[{i}]") for i, item in enumerate(fields.objects("forms"))
    )
    if not forms:
        raise fields.fail("forms", "must list at least one form")
    if len({form.key for form in forms}) != len(forms):
        raise fields.fail("forms", "form keys must be unique")
    default_form = fields.text("default_form", required=True)
    if default_form not in {form.key for form in forms}:
        raise fields.fail("default_form", f"{default_form!r} is not one of the entry's forms")
    status = fields.text("status", default="available")
    if status not in ("available", "withdrawn"):
        raise fields.fail("status", "expected 'available' or 'withdrawn'")
    status_reason = fields.text("status_reason")
    if status == "withdrawn" and not status_reason.strip():
        raise fields.fail("status_reason", "a withdrawn ingredient needs the reason")
    reference = _Fields(fields.get("reference"), f"{fields.where}.reference")
    sources = fields.texts("sources", required=True)
    for i, text in enumerate(sources):
        if not parse_source(text).kind:
            raise fields.fail(
                f"sources[{i}]", f"must start with its kind, one of {sorted(SOURCE_KINDS)}"
            )
    secondary_only = all(parse_source(text).kind == "secondary" for text in sources)
    sourcing = fields.text("sourcing")
    if sourcing != (SECONDARY_ONLY if secondary_only else ""):
        raise fields.fail(
            "sourcing",
            f"must be {SECONDARY_ONLY!r} exactly when every source is secondary"
            if secondary_only
            else "only an entry with no primary source is marked",
        )
    limits = tuple(
        _dose(item, f"{fields.where}.limits[{i}]")
        for i, item in enumerate(fields.objects("limits"))
    )
    for i, limit in enumerate(limits):
        if limit.cited.kind not in LIMIT_SOURCE_KINDS:
            raise fields.fail(
                f"limits[{i}].source",
                "a limit must cite a label, an SmPC, a monograph or a peer-reviewed paper",
            )
    return Ingredient(
        key=key,
        name=fields.text("name", required=True),
        synonyms=fields.texts("synonyms"),
        category=category,
        classes=fields.texts("classes"),
        forms=forms,
        default_form_key=default_form,
        stock_strengths=tuple(
            _strength(item, f"{fields.where}.stock_strengths[{i}]")
            for i, item in enumerate(fields.objects("stock_strengths"))
        ),
        typical_doses=tuple(
            _dose(item, f"{fields.where}.typical_doses[{i}]")
            for i, item in enumerate(fields.objects("typical_doses"))
        ),
        limits=limits,
        cautions=tuple(
            _caution(item, f"{fields.where}.cautions[{i}]")
            for i, item in enumerate(fields.objects("cautions"))
        ),
        product_specific_units=fields.flag("product_specific_units"),
        status=cast("Status", status),
        status_reason=status_reason,
        status_source=fields.source("status_source", required=False),
        notes=fields.text("notes"),
        curation_notes=fields.texts("curation_notes"),
        sources=sources,
        sourcing=sourcing,
        reference=Reference(
            molar_mass=reference.text("molar_mass"),
            stock=reference.text("stock"),
            per_session=reference.text("per_session"),
            iu=reference.text("iu"),
            name=reference.text("name"),
        ),
    )


def _shared(raw: object, index: int) -> SharedSynonym:
    fields = _Fields(raw, f"shared_synonyms[{index}]")
    keys = fields.texts("keys", required=True)
    if len(keys) < 2:
        raise fields.fail("keys", "a shared synonym names at least two entries")
    return SharedSynonym(
        name=fields.text("name", required=True),
        keys=keys,
        reason=fields.text("reason", required=True),
    )


def parse_library(document: object) -> LibraryData:
    """Check the decoded data file and build its records; raise LibraryDataError if bad."""
    top = _Fields(document, "library")
    schema = top.get("schema")
    if schema != SCHEMA_VERSION:
        raise top.fail("schema", f"expected {SCHEMA_VERSION}, got {schema!r}")
    ingredients = tuple(_ingredient(item, i) for i, item in enumerate(top.objects("ingredients")))
    seen: set[str] = set()
    for ingredient in ingredients:
        if ingredient.key in seen:
            raise LibraryDataError(f"library data: ingredient key {ingredient.key!r} is used twice")
        seen.add(ingredient.key)
    for ingredient in ingredients:
        for caution in ingredient.cautions:
            unknown_keys = [key for key in caution.with_keys if key not in seen]
            if unknown_keys:
                raise LibraryDataError(
                    f"library data: {ingredient.key}: caution {caution.code!r} names "
                    f"unknown keys {unknown_keys}"
                )
    shared = tuple(_shared(item, i) for i, item in enumerate(top.objects("shared_synonyms")))
    for entry in shared:
        unknown = [key for key in entry.keys if key not in seen]
        if unknown:
            raise LibraryDataError(
                f"library data: shared synonym {entry.name!r} names unknown keys {unknown}"
            )
    raw_entries = cast("list[Mapping[str, object]]", top.objects("ingredients"))
    documents = {
        ingredient.key: raw for ingredient, raw in zip(ingredients, raw_entries, strict=True)
    }
    return LibraryData(ingredients=ingredients, shared_synonyms=shared, documents=documents)


def names_of(ingredient: Ingredient) -> tuple[str, ...]:
    """Every name an ingredient answers to: its name, key, synonyms and form labels."""
    return (
        ingredient.name,
        ingredient.key,
        *ingredient.synonyms,
        *(form.label for form in ingredient.forms),
        *(name for form in ingredient.forms for name in form.synonyms),
    )
