"""How typed names are compared: case, accents, spacing and punctuation do not matter.

``normalize("Dexpanthénol")``, ``normalize("DEXPANTHENOL")`` and
``normalize("dex-panthenol")`` are all ``"dexpanthenol"``. A few abbreviations that
practitioners type are expanded word by word first ("Vit B12" is "vitamin B12",
"lidocaine HCl" is "lidocaine hydrochloride"), and Greek letters are spelled out so
that "Tβ4" and "T beta 4" meet.
"""

from __future__ import annotations

import re
import unicodedata

# Word-level rewrites; only unambiguous, widely used abbreviations belong here.
_WORDS: dict[str, str] = {
    "vit": "vitamin",
    "hcl": "hydrochloride",
    "sulphate": "sulfate",
    "sulphur": "sulfur",
}

_GREEK: dict[str, str] = {
    "α": " alpha ",
    "β": " beta ",
    "γ": " gamma ",
    "δ": " delta ",
}

_WORD = re.compile(r"[^\W_]+")

#: Longer input is refused before any matching work (no name in the library is near it).
MAX_QUERY_LENGTH = 120


def words(text: str) -> list[str]:
    """The comparison words of ``text``: accent-free, case-folded, abbreviations expanded."""
    plain = text.casefold()
    if not plain.isascii():
        decomposed = unicodedata.normalize("NFKD", plain)
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        for letter, spelled in _GREEK.items():
            plain = plain.replace(letter, spelled)
    return [_WORDS.get(word, word) for word in _WORD.findall(plain)]


def normalize(text: str) -> str:
    """The key two names are compared by: their words joined without separators."""
    return "".join(words(text))
