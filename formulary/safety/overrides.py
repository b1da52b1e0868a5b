"""Deciding whether work may proceed past its findings, and what to record when it does.

A warning proceeds once acknowledged (with a written reason when the finding
``needs_reason``, recorded like an override's); a block only with an override, given
by a practitioner or an admin, with a written reason. :func:`resolve` either refuses
(raising a :class:`SafetyError` whose message says what is missing) or returns the
:class:`~formulary.records.Override` records the Store must save with the session
and write into the audit entry, so that every export of the session shows them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from formulary.records import Override, Role
from formulary.safety.findings import Finding, Findings

#: Who may override a block.
OVERRIDE_ROLES: frozenset[Role] = frozenset({Role.PRACTITIONER, Role.ADMIN})

#: The shortest reason accepted for an override: a word or two is not a reason.
MIN_REASON_LENGTH = 10

ACKNOWLEDGED = "acknowledged"

#: The meaning of an override signature, bound to each finding overridden.
OVERRIDE_MEANING = "safety override: I take responsibility for proceeding"
#: The meaning recorded for a warning acknowledged without an override.
ACKNOWLEDGED_MEANING = "warning acknowledged"


class SafetyError(Exception):
    """The findings stop the work; ``str()`` says what is needed to proceed."""

    def __init__(self, message: str, findings: Findings) -> None:
        super().__init__(message)
        self.findings = findings


class AcknowledgementRequired(SafetyError):
    """Warnings were not acknowledged."""


class ReasonRequired(AcknowledgementRequired):
    """A warning that needs a written reason was acknowledged without one."""


class OverrideRequired(SafetyError):
    """Something blocks and no override reason was given."""


class OverrideNotPermitted(SafetyError):
    """Something blocks and the user's role may not override it."""


def _count(findings: Collection[Finding], noun: str) -> str:
    return f"{len(findings)} {noun}{'s' if len(findings) != 1 else ''}"


def _listed(findings: Collection[Finding]) -> str:
    return "; ".join(f.message for f in findings)


def resolve(
    findings: Findings,
    *,
    by: str,
    role: Role,
    at: datetime,
    acknowledge: bool | Collection[str] = False,
    override_reason: str | None = None,
    signer_name: str = "",
) -> tuple[Override, ...]:
    """The overrides and acknowledgements to record, or a refusal.

    ``acknowledge`` is True to acknowledge every warning, or the
    :attr:`Finding.key` of each warning acknowledged one by one. An override (a
    non-empty ``override_reason`` from a practitioner or admin) also acknowledges the
    warnings, recording the same reason. ``at`` is the UTC time of the decision.

    An override is a signature: the caller has checked the practitioner's password,
    and each record carries ``signer_name`` (their printed name), ``at`` and the
    meaning (:data:`OVERRIDE_MEANING`, or :data:`ACKNOWLEDGED_MEANING` for a warning
    acknowledged without an override).
    """
    reason = (override_reason or "").strip()
    if findings.blocks:
        if not reason:
            raise OverrideRequired(
                f"{_count(findings.blocks, 'finding')} block this ({_listed(findings.blocks)}); "
                "a practitioner or admin must override with a written reason",
                findings,
            )
        if role not in OVERRIDE_ROLES:
            raise OverrideNotPermitted(
                f"{_count(findings.blocks, 'finding')} block this ({_listed(findings.blocks)}) "
                f"and a {role.value} may not override; ask a practitioner or an admin",
                findings,
            )
        if len(reason) < MIN_REASON_LENGTH:
            raise OverrideRequired(
                f"the override reason must say why it is safe to proceed (at least "
                f"{MIN_REASON_LENGTH} characters)",
                findings,
            )
    explain = tuple(w for w in findings.warnings if w.needs_reason)
    if explain and len(reason) < MIN_REASON_LENGTH:
        # Like an override's, the reason is recorded with every acknowledgement.
        raise ReasonRequired(
            f"{_count(explain, 'warning')} must be acknowledged with a written reason "
            f"({_listed(explain)}); say why it is right to proceed"
            + (f" (at least {MIN_REASON_LENGTH} characters)" if reason else ""),
            findings,
        )
    if not reason and findings.warnings:
        if acknowledge is True:
            pending: tuple[Finding, ...] = ()
        elif acknowledge is False:
            pending = findings.warnings
        else:
            keys = frozenset(acknowledge)
            pending = tuple(w for w in findings.warnings if w.key not in keys)
        if pending:
            raise AcknowledgementRequired(
                f"{_count(pending, 'warning')} must be acknowledged first ({_listed(pending)})",
                findings,
            )
    recorded: list[Override] = []
    for finding in findings:
        recorded.append(
            Override(
                rule=finding.rule,
                message=finding.message,
                severity=finding.severity.value,
                reason=reason or ACKNOWLEDGED,
                by=by,
                at=at,
                signer_name=signer_name or by,
                meaning=OVERRIDE_MEANING if reason else ACKNOWLEDGED_MEANING,
            )
        )
    return tuple(recorded)
