"""Matching what people write (an allergy, a class) against ingredient names.

Allergies are typed by people: "Sulphites", "amino acids", "lidocaine", "Vitamin B12".
A term matches a name when, after normalising both, the term's words appear as a
contiguous run of the name's words: "lidocaine" matches "lidocaine hydrochloride",
"amino acid" matches the class "amino_acid", "sulphites" matches "sulfite".
Matching on whole words keeps "zinc" from matching "zincite" and "acid" from
matching "acidic". A term the rules cannot interpret matches nothing; it never
raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_NON_WORD = re.compile(r"[^0-9a-z]+")

# British and older spellings that labels and patients still use.
_SPELLINGS = (("sulph", "sulf"), ("aesth", "esth"), ("oestr", "estr"))


def _singular(word: str) -> str:
    # Plurals as allergies are written ("sulfites", "amino acids"), not a full stemmer:
    # a word of four letters or fewer, or ending in "ss"/"is"/"us", keeps its "s".
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "is", "us")):
        return word[:-1]
    return word


@lru_cache(maxsize=8192)
def words(text: str) -> tuple[str, ...]:
    """The normalised words of ``text``: case-folded, ASCII-only, singular."""
    folded = text.casefold()
    for old, new in _SPELLINGS:
        folded = folded.replace(old, new)
    return tuple(_singular(w) for w in _NON_WORD.split(folded) if w)


def term_matches(term: str, name: str) -> bool:
    """True when the words of ``term`` run contiguously inside the words of ``name``."""
    needle = words(term)
    haystack = words(name)
    if not needle or len(needle) > len(haystack):
        return False
    width = len(needle)
    return any(haystack[i : i + width] == needle for i in range(len(haystack) - width + 1))


def first_match(term: str, names: Iterable[str]) -> str | None:
    """The first of ``names`` that ``term`` matches, or None."""
    for name in names:
        if term_matches(term, name):
            return name
    return None
