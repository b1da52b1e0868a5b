"""Shared test configuration."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from argon2 import PasswordHasher

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


def cheap_hasher() -> PasswordHasher:
    """argon2id at the lowest cost: the library's defaults take ~0.2 s a hash here, and
    what tests check is who may sign, not argon2's cost. A hash carries its parameters,
    so a cheap one still verifies with the real hasher."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_hash: use argon2-cffi's default (slow) parameters")


@pytest.fixture(scope="session", autouse=True)
def _one_command_tree_per_app() -> Iterator[None]:
    """Typer's Click command tree for an app, built once per test process, as once per
    process when the app runs.

    Typer builds the whole tree (every command and option of ``formulary``) on each
    call of the app, about 0.1 s here: most of what a refused command costs, and the
    tests run well over a thousand commands in-process (``CliRunner.invoke`` and the
    console entry point alike). The tree is the same each time; kept, the time goes on
    the commands themselves.
    """
    import typer.main
    import typer.testing

    real = typer.main.get_command
    built: dict[Any, Any] = {}

    def once(instance: Any) -> Any:
        if instance not in built:
            built[instance] = real(instance)
        return built[instance]

    with pytest.MonkeyPatch.context() as patch:
        # The app's __call__; the console entry builds one sub-command's tree itself,
        # once per name (tui.cli.root.command_for).
        patch.setattr(typer.main, "get_command", once)
        patch.setattr(typer.testing, "_get_command", once)  # CliRunner.invoke
        yield


@pytest.fixture(autouse=True)
def _cheap_password_hashing(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cheap argon2id parameters in this process; ``@pytest.mark.real_hash`` keeps the defaults.

    Commands run as subprocesses hash at the defaults: they are the product as shipped.
    """
    if request.node.get_closest_marker("real_hash"):
        return
    from db import auth

    cheap = cheap_hasher()
    monkeypatch.setattr(auth, "_hasher", lambda: cheap)


@pytest.fixture(autouse=True)
def _no_login_throttle_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed logins earn a real wait (up to 8 s) that tests of other things need not sit
    through; the throttle's own tests replace ``auth.pause`` with a recorder."""
    from db import auth

    monkeypatch.setattr(auth, "pause", lambda _seconds: None)


@pytest.fixture(autouse=True)
def _private_key_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Keep every test's installation keys, checkpoint logs and files out of the user's folders.

    Signing a session writes a checkpoint with the installation key; tests must never
    touch (or depend on) the keys of a real installation on this machine.
    """
    if "FORMULARY_KEY_DIR" not in os.environ:
        monkeypatch.setenv("FORMULARY_KEY_DIR", str(tmp_path_factory.mktemp("keys")))
    # And out of the user's data folder: a PostgreSQL database keeps its managed files
    # there, and migrations their backups (platformdirs reads XDG_DATA_HOME, and so do
    # the commands tests run in subprocesses).
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
    yield
