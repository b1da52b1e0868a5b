"""The static checks are part of the test suite, so one command proves everything."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    # Prefer the tool installed next to this interpreter (the project's venv).
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is not installed; install the test extras: "
            "pip install -c constraints.txt -e '.[test]'"
        )
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean() -> None:
    result = _run(_tool("ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_everywhere() -> None:
    """mypy --strict over formulary/, db/, tui/ and tests/ (pyproject.toml [tool.mypy])."""
    result = _run(_tool("mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_layer_contract_holds() -> None:
    result = _run(_tool("lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_nothing_outside_the_store_reaches_its_private_modules() -> None:
    # lint-imports covers the packages; the tests, benchmarks and scripts are held here
    # (a test pins the Store's time through the public db.store.clock).
    private = re.compile(r"\bdb\.store\._[a-z]|\bfrom db\.store import _[a-z]")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in ROOT.rglob("*.py")
        if not path.is_relative_to(ROOT / "db" / "store")
        and not any(
            part.startswith(".") or part in {"build", "venv"}
            for part in path.relative_to(ROOT).parts
        )
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if private.search(line)
    ]
    assert not offenders, f"imports of the Store's private modules: {offenders}"


REGENERATE = (
    "regenerate it as README.md says: pip-compile --extra test --strip-extras "
    "--no-emit-index-url --no-emit-find-links -o constraints.txt pyproject.toml"
)


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        declared.extend(extra)
    return [Requirement(text) for text in declared]


def test_constraints_pin_every_declared_dependency() -> None:
    """constraints.txt (what the README's test command and CI install with) is current.

    A dependency added to pyproject.toml, or a bound raised there, without regenerating
    the file would let a test run pick whatever release is newest that day.
    """
    pins = _pins()
    for requirement in _declared():
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is not in constraints.txt; {REGENERATE}"
        assert requirement.specifier.contains(pinned, prereleases=True), (
            f"constraints.txt pins {requirement.name}=={pinned}, outside {requirement}; "
            f"{REGENERATE} --upgrade-package {requirement.name}"
        )


def test_installed_versions_are_the_pinned_ones() -> None:
    """The environment running the tests has what constraints.txt pins (snapshots and
    type checks depend on exact releases)."""
    wrong = []
    for name, pinned in _pins().items():
        try:
            installed = Version(importlib.metadata.version(name))
        except importlib.metadata.PackageNotFoundError:
            wrong.append(f"{name} not installed (pinned {pinned})")
            continue
        if installed != pinned:
            wrong.append(f"{name} {installed} installed, {pinned} pinned")
    assert not wrong, (
        "installed packages differ from constraints.txt: "
        + "; ".join(wrong)
        + ". Install with: pip install -c constraints.txt -e '.[test]', or if the new "
        + f"release is wanted, {REGENERATE} --upgrade-package NAME"
    )


def test_ci_runs_the_readme_test_command() -> None:
    """CI runs exactly the README's test command, which installs through constraints.txt."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if ".venv/bin/python -m pytest" in line)
    assert "-c constraints.txt" in command
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
