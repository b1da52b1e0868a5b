"""A spreadsheet export (CSV) read as rows by column name, every problem named.

What the product and patient imports share: a header row whose columns may come in
any order (names case-insensitive, spaces or hyphens counting as ``_``), a comma-,
semicolon- or tab-separated file, a byte-order mark tolerated, blank rows skipped,
and each problem kept with its line and column so that one message can list them
all. What a row means is each import's own (``formulary.product_csv``,
``formulary.patient_csv``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CsvProblem:
    """What is wrong, where: ``line`` counts from 1 (the header), ``column`` by name."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class CsvImportError(ValueError):
    """The file cannot be imported; ``problems`` names every bad cell found."""

    def __init__(self, problems: Sequence[CsvProblem]) -> None:
        self.problems = tuple(problems)
        first = str(self.problems[0]) if self.problems else "no problems"
        more = len(self.problems) - 1
        super().__init__(first + (f" (and {more} more)" if more > 0 else ""))


def column_name(text: str) -> str:
    """A header cell as a column name: ``Volume per unit`` → ``volume_per_unit``."""
    return "_".join(text.strip().casefold().replace("-", " ").split())


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    first = sample.splitlines()[0] if sample else ""
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    delimiter = max(counts, key=lambda sep: counts[sep])
    if counts[delimiter] == 0:
        return csv.excel

    class _Found(csv.excel):
        pass

    _Found.delimiter = delimiter
    return _Found


def _rows(text: str) -> Iterable[tuple[int, list[str]]]:
    """``(line number where the row starts, cells)``; quoted cells may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text[:4096]))
    start = 1
    for cells in reader:
        yield start, cells
        start = reader.line_num + 1


#: The line a "nothing below the header" problem names (the header is line 1).
FIRST_DATA_LINE = 2


def table_rows(
    text: str,
    *,
    columns: Sequence[str],
    required: Sequence[str],
    max_rows: int,
    problems: list[CsvProblem],
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each non-blank row of ``text`` as ``(line, {column: stripped cell})``.

    The header is checked first: a file that is not text, has no header, or whose
    header names an unknown or repeated column or lacks a required one raises
    :class:`CsvImportError` with every such problem. Below it, a row with more cells
    than the header, more than ``max_rows`` rows, or text the CSV reader cannot read
    is added to ``problems`` (the caller raises once it has read everything).
    """
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise CsvImportError([CsvProblem(1, "", "this is not a text file (CSV)")])
    rows = iter(_rows(text))
    try:
        header_line, header = next(rows)
    except StopIteration:
        raise CsvImportError(
            [CsvProblem(1, "", "the file is empty: it needs a header row")]
        ) from None
    except csv.Error as exc:
        raise CsvImportError([CsvProblem(1, "", f"not readable as CSV ({exc})")]) from None
    names = [column_name(h) for h in header]
    found: list[CsvProblem] = []
    for position, name in enumerate(names, start=1):
        if name not in columns:
            shown = header[position - 1].strip() or f"#{position}"
            found.append(
                CsvProblem(
                    header_line,
                    shown,
                    f"unknown column {shown!r}; the columns are {', '.join(columns)}",
                )
            )
        elif names.index(name) != position - 1:
            found.append(CsvProblem(header_line, name, "this column appears twice"))
    for name in required:
        if name not in names:
            found.append(CsvProblem(header_line, name, "required column missing"))
    if found:
        raise CsvImportError(found)
    count = 0
    try:
        for line, cells in rows:
            if not any(c.strip() for c in cells):
                continue
            count += 1
            if count > max_rows:
                problems.append(CsvProblem(line, "", f"more than {max_rows} rows; split the file"))
                return
            if len(cells) > len(names):
                problems.append(
                    CsvProblem(line, "", f"{len(cells)} cells but the header has {len(names)}")
                )
                continue
            yield line, {
                name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(names)
            }
    except csv.Error as exc:
        problems.append(CsvProblem(count + 2, "", f"not readable as CSV ({exc})"))
