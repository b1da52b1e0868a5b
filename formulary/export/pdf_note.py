"""The PDF chart note: one patient's record as a clinician reads and files it.

Built with fpdf2 and the DejaVu Sans fonts that ship inside matplotlib (embedded and
subset), so µ, é, ü, ² and Greek lot letters print as themselves. Every page carries a
header naming the patient and a footer with ``Page x of y``, the export time and the
audit checkpoint line. The outcome chart is a real matplotlib plot; when nothing was
measured the note says so in words and matplotlib is never loaded.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from formulary import session_fields
from formulary.body import show_kg
from formulary.export.display import (
    show_amount,
    show_date,
    show_local_time,
    show_points,
    show_technique,
    show_zone,
)
from formulary.export.ingredients import ingredient_table
from formulary.export.plot import NO_MEASUREMENTS, has_measurements, outcome_plot_image
from formulary.export.selection import (
    course_of,
    lots_for,
    sessions_in_order,
    version_of,
    versions_used,
)
from formulary.photos import before_after
from formulary.records import (
    FormulationVersion,
    PatientChart,
    Practitioner,
    Session,
    SessionStatus,
    Signature,
)
from formulary.safety.lots import NO_LOT, RULE_MISSING, missing_lot_message

if TYPE_CHECKING:
    from datetime import tzinfo

    from fpdf import FPDF

FONT = "DejaVu"
_GREY = (90, 90, 90)
_RED = (150, 20, 20)

#: Simple session fields declared with nothing but their declaration (shown generically).
_DECLARED_ONLY = session_fields.others_of(Session)


class FontNotFound(RuntimeError):
    """The DejaVu fonts could not be found in the installed matplotlib."""


@lru_cache(maxsize=1)
def font_paths() -> tuple[Path, Path]:
    """The regular and bold DejaVu Sans files shipped with matplotlib.

    Found through the package's location, without importing matplotlib.
    """
    spec = importlib.util.find_spec("matplotlib")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        folder = Path(location) / "mpl-data" / "fonts" / "ttf"
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    raise FontNotFound(
        "DejaVu Sans was not found in matplotlib's mpl-data; reinstall matplotlib"
    )


def _clean(text: str) -> str:
    # Control characters have no glyph; tabs and carriage returns become spaces.
    if text.isprintable():
        return text
    return "".join(
        ch if ch == "\n" or ch >= " " else " " for ch in text.replace("\r\n", "\n")
    )


def _person_text(person: Practitioner) -> str:
    return f"{person.full_name} ({person.username})"


def _signature_text(signature: Signature, zone: tzinfo | None) -> str:
    return (
        f"{_person_text(signature.signer)}, "
        f"{show_local_time(signature.signed_at, zone)}, meaning: {signature.meaning}; "
        f"content SHA-256 {signature.content_hash}"
    )


class _Note:
    """Lays out one chart note on an fpdf2 document."""

    def __init__(self, chart: PatientChart, title: str, zone: tzinfo | None = None) -> None:
        from fpdf import FPDF
        from fpdf.enums import XPos, YPos

        self.chart = chart
        self.title = title
        self.XPos, self.YPos = XPos, YPos
        note = self
        checkpoint = chart.checkpoint.line if chart.checkpoint else "none"
        self.zone = zone
        exported = (
            show_local_time(chart.exported_at, zone) if chart.exported_at else "not stamped"
        )
        patient = chart.patient
        footer_lines: list[str] = []

        class _Document(FPDF):
            def header(self) -> None:
                self.set_font(FONT, "", 7.5)
                self.set_text_color(*_GREY)
                parts = (chart.clinic.name, note.title, patient.display_name,
                         f"chart {patient.chart_number}",
                         f"born {show_date(patient.date_of_birth)}")
                self.cell(0, 4, " | ".join(p for p in parts if p),
                          new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                self.set_draw_color(*_GREY)
                self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
                self.ln(3)
                self.set_text_color(0, 0, 0)

            def footer(self) -> None:
                self.set_y(-17)
                self.set_draw_color(*_GREY)
                self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
                self.set_font(FONT, "", 7.5)
                self.set_text_color(*_GREY)
                self.cell(
                    0, 4,
                    f"Page {self.page_no()} of {{nb}} | Exported {exported} | "
                    f"{patient.display_name} ({patient.chart_number})",
                    new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                )
                self.set_font(FONT, "", 6)
                if not footer_lines:
                    footer_lines.extend(note.wrap(f"Audit checkpoint: {checkpoint}", self.epw))
                for line in footer_lines:
                    self.cell(0, 2.8, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                self.set_text_color(0, 0, 0)

        pdf = _Document(orientation="P", unit="mm", format="A4")
        regular, bold = font_paths()
        pdf.add_font(FONT, "", str(regular))
        pdf.add_font(FONT, "B", str(bold))
        pdf.set_margins(15, 12, 15)
        pdf.set_auto_page_break(True, margin=20)
        pdf.set_title(f"{title}: {patient.display_name} ({patient.chart_number})")
        pdf.set_author(chart.clinic.name)
        pdf.set_creator("Formulary")
        if chart.checkpoint is not None:
            # Also in the document information, which is stored uncompressed: the line
            # is then one whole line in the file's bytes, where `formulary audit verify
            # --checkpoint note.pdf` finds it, while the footer may wrap it for people.
            pdf.set_subject(f"Audit checkpoint: {chart.checkpoint.line}")
        if chart.exported_at is not None:
            pdf.set_creation_date(chart.exported_at)
        self.pdf: FPDF = pdf
        self._widths: dict[tuple[str, float, str], float] = {}

    # -- primitives ------------------------------------------------------------------
    # fpdf2's table() and multi_cell() re-measure every character several times; a
    # 50-session note spent seconds there. Text is wrapped here once, with
    # get_string_width on whole words, and printed line by line with cell().

    def wrap(self, text: str, width: float) -> list[str]:
        """``text`` broken into lines no wider than ``width`` at the current font."""
        measure = self.measure
        lines: list[str] = []
        for paragraph in _clean(text).split("\n"):
            if measure(paragraph) <= width:
                lines.append(paragraph)
                continue
            current = ""
            for word in paragraph.split(" "):
                candidate = f"{current} {word}" if current else word
                if measure(candidate) <= width:
                    current = candidate
                    continue
                if current:
                    lines.append(current)
                while measure(word) > width:  # a hash or a long lot number
                    cut = max(1, int(len(word) * width / measure(word)))
                    while cut > 1 and measure(word[:cut]) > width:
                        cut -= 1
                    lines.append(word[:cut])
                    word = word[cut:]
                current = word
            lines.append(current)
        return lines

    def measure(self, text: str) -> float:
        """The width of ``text`` at the current font (cached: charts repeat a lot)."""
        pdf = self.pdf
        key = (pdf.font_style, pdf.font_size_pt, text)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = pdf.get_string_width(text)
        return width

    def heading(self, text: str, size: float = 12, space: float = 3) -> None:
        pdf = self.pdf
        if pdf.will_page_break(size + 14):
            pdf.add_page()
        pdf.ln(space)
        self.paragraph(text, size=size, bold=True)
        pdf.ln(1)

    def paragraph(self, text: str, size: float = 9, bold: bool = False,
                  colour: tuple[int, int, int] = (0, 0, 0)) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, "B" if bold else "", size)
        pdf.set_text_color(*colour)
        line_height = size * 0.45
        for line in self.wrap(text, pdf.epw):
            if pdf.will_page_break(line_height):
                pdf.add_page()
                pdf.set_font(FONT, "B" if bold else "", size)
                pdf.set_text_color(*colour)
            y = pdf.get_y()
            self.text(pdf.l_margin, y, line_height, line)
            pdf.set_y(y + line_height)
        pdf.set_text_color(0, 0, 0)

    def text(self, x: float, top: float, line_height: float, line: str) -> None:
        """One line of text in a box of ``line_height`` whose top is at ``top``."""
        # FPDF.text() places the baseline; it is several times cheaper than cell().
        pdf = self.pdf
        pdf.text(x, top + 0.5 * line_height + 0.3 * pdf.font_size, line)

    def table(self, rows: Sequence[Sequence[str]], widths: Sequence[float],
              header: bool = True, size: float = 8.5) -> None:
        """A bordered grid; ``widths`` are fractions of the page width."""
        pdf = self.pdf
        columns = [w * pdf.epw for w in widths]
        line_height = size * 0.42
        pad_x, pad_y = 1.2, 0.7
        if header and pdf.will_page_break(2 * (line_height + 2 * pad_y) + 2):
            pdf.add_page()  # never leave the column headings alone at a page's foot
        pdf.set_draw_color(150, 150, 150)
        pdf.set_fill_color(232, 232, 232)
        pdf.set_line_width(0.15)
        if not header:
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
        for index, row in enumerate(rows):
            is_header = header and index == 0
            self._row(row, columns, is_header, size, line_height, pad_x, pad_y,
                      repeat=rows[0] if header and index else None)
        pdf.ln(1.5)

    def _row(self, row: Sequence[str], columns: Sequence[float], bold: bool, size: float,
             line_height: float, pad_x: float, pad_y: float,
             repeat: Sequence[str] | None) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, "B" if bold else "", size)
        cells = [self.wrap(text, width - 2 * pad_x) for text, width in zip(row, columns,
                                                                           strict=True)]
        height = max(len(lines) for lines in cells) * line_height + 2 * pad_y
        if pdf.will_page_break(height):
            pdf.add_page()
            pdf.set_draw_color(150, 150, 150)  # the page header drew in its own colour
            pdf.set_fill_color(232, 232, 232)
            if repeat is not None:  # the column headings again on the new page
                self._row(repeat, columns, True, size, line_height, pad_x, pad_y, None)
                pdf.set_font(FONT, "", size)
        x, y = pdf.l_margin, pdf.get_y()
        # Rules between rows and a shaded heading, no boxes: lighter to read and a
        # fraction of the drawing operations.
        if bold:
            pdf.rect(x, y, pdf.epw, height, style="F")
        for lines, width in zip(cells, columns, strict=True):
            for number, line in enumerate(lines):
                self.text(x + pad_x, y + pad_y + number * line_height, line_height, line)
            x += width
        pdf.line(pdf.l_margin, y + height, pdf.l_margin + pdf.epw, y + height)
        pdf.set_xy(pdf.l_margin, y + height)

    def key_values(self, pairs: Sequence[tuple[str, str]]) -> None:
        shown = [(k, v) for k, v in pairs if v]
        if shown:
            self.table(shown, (0.22, 0.78), header=False)

    # -- sections --------------------------------------------------------------------

    def identity_line(self) -> None:
        """The title, the clinic and the patient's name, chart and birth date."""
        chart, p = self.chart, self.chart.patient
        self.pdf.set_font(FONT, "B", 15)
        self.pdf.cell(0, 8, self.title, new_x=self.XPos.LMARGIN, new_y=self.YPos.NEXT)
        clinic = " | ".join(x for x in (chart.clinic.name, chart.clinic.address) if x)
        if clinic:
            self.paragraph(clinic, size=9.5)
        self.paragraph(f"Patient: {p.display_name}, chart {p.chart_number}, born "
                       f"{show_date(p.date_of_birth)}", size=10, bold=True)

    def identity(self) -> None:
        chart, p = self.chart, self.chart.patient
        pdf = self.pdf
        pdf.set_font(FONT, "B", 15)
        pdf.cell(0, 8, self.title, new_x=self.XPos.LMARGIN, new_y=self.YPos.NEXT)
        clinic = " | ".join(x for x in (chart.clinic.name, chart.clinic.address) if x)
        if clinic:
            self.paragraph(clinic, size=9.5)
        if chart.clinic.workstation:
            self.paragraph(f"Workstation: {chart.clinic.workstation}", size=8,
                           colour=_GREY)
        self.heading("Patient", 11)
        grade = ""
        if p.grade:
            scale = p.grade_scale.value.title() + " " if p.grade_scale else ""
            grade = f"{scale}{p.grade}"
        from formulary.consent import summary

        names = {c.id: c.name for c in chart.courses}
        consent = summary(chart.consents, names, p.consent_date, p.consent_on_file)
        self.key_values(
            [
                ("Name", p.display_name),
                ("Chart number", p.chart_number),
                ("Date of birth", show_date(p.date_of_birth)),
                ("Sex", p.sex.value),
                ("Diagnosis", p.diagnosis),
                ("Grade", grade),
                ("Weight", show_kg(p.weight_kg) if p.weight_kg is not None else ""),
                ("Consent", consent),
            ]
        )
        self.heading("Allergies and contraindications", 11)
        if p.allergies:
            self.table(
                [("Allergy / intolerance", "Reaction"),
                 *((a.substance, a.reaction or "not recorded") for a in p.allergies)],
                (0.45, 0.55),
            )
        else:
            self.paragraph("Allergies: none recorded.")
        if p.conditions:
            self.table(
                [("Condition / contraindication", "Details"),
                 *((c.code, c.text) for c in p.conditions)],
                (0.3, 0.7),
            )
        else:
            self.paragraph("Conditions and contraindications: none recorded.")

    def consents(self) -> None:
        """Every consent of the patient: what it is for, its text's hash, who signed."""
        from formulary.export.consent_pdf import consent_rows

        if not self.chart.consents:
            return
        names = {c.id: c.name for c in self.chart.courses}
        self.heading("Consent", 13, space=5)
        for consent in sorted(self.chart.consents, key=lambda c: (c.signed_at, c.id)):
            name = names.get(consent.course_id, "") if consent.course_id is not None else ""
            self.paragraph(f"Consent {consent.id}: {consent.status()}", size=9.5, bold=True)
            self.key_values(consent_rows(consent, name, self.zone))

    def formulations(self) -> None:
        versions = versions_used(self.chart)
        self.heading("Formulation", 13, space=5)
        if not versions:
            self.paragraph("No formulation recorded.")
        for version in versions:
            self.formulation(version)
        if self.chart.courses:
            self.heading("Courses", 11)
            self.table(
                [("Course", "Planned sessions", "Interval", "Start"),
                 *((c.name, str(c.planned_sessions), f"{c.interval_days} days",
                    show_date(c.start_date)) for c in self.chart.courses)],
                (0.4, 0.2, 0.2, 0.2),
            )

    def formulation(self, version: FormulationVersion) -> None:
        self.heading(f"{version.formulation_name}, version {version.version}", 10.5, space=2)
        details = [
            f"created {show_local_time(version.created_at, self.zone)} "
            f"by {version.created_by}",
            f"final volume {show_amount(version.final_volume)}" if version.final_volume else "",
            "locked (used)" if version.locked else "",
        ]
        self.paragraph("; ".join(d for d in details if d), size=8.5, colour=_GREY)
        if version.note:
            self.paragraph(f"Note: {version.note}", size=8.5)
        for override in version.overrides:
            if override.severity != "block":
                continue
            self.paragraph(
                f"Saved past a safety block: {override.message} ({override.rule}); reason: "
                f"{override.reason}; signed by {override.signed_by} at "
                f"{show_local_time(override.at, self.zone)}"
                + (f" ({override.meaning})" if override.meaning else ""),
                size=8.5, colour=_RED,
            )
        table = ingredient_table(self.chart, version)
        if table.lines:
            self.table(
                [("Ingredient", "Form", "Amount per session", "Final concentration"),
                 *((line.ingredient_name, line.form, show_amount(line.amount_per_session),
                    show_amount(line.final_concentration) or "not computed")
                   for line in table.lines)],
                (0.36, 0.2, 0.22, 0.22),
            )
        else:
            self.paragraph(f"Ingredient amounts could not be computed: {table.problem}.",
                           size=8.5, colour=_RED)
        components = sorted(version.components, key=lambda c: c.position)
        if components:
            if self.pdf.will_page_break(20):
                self.pdf.add_page()
            self.paragraph("Prepared from:", size=8.5, bold=True)
            self.table(
                [("#", "Component", "Amount per session"),
                 *((str(c.position), c.name, show_amount(c.amount)) for c in components)],
                (0.06, 0.64, 0.3),
            )

    def sessions(self) -> None:
        sessions = sessions_in_order(self.chart)
        self.heading("Sessions", 13, space=5)
        if not sessions:
            self.paragraph("No sessions recorded.")
        for session in sessions:
            self.session(session)

    def session(self, session: Session) -> None:
        chart = self.chart
        course = course_of(chart, session)
        version = version_of(chart, session)
        number = ""
        if session.session_number is not None:
            planned = f" of {course.planned_sessions}" if course else ""
            number = f"Session {session.session_number}{planned}"
            if course:
                number += f" ({course.name})"
        else:
            number = "Session"
        state = "SIGNED" if session.status is SessionStatus.SIGNED else "DRAFT, NOT SIGNED"
        when = show_local_time(session.performed_at, self.zone)
        self.heading(f"{number} | {when} | {state}", 10.5)
        needle = " x ".join(
            part for part in (
                f"{session.needle_gauge} G" if session.needle_gauge is not None else "",
                show_amount(session.needle_length),
            ) if part
        )
        adverse = "; ".join(
            ", ".join(part for part in (e.kind, e.severity, e.description) if part)
            for e in session.adverse_events
        ) or "none"
        self.key_values(
            [
                ("Formulation",
                 f"{version.formulation_name}, version {version.version}" if version
                 else f"version id {session.formulation_version_id}"),
                ("Technique", show_technique(session.technique)),
                ("Needle", needle),
                ("Depth", show_amount(session.depth)),
                ("Total volume", show_amount(session.total_volume)),
                ("Anaesthesia", session.anaesthesia),
                ("Adverse events", adverse),
                ("Pain score",
                 f"{session.pain_score}/10" if session.pain_score is not None else ""),
                # Simple fields declared with nothing but their declaration.
                *((f.pdf, f.show(f.of(session))) for f in _DECLARED_ONLY if f.pdf),
                ("Post-care", session.post_care),
                ("Notes", session.notes),
            ]
        )
        if session.zones:
            # One compact row: zones as columns, so a session stays on one screenful.
            total = show_amount(session.total_volume)
            names = [show_zone(z.zone) for z in session.zones] + (["total"] if total else [])
            volumes = [show_amount(z.volume) for z in session.zones] + ([total] if total else [])
            zone_rows = [names, volumes]
            if any(z.points is not None for z in session.zones):
                # Injection points and the volume each received, under each zone's volume.
                points = sum(z.points or 0 for z in session.zones)
                zone_rows.append(
                    [show_points(z) or "points not recorded" for z in session.zones]
                    + ([f"{points} points"] if total else [])
                )
            self.table(zone_rows, [1 / len(names)] * len(names))
        if version is not None and version.components:
            rows = [("Component", "Lot", "Expiry", "Drawn")]
            for component in sorted(version.components, key=lambda c: c.position):
                lots = lots_for(session, component.id)
                if not lots:
                    rows.append((component.name, self.no_lot(session, component.name), "", ""))
                for lot in lots:
                    rows.append((component.name, lot.lot_number, show_date(lot.expiry),
                                 show_amount(lot.drawn)))
            self.table(rows, (0.42, 0.22, 0.18, 0.18))
        # One line per decision: two components with the same ingredient raise the same
        # finding twice (one per component), which reads as one decision on paper.
        printed: set[tuple[str, str, str, str, str]] = set()
        for override in session.overrides:
            key = (override.severity, override.rule, override.message, override.reason,
                   override.by)
            if key in printed:
                continue
            printed.add(key)
            decision = "acknowledged" if override.severity == "warning" else "overridden"
            self.paragraph(
                f"Safety {override.severity} {decision}: {override.message} "
                f"({override.rule}); reason: {override.reason}; signed by "
                f"{override.signed_by} at {show_local_time(override.at, self.zone)}"
                + (f" ({override.meaning})" if override.meaning else ""),
                size=8.5, colour=_RED,
            )
        if session.prepared_by is not None:
            # Beside the signer: an assistant may prepare what a practitioner signs.
            self.paragraph(f"Prepared by {_person_text(session.prepared_by)}", size=8.5)
        if session.signature is not None:
            self.paragraph(f"Signed: {_signature_text(session.signature, self.zone)}",
                           size=8.5, bold=True)
        else:
            self.paragraph("Not signed (draft): this session may still change.", size=8.5,
                           bold=True, colour=_RED)
        for addendum in session.addenda:
            self.paragraph(
                f"Addendum, reason: {addendum.reason}. {addendum.text}", size=8.5,
            )
            self.paragraph(f"Addendum signed: {_signature_text(addendum.signature, self.zone)}",
                           size=8, colour=_GREY)

    def no_lot(self, session: Session, component_name: str) -> str:
        """The lot cell of a component without one: never a silent blank."""
        if session.status is not SessionStatus.SIGNED:
            return "no lot recorded"
        message = missing_lot_message(component_name)
        for override in session.overrides:
            if override.rule == RULE_MISSING and override.message == message:
                return f"no lot recorded (acknowledged by {override.signed_by})"
        return NO_LOT

    def outcomes(self) -> None:
        outcomes = sorted(self.chart.outcomes, key=lambda o: (o.measured_at, o.id))
        width = self.pdf.epw
        height = width * 2.6 / 7.0
        plotted = has_measurements(outcomes)
        if plotted and self.pdf.will_page_break(height + 25):
            self.pdf.add_page()  # keep the heading with its chart
        self.heading("Outcomes", 13, space=5)
        if not plotted:
            self.paragraph(NO_MEASUREMENTS + ".")
        else:
            image = outcome_plot_image(outcomes, width_in=7.0, height_in=2.6, dpi=150)
            self.pdf.image(image, w=width, h=height,
                           alt_text="Hair density and shaft diameter over time")
            self.pdf.ln(2)
        if outcomes:
            self.table(
                [("Measured", "Zone", "Density", "Shaft diameter", "Grade", "Notes, photos"),
                 *((show_local_time(o.measured_at, self.zone), show_zone(o.zone),
                    show_amount(o.density),
                    show_amount(o.shaft_diameter), o.scale_grade,
                    "; ".join(x for x in (o.notes, *o.photo_refs) if x))
                   for o in outcomes)],
                (0.17, 0.12, 0.13, 0.13, 0.1, 0.35),
                size=7.5,
            )

    def photographs(self) -> None:
        """A before/after page per view: the earliest and the latest photo, with dates."""
        for view, first, last in before_after(self.chart.photos):
            self.pdf.add_page()
            self.heading(f"Photographs: {view.label}, before and after", 13, space=4)
            shown = [(first, "Before")] if first.id == last.id else [
                (first, "Before"), (last, "After")]
            if first.id == last.id:
                self.paragraph("One photograph of this view so far.", size=8)
            gap = 6.0
            width = (self.pdf.epw - gap) / 2
            top = self.pdf.get_y() + 2
            box = min(width * 4 / 3, self.pdf.h - top - 45)
            for n, (photo, label) in enumerate(shown):
                x = self.pdf.l_margin + n * (width + gap)
                self.pdf.set_xy(x, top)
                self.pdf.set_font(FONT, "B", 9)
                self.pdf.cell(width, 5, f"{label}: {show_date(photo.taken_on)}",
                              new_x=self.XPos.LEFT, new_y=self.YPos.NEXT)
                data = self.chart.photo_files.get(photo.sha256)
                image_top = top + 6
                if data is None:
                    self.pdf.set_font(FONT, "", 8)
                    self.pdf.set_xy(x, image_top)
                    for line in self.wrap(MISSING_PHOTO.format(id=photo.id), width):
                        self.pdf.cell(width, 4, line, new_x=self.XPos.LEFT,
                                      new_y=self.YPos.NEXT)
                else:
                    w, h = _fit(photo.width, photo.height, width, box)
                    self.pdf.image(_print_copy(data), x=x, y=image_top, w=w, h=h,
                                   alt_text=f"{view.label} {label.lower()}, "
                                            f"{show_date(photo.taken_on)}")
                self.pdf.set_font(FONT, "", 7)
                self.pdf.set_xy(x, image_top + box + 2)
                for line in self.wrap(
                    f"Photo {photo.id}; {photo.width}x{photo.height}; SHA-256 "
                    f"{photo.sha256}" + (f"; {photo.note}" if photo.note else ""), width
                ):
                    self.pdf.cell(width, 3.2, line, new_x=self.XPos.LEFT, new_y=self.YPos.NEXT)
            self.pdf.set_xy(self.pdf.l_margin, top + box + 20)

    def render(self, include_formulations: bool = True) -> bytes:
        self.pdf.add_page()
        self.identity()
        self.consents()
        if include_formulations:
            self.formulations()
        self.sessions()
        self.outcomes()
        self.photographs()
        return bytes(self.pdf.output())


#: Printed in place of a photo whose stored file is missing or altered.
MISSING_PHOTO = (
    "Photo {id}: the stored file is missing or no longer matches its recorded SHA-256; "
    "it is not printed. Run 'formulary audit verify' and restore it from a backup."
)

#: Longest side of a photo as embedded in the PDF, in pixels (about 250 dpi on the page).
PRINT_PIXELS = 1000


def _fit(width: int, height: int, box_w: float, box_h: float) -> tuple[float, float]:
    """The largest size of a ``width`` x ``height`` picture inside the box, aspect kept."""
    scale = min(box_w / max(width, 1), box_h / max(height, 1))
    return width * scale, height * scale


def _print_copy(data: bytes) -> io.BytesIO:
    """A JPEG no larger than :data:`PRINT_PIXELS` on its longest side (small PDFs)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (PRINT_PIXELS, PRINT_PIXELS))  # JPEG: decode at a reduced scale
        copy = image.convert("RGB")
    copy.thumbnail((PRINT_PIXELS, PRINT_PIXELS))
    out = io.BytesIO()
    copy.save(out, format="JPEG", quality=85)
    out.seek(0)
    return out


def render_pdf(
    chart: PatientChart, *, title: str = "Mesotherapy chart note", zone: tzinfo | None = None
) -> bytes:
    """The chart note as PDF bytes; times in the clinic's ``zone`` (None: this machine's)
    beside UTC.

    For a single-session note pass the chart narrowed with
    :func:`formulary.export.selection.only_session` (and, say, ``title="Session note"``).
    """
    return _Note(chart, title, zone).render()


