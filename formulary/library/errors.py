"""What the ingredient library refuses, each with one message a person can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from formulary.library.model import Ingredient


class LibraryError(ValueError):
    """Base of every error the library raises; ``str()`` is the user-facing message."""


class UnknownIngredient(LibraryError):
    """No ingredient has this name or synonym."""

    def __init__(self, query: str, suggestions: tuple[str, ...] = ()) -> None:
        self.query = query
        self.suggestions = suggestions
        shown = query if len(query) <= 60 else query[:57] + "..."
        if not query.strip():
            message = "No ingredient name given; type an ingredient's name or synonym."
        elif not any(ch.isalnum() for ch in query):
            message = f"{shown!r} has no letters or digits; type an ingredient's name or synonym."
        elif suggestions:
            options = ", ".join(suggestions)
            message = f"No ingredient named {shown!r}; did you mean: {options}?"
        else:
            message = (
                f"No ingredient named {shown!r} in the library; check the spelling "
                "or search by the first letters of the name."
            )
        super().__init__(message)


class AmbiguousIngredient(LibraryError):
    """The name is shared by several ingredients; the user must pick one."""

    def __init__(self, query: str, candidates: tuple[Ingredient, ...]) -> None:
        self.query = query
        self.candidates = candidates
        names = ", ".join(candidate.name for candidate in candidates)
        super().__init__(
            f"{query.strip()!r} matches {len(candidates)} ingredients: {names}; type the full name"
        )


class UnknownForm(LibraryError):
    """The ingredient has no form by this name."""

    def __init__(self, ingredient_name: str, form: str, known: tuple[str, ...]) -> None:
        self.form = form
        self.known = known
        super().__init__(
            f"{ingredient_name} has no form {form!r}; known forms: " + ", ".join(known)
        )


class LibraryDataError(LibraryError):
    """The library's data file breaks its own rules (a packaging or editing mistake)."""
