"""Type a name, pick from the formulary: products and ingredients, by name or synonym."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from tui.widgets.text_input import TextInput

#: Suggestions shown at once.
SHOWN = 8


@dataclass(frozen=True, slots=True)
class Choice:
    """Something a component can be: a stock product or a bare ingredient."""

    kind: str  # "product" or "ingredient"
    id: int
    name: str
    synonyms: tuple[str, ...] = ()
    detail: str = ""

    def matches(self, words: Sequence[str]) -> tuple[int, str] | None:
        """(rank, the name that matched) when every word appears in a name or synonym."""
        best: tuple[int, str] | None = None
        for rank, name in enumerate((self.name, *self.synonyms)):
            folded = name.casefold()
            if all(w in folded for w in words):
                score = (0 if folded.startswith(words[0]) else 1) * 100 + min(rank, 1)
                if best is None or score < best[0]:
                    best = (score, name)
        return best


def suggest(choices: Sequence[Choice], text: str, limit: int = SHOWN) -> list[tuple[Choice, str]]:
    """The best choices for ``text``: prefix matches first, names before synonyms."""
    words = text.casefold().split()
    if not words:
        return []
    ranked = []
    for choice in choices:
        match = choice.matches(words)
        if match is not None:
            ranked.append(
                (match[0], choice.kind != "product", choice.name.casefold(), choice, match[1])
            )
    ranked.sort(key=lambda r: r[:3])
    return [(r[3], r[4]) for r in ranked[:limit]]


class NamePicker(Vertical):
    """An input with a list of suggestions under it; emits :class:`NamePicker.Chosen`."""

    DEFAULT_CSS = """
    NamePicker { height: auto; }
    NamePicker OptionList { height: auto; max-height: 10; display: none; }
    NamePicker.-open OptionList { display: block; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "into_list", "Suggestions", show=False, id="name_picker.down"),
    ]

    class Chosen(Message):
        """The user chose ``choice``."""

        def __init__(self, choice: Choice) -> None:
            self.choice = choice
            super().__init__()

    def __init__(self, *, id: str | None = None, placeholder: str = "") -> None:
        super().__init__(id=id)
        self.choices: list[Choice] = []
        self._shown: list[Choice] = []
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield TextInput(placeholder=self._placeholder, id="picker-input")
        yield OptionList(id="picker-options")

    @property
    def input(self) -> Input:
        """The text field."""
        return self.query_one("#picker-input", Input)

    @on(Input.Changed, "#picker-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        found = suggest(self.choices, event.value)
        self._shown = [choice for choice, _ in found]
        options = self.query_one(OptionList)
        options.clear_options()
        for choice, matched in found:
            label = Text(choice.name, style="bold")
            label.append(f"  {choice.kind}", style="dim")
            if matched != choice.name:
                label.append(f"  (as {matched})", style="italic")
            if choice.detail:
                label.append(f"  {choice.detail}", style="dim")
            options.add_option(Option(label))
        self.set_class(bool(found), "-open")

    @on(Input.Submitted, "#picker-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._shown:
            self._choose(self._shown[0])

    def action_into_list(self) -> None:
        """Move from the text to the suggestions."""
        if self._shown:
            options = self.query_one(OptionList)
            options.focus()
            options.highlighted = 0

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self._shown):
            self._choose(self._shown[event.option_index])

    def _choose(self, choice: Choice) -> None:
        field = self.input
        with field.prevent(Input.Changed):
            field.value = choice.name
        self.remove_class("-open")
        self._shown = []
        self.post_message(self.Chosen(choice))
