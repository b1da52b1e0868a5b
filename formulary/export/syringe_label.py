"""The syringe label: what USP <797> asks a compounded sterile preparation to carry.

Patient name and chart number, when it was prepared and by whom, each ingredient with
its amount and final concentration, the total volume, the route, the lot and expiry
of every component, a beyond-use time (the clinic's setting, shown in local time) and
a Code 128 barcode of ``SESSION-<id>`` that the app's patient search opens when it is
scanned.

Three sizes (:data:`SIZES`): a 62×29 mm roll label, a 4×6 in shipping label and an A4
sheet of 24 (3×8 labels of 70×37 mm). Text is shrunk to fit; a label that still does
not fit at the smallest legible size continues on a second label ("label 2 of 2"),
never cut. Renderers take every value from the caller (no clock, no database).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from formulary.export.code128 import pattern, session_code
from formulary.export.display import show_amount, show_date
from formulary.export.ingredients import ingredient_table
from formulary.export.pdf_note import FONT, font_paths
from formulary.export.selection import SessionNotInChart, version_of
from formulary.records import PatientChart, SessionStatus

if TYPE_CHECKING:
    from fpdf import FPDF


@dataclass(frozen=True, slots=True)
class LabelSize:
    """A label stock: page size, label size and how many labels a page holds."""

    name: str
    page_w: float  # mm
    page_h: float
    label_w: float
    label_h: float
    columns: int = 1
    rows: int = 1
    left: float = 0.0  # page margins of a sheet
    top: float = 0.0
    max_font: float = 7.0  # pt
    min_font: float = 4.0


SIZES: dict[str, LabelSize] = {
    "62x29": LabelSize("62x29", 62, 29, 62, 29, max_font=6.5, min_font=4.0),
    "4x6": LabelSize("4x6", 101.6, 152.4, 101.6, 152.4, max_font=12, min_font=6),
    "a4-24": LabelSize("a4-24", 210, 297, 70, 37, columns=3, rows=8, left=0, top=0.5,
                       max_font=7.5, min_font=4.0),
}

DEFAULT_SIZE = "62x29"
ROUTE = "Intradermal (scalp)"


class LabelError(ValueError):
    """A label that cannot be made (unknown size, too many copies)."""


@dataclass(frozen=True, slots=True)
class SyringeLabel:
    """Everything one syringe label prints, already in words."""

    session_id: int
    patient_name: str
    chart_number: str
    formulation: str
    prepared_at: datetime  # local time
    beyond_use: datetime  # local time
    prepared_by: str
    ingredients: tuple[tuple[str, str, str], ...]  # name, amount, final concentration
    total_volume: str
    route: str
    lots: tuple[tuple[str, str, date], ...]  # component, lot number, expiry
    clinic: str = ""
    draft: bool = False

    @property
    def code(self) -> str:
        """The barcode's text, ``SESSION-<id>``."""
        return session_code(self.session_id)


def label_for(
    chart: PatientChart,
    session_id: int,
    *,
    prepared_by: str,
    zone: tzinfo,
    beyond_use_minutes: int | None = None,
) -> SyringeLabel:
    """The label of one session of ``chart``, its times in ``zone``.

    ``beyond_use_minutes`` defaults to the clinic's setting. Raises
    :class:`SessionNotInChart` for a session that is not this patient's.
    """
    session = next((s for s in chart.sessions if s.id == session_id), None)
    if session is None:
        raise SessionNotInChart(
            f"session {session_id} is not in the chart of {chart.patient.chart_number}"
        )
    minutes = beyond_use_minutes if beyond_use_minutes is not None else (
        chart.clinic.beyond_use_minutes)
    version = version_of(chart, session)
    ingredients: list[tuple[str, str, str]] = []
    if version is not None:
        lines = ingredient_table(chart, version).lines
        for line in lines:
            name = line.ingredient_name
            if line.form and line.form.casefold() not in name.casefold():
                name = f"{name} ({line.form})"
            ingredients.append((name, show_amount(line.amount_per_session),
                                show_amount(line.final_concentration) or "–"))
        if not lines:
            ingredients = [(c.name, show_amount(c.amount), "–") for c in version.components]
    volume = (version.final_volume if version and version.final_volume else
              session.total_volume)
    prepared = session.performed_at.astimezone(zone)
    return SyringeLabel(
        session_id=session.id,
        patient_name=chart.patient.display_name,
        chart_number=chart.patient.chart_number,
        formulation=(f"{version.formulation_name}, version {version.version}"
                     if version else "prepared syringe"),
        prepared_at=prepared,
        beyond_use=prepared + timedelta(minutes=minutes),
        prepared_by=prepared_by,
        ingredients=tuple(ingredients),
        total_volume=show_amount(volume) or "not recorded",
        route=ROUTE,
        lots=tuple((lot.component_name, lot.lot_number, lot.expiry) for lot in session.lots),
        clinic=chart.clinic.name,
        draft=session.status is SessionStatus.DRAFT,
    )


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M ") + (moment.tzname() or "")


def label_lines(label: SyringeLabel) -> list[tuple[str, bool]]:
    """The label's text, line by line, with whether each line is bold."""
    lines: list[tuple[str, bool]] = [
        (f"{label.patient_name} · {label.chart_number}", True),
        (f"{label.formulation} · {label.route}", False),
        (f"Prepared {_local(label.prepared_at)} by {label.prepared_by}", False),
        (f"Use before {_local(label.beyond_use)}", True),
        (f"Total volume {label.total_volume}", True),
    ]
    for name, amount, concentration in label.ingredients:
        lines.append((f"{name}: {amount}, final {concentration}", False))
    if label.lots:
        for component, lot, expiry in label.lots:
            lines.append((f"Lot {lot} exp {show_date(expiry)} ({component})", False))
    else:
        lines.append(("No lot recorded for any component", True))
    if label.draft:
        lines.append(("Session not yet signed", False))
    if label.clinic:
        lines.append((label.clinic, False))
    return lines


class _Renderer:
    def __init__(self, size: LabelSize, title: str) -> None:
        from fpdf import FPDF

        orientation = "L" if size.page_w > size.page_h else "P"
        pdf = FPDF(orientation=orientation, unit="mm",
                   format=(min(size.page_w, size.page_h), max(size.page_w, size.page_h)))
        pdf.set_auto_page_break(False)
        pdf.set_margin(0)
        regular, bold = font_paths()
        pdf.add_font(FONT, "", str(regular))
        pdf.add_font(FONT, "B", str(bold))
        pdf.set_title(title)
        pdf.set_creator("Formulary")
        self.pdf: FPDF = pdf
        self.size = size

    def wrap(self, text: str, width: float) -> list[str]:
        words = text.split(" ")
        out: list[str] = []
        line = ""
        for word in words:
            candidate = f"{line} {word}" if line else word
            if self.pdf.get_string_width(candidate) <= width or not line:
                line = candidate
                while self.pdf.get_string_width(line) > width and len(line) > 1:
                    # A single word wider than the label: break it, never clip it.
                    cut = len(line) - 1
                    while cut > 1 and self.pdf.get_string_width(line[:cut]) > width:
                        cut -= 1
                    out.append(line[:cut])
                    line = line[cut:]
            else:
                out.append(line)
                line = word
        if line:
            out.append(line)
        return out

    def layout(self, lines: Sequence[tuple[str, bool]], width: float, height: float
               ) -> tuple[float, list[list[tuple[str, bool]]]]:
        """A font size and the wrapped lines split into labels that each fit."""
        size = self.size.max_font
        while True:
            wrapped = self._wrapped(lines, width, size)
            step = size * 0.3528 * 1.18  # pt to mm, with leading
            per_label = max(1, int(height // step))
            if len(wrapped) <= per_label or size <= self.size.min_font:
                chunks = [wrapped[i:i + per_label] for i in range(0, len(wrapped), per_label)]
                return size, chunks
            size = max(self.size.min_font, size - 0.25)

    def _wrapped(self, lines: Sequence[tuple[str, bool]], width: float, size: float
                 ) -> list[tuple[str, bool]]:
        out: list[tuple[str, bool]] = []
        for text, bold in lines:
            self.pdf.set_font(FONT, "B" if bold else "", size)
            out.extend((part, bold) for part in self.wrap(text, width))
        return out

    def draw(self, x: float, y: float, label: SyringeLabel, font: float,
             lines: Sequence[tuple[str, bool]], part: int, parts: int) -> None:
        pdf, size = self.pdf, self.size
        margin = 1.5 if size.label_h < 50 else 4.0
        inner_w = size.label_w - 2 * margin
        bar_h, code_h = self._barcode_heights()
        step = font * 0.3528 * 1.18
        top = y + margin
        for text, bold in lines:
            pdf.set_font(FONT, "B" if bold else "", font)
            pdf.text(x + margin, top + font * 0.3528, text)
            top += step
        if parts > 1:
            pdf.set_font(FONT, "B", font)
            note = f"label {part} of {parts}"
            pdf.text(x + size.label_w - margin - pdf.get_string_width(note),
                     y + margin + font * 0.3528, note)
        bits = pattern(label.code)
        module = min(inner_w / len(bits), 0.5)
        left = x + margin + (inner_w - module * len(bits)) / 2
        bottom = y + size.label_h - margin - code_h
        run_start = None
        for n, bit in enumerate(bits + "0"):
            if bit == "1" and run_start is None:
                run_start = n
            elif bit == "0" and run_start is not None:
                pdf.rect(left + run_start * module, bottom - bar_h,
                         (n - run_start) * module, bar_h, style="F")
                run_start = None
        pdf.set_font(FONT, "", max(size.min_font, code_h / 0.3528 * 0.8))
        text_w = pdf.get_string_width(label.code)
        pdf.text(x + (size.label_w - text_w) / 2, y + size.label_h - margin - 0.3, label.code)

    def _barcode_heights(self) -> tuple[float, float]:
        if self.size.label_h < 50:
            return 5.5, 1.8
        return 18.0, 4.0

    def text_height(self) -> float:
        margin = 1.5 if self.size.label_h < 50 else 4.0
        bar_h, code_h = self._barcode_heights()
        return self.size.label_h - 2 * margin - bar_h - code_h - 1.0

    def text_width(self) -> float:
        margin = 1.5 if self.size.label_h < 50 else 4.0
        return self.size.label_w - 2 * margin


def render_label(label: SyringeLabel, size: str = DEFAULT_SIZE, *, copies: int = 1) -> bytes:
    """The label as PDF bytes: one label per page on a roll size, cells on a sheet.

    ``copies`` prints the label that many times (a sheet of 24 fills its cells in
    reading order, then continues on a new sheet).
    """
    stock = SIZES.get(size)
    if stock is None:
        raise LabelError(f"unknown label size {size!r}; choose one of {', '.join(SIZES)}")
    if not 1 <= copies <= 240:
        raise LabelError(f"{copies} copies is out of range; print 1 to 240")
    renderer = _Renderer(stock, f"Syringe label, session {label.session_id}")
    font, chunks = renderer.layout(label_lines(label), renderer.text_width(),
                                   renderer.text_height())
    labels = [(chunk, n + 1, len(chunks)) for _ in range(copies)
              for n, chunk in enumerate(chunks)]
    per_page = stock.columns * stock.rows
    pdf = renderer.pdf
    for index, (chunk, part, parts) in enumerate(labels):
        cell = index % per_page
        if cell == 0:
            pdf.add_page()
        x = stock.left + (cell % stock.columns) * stock.label_w
        y = stock.top + (cell // stock.columns) * stock.label_h
        renderer.draw(x, y, label, font, chunk, part, parts)
    return bytes(pdf.output())


def label_file_name(session_id: int) -> str:
    """The suggested file name of a session's label."""
    return f"session-{session_id}-label.pdf"
