"""The ``formulary`` command lets Textual paint up to 120 frames a second."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tui.frame_rate import FRAMES_PER_SECOND, use_app_frame_rate

ROOT = Path(__file__).resolve().parents[2]


def test_the_rate_is_set_unless_the_user_chose_one() -> None:
    environ: dict[str, str] = {}
    use_app_frame_rate(environ)
    assert environ == {"TEXTUAL_FPS": str(FRAMES_PER_SECOND)} and FRAMES_PER_SECOND == 120
    chosen = {"TEXTUAL_FPS": "30"}
    use_app_frame_rate(chosen)
    assert chosen == {"TEXTUAL_FPS": "30"}


def test_the_command_sets_it_before_textual_reads_it() -> None:
    # Textual reads TEXTUAL_FPS once, when first imported: the command's module must
    # not import it, and its entry point must set the rate first.
    probe = (
        "import sys\n"
        "import tui.cli.main as main\n"
        "assert 'textual' not in sys.modules, 'tui.cli.main imports Textual'\n"
        "sys.argv = ['formulary', '--version']\n"
        "try:\n"
        "    main.run()\n"
        "except SystemExit:\n"
        "    pass\n"
        "import textual.constants\n"
        "print(textual.constants.MAX_FPS)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(FRAMES_PER_SECOND)
