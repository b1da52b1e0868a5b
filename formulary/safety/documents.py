"""Reading ingredient facts and limits from plain JSON, as the database keeps them.

The clinic's ingredient rows hold copies of the library's forms and dose limits as
plain JSON values (Decimals as strings), which the clinic may edit. These parsers
turn them back into the units engine's :class:`Substance` and the rules'
:class:`Limit`. They never guess: a value that is missing or malformed is left out
(a form without a molar mass, a limit without an amount), and the rules then report
what they cannot count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from formulary.safety.context import (
    IngredientCaution,
    IngredientFacts,
    IngredientStatus,
    Limit,
    LimitPer,
)
from formulary.units import convert
from formulary.units.amount import Amount
from formulary.units.catalog import BY_CANONICAL
from formulary.units.errors import UnitsError
from formulary.units.substance import Basis, IUBasis, Substance

_PER = {
    "session": LimitPer.SESSION,
    "injection": LimitPer.SESSION,
    "kg": LimitPer.KG,
    "course": LimitPer.COURSE,
    "wheal": LimitPer.WHEAL,
}


#: Figures outside 1e-12 .. 1e12 are typing or data errors, not doses or molar masses.
_MAX_EXPONENT = 12


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number <= 0 or abs(number.adjusted()) > _MAX_EXPONENT:
        return None
    return number


def amount_from_document(value: Any) -> Amount | None:
    """``{"value": "300", "unit": "mg"}`` as an Amount; None when malformed."""
    if not isinstance(value, Mapping):
        return None
    number = _decimal(value.get("value"))
    unit = value.get("unit")
    if number is None or not isinstance(unit, str) or unit not in BY_CANONICAL:
        return None
    return Amount(number, unit)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _bases(items: Any) -> tuple[Basis, ...]:
    found: list[Basis] = []
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, Mapping):
            continue
        mass = _decimal(item.get("molar_mass"))
        count = item.get("count", 1)
        if mass is None or not isinstance(count, int) or isinstance(count, bool) or count < 1:
            continue
        key = _text(item.get("key"))
        if key:
            found.append(Basis(key, _text(item.get("label")) or key, mass, count))
    return tuple(found)


def _iu_bases(items: Any) -> tuple[IUBasis, ...]:
    found: list[IUBasis] = []
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, Mapping) or not _text(item.get("form")):
            continue
        mg = _decimal(item.get("mass_per_iu_mg"))
        if mg is None:
            per_iu = amount_from_document(item.get("mass_per_iu"))
            if per_iu is not None:
                try:
                    mg = convert(per_iu, "mg").value
                except UnitsError:
                    mg = None
        if mg is not None:
            found.append(IUBasis(_text(item["form"]), mg))
    return tuple(found)


def substances_from_forms(
    key: str, name: str, forms: Iterable[Any], *, product_specific_units: bool = False
) -> tuple[Substance, ...]:
    """One :class:`Substance` per form document (library ``Form`` as plain JSON)."""
    found: list[Substance] = []
    for form in forms:
        if not isinstance(form, Mapping):
            continue
        label = _text(form.get("label")) or _text(form.get("key"))
        if not label:
            continue
        moles = form.get("convert_moles", True) is not False
        valence = form.get("valence")
        found.append(
            Substance(
                key=key,
                name=name,
                form=label,
                molar_mass=_decimal(form.get("molar_mass")) if moles else None,
                bases=_bases(form.get("bases")),
                iu_bases=_iu_bases(form.get("iu_facts", form.get("iu_bases"))),
                valence=valence
                if isinstance(valence, int) and not isinstance(valence, bool)
                else None,
                product_specific_units=product_specific_units,
            )
        )
    return tuple(found)


def limits_from_documents(
    subject: str, items: Iterable[Any], forms: Iterable[Substance] = ()
) -> tuple[Limit, ...]:
    """Limits from dose-figure documents (``{"amount", "per", "basis", "source", "note"}``).

    A figure without a usable amount, or counted over something the rules do not know,
    is left out. ``forms`` resolves a basis that names a form.
    """
    by_label = {" ".join(f.form.split()).casefold(): f for f in forms}
    found: list[Limit] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        per = _PER.get(_text(item.get("per")))
        amount = amount_from_document(item.get("amount"))
        if per is None or amount is None:
            continue
        basis = _text(item.get("basis"))
        found.append(
            Limit(
                subject=subject,
                amount=amount,
                per=per,
                source=_text(item.get("source")) or "clinic",
                basis=basis,
                note=_text(item.get("note")),
                target=by_label.get(" ".join(basis.split()).casefold()),
            )
        )
    return tuple(found)


_STATUS = {"withdrawn": IngredientStatus.WITHDRAWN, "suspended": IngredientStatus.SUSPENDED}


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str) and v) if isinstance(value, list) else ()


def facts_from_document(
    document: Mapping[str, Any], ingredient_id: int | None = None
) -> IngredientFacts:
    """An ingredient's facts from its document (the library's JSON shape of one entry).

    The same facts :func:`formulary.safety.build.facts_from_library` gives for a
    library entry, read from what the clinic's row holds, clinic edits included.
    """
    key = _text(document.get("key"))
    name = _text(document.get("name")) or key
    raw_forms = document.get("forms")
    wanted = _text(document.get("default_form"))
    forms: list[Substance] = []
    form_keys: list[tuple[str, str]] = []
    default: Substance | None = None
    for raw in raw_forms if isinstance(raw_forms, list) else ():
        parsed = substances_from_forms(
            key, name, [raw], product_specific_units=document.get("product_specific_units") is True
        )
        if not parsed:
            continue
        forms.append(parsed[0])
        if _text(raw.get("key")):
            form_keys.append((_text(raw.get("key")), parsed[0].form))
        if wanted and wanted in (_text(raw.get("key")), _text(raw.get("label"))):
            default = parsed[0]
    if default is None and forms:
        default = forms[0]
    classes = (_text(document.get("category")).replace("_", " "), *_texts(document.get("classes")))
    sources = _texts(document.get("sources"))
    cautions = tuple(
        IngredientCaution(
            _text(c.get("code")),
            _text(c.get("text")),
            _text(c.get("source")) or "; ".join(sources[:1]),
        )
        for c in document.get("cautions") or ()
        if isinstance(c, Mapping) and _text(c.get("code"))
    )
    return IngredientFacts(
        key=key,
        name=name,
        substance=default,
        synonyms=_texts(document.get("synonyms")),
        classes=tuple(dict.fromkeys(c for c in classes if c)),
        ingredient_id=ingredient_id,
        status=_STATUS.get(_text(document.get("status")), IngredientStatus.ACTIVE),
        status_reason=_text(document.get("status_reason")),
        status_source=_text(document.get("status_source")),
        forms=tuple(forms),
        cautions=cautions,
        form_keys=tuple(form_keys),
    )
