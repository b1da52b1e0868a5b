"""Driving the app as a user: sign in, open a screen, wait for its workers, read the screen."""

from __future__ import annotations

import io

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.audit_export.clinic import DOCTOR


async def settle(pilot: Pilot[None], rounds: int = 3) -> None:
    """Let the workers finish and their messages be handled."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def sign_in(pilot: Pilot[None], who: tuple[str, str, str] = DOCTOR) -> None:
    """Sign in through the sign-in form as ``who`` (username, full name, password)."""
    await settle(pilot)
    screen = pilot.app.screen
    screen.query_one("#username", Input).value = who[0]
    screen.query_one("#password", Input).value = who[2]
    await pilot.click("#sign-in")
    await settle(pilot)


def visible_text(pilot: Pilot[None]) -> str:
    """The terminal's content as plain text: what the user reads."""
    app = pilot.app
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True,
                      force_terminal=True, color_system=None)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()
