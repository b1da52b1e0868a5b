"""Fixtures of the audit and export screen tests: the fixed-history clinic, copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from db import auth
from tests.conftest import cheap_hasher
from tests.tui.audit_export.clinic import (
    STARTED_AT,
    Clinic,
    build_clinic,
    open_store,
    stepping_clock,
)
from tui.app import FormularyApp
from tui.keymap import Settings

#: The app's clock in these tests (the clinic's history is before it).
NOW = datetime(2026, 10, 2, 9, 0, tzinfo=STARTED_AT.tzinfo)


@pytest.fixture(scope="session")
def clinic_template(tmp_path_factory: pytest.TempPathFactory) -> Clinic:
    """The clinic database, built once per test session (with cheap password hashes)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_hasher", cheap_hasher)
        return build_clinic(tmp_path_factory.mktemp("clinic") / "clinic.db")


@pytest.fixture
def clinic(clinic_template: Clinic, tmp_path: Path) -> Clinic:
    """A private copy of the clinic for one test."""
    path = tmp_path / "clinic.db"
    shutil.copyfile(clinic_template.path, path)
    return Clinic(path=path, patients=dict(clinic_template.patients),
                  entries=clinic_template.entries)


@pytest.fixture(autouse=True)
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Checkpoint keys and logs of these tests stay in the test's own directory."""
    path = tmp_path / "keys"
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(path))
    return path


@pytest.fixture
def fixed_times() -> Iterator[None]:
    """Entries written during the test (sign-in, verification) get fixed times too."""
    with stepping_clock(datetime(2026, 10, 2, 9, 0, tzinfo=STARTED_AT.tzinfo)):
        yield


@pytest.fixture
def make_app(fixed_times: None) -> Callable[[Path], FormularyApp]:
    """The app on a clinic database, as workstation desk-1, without reading a config file."""

    def make(db: Path) -> FormularyApp:
        return FormularyApp(db, store=open_store(db), settings=Settings(),
                            clock=lambda: NOW)

    return make
