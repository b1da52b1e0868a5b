"""Fixtures for the ingredient library tests."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from formulary.library import Library, load_library

# A frozen copy of the reference facts the library was curated from (shared/reference/),
# kept with the tests so that a clean clone can check the data file against it.
REFERENCE_CSV = Path(__file__).parent / "reference" / "ingredients.csv"


@pytest.fixture(scope="session")
def lib() -> Library:
    return load_library()


@pytest.fixture(scope="session")
def reference_rows() -> list[dict[str, str]]:
    with REFERENCE_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def document() -> dict[str, Any]:
    """A fresh, mutable copy of the packaged data file."""
    text = resources.files("formulary.library").joinpath("ingredients.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
