"""The scalp zone map: a top view of the scalp drawn in the terminal, one entry per zone.

Each zone has a volume entry and an entry for the number of injection points (wheals)
given there. The map only collects what is typed per zone and shows what it is told:
adding the volumes up and checking them against the prepared volume, and the volume
each point receives, are the units engine's job (the screen asks it and calls
:meth:`ZoneMap.show_check` and :meth:`ZoneMap.show_per_point`).
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from formulary.records import ScalpZone
from tui.widgets.text_input import TextInput

#: Top view, face at the top; the patient's left is on the left of the picture.
TEMPLATE = (
    "              FFFFFFFFFFFF              ",
    "         FFFFFFFFFFFFFFFFFFFFFF         ",
    "      LLLFFFFFFFFFFFFFFFFFFFFFFRRR      ",
    "    LLLLLLMMMMMMMMMMMMMMMMMMMMRRRRRR    ",
    "   LLLLLLLMMMMMMMMMMMMMMMMMMMMRRRRRRR   ",
    "   LLLLLLLMMMMMMMMMMMMMMMMMMMMRRRRRRR   ",
    "   PPPPPPPVVVVVVVVVVVVVVVVVVVVPPPPPPP   ",
    "   PPPPPPPVVVVVVVVVVVVVVVVVVVVPPPPPPP   ",
    "    PPPPPPVVVVVVVVVVVVVVVVVVVVPPPPPP    ",
    "      PPPPOOOOOOOOOOOOOOOOOOOOPPPP      ",
    "         OOOOOOOOOOOOOOOOOOOOOO         ",
    "              OOOOOOOOOOOO              ",
)

CODES: dict[str, ScalpZone] = {
    "F": ScalpZone.FRONTAL,
    "L": ScalpZone.LEFT_TEMPORAL,
    "R": ScalpZone.RIGHT_TEMPORAL,
    "M": ScalpZone.MID_SCALP,
    "V": ScalpZone.VERTEX,
    "P": ScalpZone.PARIETAL,
    "O": ScalpZone.OCCIPITAL,
}

LABELS: dict[ScalpZone, str] = {
    ScalpZone.FRONTAL: "Frontal",
    ScalpZone.LEFT_TEMPORAL: "Left temporal",
    ScalpZone.RIGHT_TEMPORAL: "Right temporal",
    ScalpZone.MID_SCALP: "Mid-scalp",
    ScalpZone.VERTEX: "Vertex",
    ScalpZone.PARIETAL: "Parietal",
    ScalpZone.OCCIPITAL: "Occipital",
}

#: Where each zone's name and volume are written on the drawing: (row, short name).
_ANCHORS: dict[ScalpZone, tuple[int, str]] = {
    ScalpZone.FRONTAL: (1, "frontal"),
    ScalpZone.LEFT_TEMPORAL: (4, "L.tmp"),
    ScalpZone.RIGHT_TEMPORAL: (4, "R.tmp"),
    ScalpZone.MID_SCALP: (4, "mid-scalp"),
    ScalpZone.VERTEX: (7, "vertex"),
    ScalpZone.PARIETAL: (7, "par."),
    ScalpZone.OCCIPITAL: (10, "occipital"),
}

_SHADES = ("#3a4a5a", "#4a5a4a", "#5a4a5a", "#4a4a3a")
_ZONE_SHADE = {zone: _SHADES[i % len(_SHADES)] for i, zone in enumerate(CODES.values())}


def zone_at(x: int, y: int) -> ScalpZone | None:
    """The zone drawn at column ``x``, row ``y`` of the map, if any."""
    if 0 <= y < len(TEMPLATE) and 0 <= x < len(TEMPLATE[y]):
        return CODES.get(TEMPLATE[y][x])
    return None


def _zone_span(zone: ScalpZone, row: int) -> list[tuple[int, int]]:
    """Runs of columns (start, end) on ``row`` that belong to ``zone``."""
    runs: list[tuple[int, int]] = []
    line = TEMPLATE[row]
    start = None
    for x, code in enumerate(line + " "):
        inside = CODES.get(code) is zone
        if inside and start is None:
            start = x
        elif not inside and start is not None:
            runs.append((start, x))
            start = None
    return runs


class ScalpDrawing(Widget):
    """The drawing; a click on a zone asks for that zone's entry."""

    DEFAULT_CSS = """
    ScalpDrawing { width: 40; height: 13; }
    """

    class ZoneClicked(Message):
        """A zone of the drawing was clicked."""

        def __init__(self, zone: ScalpZone) -> None:
            self.zone = zone
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entered: dict[ScalpZone, str] = {}
        self.current: ScalpZone | None = None

    def render(self) -> Text:
        theme = self.app.current_theme
        filled = theme.primary or "blue"
        current = theme.accent or "orange"
        ink = Style(color="white", bold=True)
        lines: list[Text] = []
        for row, line in enumerate(TEMPLATE):
            chars = [" "] * len(line)
            styles: list[Style] = []
            for code in line:
                zone = CODES.get(code)
                if zone is None:
                    styles.append(Style())
                    continue
                shade = _ZONE_SHADE[zone]
                if zone in self.entered:
                    shade = filled
                if zone is self.current:
                    shade = current
                styles.append(Style(bgcolor=shade))
            for zone, (anchor_row, short) in _ANCHORS.items():
                if row == anchor_row:
                    label = short
                elif row == anchor_row + 1:
                    label = self.entered.get(zone, "")
                else:
                    continue
                for start, end in _zone_span(zone, row):
                    shown = label[: end - start]
                    pos = start + (end - start - len(shown)) // 2
                    for offset, char in enumerate(shown):
                        chars[pos + offset] = char
                        styles[pos + offset] = styles[pos + offset] + ink
            text = Text()
            for char, style in zip(chars, styles, strict=True):
                text.append(char, style=style)
            lines.append(text)
        lines.append(Text("  face ↑      back ↓   (click a zone)", style="dim"))
        return Text("\n").join(lines)

    def on_click(self, event: events.Click) -> None:
        zone = zone_at(event.x, event.y)
        if zone is not None:
            self.post_message(self.ZoneClicked(zone))


class ZoneMap(Widget):
    """The drawing plus one volume entry per zone and the total check."""

    DEFAULT_CSS = """
    ZoneMap { height: auto; layout: horizontal; }
    ZoneMap #zone-entries { width: 1fr; height: auto; padding-left: 2; }
    ZoneMap .zone-row { height: 1; margin-bottom: 1; }
    ZoneMap .zone-row Label { width: 15; }
    ZoneMap .zone-row Input {
        width: 13; height: 1; border: none; padding: 0 1; background: $boost;
    }
    ZoneMap .zone-row Input.zone-points { width: 9; margin-left: 1; }
    ZoneMap .zone-row .zone-each { width: 1fr; padding-left: 1; color: $text-muted; }
    ZoneMap .zone-row Input:focus { background: $accent 30%; }
    ZoneMap #zone-check { height: auto; padding-top: 1; }
    /* Narrow terminals (80 columns): the entries take the whole width, one line each,
       and the drawing (a help for the eye, the entries name every zone) steps aside. */
    ZoneMap.-compact ScalpDrawing { display: none; }
    ZoneMap.-compact #zone-entries { padding-left: 0; }
    ZoneMap.-compact .zone-row { margin-bottom: 0; }
    ZoneMap #zone-check.-bad { color: $error; text-style: bold; }
    ZoneMap #zone-check.-good { color: $success; }
    """

    class Changed(Message):
        """What is typed in the zones changed; ``volumes`` holds the non-empty entries."""

        def __init__(self, zone_map: ZoneMap, volumes: dict[ScalpZone, str]) -> None:
            self.zone_map = zone_map
            self.volumes = volumes
            super().__init__()

        @property
        def control(self) -> ZoneMap:
            """The map that changed."""
            return self.zone_map

    #: Below this width the map is compact (no drawing, no blank line between zones).
    COMPACT_BELOW = 96

    def __init__(self, *, id: str | None = None, read_only: bool = False) -> None:
        super().__init__(id=id)
        self._read_only = read_only

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < self.COMPACT_BELOW, "-compact")

    def compose(self) -> ComposeResult:
        yield ScalpDrawing(id="scalp")
        with Vertical(id="zone-entries"):
            for zone, label in LABELS.items():
                with Horizontal(classes="zone-row"):
                    yield Label(label)
                    yield TextInput(
                        id=f"zone-{zone.value}",
                        placeholder="e.g. 0.5 mL",
                        disabled=self._read_only,
                    )
                    yield TextInput(
                        id=f"points-{zone.value}",
                        placeholder="points",
                        classes="zone-points",
                        disabled=self._read_only,
                        tooltip="Injection points (wheals) in this zone",
                    )
                    yield Static("", id=f"each-{zone.value}", classes="zone-each")
            yield Static("", id="zone-check")

    def volumes(self) -> dict[ScalpZone, str]:
        """The text typed for each zone that has an entry."""
        found: dict[ScalpZone, str] = {}
        for zone in LABELS:
            value = self.query_one(f"#zone-{zone.value}", Input).value.strip()
            if value:
                found[zone] = value
        return found

    def points(self) -> dict[ScalpZone, str]:
        """The number of injection points typed for each zone that has one."""
        found: dict[ScalpZone, str] = {}
        for zone in LABELS:
            value = self.query_one(f"#points-{zone.value}", Input).value.strip()
            if value:
                found[zone] = value
        return found

    def set_volumes(
        self, volumes: Mapping[ScalpZone, str], points: Mapping[ScalpZone, str] | None = None
    ) -> None:
        """Fill the entries (a draft being resumed, or a signed session shown)."""
        for zone in LABELS:
            for prefix, given in (("zone", volumes), ("points", points or {})):
                field = self.query_one(f"#{prefix}-{zone.value}", Input)
                with field.prevent(Input.Changed):
                    field.value = given.get(zone, "")
        self._redraw()

    def show_per_point(self, each: Mapping[ScalpZone, str]) -> None:
        """Show the volume each injection point receives, per zone (``0.05 mL each``)."""
        for zone in LABELS:
            self.query_one(f"#each-{zone.value}", Static).update(each.get(zone, ""))

    def show_check(self, message: str, ok: bool) -> None:
        """Show the engine's verdict on the total (e.g. ``total 2 mL = prepared``)."""
        check = self.query_one("#zone-check", Static)
        check.update(Text(message))
        check.set_class(not ok, "-bad")
        check.set_class(ok, "-good")

    def _redraw(self) -> None:
        drawing = self.query_one(ScalpDrawing)
        drawing.entered = self.volumes()
        drawing.refresh()

    @on(Input.Changed)
    def _entry_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._redraw()
        self.post_message(self.Changed(self, self.volumes()))

    @on(ScalpDrawing.ZoneClicked)
    def _zone_clicked(self, event: ScalpDrawing.ZoneClicked) -> None:
        event.stop()
        if not self._read_only:
            self.query_one(f"#zone-{event.zone.value}", Input).focus()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        widget_id = event.widget.id or ""
        drawing = self.query_one(ScalpDrawing)
        _, _, name = widget_id.partition("-")
        drawing.current = (
            ScalpZone(name) if widget_id.startswith(("zone-", "points-")) else None
        )
        drawing.refresh()
