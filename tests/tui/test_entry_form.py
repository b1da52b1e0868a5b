"""The entry form is the first frame: typed into while the Store opens in a worker."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from textual.widgets import Input

from db.database import Database, open_database
from db.location import peek_has_users
from db.store import Store
from tests.tui.demo_data import PRACTITIONER, Demo
from tests.tui.pilot_helpers import screen_text, settle, until
from tui.app import FormularyApp
from tui.keymap import Settings
from tui.screens.first_run import FirstRunScreen
from tui.screens.patients import PatientsScreen
from tui.screens.sign_in import SignInScreen


def test_peek_tells_a_new_file_from_one_with_accounts(tmp_path: Path, demo: Demo) -> None:
    assert peek_has_users(tmp_path / "not-yet.db") is False
    assert peek_has_users(demo.path) is True
    assert peek_has_users("postgresql+psycopg://postgres@127.0.0.1:5432/test") is None


def test_peek_leaves_foreign_and_empty_files_to_the_store(tmp_path: Path) -> None:
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
    connection.close()
    (tmp_path / "empty.db").write_bytes(b"")
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    assert peek_has_users(foreign) is None
    assert peek_has_users(tmp_path / "empty.db") is None
    assert peek_has_users(tmp_path / "junk.db") is None


def test_peek_follows_the_environment_variable(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("FORMULARY_DB", str(tmp_path / "from-env.db"))
    assert peek_has_users(None) is False


class _SlowStore(Store):
    """A real Store whose opening answer waits until the test lets it go."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.release = threading.Event()

    def has_users(self) -> bool:
        self.release.wait(30)
        return super().has_users()


async def test_credentials_typed_while_the_database_opens_are_used_once_it_is(
    demo: Demo,
) -> None:
    slow = _SlowStore(open_database(demo.path))
    app = FormularyApp(demo.path, store=slow, settings=Settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        # The form is there before the Store has answered.
        assert isinstance(app.screen, SignInScreen)
        app.screen.query_one("#username", Input).value = PRACTITIONER[0]
        app.screen.query_one("#password", Input).value = PRACTITIONER[2]
        await pilot.pause(0.3)
        await pilot.click("#sign-in")
        await pilot.pause()
        assert "Opening the database" in screen_text(pilot)
        assert app.user is None
        slow.release.set()
        await until(pilot, lambda: isinstance(app.screen, PatientsScreen))
        assert app.user is not None and app.user.username == PRACTITIONER[0]


async def test_a_new_database_shows_the_first_administrator_form_at_once(
    tmp_path: Path,
) -> None:
    app = FormularyApp(tmp_path / "new.db", settings=Settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        await settle(pilot, rounds=6)
        assert isinstance(app.screen, FirstRunScreen)
        assert (tmp_path / "new.db").exists()


async def test_a_file_that_cannot_be_opened_is_said_on_the_form(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    app = FormularyApp(junk, settings=Settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, rounds=6)
        assert isinstance(app.screen, SignInScreen)
        assert "could not be opened" in str(app.screen.query_one("#sign-in-error").render())
