"""Running the rules: what is checked when a formulation is saved or a session signed.

Both entry points are pure: they read a :class:`SafetyContext` and return
:class:`Findings` in a fixed order (blocks first, then by rule, component, field and
subject), whatever order the context's tuples arrived in.
"""

from __future__ import annotations

from collections.abc import Callable

from formulary.safety.allergies import check_allergies
from formulary.safety.context import SafetyContext
from formulary.safety.contraindications import check_contraindications
from formulary.safety.findings import Finding, Findings
from formulary.safety.ingredient_status import check_ingredients
from formulary.safety.limits import check_limits
from formulary.safety.lots import check_lots
from formulary.safety.schedule import check_schedule, check_volumes

_Rule = Callable[[SafetyContext], list[Finding]]


def _prepared(ctx: SafetyContext) -> list[Finding]:
    return list(ctx.problems)


def _formulation_limits(ctx: SafetyContext) -> list[Finding]:
    return check_limits(ctx, session=False)


def _session_limits(ctx: SafetyContext) -> list[Finding]:
    return check_limits(ctx, session=True)


#: What saving a formulation checks: the mix against the patient and the library.
FORMULATION_RULES: tuple[_Rule, ...] = (
    _prepared,
    check_ingredients,
    _formulation_limits,
    check_allergies,
    check_contraindications,
)

#: What recording or signing a session checks: all of the above, with the amounts
#: actually given, plus lots, schedule and volumes.
SESSION_RULES: tuple[_Rule, ...] = (
    _prepared,
    check_ingredients,
    _session_limits,
    check_allergies,
    check_contraindications,
    check_lots,
    check_schedule,
    check_volumes,
)


def _run(ctx: SafetyContext, rules: tuple[_Rule, ...]) -> Findings:
    found: list[Finding] = []
    for rule in rules:
        found.extend(rule(ctx))
    return Findings.of(found)


def check_formulation(ctx: SafetyContext) -> Findings:
    """Findings for a formulation about to be saved for ``ctx.patient``.

    The whole mix counts as one session's dose; a course limit is projected over the
    course's planned sessions when ``ctx.course`` is given.
    """
    return _run(ctx, FORMULATION_RULES)


def check_session(ctx: SafetyContext) -> Findings:
    """Findings for a session about to be recorded or signed."""
    return _run(ctx, SESSION_RULES)
