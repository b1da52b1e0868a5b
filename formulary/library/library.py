"""Finding ingredients by what people type: a name, a synonym, a form, a brand.

:func:`load_library` reads the packaged data file once per process. Lookups compare
names with :func:`formulary.library.names.normalize`, so case, accents, spaces and
punctuation never matter. A name shared by several entries on purpose ("vitamin E")
is refused with the candidates listed; any other clash is a data error caught at load.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from formulary.library.errors import (
    AmbiguousIngredient,
    LibraryDataError,
    UnknownIngredient,
)
from formulary.library.loader import LibraryData, SharedSynonym, names_of, parse_library
from formulary.library.model import Form, Ingredient
from formulary.library.names import MAX_QUERY_LENGTH, normalize, words

DATA_FILE = "ingredients.json"
_MAX_SUGGESTIONS = 3


@dataclass(frozen=True, slots=True)
class _Name:
    """One searchable name of one ingredient."""

    key: str
    normalized: str
    words: tuple[str, ...]
    primary: bool  # the canonical name (ranked before synonyms)


class Library:
    """The ingredient library: lookup by name or synonym, autocomplete, listing."""

    def __init__(self, data: LibraryData) -> None:
        self._ingredients = tuple(sorted(data.ingredients, key=lambda i: i.name.casefold()))
        self._by_key = {ingredient.key: ingredient for ingredient in self._ingredients}
        self.shared_synonyms: tuple[SharedSynonym, ...] = data.shared_synonyms
        self._documents = data.documents
        self._index: dict[str, tuple[str, ...]] = {}
        self._form_index: dict[str, tuple[str, str]] = {}  # form label -> (key, form key)
        self._names: list[_Name] = []
        self._build_index()

    @classmethod
    def from_document(cls, document: object) -> Library:
        """Build a library from a decoded data file (raises LibraryDataError if invalid)."""
        return cls(parse_library(document))

    def _build_index(self) -> None:
        found: dict[str, list[str]] = {}
        for ingredient in self._ingredients:
            for position, name in enumerate(names_of(ingredient)):
                name_words = words(name)
                normalized = "".join(name_words)
                if not normalized:
                    raise LibraryDataError(
                        f"library data: {ingredient.key}: the name {name!r} "
                        "has no letters or digits"
                    )
                keys = found.setdefault(normalized, [])
                if ingredient.key not in keys:
                    keys.append(ingredient.key)
                    self._names.append(
                        _Name(ingredient.key, normalized, tuple(name_words), position == 0)
                    )
        declared = {normalize(shared.name): shared for shared in self.shared_synonyms}
        for normalized, keys in found.items():
            shared = declared.get(normalized)
            if len(keys) > 1 and (shared is None or set(keys) != set(shared.keys)):
                raise LibraryDataError(
                    f"library data: the name {normalized!r} is used by {sorted(keys)}; "
                    "declare it in shared_synonyms with exactly those keys or rename it"
                )
        for normalized, shared in declared.items():
            if set(found.get(normalized, ())) != set(shared.keys):
                raise LibraryDataError(
                    f"library data: shared synonym {shared.name!r} must be a synonym of each of "
                    f"{list(shared.keys)} and of no other entry"
                )
        self._index = {normalized: tuple(keys) for normalized, keys in found.items()}
        for ingredient in self._ingredients:
            for form in ingredient.forms:
                for name in (form.label, *form.synonyms):
                    self._form_index[normalize(name)] = (ingredient.key, form.key)

    def all(self) -> tuple[Ingredient, ...]:
        """Every entry, sorted by name."""
        return self._ingredients

    def __len__(self) -> int:
        return len(self._ingredients)

    def by_key(self, key: str) -> Ingredient:
        """The entry with this stable key; UnknownIngredient if there is none."""
        try:
            return self._by_key[key]
        except KeyError:
            raise UnknownIngredient(key, self._suggest(key)) from None

    def document(self, key: str) -> dict[str, Any]:
        """The entry ``key`` exactly as the data file writes it: plain JSON values.

        A fresh deep copy each call, so a caller (the database seed, an export) can
        store or change it without touching the library.
        """
        self.by_key(key)  # the same refusal as by_key for an unknown key
        return cast("dict[str, Any]", copy.deepcopy(dict(self._documents[key])))

    def find(self, text: str) -> Ingredient:
        """The one entry whose name, synonym, key or form label is ``text``.

        Matching ignores case, accents, spaces and punctuation and expands "vit" and
        "HCl". Raises AmbiguousIngredient (candidates listed) when the name belongs to
        several entries, UnknownIngredient (up to three suggestions) when to none.
        """
        if len(text) > MAX_QUERY_LENGTH:
            raise UnknownIngredient(text)
        normalized = normalize(text)
        if not normalized:
            raise UnknownIngredient(text)
        keys = self._index.get(normalized)
        if keys is None:
            raise UnknownIngredient(text, self._suggest(text))
        if len(keys) > 1:
            candidates = tuple(sorted((self._by_key[key] for key in keys), key=_name_order))
            raise AmbiguousIngredient(text, candidates)
        return self._by_key[keys[0]]

    def resolve(self, text: str) -> tuple[Ingredient, Form | None]:
        """Like :meth:`find`, and also the form when ``text`` names one.

        "zinc sulfate heptahydrate" gives (Zinc sulfate, its heptahydrate form);
        "ergocalciferol" or "vitamin D2" gives (Vitamin D, its ergocalciferol form): the
        substance typed *is* the form. "zinc" gives (Zinc sulfate, None): the caller
        then uses or asks for a form.
        """
        ingredient = self.find(text)
        hit = self._form_index.get(normalize(text))
        if hit is None or hit[0] != ingredient.key:
            return ingredient, None
        return ingredient, ingredient.form(hit[1])

    def search(self, text: str, limit: int = 20) -> list[Ingredient]:
        """Entries matching the start of ``text`` or its words, best first (autocomplete).

        Ranking: exact name, then names starting with the text, then names whose words
        start with each typed word, then names containing the text; canonical names
        before synonyms, then alphabetical. An empty text lists entries by name.
        """
        if limit <= 0:
            return []
        if len(text) > MAX_QUERY_LENGTH:
            return []
        query_words = words(text)
        query = "".join(query_words)
        if not query:
            return list(self._ingredients[:limit])
        best: dict[str, tuple[int, int]] = {}
        for name in self._names:
            score = _score(name, query, query_words)
            if score is None:
                continue
            rank = (score, 0 if name.primary else 1)
            if name.key not in best or rank < best[name.key]:
                best[name.key] = rank
        ordered = sorted(best, key=lambda key: (best[key], _name_order(self._by_key[key])))
        return [self._by_key[key] for key in ordered[:limit]]

    def with_class(self, tag: str) -> tuple[Ingredient, ...]:
        """Entries tagged with class ``tag`` (e.g. "amino acid", "copper"), by name."""
        wanted = normalize(tag)
        return tuple(
            ingredient
            for ingredient in self._ingredients
            if any(normalize(member) == wanted for member in ingredient.classes)
        )

    def classes(self) -> tuple[str, ...]:
        """Every class tag used by some entry, sorted."""
        tags = {tag for ingredient in self._ingredients for tag in ingredient.classes}
        return tuple(sorted(tags, key=str.casefold))

    def _suggest(self, text: str) -> tuple[str, ...]:
        if len(text) > MAX_QUERY_LENGTH:
            return ()
        names: list[str] = [ingredient.name for ingredient in self.search(text, _MAX_SUGGESTIONS)]
        normalized = normalize(text)
        if normalized and len(names) < _MAX_SUGGESTIONS:
            import difflib  # only on a miss: keeps it off the import path

            close = difflib.get_close_matches(normalized, list(self._index), n=10, cutoff=0.6)
            for match in close:
                for key in self._index[match]:
                    names.append(self._by_key[key].name)
        return tuple(_unique(names))[:_MAX_SUGGESTIONS]


def _score(name: _Name, query: str, query_words: list[str]) -> int | None:
    if name.normalized == query:
        return 0
    if name.normalized.startswith(query):
        return 1
    if all(any(word.startswith(typed) for word in name.words) for typed in query_words):
        return 2
    if query in name.normalized:
        return 3
    return None


def _name_order(ingredient: Ingredient) -> str:
    return ingredient.name.casefold()


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


@cache
def load_library() -> Library:
    """The packaged ingredient library, read and checked once per process."""
    import json  # imported here: only the first call pays for it

    return Library.from_document(json.loads(_read_data_file()))


def _read_data_file() -> str:
    # The file sits next to this module in every normal install; opening it directly
    # spares importlib.resources' imports (pathlib, tempfile …) on the first frame.
    beside = os.path.join(os.path.dirname(__file__), DATA_FILE)
    if os.path.isfile(beside):
        with open(beside, encoding="utf-8") as handle:
            return handle.read()
    from importlib import resources  # zipped or otherwise unusual installs

    return resources.files("formulary.library").joinpath(DATA_FILE).read_text(encoding="utf-8")
