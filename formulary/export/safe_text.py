"""Neutralising spreadsheet formula injection in exported text.

A spreadsheet treats a cell whose text begins with ``=``, ``+``, ``-`` or ``@`` as a
formula, and some also do after a leading tab or carriage return. A patient note such as
``=HYPERLINK("http://evil", "click")`` would then run when the clinic opens the CSV.
The remedy OWASP recommends is to prefix such text with a single quote, which every
spreadsheet shows as plain text and which a reader can strip to recover the original.

Also here: dropping control characters, which FHIR strings and XML may not contain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TypeVar, cast

T = TypeVar("T")

#: Characters that make a spreadsheet read the cell as a formula when they come first.
FORMULA_TRIGGERS = frozenset("=+-@\t\r")

#: What neutralised text is prefixed with.
GUARD = "'"


def is_dangerous(text: str) -> bool:
    """Whether ``text`` would be read as a formula by a spreadsheet."""
    return bool(text) and text[0] in FORMULA_TRIGGERS


def _needs_guard(text: str) -> bool:
    # Text that already starts with guards before a trigger is guarded once more, so
    # that restore() can always undo exactly one guard: neutralise is a bijection.
    return is_dangerous(text.lstrip(GUARD))


def neutralise(text: str) -> str:
    """``text`` made safe for a spreadsheet cell; safe text is returned unchanged."""
    return GUARD + text if _needs_guard(text) else text


def restore(cell: str) -> str:
    """The original text of a cell written by :func:`neutralise` (its exact inverse)."""
    if cell.startswith(GUARD) and _needs_guard(cell):
        return cell[1:]
    return cell


def _allowed(ch: str) -> bool:
    code = ord(ch)
    if ch in "\t\n\r":
        return True
    return not (code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000
                or code in (0xFFFE, 0xFFFF))


#: Unicode spaces other than the ASCII ones. FHIR's string pattern ``[ \r\n\t\S]+``
#: counts them as whitespace, so a name made only of them (a no-break space pasted
#: from a document) is not a valid FHIR string: they are written as plain spaces.
ODD_SPACES = frozenset(
    "\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def printable(text: str) -> str:
    """``text`` without control characters (tab and line breaks kept), odd spaces plain.

    FHIR strings may not hold control characters and XML (the FHIR narrative) cannot.
    """
    if text.isprintable():
        return text
    return "".join(" " if ch in ODD_SPACES else ch for ch in text if _allowed(ch))


def printable_record(record: T) -> T:
    """A copy of a frozen record (dataclasses, tuples) with every string :func:`printable`."""
    if isinstance(record, str):
        return cast(T, printable(record))
    if isinstance(record, tuple):
        items = tuple(printable_record(item) for item in record)
        same = all(a is b for a, b in zip(items, record, strict=True))
        return record if same else cast(T, items)
    if isinstance(record, Mapping):
        # A session's ``others``: the fields declared with nothing but their declaration.
        cleaned = {key: printable_record(item) for key, item in record.items()}
        same = all(cleaned[key] is record[key] for key in record)
        return record if same else cast(T, cleaned)
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        changes = {}
        for f in dataclasses.fields(record):
            value = getattr(record, f.name)
            cleaned = printable_record(value)
            if cleaned is not value:
                changes[f.name] = cleaned
        return dataclasses.replace(record, **changes) if changes else record
    return record
