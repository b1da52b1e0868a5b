"""Mistyped command lines: one line on stderr and exit 2, never Click's usage box."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["lot", "receive", "--count", "ten"], "Invalid value for '--count'"),
        (["audit", "verify", "-u", "admin"], "No such option: -u"),
        (["no-such-command"], "No such command"),
    ],
)
def test_a_usage_error_is_one_line(args: list[str], said: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui", *args, "--db", str(tmp_path / "none.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("formulary: ")
    assert said in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "none.db").exists()
