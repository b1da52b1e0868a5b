"""Two formulation versions side by side: old and new amounts in adjacent columns."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from formulary.records import FormulationVersion, PatientChart
from tui.screens.base import AppModal
from tui.widgets.version_diff import VersionDiffTable


class CompareVersionsScreen(AppModal):
    """``left`` beside ``right``, what changed marked; escape closes."""

    DEFAULT_CSS = """
    CompareVersionsScreen > Vertical { width: 98%; height: 80%; max-height: 100%; }
    CompareVersionsScreen VersionDiffTable { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="compare.close"),
    ]

    def __init__(
        self, left: FormulationVersion, right: FormulationVersion, chart: PatientChart
    ) -> None:
        super().__init__()
        self.left = left
        self.right = right
        self.chart = chart

    def compose(self) -> ComposeResult:
        with Vertical():
            for version in (self.left, self.right):
                yield Static(
                    f"v{version.version}: {version.formulation_name} "
                    f"({version.created_at.astimezone():%Y-%m-%d}, {version.created_by})"
                    + (f" — {version.note}" if version.note else ""),
                    classes="section-title",
                )
            yield VersionDiffTable(id="compare-table")

    def on_mount(self) -> None:
        self.query_one(VersionDiffTable).show(self.left, self.right, self.chart)

    def action_close(self) -> None:
        """Back to the editor."""
        self.dismiss(None)
