"""Fixtures of the app tests: a demo clinic built once through the Store, copied per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from db import auth
from tests.conftest import cheap_hasher
from tests.tui.demo_data import BUILT_AT, Demo, build_demo
from tests.tui.fixture_types import MakeApp
from tui.app import FormularyApp
from tui.keymap import Settings

#: The app's clock in tests: the day the demo clinic was built, mid-morning.
NOW = BUILT_AT.astimezone()


#: How often the pilot checks whether the app has gone idle (Textual's default: 20 ms).
IDLE_POLL_SECONDS = 0.005


@pytest.fixture(scope="session", autouse=True)
def _prompt_idle_checks() -> Iterator[None]:
    """The pilot's idle check in 5 ms windows instead of 20 ms ones, same threshold.

    After each key it presses (twice) and each ``pause()``, Textual's pilot sleeps in
    windows of ``SLEEP_GRANULARITY`` until one passes in which the process used under
    1/20 of it in CPU time: the app has handled the key. An app that is already idle
    still cost a whole window, twice a key, so typing a word took 40 ms a letter
    whatever the app did; most of an app test's time was these waits. The check is the
    same (the app has stopped working), only sooner noticed.
    """
    import textual._wait

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(textual._wait, "SLEEP_GRANULARITY", IDLE_POLL_SECONDS)
        patch.setattr(textual._wait, "SLEEP_IDLE", IDLE_POLL_SECONDS / 20)
        yield


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo database, built once per test session (its key in its own folder)."""
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORMULARY_KEY_DIR", str(folder / "keys"))
        # Cheap hashes: every sign-in and signature of every app test verifies one.
        patch.setattr(auth, "_hasher", cheap_hasher)
        return build_demo(folder / "demo.db")


@pytest.fixture
def demo(demo_template: Demo, tmp_path: Path) -> Demo:
    """A private copy of the demo database for one test, with a copy of its pinned key."""
    path = tmp_path / "clinic.db"
    shutil.copyfile(demo_template.path, path)
    keys = demo_template.path.parent / "keys"
    if keys.is_dir():  # the database pins its checkpoint key: the copy needs it beside it
        shutil.copytree(keys, os.environ["FORMULARY_KEY_DIR"], dirs_exist_ok=True)
    copy = Demo(**{**demo_template.__dict__, "path": path})
    return copy


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture
def make_app() -> MakeApp:
    """Build the app on a database path with test settings (no config file read)."""

    def make(db: Path, *, idle_minutes: float = 5.0, theme: str = "textual-dark") -> FormularyApp:
        settings = Settings(idle_lock_minutes=idle_minutes, theme=theme)
        return FormularyApp(db, settings=settings, clock=fixed_clock)

    return make
