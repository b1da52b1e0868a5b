"""``[`` and ``]``: the previous and next tab of a screen's tabbed content.

Textual's tab row answers left and right only while it has the focus, which a keyboard
user on a table never gives it. The screens with tabs bind these two keys instead; in a
text field they stay characters (the field takes them first).
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import TabbedContent, Tabs


def tab_bindings(screen: str, *, show: bool) -> list[Binding]:
    """The two bindings, with ids under ``screen`` (``stock.next_tab``…)."""
    return [
        Binding("right_square_bracket", "step_tab(1)", "Next tab", id=f"{screen}.next_tab",
                show=show, key_display="]"),
        Binding("left_square_bracket", "step_tab(-1)", "Previous tab",
                id=f"{screen}.previous_tab", show=False, key_display="["),
    ]


def step_tab(tabbed: TabbedContent, step: int) -> None:
    """Show the next (``step`` 1) or previous (-1) tab, wrapping around."""
    tabs = tabbed.query_one(Tabs)
    if step > 0:
        tabs.action_next_tab()
    else:
        tabs.action_previous_tab()
