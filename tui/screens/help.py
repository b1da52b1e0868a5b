"""The help screen: the app's keys, grouped by screen, and how the app is driven.

Only the app's own bindings are listed (each has an id, the name config.toml remaps it
by): the keys a focused text field understands (cursor keys, word moves) are the
field's, the same in every terminal program, and would drown the app's own.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Markdown, Static

from tui.commands import COMMANDS
from tui.screens.base import AppModal

GUIDE = """\
**Moving around.** `tab` / `shift+tab` move between fields, `enter` opens or confirms,
`escape` goes back, `[` / `]` show the previous / next tab (a chart, the formulary).
Every key of the current screen is shown in the footer.

**Command palette.** `ctrl+p` opens it: type a patient's name or chart number to open
the chart, or one of the commands listed above (those that apply where you are).

**Safety.** Amounts are typed with their unit (`0.5 mL`, `2 mg`, `500 units`).
Expired, quarantined or recalled lots are refused. A signed session is read-only:
corrections are addenda with a reason, signed with your password.

**Privacy.** The screen locks after the idle time set by the clinic (`ctrl+l` locks it
now). Only your password, or signing out, opens it again; drafts are kept.

**Keys can be changed** in `config.toml` (section `[keymap]`, binding id = key).
"""


#: The screens of the workday, in the order a day meets them: (module, class, plain name).
SCREENS: tuple[tuple[str, str, str], ...] = (
    ("tui.screens.patients", "PatientsScreen", "Patient list"),
    ("tui.screens.patient", "PatientScreen", "Patient chart"),
    ("tui.screens.session", "SessionScreen", "Session"),
    ("tui.screens.formulation_editor", "FormulationEditorScreen", "Formulation editor"),
    ("tui.screens.stock", "StockScreen", "Formulary and stock"),
    ("tui.screens.export", "ExportScreen", "Export"),
    ("tui.screens.audit", "AuditScreen", "Audit trail"),
    ("tui.screens.users", "UsersScreen", "Users"),
    ("tui.screens.photos", "PhotosScreen", "Photos"),
    ("tui.screens.photos", "ComparePhotosScreen", "Compare photos"),
)
_PLAIN = {name: plain for _, name, plain in SCREENS}


def plain_name(screen: type[object]) -> str:
    """A screen's name as a user calls it ("Patient chart"), never its class name."""
    name = screen.__name__
    if name in _PLAIN:
        return _PLAIN[name]
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", name.removesuffix("Screen")).strip()
    return words[:1].upper() + words[1:].lower() if words else "This screen"


def own_bindings(bindings: Iterable[BindingType]) -> list[Binding]:
    """The app's own bindings among ``bindings``: with an id and a description."""
    return [b for b in bindings if isinstance(b, Binding) and b.id and b.description]


class HelpScreen(AppModal):
    """Keys of the screen below and a short guide."""

    DEFAULT_CSS = """
    HelpScreen > VerticalScroll { width: 90; max-width: 95%; height: 90%; max-height: 100%; }
    HelpScreen DataTable { height: auto; }
    HelpScreen .help-title { text-style: bold; color: $accent; margin: 1 0 0 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("f1", "close", "Close", show=False, id="help.close_f1"),
    ]

    def __init__(self, below: Screen[object]) -> None:
        super().__init__()
        self._below = below

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            for number, (title, bindings) in enumerate(self._groups()):
                yield Static(title, classes="help-title")
                table: DataTable[str] = DataTable(
                    id=f"help-keys-{number}", classes="help-keys", show_cursor=False
                )
                table.add_columns("Key", "Does", "Binding id")
                for binding in bindings:
                    table.add_row(self._key(binding), binding.description, binding.id or "")
                yield table
            # The palette's own list (tui.commands), so that help names every command.
            yield Static("Command palette (ctrl+p)", classes="help-title",
                         id="help-commands-title")
            # A table of text, not a DataTable: the descriptions wrap to the box's width.
            commands = Table(box=None, expand=True, padding=(0, 1), header_style="bold")
            commands.add_column("Command", no_wrap=True)
            commands.add_column("Does", ratio=1)
            for name, does, _action in COMMANDS:
                commands.add_row(name, does)
            yield Static(commands, id="help-commands")
            yield Static("How Formulary works", classes="help-title")
            yield Markdown(GUIDE)

    def _key(self, binding: Binding) -> str:
        # The clinic's config.toml may have remapped it (by binding id).
        keys = self.formulary_app.settings.keymap.get(binding.id or "", binding.key)
        return ", ".join(
            self.app.get_key_display(Binding(key.strip(), binding.action))
            for key in keys.split(",")
            if key.strip()
        )

    def _groups(self) -> list[tuple[str, list[Binding]]]:
        below = type(self._below)
        groups = [
            (f"This screen: {plain_name(below)}", own_bindings(below.BINDINGS)),
            ("Everywhere", own_bindings(type(self.app).BINDINGS)),
        ]
        for module, name, plain in SCREENS:
            screen = getattr(importlib.import_module(module), name)
            if screen is not below:
                groups.append((plain, own_bindings(screen.BINDINGS)))
        return [(title, bindings) for title, bindings in groups if bindings]

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        """Back to the screen you came from."""
        self.dismiss()
