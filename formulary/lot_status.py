"""A lot's status: what a person decided about it, and what may change that.

A quarantine is a pause: a signer sets a lot aside while it is checked, and releases
it afterwards. A recall is final: a recalled lot is never drawn from again, so no one
releases or quarantines it. A recall recorded by mistake (the wrong row picked, a
notice about another lot number) is still corrected, since a clinic must be able to
correct what it records: an administrator lifts it, giving the reason, which the audit
trail keeps with the status before and after. The lot then goes to quarantine, not
straight back to the shelf, so that someone checks it and releases it as any
quarantined lot.

The Store enforces these rules; the app and the command line ask them too, to say so
before asking for a reason.
"""

from __future__ import annotations

from formulary.records import LotStatus

#: Where a lifted recall leaves the lot: set aside until it is checked and released.
AFTER_LIFTED_RECALL = LotStatus.QUARANTINED

_PAST = {LotStatus.AVAILABLE: "released", LotStatus.QUARANTINED: "quarantined"}


def status_change_refusal(label: str, current: LotStatus, wanted: LotStatus) -> str | None:
    """Why the lot ``label`` ("lot A1 of Biotin") may not go from ``current`` to
    ``wanted``, or None when it may (asking for the status it has changes nothing)."""
    if current is LotStatus.RECALLED and wanted is not LotStatus.RECALLED:
        return (
            f"{label} is recalled, and a recall is final: the lot is never drawn from again "
            f"and cannot be {_PAST[wanted]}; if the recall was recorded by mistake, an "
            "administrator can lift it, giving the reason (the lot then stays quarantined "
            "until it is released)"
        )
    return None


def lift_refusal(label: str, current: LotStatus) -> str | None:
    """Why the recall of ``label`` cannot be lifted (None when it can)."""
    if current is not LotStatus.RECALLED:
        return f"{label} is not recalled (it is {current.value}): there is no recall to lift"
    return None


def lifted_reason(reason: str) -> str:
    """The audit entry's reason when a recall is lifted: it says so, then why."""
    return f"recall lifted: {reason}"
