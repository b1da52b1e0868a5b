"""The chart as two CSV files: sessions, and the components drawn in each session.

Both are UTF-8, RFC 4180 (comma separated, CRLF line ends, fields quoted when they hold
a comma, quote or line break, quotes doubled) and joined by ``session_id``. Amounts
are split into a number column and a unit column so a spreadsheet can sum them.
Every text cell goes through :func:`formulary.export.safe_text.neutralise`; number
cells are written by this module from Decimals and ints, never from free text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from formulary import session_fields
from formulary.export.display import iso_time, show_technique
from formulary.export.safe_text import neutralise
from formulary.export.selection import course_of, lots_for, sessions_in_order, version_of
from formulary.records import (
    FormulationVersion,
    Override,
    PatientChart,
    ScalpZone,
    Session,
    ZoneVolume,
)
from formulary.session_fields import Kind, SessionField
from formulary.units.amount import Amount
from formulary.units.display import round_significant

#: File names of the two tables, in the order they are written.
SESSIONS_FILE = "sessions.csv"
COMPONENTS_FILE = "session_components.csv"


class Number:
    """A cell that holds a number this module computed (never neutralised)."""

    __slots__ = ("text",)

    def __init__(self, value: Decimal | int) -> None:
        self.text = format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


Cell = str | Number | None


def _number(value: Decimal | int | None) -> Number | None:
    return None if value is None else Number(value)


def _amount(amount: Amount | None) -> list[Cell]:
    """The number and unit columns of one amount."""
    if amount is None:
        return [None, None]
    return [Number(amount.value), amount.unit]


def _volume(zone: ZoneVolume | None) -> Amount | None:
    return None if zone is None else zone.volume


def _points(zone: ZoneVolume | None) -> int | None:
    return None if zone is None else zone.points


def _per_point(zone: ZoneVolume | None) -> Amount | None:
    """The derived volume per point, to six significant figures (it is a quotient)."""
    per_point = None if zone is None else zone.volume_per_point
    if per_point is None:
        return None
    return Amount(round_significant(per_point.value, 6), per_point.unit)


def _amount_header(name: str) -> list[str]:
    return [name, f"{name}_unit"]


#: sessions.csv: the session's id and status, every declared session field's columns
#: (formulary.session_fields, in its order), then the signature, the addenda and who
#: prepared the session (added last, so that readers by position keep working).
SESSION_COLUMNS: tuple[str, ...] = (
    "session_id",
    "status",
    *session_fields.csv_columns(),
    "signed_by",
    "signed_by_name",
    "signed_at",
    "signature_meaning",
    "content_hash",
    "addenda",
    "prepared_by",
    "prepared_by_name",
)

COMPONENT_COLUMNS: tuple[str, ...] = (
    "session_id",
    "component_id",
    "position",
    "component",
    *_amount_header("amount"),
    "product_id",
    "ingredient_id",
    "lot_id",
    "lot_number",
    "lot_expiry",
    *_amount_header("drawn"),
)


def _blocks(version: FormulationVersion | None) -> tuple[Override, ...]:
    """The blocks overridden to save the formulation version a session gave."""
    return tuple(o for o in version.overrides if o.severity == "block") if version else ()


def _overrides_of(chart: PatientChart, session: Session) -> list[tuple[str, Override]]:
    """The formulation version's overridden blocks (labelled), then the session's own."""
    version = version_of(chart, session)
    label = f"formulation version {version.version}: " if version else ""
    return [*((label, o) for o in _blocks(version)), *(("", o) for o in session.overrides)]


def _session_row(chart: PatientChart, session: Session) -> list[Cell]:
    signature = session.signature
    preparer = session.prepared_by
    cells: list[Cell] = [Number(session.id), session.status.value]
    for declared in session_fields.FIELDS:
        if declared.csv:
            cells.extend(_field_cells(chart, session, declared))
    cells += [
        signature.signer.username if signature else None,
        signature.signer.full_name if signature else None,
        iso_time(signature.signed_at) if signature else None,
        signature.meaning if signature else None,
        signature.content_hash if signature else None,
        "\n".join(
            f"{iso_time(a.signature.signed_at)} {a.signature.signer.username}"
            f" ({a.reason}): {a.text}"
            for a in session.addenda
        ),
        preparer.username if preparer else None,
        preparer.full_name if preparer else None,
    ]
    return cells


def _field_cells(chart: PatientChart, session: Session, declared: SessionField) -> list[Cell]:
    """The CSV cells of one declared field: numbers, quantities and text by their kind."""
    if declared.simple:
        if declared.kind is Kind.AMOUNT:
            return _amount(declared.amount_of(session))
        if declared.kind is Kind.INT:
            return [_number(declared.int_of(session))]
        return [declared.text_of(session)]
    special = _SPECIAL.get(declared.name)
    if special is None:
        raise LookupError(f"the session field {declared.name} has CSV columns but no writer")
    return special(chart, session)


def _zone_cells(_chart: PatientChart, session: Session) -> list[Cell]:
    zones: dict[ScalpZone, ZoneVolume] = {z.zone: z for z in session.zones}
    return [
        *(cell for zone in ScalpZone for cell in _amount(_volume(zones.get(zone)))),
        *(_number(_points(zones.get(zone))) for zone in ScalpZone),
        *(cell for zone in ScalpZone for cell in _amount(_per_point(zones.get(zone)))),
    ]


def _course_cells(chart: PatientChart, session: Session) -> list[Cell]:
    course = course_of(chart, session)
    return [_number(session.course_id), course.name if course else None]


def _version_cells(chart: PatientChart, session: Session) -> list[Cell]:
    version = version_of(chart, session)
    return [
        Number(session.formulation_version_id),
        version.formulation_name if version else None,
        _number(version.version) if version else None,
    ]


#: Writers of the fields that are not a plain number, quantity or text.
_SPECIAL: dict[str, Callable[[PatientChart, Session], list[Cell]]] = {
    "patient_id": lambda chart, _session: [chart.patient.chart_number],
    "performed_at": lambda _chart, session: [iso_time(session.performed_at)],
    "course_id": _course_cells,
    "formulation_version_id": _version_cells,
    "technique": lambda _chart, session: [show_technique(session.technique)],
    "zones": _zone_cells,
    "adverse_events": lambda _chart, session: [
        "; ".join(
            ", ".join(part for part in (e.kind, e.severity, e.description) if part)
            for e in session.adverse_events
        )
    ],
    "overrides": lambda chart, session: [
        "\n".join(
            f"{where}{o.severity} {o.rule} overridden, signed by {o.signed_by} ({o.by}) at "
            f"{iso_time(o.at)}" + (f" ({o.meaning})" if o.meaning else "") + f": {o.reason}"
            for where, o in _overrides_of(chart, session)
        )
    ],
}


def _component_rows(chart: PatientChart, session: Session) -> Iterable[list[Cell]]:
    version = version_of(chart, session)
    components = version.components if version else ()
    for component in sorted(components, key=lambda c: c.position):
        head: list[Cell] = [
            Number(session.id),
            Number(component.id),
            Number(component.position),
            component.name,
            *_amount(component.amount),
            _number(component.product_id),
            _number(component.ingredient_id),
        ]
        lots = lots_for(session, component.id)
        if not lots:
            yield [*head, None, None, None, None, None]
        for lot in lots:
            yield [
                *head,
                Number(lot.lot_id),
                lot.lot_number,
                lot.expiry.isoformat(),
                *_amount(lot.drawn),
            ]


def _render(header: Sequence[str], rows: Iterable[list[Cell]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        if len(row) != len(header):  # a programming error, never user input
            raise AssertionError(f"CSV row has {len(row)} cells for {len(header)} columns")
        writer.writerow(_cell_text(cell) for cell in row)
    return buffer.getvalue().encode("utf-8")


def _cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Number):
        return cell.text
    return neutralise(cell)


def sessions_csv(chart: PatientChart) -> bytes:
    """One row per session, oldest first."""
    return _render(SESSION_COLUMNS, (_session_row(chart, s) for s in sessions_in_order(chart)))


def components_csv(chart: PatientChart) -> bytes:
    """One row per component and lot drawn in each session (join on ``session_id``).

    A component drawn from two lots gets two rows; one with no lot recorded gets one
    row with empty lot columns.
    """
    return _render(
        COMPONENT_COLUMNS,
        (row for s in sessions_in_order(chart) for row in _component_rows(chart, s)),
    )


def render_csv(chart: PatientChart) -> dict[str, bytes]:
    """Both tables, keyed by their file names."""
    return {SESSIONS_FILE: sessions_csv(chart), COMPONENTS_FILE: components_csv(chart)}
