"""The footer of every screen: the keys that apply here, drawn as one line."""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widget import Widget


class FooterItem(NamedTuple):
    """One key shown in the footer and the columns it occupies."""

    key: str
    display: str
    description: str
    enabled: bool
    start: int = 0
    end: int = 0


class KeyFooter(Widget, can_focus=False):
    """The bindings of the focused widget and its screen, like Textual's Footer.

    Textual's Footer mounts one widget per key and rebuilds them all whenever the
    screen says its bindings may have changed: on every mount, resume and focus move.
    That rebuild was the largest single cost of opening a chart (about 40 ms, twice).
    This footer reads the same bindings and draws them as one line of text, so an
    update is a repaint. Clicking a key presses it, as with Textual's Footer.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-footer--key",
        "key-footer--description",
        "key-footer--hover",
        "key-footer--disabled",
    }
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-footer--hover {
            background: $block-hover-background;
        }
        & > .key-footer--disabled {
            text-style: dim;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._items: list[FooterItem] = []
        self._hover: int | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: object) -> None:
        self.refresh()

    def _palette_binding(self) -> tuple[Binding, bool] | None:
        if not self.app.ENABLE_COMMAND_PALETTE:
            return None
        entry = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        return (entry[1], entry[2]) if entry else None

    def items(self) -> list[FooterItem]:
        """The keys shown, left to right (one per action, the first key bound to it)."""
        seen: set[str] = set()
        shown: list[FooterItem] = []
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            shown.append(
                FooterItem(
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.description,
                    enabled,
                )
            )
        return shown

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-footer--key", partial=True)
        text_style = self.get_component_rich_style("key-footer--description", partial=True)
        hover_style = self.get_component_rich_style("key-footer--hover", partial=True)
        dim_style = self.get_component_rich_style("key-footer--disabled", partial=True)
        width = self.size.width
        palette = self._palette_binding()
        palette_text = Text()
        if palette is not None:
            binding, _enabled = palette
            palette_text = Text.assemble(
                ("│", Style(dim=True)),
                (f" {self.app.get_key_display(binding)} ", key_style),
                (f"{binding.description} ", text_style),
            )
        room = max(0, width - palette_text.cell_len)
        items = self.items()

        def piece_of(item: FooterItem, compact: bool) -> Text:
            if compact:  # like Textual's compact footer: no padding, one space between
                return Text.assemble(
                    (item.display, key_style),
                    (f" {item.description}" if item.description else "", text_style),
                    " ",
                )
            return Text.assemble(
                (f" {item.display} ", key_style),
                (f"{item.description} " if item.description else "", text_style),
            )

        # Padded when every key fits, compact when that makes them fit; what still does
        # not fit is left off at the end (the palette lists every command).
        compact = sum(piece_of(item, False).cell_len for item in items) > room
        line = Text(no_wrap=True, overflow="crop", end="")
        if compact:
            line.append(" ")
        placed: list[FooterItem] = []
        for item in items:
            piece = piece_of(item, compact)
            if line.cell_len + piece.cell_len > room:
                break
            if not item.enabled:
                piece.stylize(dim_style)
            if self._hover == len(placed):
                piece.stylize(hover_style)
            start = line.cell_len
            line.append_text(piece)
            placed.append(item._replace(start=start, end=line.cell_len))
        if palette is not None:
            binding, enabled = palette
            placed.append(
                FooterItem(
                    binding.key,
                    "",
                    binding.description,
                    enabled,
                    width - palette_text.cell_len + 1,
                    width,
                )
            )
            line.append(" " * max(0, room - line.cell_len))
            line.append_text(palette_text)
        self._items = placed
        return line

    def _item_at(self, x: int) -> int | None:
        for index, item in enumerate(self._items):
            if item.start <= x < item.end:
                return index
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hover = self._item_at(event.x)
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self, _event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self._item_at(event.x)
        if index is None:
            return
        item = self._items[index]
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()
