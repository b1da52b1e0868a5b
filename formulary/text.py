"""What text the clinic's records may hold: UTF-8, and no control characters.

A name, number or identifier is one line shown on screens, labels and exports: a
control character in it (ESC, BEL, CR, a C1 code) would be sent raw to a terminal or
a file another program reads, so it is refused. Multi-line free text (notes) keeps
its line breaks and tabs, nothing else. Text read from a command line or a pipe in
another encoding arrives with lone surrogates (Python's ``surrogateescape``): it is
refused as not UTF-8 rather than stored as something the user did not type.
"""

from __future__ import annotations

import unicodedata

#: Control characters multi-line text may keep: the line break and the tab.
MULTILINE_ALLOWED = frozenset("\n\t")


def is_utf8(value: str) -> bool:
    """Whether ``value`` can be written as UTF-8 (no lone surrogates from undecodable bytes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored (a phrase completing "the field …"), or None.

    Refused: text that is not UTF-8, and control characters (Unicode category Cc, which
    is C0, DEL and C1) and, on a single line, line and paragraph separators.
    ``multiline`` text may keep newlines and tabs.
    """
    if not is_utf8(value):
        return "is not UTF-8 text; retype it (or set the terminal or file to UTF-8)"
    # Quick answer for the usual text (an import checks every text of a whole clinic):
    # printable text holds no Cc, Zl or Zp character.
    if (value.replace("\n", "").replace("\t", "") if multiline else value).isprintable():
        return None
    for char in value:
        if multiline and char in MULTILINE_ALLOWED:
            continue
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            kind = "a line break" if char in "\r\n\v\f\x85\u2028\u2029" else "a control character"
            where = "" if multiline else " (it is one line)"
            return f"contains {kind} ({_code(char)}){where}; remove it"
    return None


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"


def same_key(value: str) -> str:
    """The form in which two names are compared when no two may be the same.

    Names that differ only in letter case or spacing (``Biotin 5 mg/mL`` and
    ``biotin  5 MG/ML``, chart numbers ``C-001`` and ``c-001``) are one name: they are
    read aloud, typed again and looked up, so a second one would be taken for the first.
    Product names, chart numbers and consent template names are refused on this key,
    whether typed or imported, and so is a lot number already received for the product.
    """
    return " ".join(value.casefold().split())
