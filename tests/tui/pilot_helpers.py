"""Driving the app the way a user does: type, press, wait for the workers."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled

from tests.tui.demo_data import PRACTITIONER


async def settle(pilot: Pilot[None], rounds: int = 3) -> None:
    """Let workers finish and their messages be handled, until a layout leaves none.

    Each pause ends with a layout, which may post Resize events: a widget that adapts
    to its width (the lot picker stacks when narrow) changes its classes only
    when it handles one, and a picture taken before then shows the old arrangement.
    """
    for _ in range(rounds):
        # An older search overtaken by further typing is cancelled: expected.
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    for _ in range(20):
        app = pilot.app
        if not any(n.message_queue_size for n in (app, *app.screen.walk_children(with_self=True))):
            return
        await pilot.pause()


async def sign_in(
    pilot: Pilot[None], username: str = PRACTITIONER[0], password: str = PRACTITIONER[2]
) -> None:
    """Fill in the sign-in form and submit it."""
    await settle(pilot)
    app = pilot.app
    app.screen.query_one("#username", Input).value = username
    app.screen.query_one("#password", Input).value = password
    await pilot.pause(0.3)  # a button ignores clicks during its press effect
    await pilot.click("#sign-in")
    await settle(pilot)


def screen_text(pilot: Pilot[None]) -> str:
    """Everything visible on the terminal, as plain text (what a user reads)."""
    app = pilot.app
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


async def until(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 60) -> None:
    """Wait (letting the app run) until ``condition()`` is true; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the app did not reach the expected state in time")
        await pilot.pause(0.02)
    await settle(pilot)


async def show_chart(pilot: Pilot[None], patient_id: int) -> None:
    """Open the chart of ``patient_id`` and wait until it is the screen."""
    from tui.screens.patient import PatientScreen

    app = pilot.app
    app.open_patient(patient_id)  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, PatientScreen))
