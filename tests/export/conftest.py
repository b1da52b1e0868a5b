"""Fixtures for the export tests: the hand-built chart of tests/export/fixtures.py."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from formulary.records import PatientChart
from tests.export.fixtures import build_chart


@pytest.fixture
def chart() -> PatientChart:
    return build_chart()


@pytest.fixture(autouse=True, scope="package")
def utc_workstation() -> Iterator[None]:
    """The PDF prints the workstation's local time beside UTC: pin the zone to UTC so
    the expected texts hold on any machine (tests that want a zone pass one). Package
    scoped: module-scoped notes are rendered before any function fixture runs."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()
