"""What a safety check reports: findings, their severity and where they belong.

A :class:`Finding` is one problem with a formulation or a session. It carries a
locator (``component_id`` and/or ``field``) so that the editor can show it beside the
line it concerns, a stable ``rule`` id, a message saying what is wrong and a
``remedy`` saying what to do about it. :class:`Findings` is the ordered, de-duplicated
result of running the rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How a finding stops the work.

    A warning must be acknowledged before signing; a block must be overridden by a
    practitioner or an admin with a written reason.
    """

    BLOCK = "block"
    WARNING = "warning"


# Blocks are listed before warnings wherever findings are shown.
_SEVERITY_ORDER = {Severity.BLOCK: 0, Severity.WARNING: 1}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found by a safety rule.

    ``field`` names the form field a finding belongs to when it is not about one
    component: ``"patient.allergies"``, ``"patient.conditions"``, ``"patient.weight"``,
    ``"performed_at"``, ``"total_volume"``, ``"zones"``, ``"lots"``, ``"procedure"``.
    ``subject`` identifies what the finding is about (an ingredient key, a lot
    number, a condition code) so that the same problem found twice is reported once
    and an acknowledgement can be matched to it.
    """

    rule: str
    severity: Severity
    message: str
    remedy: str
    component_id: int | None = None
    field: str | None = None
    subject: str = ""
    source: str = ""
    #: A warning whose acknowledgement must say why (a written reason), because
    #: proceeding is a decision the chart must explain, e.g. a second session the same
    #: day: ticking "I have read it" is not enough.
    needs_reason: bool = False

    @property
    def key(self) -> str:
        """A stable identifier of this problem, for matching acknowledgements."""
        component = "" if self.component_id is None else str(self.component_id)
        return f"{self.rule}|{component}|{self.field or ''}|{self.subject}"

    @property
    def is_block(self) -> bool:
        """True when this finding needs an override to proceed."""
        return self.severity is Severity.BLOCK

    def as_dict(self) -> dict[str, str | int | None]:
        """The finding as plain JSON values (``--json`` output, the app's tables)."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "remedy": self.remedy,
            "component_id": self.component_id,
            "field": self.field,
            "subject": self.subject,
            "source": self.source,
            "key": self.key,
        }

    def line(self) -> str:
        """The finding on one line, as the headless commands print it."""
        where = []
        if self.component_id is not None:
            where.append(f"component {self.component_id}")
        if self.field:
            where.append(self.field)
        located = f" [{', '.join(where)}]" if where else ""
        return (
            f"{self.severity.value.upper()} {self.rule}{located}: {self.message} -> {self.remedy}"
        )


def _sort_key(finding: Finding) -> tuple[int, str, int, str, str, str]:
    return (
        _SEVERITY_ORDER[finding.severity],
        finding.rule,
        -1 if finding.component_id is None else finding.component_id,
        finding.field or "",
        finding.subject,
        finding.message,
    )


@dataclass(frozen=True, slots=True)
class Findings:
    """The result of a check: findings in a fixed order, blocks first.

    The order depends only on the findings themselves (severity, rule, component,
    field, subject, message), never on the order the inputs arrived in.
    """

    items: tuple[Finding, ...] = ()

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> Findings:
        """Sort and de-duplicate ``findings`` (same key and message are one finding)."""
        unique: dict[tuple[str, str], Finding] = {}
        for finding in findings:
            unique.setdefault((finding.key, finding.message), finding)
        return cls(tuple(sorted(unique.values(), key=_sort_key)))

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def blocks(self) -> tuple[Finding, ...]:
        """Findings that need an override."""
        return tuple(f for f in self.items if f.severity is Severity.BLOCK)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings that need an acknowledgement."""
        return tuple(f for f in self.items if f.severity is Severity.WARNING)

    @property
    def requires_override(self) -> bool:
        """True when at least one finding blocks."""
        return any(f.severity is Severity.BLOCK for f in self.items)

    @property
    def requires_acknowledgement(self) -> bool:
        """True when at least one warning must be acknowledged."""
        return any(f.severity is Severity.WARNING for f in self.items)

    @property
    def clear(self) -> bool:
        """True when nothing was found."""
        return not self.items

    def for_component(self, component_id: int) -> tuple[Finding, ...]:
        """The findings shown beside one component."""
        return tuple(f for f in self.items if f.component_id == component_id)

    def for_field(self, field: str) -> tuple[Finding, ...]:
        """The findings shown beside one form field."""
        return tuple(f for f in self.items if f.field == field)

    def to_read(self) -> tuple[Finding, ...]:
        """The findings as a person reads them: the same severity and message once.

        One ingredient in two components raises the same finding for each component
        (each is shown beside its own line in the editor); a list to read and decide
        on says it once.
        """
        seen: set[tuple[Severity, str]] = set()
        out = []
        for finding in self.items:
            if (finding.severity, finding.message) not in seen:
                seen.add((finding.severity, finding.message))
                out.append(finding)
        return tuple(out)

    def lines(self) -> tuple[str, ...]:
        """One printable line per finding."""
        return tuple(f.line() for f in self.items)
