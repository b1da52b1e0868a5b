"""Rule 3: conditions recorded on the patient against the ingredients and the procedure.

What each condition means is in :mod:`formulary.safety.contraindication_table`; this
module applies it. A rule about the procedure gives one finding on the ``procedure``
field; a rule about ingredients gives one finding per component carrying a matching
ingredient.
"""

from __future__ import annotations

from formulary.safety.context import SafetyContext
from formulary.safety.contraindication_table import condition_label, normalise_code, rules_for
from formulary.safety.findings import Finding
from formulary.safety.mix import members
from formulary.safety.terms import first_match

RULE_PROCEDURE = "contraindication.procedure"
RULE_INGREDIENT = "contraindication.ingredient"


def check_contraindications(ctx: SafetyContext) -> list[Finding]:
    """Findings for every recorded condition that concerns this mix or the procedure."""
    findings: list[Finding] = []
    mix = members(ctx)
    for condition in ctx.patient.conditions:
        code = normalise_code(condition.code)
        label = condition_label(code)
        for rule in rules_for(code):
            if rule.concerns_procedure:
                findings.append(
                    Finding(
                        rule=RULE_PROCEDURE,
                        severity=rule.severity,
                        message=f"{label}: {rule.reason}",
                        remedy=rule.remedy,
                        field="procedure",
                        subject=code,
                        source=rule.source,
                    )
                )
                continue
            for member in mix:
                hit = None
                for term in rule.ingredients:
                    hit = first_match(term, member.names) or first_match(term, member.classes)
                    if hit is not None:
                        break
                if hit is None:
                    continue
                findings.append(
                    Finding(
                        rule=RULE_INGREDIENT,
                        severity=rule.severity,
                        message=f"{member.label} with {label}: {rule.reason}",
                        remedy=rule.remedy,
                        component_id=member.component_id,
                        subject=f"{code}:{member.ingredient_key or member.label}",
                        source=rule.source,
                    )
                )
    return findings
