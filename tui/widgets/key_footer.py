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
    row: int = 0
    optional: bool = False


#: Keys left off first when the line is full (still in Help and the palette). The
#: patient list's Enter: Enter in the search box opens a patient too, and at 80
#: columns the list's keys would otherwise take a second line.
OPTIONAL_KEYS = frozenset({"theme", "patient_list.open"})


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
        self._rows = 1

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
                    optional=binding.id in OPTIONAL_KEYS,
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
        items = self.items()

        def palette_text(short: bool) -> Text:
            if palette is None:
                return Text()
            binding, _enabled = palette
            return Text.assemble(
                ("│", Style(dim=True)),
                (f" {self.app.get_key_display(binding)} ", key_style),
                ("" if short else f"{binding.description} ", text_style),
            )

        def piece_of(item: FooterItem, compact: bool) -> Text:
            description = item.description
            if compact:  # like Textual's compact footer: no padding, one space between
                return Text.assemble(
                    (item.display, key_style),
                    (f" {description}" if description else "", text_style),
                    " ",
                )
            return Text.assemble(
                (f" {item.display} ", key_style),
                (f"{description} " if description else "", text_style),
            )

        def total(pieces: list[Text]) -> int:
            return sum(p.cell_len for p in pieces)

        # One line, padded; else compact; else compact without the optional keys
        # (Theme). When even that does not fit (a busy screen at 80 columns), two
        # lines: every key stays on screen with its full name, Export, Lock and Help too.
        full_palette, short_palette = palette_text(False), palette_text(True)
        needed = [i for i in items if not i.optional]
        layouts = (
            (items, False),
            (items, True),
            (needed, True),
        )
        rows: list[list[tuple[FooterItem, Text]]] = []
        chosen_palette = full_palette
        lead = False
        for shown, compact in layouts:
            pieces = [piece_of(i, compact) for i in shown]
            if total(pieces) + int(compact) <= width - full_palette.cell_len:
                rows = [list(zip(shown, pieces, strict=True))]
                lead = compact
                break
        else:
            lead = True
            row: list[tuple[FooterItem, Text]] = []
            used = 1
            for item in needed:
                piece = piece_of(item, True)
                if used + piece.cell_len > width and row:
                    rows.append(row)
                    row, used = [], 1
                row.append((item, piece))
                used += piece.cell_len
            # The palette takes the right end of the last row. A row too full for even
            # its short form hands its last key to a new row: drawn under the palette,
            # that key (Help, as it comes last) would be cut off.
            if used + short_palette.cell_len > width and len(row) > 1:
                moved = row.pop()
                rows.append(row)
                row, used = [moved], 1 + moved[1].cell_len
            rows.append(row)
            if used + full_palette.cell_len > width:
                chosen_palette = short_palette
        self._want_height(len(rows))
        placed: list[FooterItem] = []
        out = Text(no_wrap=True, overflow="crop", end="")
        for number, row_items in enumerate(rows):
            last = number == len(rows) - 1
            room = width - (chosen_palette.cell_len if last else 0)
            line = Text(no_wrap=True, overflow="crop", end="")
            if lead:
                line.append(" ")
            for item, piece in row_items:
                if line.cell_len + piece.cell_len > room:
                    break
                if not item.enabled:
                    piece.stylize(dim_style)
                if self._hover == len(placed):
                    piece.stylize(hover_style)
                start = line.cell_len
                line.append_text(piece)
                placed.append(item._replace(start=start, end=line.cell_len, row=number))
            if last and palette is not None:
                binding, enabled = palette
                placed.append(
                    FooterItem(
                        binding.key,
                        "",
                        binding.description,
                        enabled,
                        width - chosen_palette.cell_len + 1,
                        width,
                        number,
                    )
                )
                line.append(" " * max(0, room - line.cell_len))
                line.append_text(chosen_palette)
            if number:
                out.append("\n")
            out.append_text(line)
        self._items = placed
        return out

    def _want_height(self, rows: int) -> None:
        # Changing the height inside render would lay the screen out again mid-paint:
        # ask for it after this refresh (only when it changes).
        if rows != self._rows:
            self._rows = rows
            self.call_after_refresh(self._set_height, rows)

    def _set_height(self, rows: int) -> None:
        self.styles.height = rows

    def _item_at(self, x: int, y: int = 0) -> int | None:
        for index, item in enumerate(self._items):
            if item.row == y and item.start <= x < item.end:
                return index
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hover = self._item_at(event.x, event.y)
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self, _event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self._item_at(event.x, event.y)
        if index is None:
            return
        item = self._items[index]
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()
