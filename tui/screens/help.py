"""The help screen: the keys of the screen you came from, and how the app is driven."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Markdown, Static

from tui.screens.base import AppModal

GUIDE = """\
**Moving around.** `tab` / `shift+tab` move between fields, `enter` opens or confirms,
`escape` goes back. Every key of the current screen is shown in the footer.

**Command palette.** `ctrl+p` opens it: type a patient's name or chart number to open
the chart, or a command (new session, export chart, verify audit trail, lock, sign out).

**Safety.** Amounts are typed with their unit (`0.5 mL`, `2 mg`, `500 units`).
Expired, quarantined or recalled lots are refused. A signed session is read-only:
corrections are addenda with a reason, signed with your password.

**Privacy.** The screen locks after the idle time set by the clinic (`ctrl+l` locks it
now). Only your password, or signing out, opens it again; drafts are kept.

**Keys can be changed** in `config.toml` (section `[keymap]`, binding id = key).
"""


class HelpScreen(AppModal):
    """Keys of the screen below and a short guide."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 95%; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen DataTable { height: auto; max-height: 16; margin-bottom: 1; }
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
            yield Static(
                f"Keys on this screen ({self._below.__class__.__name__})", classes="help-title"
            )
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Static("How Formulary works", classes="help-title")
            yield Markdown(GUIDE)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Does", "Binding id")
        seen: set[str] = set()
        for active in self._below.active_bindings.values():
            binding: Binding = active.binding
            if not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            table.add_row(self.app.get_key_display(binding), binding.description, binding.id or "")
        table.focus()

    def action_close(self) -> None:
        """Back to the screen you came from."""
        self.dismiss()
