"""Neutralising spreadsheet formula injection in exported text.

A spreadsheet treats a cell whose text begins with ``=``, ``+``, ``-`` or ``@`` as a
formula, and some also do after a leading tab or carriage return. A patient note such as
``=HYPERLINK("http://evil", "click")`` would then run when the clinic opens the CSV.
The remedy OWASP recommends is to prefix such text with a single quote, which every
spreadsheet shows as plain text and which a reader can strip to recover the original.
"""

from __future__ import annotations

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
