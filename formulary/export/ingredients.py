"""What each ingredient of a formulation version amounts to, for the formulation table.

A version may carry its computed :class:`~formulary.records.IngredientLine` values; when
it does not (the database stores components, not results), they are computed here from
the components and the products' labelled strengths with :func:`formulary.mixing.mix`,
made up to the version's final volume (or, without one, to the volume drawn).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from formulary.mixing import Addition, Draw, Strength, mix
from formulary.records import FormulationVersion, IngredientLine, PatientChart, Product
from formulary.units.amount import Amount
from formulary.units.catalog import BY_CANONICAL, VOLUME
from formulary.units.errors import UnitsError


@dataclass(frozen=True, slots=True)
class IngredientTable:
    """The lines to print, or why there are none."""

    lines: tuple[IngredientLine, ...]
    problem: str = ""


def ingredient_table(chart: PatientChart, version: FormulationVersion) -> IngredientTable:
    """The ingredient lines of ``version``: as carried, or computed from its components."""
    return ingredient_lines(version, chart.products)


def ingredient_lines(
    version: FormulationVersion, products_drawn: Iterable[Product]
) -> IngredientTable:
    """:func:`ingredient_table` from the products themselves (those the version draws)."""
    if version.ingredient_lines:
        return IngredientTable(version.ingredient_lines)
    if not version.components:
        return IngredientTable((), "the version has no components")
    products = {p.id: p for p in products_drawn}
    names: dict[Hashable, tuple[int, str, str]] = {}
    parts: list[Draw | Addition] = []
    for component in sorted(version.components, key=lambda c: c.position):
        if component.product_id is not None:
            product = products.get(component.product_id)
            if product is None or not product.ingredients:
                return IngredientTable(
                    (), f"the strengths of {component.name} are not on record"
                )
            strengths = []
            for item in product.ingredients:
                key = (item.ingredient_id, item.form)
                names.setdefault(key, (item.ingredient_id, item.ingredient_name, item.form))
                strengths.append(Strength(key, item.strength))
            parts.append(Draw(component.amount, tuple(strengths), component.name))
        elif component.ingredient_id is not None:
            key = (component.ingredient_id, "")
            names.setdefault(key, (component.ingredient_id, component.name, ""))
            parts.append(Addition(key, component.amount, component.name))
        else:
            return IngredientTable(
                (), f"{component.name} names neither a product nor an ingredient"
            )
    final = version.final_volume or _drawn(version)
    if final is None:
        return IngredientTable((), "the version has no final volume")
    try:
        result = mix(parts, final)
    except (UnitsError, KeyError) as exc:
        return IngredientTable((), str(exc))
    lines = []
    for line in result.lines:
        ingredient_id, name, form = names[line.key]
        lines.append(IngredientLine(ingredient_id, name, form, line.amount,
                                    line.final_concentration))
    return IngredientTable(tuple(lines))


def _drawn(version: FormulationVersion) -> Amount | None:
    volumes = [
        c.amount for c in version.components
        if c.amount.unit in BY_CANONICAL and BY_CANONICAL[c.amount.unit].kind == VOLUME
    ]
    if not volumes or any(v.unit != "mL" for v in volumes):
        return None
    return Amount(sum((v.value for v in volumes), start=Decimal(0)), "mL")
