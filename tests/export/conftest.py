"""Fixtures for the export tests: the hand-built chart of tests/export/fixtures.py."""

from __future__ import annotations

import pytest

from formulary.records import PatientChart
from tests.export.fixtures import build_chart


@pytest.fixture
def chart() -> PatientChart:
    return build_chart()
