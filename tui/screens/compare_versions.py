"""Two formulation versions side by side."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from formulary.records import FormulationVersion
from tui.screens.base import AppModal
from tui.widgets.component_table import ComponentTable


class CompareVersionsScreen(AppModal):
    """``left`` and ``right`` next to each other; escape closes."""

    DEFAULT_CSS = """
    CompareVersionsScreen { align: center middle; }
    CompareVersionsScreen > Horizontal {
        width: 98%; height: 80%; border: thick $primary; background: $surface;
    }
    CompareVersionsScreen Vertical { width: 1fr; padding: 0 1; }
    CompareVersionsScreen ComponentTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="compare.close"),
    ]

    def __init__(self, left: FormulationVersion, right: FormulationVersion) -> None:
        super().__init__()
        self.left = left
        self.right = right

    def compose(self) -> ComposeResult:
        with Horizontal():
            for side, version in (("left", self.left), ("right", self.right)):
                with Vertical():
                    yield Static(
                        f"{version.formulation_name} v{version.version} "
                        f"({version.created_at.astimezone():%Y-%m-%d}, {version.created_by})",
                        classes="section-title",
                    )
                    yield ComponentTable(id=f"compare-{side}")

    def on_mount(self) -> None:
        self.query_one("#compare-left", ComponentTable).show(self.left)
        self.query_one("#compare-right", ComponentTable).show(self.right)

    def action_close(self) -> None:
        """Back to the editor."""
        self.dismiss(None)
