"""The ingredients of a mix, component by component, as the matching rules see them."""

from __future__ import annotations

from dataclasses import dataclass

from formulary.safety.context import IngredientFacts, SafetyContext


@dataclass(frozen=True, slots=True)
class MixMember:
    """One ingredient (or an unresolved component) of the mix and its names."""

    component_id: int
    ingredient_key: str  # "" when the component's ingredients are unknown
    label: str  # what a message calls it
    names: tuple[str, ...]  # every name it answers to, the component's own name included
    classes: tuple[str, ...]
    facts: IngredientFacts | None


def members(ctx: SafetyContext) -> tuple[MixMember, ...]:
    """Every (component, ingredient) pair of the mix, once each.

    A component whose contributions are unknown (a product the library cannot break
    down) still appears, by its own name, so that an allergy to the product name is
    not missed.
    """
    component_names = {c.id: c.name for c in ctx.components}
    seen: set[tuple[int, str]] = set()
    found: list[MixMember] = []
    for contribution in ctx.contributions:
        pair = (contribution.component_id, contribution.ingredient_key)
        if pair in seen:
            continue
        seen.add(pair)
        facts = ctx.ingredient(contribution.ingredient_key)
        own = component_names.get(contribution.component_id, "")
        if facts is None:
            names: tuple[str, ...] = (contribution.ingredient_key, own)
            classes: tuple[str, ...] = ()
            label = contribution.ingredient_key
        else:
            names = (*facts.terms(), own)
            classes = facts.classes
            label = facts.name
        found.append(
            MixMember(
                contribution.component_id,
                contribution.ingredient_key,
                label,
                tuple(n for n in names if n),
                classes,
                facts,
            )
        )
    covered = {c.component_id for c in ctx.contributions}
    for component in ctx.components:
        if component.id in covered:
            continue
        facts = None
        key = ""
        if component.ingredient_id is not None:
            facts = next(
                (f for f in ctx.ingredients.values() if f.ingredient_id == component.ingredient_id),
                None,
            )
        names = (component.name,)
        classes = ()
        if facts is not None:
            key = facts.key
            names = (*facts.terms(), component.name)
            classes = facts.classes
        found.append(
            MixMember(
                component.id,
                key,
                facts.name if facts is not None else component.name,
                tuple(n for n in names if n),
                classes,
                facts,
            )
        )
    return tuple(found)
