"""An unexpected error stops the app with one plain sentence, never a traceback on screen.

Textual's default prints a traceback with every local variable on the terminal: at a
treatment-room workstation that can be a patient's chart or the password just typed.
The report goes to a private file instead (owner-only, no local variables), and the
practitioner reads what happened, that the records are safe and where the details are.
"""

from __future__ import annotations

import os
import traceback
from datetime import UTC, datetime
from pathlib import Path


def crash_dir() -> Path:
    """Where crash reports are written: the platform's per-user state directory."""
    from platformdirs import user_state_dir

    return Path(user_state_dir("formulary", appauthor=False)) / "crashes"


def write_report(error: BaseException, folder: Path) -> Path:
    """Write the traceback of ``error`` (no local variables) to a new file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"crash-{stamp}.txt"
    text = "".join(traceback.format_exception(error))
    # Created owner-only: a message may quote a value from the screen.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f"Formulary crash report, {stamp}\n\n{text}")
    return path


def plain_message(error: BaseException, report: Path | None) -> str:
    """What the practitioner reads once the app has stopped."""
    where = f"The details for support are in {report}." if report else ""
    return (
        f"Formulary stopped on an unexpected error ({type(error).__name__}). "
        "Signed records are safe, and a session being recorded was kept as a draft up to "
        f"its last save. Start Formulary again to go on. {where}"
    ).strip()
