"""Clinical safety rules: pure checks of a formulation or session before it is saved.

    check_formulation(ctx) -> Findings      # when a formulation version is saved
    check_session(ctx) -> Findings          # when a session is recorded or signed
    resolve(findings, by=, role=, at=, acknowledge=, override_reason=, signer_name=)
        -> tuple[Override, ...]

A :class:`SafetyContext` carries everything the rules read; the Store builds it from
its rows with the helpers in :mod:`formulary.safety.build` (library facts and limits,
components broken down into per-ingredient contributions).
"""

from formulary.safety.check import check_formulation, check_session
from formulary.safety.context import (
    Contribution,
    IngredientFacts,
    IngredientStatus,
    Limit,
    LimitPer,
    LotDraw,
    PreviousSession,
    SafetyContext,
)
from formulary.safety.contraindication_table import CONDITIONS, RULES, ConditionCode
from formulary.safety.findings import Finding, Findings, Severity
from formulary.safety.limits import merge_limits
from formulary.safety.overrides import (
    ACKNOWLEDGED_MEANING,
    OVERRIDE_MEANING,
    AcknowledgementRequired,
    OverrideNotPermitted,
    OverrideRequired,
    ReasonRequired,
    SafetyError,
    resolve,
)

__all__ = [
    "ACKNOWLEDGED_MEANING",
    "CONDITIONS",
    "OVERRIDE_MEANING",
    "RULES",
    "AcknowledgementRequired",
    "ConditionCode",
    "Contribution",
    "Finding",
    "Findings",
    "IngredientFacts",
    "IngredientStatus",
    "Limit",
    "LimitPer",
    "LotDraw",
    "OverrideNotPermitted",
    "OverrideRequired",
    "PreviousSession",
    "ReasonRequired",
    "SafetyContext",
    "SafetyError",
    "Severity",
    "check_formulation",
    "check_session",
    "merge_limits",
    "resolve",
]
