"""The ``formulary`` entry point opens the app without Typer, and only for the app's options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli.main import app_only

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], (True, None)),
        (["--db", "clinic.db"], (True, "clinic.db")),
        (["--db=clinic.db"], (True, "clinic.db")),
        (["--db", "postgresql+psycopg://u@h/db"], (True, "postgresql+psycopg://u@h/db")),
        (["--db="], (True, "")),
        (["--db"], (False, None)),  # Typer says what is missing
        (["--db", "--help"], (False, None)),
        (["--help"], (False, None)),
        (["--version"], (False, None)),
        (["--dbx", "clinic.db"], (False, None)),
        (["--db", "clinic.db", "audit", "verify"], (False, None)),
        (["init", "--demo"], (False, None)),
        (["calc"], (False, None)),
    ],
)
def test_only_the_apps_command_lines_skip_typer(
    argv: list[str], expected: tuple[bool, str | None]
) -> None:
    assert app_only(argv) == expected


def _launch(args: list[str], env_db: str | None = None) -> subprocess.CompletedProcess[str]:
    # The app itself is replaced by a print of what it was given, and of whether Typer
    # (and with it the sub-commands) was imported on the way.
    code = (
        "import sys\n"
        "import tui.app\n"
        "tui.app.run_app = lambda db=None: print(repr(db), 'typer' in sys.modules)\n"
        f"sys.argv = ['formulary', *{args!r}]\n"
        "from tui.cli.main import run\n"
        "run()\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    if env_db is not None:
        env["FORMULARY_DB"] = env_db
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60
    )


def test_the_app_opens_without_typer(tmp_path: Path) -> None:
    db = tmp_path / "clinic.db"
    done = _launch(["--db", str(db)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{Path(db)!r} False"


def test_a_url_stays_a_url_and_the_environment_variable_counts() -> None:
    url = "postgresql+psycopg://u@h/db"
    assert _launch(["--db", url]).stdout.strip() == f"{url!r} False"
    assert _launch([], env_db=url).stdout.strip() == f"{url!r} False"
    assert _launch([]).stdout.strip() == "None False"


def test_anything_else_is_typers(tmp_path: Path) -> None:
    done = _launch(["--db", str(tmp_path / "x.db"), "--bogus"])
    assert done.returncode == 2
    assert done.stderr.startswith("formulary: ")
    assert len(done.stderr.splitlines()) == 1
    assert done.stdout == ""
