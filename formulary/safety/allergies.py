"""Rule 2: the patient's allergies and intolerances against every ingredient of the mix.

An allergy matches an ingredient by its library id, by any of its names and
synonyms, by the name of the component (product) carrying it, or by a class it
belongs to: an allergy to "amino acids" matches every amino acid, one to
"sulphites" every ingredient tagged sulfite. An allergy blocks; an intolerance warns.
"""

from __future__ import annotations

from functools import partial

from formulary.records import Allergy
from formulary.safety.context import SafetyContext
from formulary.safety.findings import Finding, Severity
from formulary.safety.mix import MixMember, matching, members
from formulary.safety.terms import first_match, words

RULE_ALLERGY = "allergy"
RULE_INTOLERANCE = "intolerance"


def _why(allergy: Allergy, member: MixMember) -> str | None:
    """How ``allergy`` matches ``member`` (for the message), or None."""
    facts = member.facts
    if (
        allergy.ingredient_id is not None
        and facts is not None
        and facts.ingredient_id == allergy.ingredient_id
    ):
        return "recorded against this ingredient"
    if not words(allergy.substance):
        return None
    named = first_match(allergy.substance, member.names)
    if named is not None:
        return f"matches '{named}'"
    in_class = first_match(allergy.substance, member.classes)
    if in_class is not None:
        return f"belongs to the class '{in_class}'"
    return None


def check_allergies(ctx: SafetyContext) -> list[Finding]:
    """One finding per (allergy, component, ingredient) that matches."""
    findings: list[Finding] = []
    mix = members(ctx)
    for allergy in ctx.patient.allergies:
        intolerance = allergy.kind.strip().casefold() == "intolerance"
        for member, why in matching(mix, partial(_why, allergy)):
            kind = "intolerance" if intolerance else "allergy"
            reaction = f" (reaction: {allergy.reaction})" if allergy.reaction.strip() else ""
            findings.append(
                Finding(
                    rule=RULE_INTOLERANCE if intolerance else RULE_ALLERGY,
                    severity=Severity.WARNING if intolerance else Severity.BLOCK,
                    message=(
                        f"{member.label} ({why}) and the patient has a recorded {kind} "
                        f"to {allergy.substance}{reaction}"
                    ),
                    remedy=(
                        f"Remove {member.label} from the mix or choose a product without it; "
                        "if the record is wrong, correct the patient's allergies."
                    ),
                    component_id=member.component_id,
                    subject=f"{member.ingredient_key}:{allergy.substance.strip().casefold()}",
                )
            )
    return findings
