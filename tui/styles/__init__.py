"""The app's .tcss files; ``STYLES / "name.tcss"`` is an absolute path (subclass-proof)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

STYLES = Path(__file__).resolve().parent


def preload(app: Any, *paths: Path) -> None:
    """Read the ``paths`` into the app's stylesheet now, at a quiet moment.

    Textual reads a screen's CSS_PATH when the screen is first pushed, then re-parses
    every source and restyles every node: 30-40 ms of the first chart's opening. Read
    beforehand (same source key as Textual's own), the push finds them and skips that.
    """
    sheet = app.stylesheet
    fresh = [path for path in paths if not sheet.has_source(str(path), "")]
    for path in fresh:
        sheet.read(path)
    if fresh:
        sheet.reparse()
        sheet.update(app)
