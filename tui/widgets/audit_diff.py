"""One audit entry: who did what, when, and its before and after images side by side.

Images are shown as canonical JSON (sorted keys, one field per row), lined up field by
field so that a change reads across one row; changed, added and removed fields are
marked with a sign as well as a colour, so the view works without colour too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

Change = Literal["same", "changed", "added", "removed"]

#: The sign in the first column of each field row.
MARKS: dict[Change, str] = {"same": " ", "changed": "~", "added": "+", "removed": "-"}


@dataclass(frozen=True, slots=True)
class FieldRow:
    """One field of the images: its JSON text before and after (None: absent)."""

    name: str
    before: str | None
    after: str | None
    change: Change


def json_text(value: Any) -> str:
    """A value as canonical JSON text (nested values indented, keys sorted)."""
    if isinstance(value, dict | list) and value:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def field_rows(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[FieldRow]:
    """The union of both images' fields in key order, each with what happened to it."""
    rows: list[FieldRow] = []
    old = before or {}
    new = after or {}
    for name in sorted(set(old) | set(new)):
        b = json_text(old[name]) if name in old else None
        a = json_text(new[name]) if name in new else None
        change: Change
        if b is None:
            change = "added"
        elif a is None:
            change = "removed"
        else:
            change = "same" if old[name] == new[name] else "changed"
        rows.append(FieldRow(name, b, a, change))
    return rows


def utc_text(at: datetime) -> str:
    """A stored time in UTC, to the second (the audit trail is kept in UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def entry_heading(entry: Any) -> Text:
    """The entry's facts in one line: seq, UTC time, user at workstation, action, entity."""
    when = utc_text(entry.at)
    entity = entry.entity + (f" {entry.entity_id}" if entry.entity_id is not None else "")
    heading = Text.assemble(
        (f"Entry {entry.seq}", "bold"),
        f" · {when} · {entry.user} at {entry.workstation} · ",
        (entry.action, "bold"),
        f" · {entity}",
    )
    if entry.reason:
        heading.append("\nReason: ")
        heading.append(entry.reason, style="italic")
    return heading


def render_images(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    added: str = "green",
    removed: str = "red",
    changed: str = "yellow",
    only_changes: bool = False,
) -> RenderableType:
    """The two images side by side; styles are the theme's colours."""
    if before is None and after is None:
        return Text(
            "This entry records an event (such as a sign-in or a signature): "
            "no record was changed, so it has no before or after image.",
            style="italic",
        )
    table = Table(expand=True, show_edge=False, pad_edge=False, box=None, padding=(0, 1))
    table.add_column("", width=1, no_wrap=True)
    table.add_column("Field", ratio=1, style="bold", overflow="fold")
    table.add_column("Before" if before is not None else "Before (none: created)", ratio=3,
                     overflow="fold")
    table.add_column("After" if after is not None else "After (none: removed)", ratio=3,
                     overflow="fold")
    rows = field_rows(before, after)
    # What changed comes first: on an update it is the point of the entry.
    changes = [r for r in rows if r.change != "same"]
    unchanged = [] if only_changes else [r for r in rows if r.change == "same"]
    if changes and unchanged and before is not None and after is not None:
        unchanged.insert(0, FieldRow("(unchanged)", None, None, "same"))
    for row in changes + unchanged:
        style = {"same": "", "changed": f"bold {changed}", "added": f"bold {added}",
                 "removed": f"bold {removed}"}[row.change]
        if row.before is None and row.after is None:
            style = "dim italic"  # the divider before the unchanged fields
        table.add_row(
            Text(MARKS[row.change], style=style),
            Text(row.name, style=style),
            Text(row.before if row.before is not None else "", style=style),
            Text(row.after if row.after is not None else "", style=style),
        )
    if before is not None and after is not None:
        note = Text(f"{len(changes)} field(s) changed (marked ~ + -), listed first",
                    style="italic")
        return Group(note, table)
    return table


class AuditEntryView(VerticalScroll):
    """Scrollable heading plus before/after of the highlighted entry."""

    DEFAULT_CSS = """
    AuditEntryView { height: 16; border-top: solid $panel; padding: 0 1; }
    AuditEntryView > #entry-heading { height: auto; margin-bottom: 1; }
    AuditEntryView > #entry-images { height: auto; }
    """

    def compose(self) -> Any:
        yield Static("Highlight an entry to see its before and after.", id="entry-heading")
        yield Static("", id="entry-images")

    def show(self, entry: Any | None, *, only_changes: bool = False) -> None:
        """Show ``entry`` (None: nothing highlighted); optionally only changed fields."""
        heading = self.query_one("#entry-heading", Static)
        images = self.query_one("#entry-images", Static)
        if entry is None:
            heading.update("No entry to show.")
            images.update("")
            return
        theme = self.app.current_theme
        heading.update(entry_heading(entry))
        images.update(
            render_images(
                entry.before,
                entry.after,
                added=theme.success or "green",
                removed=theme.error or "red",
                changed=theme.warning or "yellow",
                only_changes=only_changes,
            )
        )
        self.scroll_home(animate=False)
