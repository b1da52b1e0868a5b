"""Rule 3: conditions recorded on the patient against the ingredients and the procedure.

What each condition means is in :mod:`formulary.safety.contraindication_table`; this
module applies it. A rule about the procedure gives one finding on the ``procedure``
field; a rule about ingredients gives one finding per component carrying a matching
ingredient.
"""

from __future__ import annotations

from functools import partial

from formulary.safety.context import SafetyContext
from formulary.safety.contraindication_table import (
    caution_rules_for,
    condition_label,
    normalise_code,
    rules_for,
)
from formulary.safety.findings import Finding
from formulary.safety.mix import MixMember, matching, members
from formulary.safety.terms import first_match

RULE_PROCEDURE = "contraindication.procedure"
RULE_INGREDIENT = "contraindication.ingredient"
RULE_CAUTION = "contraindication.caution"


def check_contraindications(ctx: SafetyContext) -> list[Finding]:
    """Findings for every recorded condition that concerns this mix or the procedure."""
    findings: list[Finding] = []
    mix = members(ctx)
    matched: set[tuple[str, int, str]] = set()
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
            for member, _ in matching(mix, partial(_hit, rule.ingredients)):
                matched.add((code, member.component_id, member.ingredient_key or member.label))
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
        findings.extend(_cautions(code, label, mix, matched))
    return findings


def _hit(terms: tuple[str, ...], member: MixMember) -> str | None:
    """The name or class of ``member`` that one of ``terms`` matches, or None."""
    for term in terms:
        hit = first_match(term, member.names) or first_match(term, member.classes)
        if hit is not None:
            return hit
    return None


def _caution_text(code: str, member: MixMember) -> str | None:
    """The member's published cautions of kind ``code``, joined, or None."""
    if member.facts is None:
        return None
    texts = [c.text for c in member.facts.cautions_of(code)]
    return "; ".join(texts) if texts else None


def _caution_source(code: str, member: MixMember) -> str:
    assert member.facts is not None
    sources = [c.source for c in member.facts.cautions_of(code) if c.source]
    return "; ".join(dict.fromkeys(sources)) or "ingredient library"


def _cautions(
    code: str, label: str, mix: tuple[MixMember, ...], matched: set[tuple[str, int, str]]
) -> list[Finding]:
    """The library's published cautions that this condition brings into play."""
    found: list[Finding] = []
    for rule in caution_rules_for(code):
        for member, text in matching(mix, partial(_caution_text, rule.caution_code)):
            subject = member.ingredient_key or member.label
            if (code, member.component_id, subject) in matched:
                continue
            found.append(
                Finding(
                    rule=RULE_CAUTION,
                    severity=rule.severity,
                    message=f"{member.label} with {label}: {text}",
                    remedy=rule.remedy,
                    component_id=member.component_id,
                    subject=f"{code}:{subject}",
                    source=_caution_source(rule.caution_code, member),
                )
            )
    return found
