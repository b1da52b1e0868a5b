"""Patients from a spreadsheet export (CSV): parsed and checked, every problem named.

The file has a header row; columns may come in any order, names are case-insensitive
(spaces or hyphens count as ``_``), and a semicolon- or tab-separated export is read as
well as a comma-separated one. One row per patient.

================  ========  ==========================================================
column            required  what
================  ========  ==========================================================
chart_number      yes       the clinic's chart number (unique, never reused)
family_name       yes
given_name        yes
date_of_birth     yes       YYYY-MM-DD
sex               yes       female, male, other or unknown
diagnosis         no        e.g. androgenetic alopecia
grade_scale       no        norwood, ludwig or other (needed when a grade is given)
grade             no        e.g. III vertex
weight            no        with its unit: 70 kg or 154 lb (pounds stored as exact kg)
weighed_on        no        YYYY-MM-DD the weight was measured (empty: the import day)
height            no        168 cm
allergies         no        substance (reaction); substance …  e.g. lidocaine (urticaria)
conditions        no        separated by ; e.g. pregnancy; anticoagulants
consent_on_file   no        yes or no (empty: no)
consent_date      no        YYYY-MM-DD (needs consent_on_file yes)
================  ========  ==========================================================

Nothing here touches the database: :func:`parse_patients` returns the patients or the
problems, each with its line and column; writing them all in one transaction is the
caller's work.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from formulary.body import BodyMeasureError, Weight, parse_height, parse_weight
from formulary.csv_table import FIRST_DATA_LINE, CsvImportError, CsvProblem, table_rows
from formulary.limits import EARLIEST_YEAR
from formulary.records import Allergy, Condition, GradeScale, Sex
from formulary.units.amount import Amount

REQUIRED = ("chart_number", "family_name", "given_name", "date_of_birth", "sex")
OPTIONAL = (
    "diagnosis", "grade_scale", "grade", "weight", "weighed_on", "height", "allergies",
    "conditions", "consent_on_file", "consent_date",
)
COLUMNS = REQUIRED + OPTIONAL

#: A clinic moving in has thousands of patients; far more is a wrong file.
MAX_ROWS = 100_000
MAX_CELL = 500

_LIMITS = {"chart_number": 40, "family_name": 120, "given_name": 120, "grade": 20}
_ISO_DATE = re.compile(r"^(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})$")
_ALLERGY = re.compile(r"^\s*(?P<substance>[^()]+?)\s*(?:\((?P<reaction>[^()]*)\))?\s*$")
_YES = {"yes", "y", "true", "1", "x"}
_NO = {"no", "n", "false", "0", ""}


@dataclass(frozen=True, slots=True)
class PatientSpec:
    """One patient of the file, from line ``line``."""

    line: int
    chart_number: str
    family_name: str
    given_name: str
    date_of_birth: date
    sex: Sex
    diagnosis: str = ""
    grade_scale: GradeScale | None = None
    grade: str = ""
    weight: Weight | None = None
    weighed_on: date | None = None
    height: Amount | None = None
    allergies: tuple[Allergy, ...] = ()
    conditions: tuple[Condition, ...] = ()
    consent_on_file: bool = False
    consent_date: date | None = None


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` as a date; ValueError saying what is wrong (shape, or no such day)."""
    match = _ISO_DATE.match(text.strip())
    if match is None:
        raise ValueError(f"{text.strip()!r} is not a date; write it as YYYY-MM-DD")
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    try:
        return date(year, month, day)
    except ValueError:
        if not 1 <= month <= 12:
            raise ValueError(f"there is no month {match['month']}; months run 01 to 12") from None
        raise ValueError(f"{text.strip()} does not exist: that month has no day {day}") from None


def parse_allergy_list(text: str) -> tuple[Allergy, ...]:
    """``lidocaine (urticaria); latex`` as allergies; ValueError naming the bad part."""
    found: list[Allergy] = []
    for part in (p for p in text.split(";") if p.strip()):
        match = _ALLERGY.match(part)
        if match is None:
            raise ValueError(f"cannot read {part.strip()!r}: write substance (reaction); …")
        found.append(Allergy(match["substance"], reaction=(match["reaction"] or "").strip()))
    return tuple(found)


def parse_condition_list(text: str) -> tuple[Condition, ...]:
    """``pregnancy; anticoagulants`` as conditions."""
    return tuple(Condition(p.strip(), p.strip()) for p in text.split(";") if p.strip())


def parse_patients(text: str, *, today: date) -> list[PatientSpec]:
    """Every patient of a CSV export; raises :class:`CsvImportError` listing each problem
    with its line and column (nothing is half-read: all or nothing)."""
    problems: list[CsvProblem] = []
    found: list[PatientSpec] = []
    charts: dict[str, int] = {}
    for line, row in table_rows(
        text, columns=COLUMNS, required=REQUIRED, max_rows=MAX_ROWS, problems=problems
    ):
        spec = _read_row(line, row, today, problems)
        if spec is None:
            continue
        key = spec.chart_number.casefold()
        if key in charts:
            problems.append(
                CsvProblem(
                    line, "chart_number",
                    f"chart number {spec.chart_number} is also on line {charts[key]}",
                )
            )
            continue
        charts[key] = line
        found.append(spec)
    if not found and not problems:
        problems.append(CsvProblem(FIRST_DATA_LINE, "", "no patients below the header"))
    if problems:
        raise CsvImportError(problems)
    return found


def _read_row(
    line: int, row: Mapping[str, str], today: date, problems: list[CsvProblem]
) -> PatientSpec | None:
    before = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(CsvProblem(line, column, message))

    for column, value in row.items():
        limit = _LIMITS.get(column, MAX_CELL)
        if len(value) > limit:
            bad(column, f"longer than {limit} characters")
    for column in ("chart_number", "family_name", "given_name"):
        if not row.get(column, ""):
            bad(column, "required")
    born: date | None = None
    try:
        born = parse_date(row.get("date_of_birth", ""))
        if born > today:
            bad("date_of_birth", "in the future; check the year")
        elif born.year < EARLIEST_YEAR:
            bad("date_of_birth", f"before {EARLIEST_YEAR}; check the year")
    except ValueError as exc:
        bad("date_of_birth", str(exc))
    sex_text = row.get("sex", "").casefold()
    sex = next((s for s in Sex if s.value == sex_text or s.value[0] == sex_text), None)
    if sex is None:
        bad("sex", f"{row.get('sex', '')!r}: write female, male, other or unknown")
    scale: GradeScale | None = None
    scale_text = row.get("grade_scale", "").casefold()
    if scale_text:
        scale = next((g for g in GradeScale if g.value == scale_text), None)
        if scale is None:
            bad("grade_scale", f"{row['grade_scale']!r}: write norwood, ludwig or other")
    if row.get("grade", "") and not scale_text:
        bad("grade_scale", "a grade is given: say which scale it is on")
    weight: Weight | None = None
    if row.get("weight", ""):
        try:
            weight = parse_weight(row["weight"])
        except BodyMeasureError as exc:
            bad("weight", str(exc))
    weighed_on: date | None = None
    if row.get("weighed_on", ""):
        try:
            weighed_on = parse_date(row["weighed_on"])
            if weighed_on > today:
                bad("weighed_on", "in the future; check it")
            elif born is not None and weighed_on < born:
                bad("weighed_on", "before the date of birth")
        except ValueError as exc:
            bad("weighed_on", str(exc))
        if not row.get("weight", ""):
            bad("weight", "a weighing date is given: give the weight measured that day")
    height: Amount | None = None
    if row.get("height", ""):
        try:
            height = parse_height(row["height"])
        except BodyMeasureError as exc:
            bad("height", str(exc))
    try:
        allergies = parse_allergy_list(row.get("allergies", ""))
    except ValueError as exc:
        bad("allergies", str(exc))
        allergies = ()
    consent_text = row.get("consent_on_file", "").casefold()
    if consent_text not in _YES | _NO:
        bad("consent_on_file", f"{row['consent_on_file']!r}: write yes or no")
    consent = consent_text in _YES
    consent_date: date | None = None
    if row.get("consent_date", ""):
        try:
            consent_date = parse_date(row["consent_date"])
            if consent_date > today:
                bad("consent_date", "in the future; check it")
        except ValueError as exc:
            bad("consent_date", str(exc))
        if not consent:
            bad("consent_on_file", "a consent date is given: write yes here")
    if len(problems) > before or born is None or sex is None:
        return None
    return PatientSpec(
        line=line,
        chart_number=row["chart_number"],
        family_name=row["family_name"],
        given_name=row["given_name"],
        date_of_birth=born,
        sex=sex,
        diagnosis=row.get("diagnosis", ""),
        grade_scale=scale,
        grade=row.get("grade", ""),
        weight=weight,
        weighed_on=weighed_on,
        height=height,
        allergies=allergies,
        conditions=parse_condition_list(row.get("conditions", "")),
        consent_on_file=consent,
        consent_date=consent_date,
    )
