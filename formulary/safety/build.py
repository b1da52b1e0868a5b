"""Building the rules' input from library entries and records.

The Store (and tests) turn what they hold into a :class:`SafetyContext` with these
helpers: :func:`facts_from_library` and :func:`limits_from_library` read a library
entry; :func:`contributions` breaks a formulation's components into what each puts
of each ingredient into the mix (concentration × volume drawn for a product, the
amount itself for an ingredient added by amount). A component whose amounts cannot
be worked out becomes a blocking finding, never a silent gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import localcontext

from formulary.library.errors import UnknownForm
from formulary.library.model import Ingredient
from formulary.mixing import amount_in
from formulary.records import Component, IngredientStrength, Product
from formulary.safety.context import (
    Contribution,
    IngredientCaution,
    IngredientFacts,
    IngredientStatus,
    Limit,
    LimitPer,
)
from formulary.safety.findings import Finding, Severity
from formulary.units import convert, format_amount
from formulary.units.amount import Amount
from formulary.units.errors import UnitsError

RULE_UNRESOLVED = "component.unresolved"

#: How a library dose figure is counted. A per-wheal figure is checked against the
#: amount in each injection point (the zone's volume per point, charted per session).
_PER = {
    "session": LimitPer.SESSION,
    "injection": LimitPer.SESSION,
    "kg": LimitPer.KG,
    "wheal": LimitPer.WHEAL,
}


def facts_from_library(ingredient: Ingredient, ingredient_id: int | None = None) -> IngredientFacts:
    """What the rules need of a library entry; ``ingredient_id`` is the clinic's row id."""
    classes = (ingredient.category.replace("_", " "), *ingredient.classes)
    forms = tuple(ingredient.substance(form.key) for form in ingredient.forms)
    return IngredientFacts(
        key=ingredient.key,
        name=ingredient.name,
        substance=ingredient.substance(),
        synonyms=ingredient.synonyms,
        classes=tuple(dict.fromkeys(c for c in classes if c)),
        ingredient_id=ingredient_id,
        status=IngredientStatus.WITHDRAWN if ingredient.withdrawn else IngredientStatus.ACTIVE,
        status_reason=ingredient.status_reason,
        status_source=ingredient.status_source,
        forms=forms,
        cautions=tuple(
            IngredientCaution(c.code, c.text, c.source or "; ".join(ingredient.sources[:1]))
            for c in ingredient.cautions
        ),
        form_keys=tuple((form.key, form.label) for form in ingredient.forms),
    )


def limits_from_library(ingredient: Ingredient) -> tuple[Limit, ...]:
    """The published maxima of a library entry as limits, each with its source.

    Per-session and per-injection figures count over a session; per-kg figures are
    multiplied by the patient's recorded weight; per-wheal figures count the amount in
    one injection point (see ``_PER``).
    """
    limits: list[Limit] = []
    for figure in ingredient.limits:
        per = _PER.get(figure.per)
        if per is None:
            continue
        try:
            target = ingredient.substance(figure.basis) if figure.basis else None
        except UnknownForm:
            target = None  # a basis (element, base) rather than a form: counted as such
        limits.append(
            Limit(
                subject=ingredient.key,
                amount=figure.amount,
                per=per,
                source=figure.source,
                basis=figure.basis,
                note=figure.note,
                target=target,
            )
        )
    return tuple(limits)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A formulation's components as contributions, and what could not be worked out."""

    contributions: tuple[Contribution, ...]
    problems: tuple[Finding, ...]


def _unresolved(component: Component, why: str) -> Finding:
    return Finding(
        rule=RULE_UNRESOLVED,
        severity=Severity.BLOCK,
        message=f"the amounts in {component.name} cannot be worked out: {why}",
        remedy=(
            "Correct the product's ingredient strengths or the component's amount, "
            "so that each ingredient's amount is known."
        ),
        component_id=component.id,
        subject=str(component.id),
    )


def _from_strength(
    component: Component, strength: IngredientStrength, facts: IngredientFacts
) -> Contribution:
    amount = amount_in(strength.strength, component.amount)
    substance = facts.substance_for(strength.form)
    if substance is not None:
        return Contribution(component.id, facts.key, amount, "", substance)
    # The label states a basis or an IU form (elemental zinc, IU of retinol): the
    # amount is of that basis, within the ingredient's default form.
    return Contribution(component.id, facts.key, amount, strength.form, facts.substance)


def contributions(
    components: Iterable[Component],
    products: Mapping[int, Product],
    ingredients: Mapping[int, IngredientFacts],
) -> Breakdown:
    """What each component puts of each ingredient into the mix.

    ``products`` and ``ingredients`` are keyed by the clinic's row ids (the ids
    components and ingredient strengths carry).
    """
    found: list[Contribution] = []
    problems: list[Finding] = []
    for component in components:
        if component.product_id is not None:
            product = products.get(component.product_id)
            if product is None:
                problems.append(_unresolved(component, "the product is not in the formulary"))
                continue
            if not product.ingredients:
                problems.append(_unresolved(component, "the product lists no ingredients"))
                continue
            for strength in product.ingredients:
                facts = ingredients.get(strength.ingredient_id)
                if facts is None:
                    why = f"{strength.ingredient_name} is not in the library"
                    problems.append(_unresolved(component, why))
                    continue
                try:
                    found.append(_from_strength(component, strength, facts))
                except UnitsError as error:
                    why = (
                        f"{format_amount(strength.strength)} of {strength.ingredient_name} "
                        f"x {format_amount(component.amount)}: {error}"
                    )
                    problems.append(_unresolved(component, why))
        elif component.ingredient_id is not None:
            facts = ingredients.get(component.ingredient_id)
            if facts is None:
                problems.append(_unresolved(component, "the ingredient is not in the library"))
                continue
            found.append(Contribution(component.id, facts.key, component.amount))
        else:
            why = "it names neither a product nor an ingredient"
            problems.append(_unresolved(component, why))
    return Breakdown(tuple(found), tuple(problems))


def administered(
    given: Iterable[Contribution], final_volume: Amount | None, total_volume: Amount | None
) -> tuple[Contribution, ...]:
    """What a session actually gave: the mix amounts scaled by the share of it injected.

    Used for the earlier sessions of a course (their doses count toward per-course
    limits). Without both volumes, or when they cannot be compared, the whole mix
    counts: a per-course total is never under-counted.
    """
    items = tuple(given)
    if final_volume is None or total_volume is None or final_volume.value <= 0:
        return items
    try:
        share_ml = convert(total_volume, final_volume.unit).value
    except UnitsError:
        return items
    with localcontext() as work:
        work.prec = 60
        share = share_ml / final_volume.value
        return tuple(
            replace(c, amount=Amount(c.amount.value * share, c.amount.unit)) for c in items
        )
