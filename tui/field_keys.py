"""Tab, shift+tab and Enter between form fields, taken before the key reaches a field.

Textual routes each key of a burst (a password manager's auto-type, a pasted
``name<Tab>password<Enter>``) to the widget that has the focus when the key *arrives*.
An ordinary Tab binding runs only after the Tab has bubbled back up from the field, and
by then the rest of the burst is already queued for the same field: the password lands,
readable, in the username. Bound with priority (Tab on the App, Enter on the sign-in
forms), these keys move the focus before the next key of the burst is routed.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from textual.actions import SkipAction
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

#: An Input with this class goes on to the next field when Enter is pressed in it.
ENTER_MOVES_ON = "enter-moves-on"


@runtime_checkable
class KeepsTab(Protocol):
    """A screen that sometimes takes a Tab for itself instead of moving on."""

    def keeps_tab(self) -> bool:
        """True when this Tab stays where it is (called once per Tab pressed)."""


def step_focus(screen: Screen[Any], forward: bool) -> None:
    """Move to the next (or previous) field now, unless the screen keeps this Tab."""
    if forward and isinstance(screen, KeepsTab) and screen.keeps_tab():
        return
    if forward:
        screen.focus_next()
    else:
        screen.focus_previous()


def enter_binding(screen: str) -> Binding:
    """Enter as a priority key of ``screen``'s sign-in form (see :func:`enter_moves_on`).

    Bound on the form's screen, not the App: an App-wide Enter binding would stand in
    the footer for every other screen's own Enter (the patient list's "Open").
    """
    return Binding("enter", "enter_moves_on", show=False, priority=True, id=f"{screen}.enter")


def enter_moves_on(screen: Screen[Any]) -> None:
    """Enter in a field marked ``ENTER_MOVES_ON`` goes to the next field at once.

    Anywhere else the Enter is not ours: it goes on to the focused widget as usual.
    """
    focused = screen.focused
    if not (isinstance(focused, Input) and focused.has_class(ENTER_MOVES_ON)):
        raise SkipAction()
    screen.focus_next()
