"""Shared test configuration."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# Deadlines flake on a busy two-core machine; speed targets live in benchmarks/.
settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("ci" if os.environ.get("CI") else "default")

# Audit entries name the workstation, and the audit screen's snapshots show it: one
# fixed name (the one they were made with) whatever machine runs the tests, set before
# any database is built and inherited by the commands tests run as subprocesses.
os.environ["FORMULARY_WORKSTATION"] = "vm"
# Screens and exports show the clinic's local time beside UTC: the tests' clinic is in
# UTC whatever zone the machine running them is set to (tests of other zones set one).
os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture(autouse=True)
def _private_key_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Keep every test's installation keys and checkpoint logs out of the user's config.

    Signing a session writes a checkpoint with the installation key; tests must never
    touch (or depend on) the keys of a real installation on this machine.
    """
    if "FORMULARY_KEY_DIR" not in os.environ:
        monkeypatch.setenv("FORMULARY_KEY_DIR", str(tmp_path_factory.mktemp("keys")))
    yield
