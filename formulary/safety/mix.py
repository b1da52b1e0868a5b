"""The ingredients of a mix, component by component, as the matching rules see them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from formulary.safety.context import IngredientFacts, SafetyContext


@dataclass(frozen=True, slots=True)
class MixMember:
    """One ingredient of the mix in one component, or a component by its own name.

    ``is_component`` members stand for the component itself (a product name such as
    "HairCocktail Plus"); their ``ingredient_key`` is that of the component's bare
    ingredient, or ``""``.
    """

    component_id: int
    ingredient_key: str
    label: str  # what a message calls it
    names: tuple[str, ...]  # every name it answers to
    classes: tuple[str, ...]
    facts: IngredientFacts | None
    is_component: bool = False


def members(ctx: SafetyContext) -> tuple[MixMember, ...]:
    """Every (component, ingredient) pair of the mix once, then every component by name.

    A component whose ingredients are unknown (a product the library cannot break
    down) is still matched by its own name, so an allergy to a product is not missed.
    """
    seen: set[tuple[int, str]] = set()
    found: list[MixMember] = []
    for contribution in ctx.contributions:
        pair = (contribution.component_id, contribution.ingredient_key)
        if pair in seen:
            continue
        seen.add(pair)
        facts = ctx.ingredient(contribution.ingredient_key)
        if facts is None:
            found.append(
                MixMember(
                    contribution.component_id,
                    contribution.ingredient_key,
                    contribution.ingredient_key,
                    (contribution.ingredient_key,),
                    (),
                    None,
                )
            )
        else:
            found.append(
                MixMember(
                    contribution.component_id,
                    facts.key,
                    facts.name,
                    facts.terms(),
                    facts.classes,
                    facts,
                )
            )
    by_id = {f.ingredient_id: f for f in ctx.ingredients.values() if f.ingredient_id is not None}
    for component in ctx.components:
        facts = by_id.get(component.ingredient_id) if component.ingredient_id is not None else None
        names: tuple[str, ...] = (component.name,)
        classes: tuple[str, ...] = ()
        if facts is not None and (component.id, facts.key) not in seen:
            names = (*facts.terms(), component.name)
            classes = facts.classes
        found.append(
            MixMember(
                component.id,
                facts.key if facts is not None else "",
                component.name,
                tuple(n for n in names if n),
                classes,
                facts,
                is_component=True,
            )
        )
    return tuple(found)


def matching(
    mix: tuple[MixMember, ...], matches: Callable[[MixMember], str | None]
) -> list[tuple[MixMember, str]]:
    """The members ``matches`` accepts, with its explanation.

    A component is reported by its own name only when none of its ingredients
    matched already: one problem, one finding.
    """
    hits = [(m, why) for m in mix if not m.is_component and (why := matches(m)) is not None]
    covered = {m.component_id for m, _ in hits}
    hits += [
        (m, why)
        for m in mix
        if m.is_component and m.component_id not in covered and (why := matches(m)) is not None
    ]
    return hits
