"""Rule 6: withdrawn or suspended ingredients, and amounts that mean more than one thing.

A withdrawn or suspended ingredient (the library notes buflomedil, suspended in the
EU since 2012) warns with the reason and its source. An amount whose meaning depends
on a form nobody stated blocks: International Units of vitamin E without saying
natural or synthetic, IU of something that has none (biotin), product-specific units
of anything but a biological product, or a mass of a toxin dosed in its own units.
An ingredient the library does not know cannot be checked at all, and blocks.
"""

from __future__ import annotations

from formulary.safety.context import Contribution, IngredientStatus, SafetyContext
from formulary.safety.express import is_known_form, known_forms
from formulary.safety.findings import Finding, Severity
from formulary.units import convert, format_amount
from formulary.units.errors import UnitsError
from formulary.units.substance import Substance

RULE_WITHDRAWN = "ingredient.withdrawn"
RULE_SUSPENDED = "ingredient.suspended"
RULE_UNKNOWN = "ingredient.unknown"
RULE_AMBIGUOUS = "ingredient.ambiguous"

_UNITS = "units"


def _ambiguity(contribution: Contribution, substance: Substance | None, name: str) -> str | None:
    """Why the contribution's amount is ambiguous, or None when it is clear."""
    unit = contribution.amount.unit
    product_units = substance is not None and substance.product_specific_units
    if product_units and unit != _UNITS:
        return (
            f"{name} is dosed in its product's own units; an amount in {unit} does not "
            "say how much was given"
        )
    if unit == _UNITS:
        if product_units:
            return None
        return f"{name} has no product-specific units (did you mean IU or a mass?)"
    if substance is not None and not is_known_form(substance, contribution.form):
        known = ", ".join(repr(n) for n in known_forms(substance))
        return f"{name} has no form {contribution.form!r}; known forms: {known}"
    # Every other amount must reach a mass of a known form: that is what IU forms,
    # salts and molar masses are for. Failing that, nobody can say what was given.
    try:
        convert(contribution.amount, "mg", substance, form=contribution.form or None)
    except UnitsError as error:
        # The finding must say which ingredient it is about, whatever the engine said.
        text = str(error)
        return text if name.casefold() in text.casefold() else f"{name}: {text}"
    return None


def check_ingredients(ctx: SafetyContext) -> list[Finding]:
    """Status and ambiguity findings, one per component and ingredient."""
    findings: list[Finding] = []
    seen: set[tuple[int, str]] = set()
    for contribution in ctx.contributions:
        facts = ctx.ingredient(contribution.ingredient_key)
        subject = contribution.ingredient_key
        if facts is None:
            findings.append(
                Finding(
                    rule=RULE_UNKNOWN,
                    severity=Severity.BLOCK,
                    message=(
                        f"'{contribution.ingredient_key}' is not in the ingredient library, so "
                        "its limits, allergies and contraindications cannot be checked"
                    ),
                    remedy="Add the ingredient to the library, or link the product to a known one.",
                    component_id=contribution.component_id,
                    subject=subject,
                )
            )
            continue
        substance = contribution.substance or facts.substance
        why = _ambiguity(contribution, substance, facts.name)
        if why is not None:
            findings.append(
                Finding(
                    rule=RULE_AMBIGUOUS,
                    severity=Severity.BLOCK,
                    message=f"{format_amount(contribution.amount)} of {facts.name}: {why}",
                    remedy=(
                        "State the form the amount refers to (for vitamin E: natural RRR or "
                        "synthetic all-rac), or give the amount by mass."
                    ),
                    component_id=contribution.component_id,
                    subject=f"{subject}:{contribution.amount.unit}:{contribution.form}",
                )
            )
        if facts.status is IngredientStatus.ACTIVE:
            continue
        pair = (contribution.component_id, subject)
        if pair in seen:
            continue
        seen.add(pair)
        withdrawn = facts.status is IngredientStatus.WITHDRAWN
        reason = facts.status_reason or "no reason recorded"
        source = f" [{facts.status_source}]" if facts.status_source else ""
        findings.append(
            Finding(
                rule=RULE_WITHDRAWN if withdrawn else RULE_SUSPENDED,
                severity=Severity.WARNING,
                message=f"{facts.name} is {facts.status.value}: {reason}{source}",
                remedy=(
                    f"Remove {facts.name} from the mix, or record why it is still used "
                    "and that the patient was told."
                ),
                component_id=contribution.component_id,
                subject=subject,
                source=facts.status_source,
            )
        )
    return findings
