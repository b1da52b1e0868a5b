"""Types of the app tests' fixtures, so that test functions can be annotated.

``make_app`` is defined in ``tests/tui/conftest.py``; ``snap_compare`` comes from
pytest-textual-snapshot (which ships no type information).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path, PurePath
from typing import Any, Protocol

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen

from db.store import Actor
from tui.app import FormularyApp


class MakeApp(Protocol):
    """The ``make_app`` fixture: the app on a database path, with test settings."""

    def __call__(
        self, db: Path, *, idle_minutes: float = ..., theme: str = ...
    ) -> FormularyApp: ...


class SnapCompare(Protocol):
    """The ``snap_compare`` fixture: run the app, then compare its screen with the SVG."""

    def __call__(
        self,
        app: str | PurePath | App[Any],
        press: Iterable[str] = ...,
        terminal_size: tuple[int, int] = ...,
        run_before: Callable[[Pilot[Any]], Awaitable[None] | None] | None = ...,
    ) -> bool: ...


def formulary_app(pilot: Pilot[Any]) -> FormularyApp:
    """The app a pilot drives, typed (every app test drives a FormularyApp)."""
    assert isinstance(pilot.app, FormularyApp)
    return pilot.app


def user_of(app: FormularyApp) -> Actor:
    """The user signed in to ``app`` (a test that reads through the Store has one)."""
    assert app.user is not None, "no user is signed in"
    return app.user


def screen_of(app: FormularyApp) -> Screen[Any]:
    """The app's current screen, as a fresh value: after an ``isinstance`` check on
    ``app.screen``, mypy keeps it narrowed across the awaits that change it."""
    return app.screen
