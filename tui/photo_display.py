"""Showing photographs: in the terminal where it can draw pictures, else in a viewer.

``textual-image`` draws pictures with the Kitty graphics protocol or Sixel. It must ask
the terminal what it supports *before* Textual takes the terminal over, and asking
costs up to a few tenths of a second when the terminal does not answer; so
:func:`detect_graphics` runs once in :func:`tui.app.run_app`, and only asks terminals
known to draw pictures (Kitty, WezTerm, iTerm2, Konsole, foot, Ghostty, mlterm,
Contour), or any terminal when ``FORMULARY_IMAGES=on``. ``FORMULARY_IMAGES=off`` never
asks. Anywhere else (and in tests) pictures are not drawn: the compare screen shows
what each photo is and an "open in viewer" action, never an empty box.

"Open in viewer" writes a copy of the stored file (checked against its SHA-256) into a
private temporary folder (0700, file 0600), records the copy in the audit trail, and
hands it to the system viewer (``xdg-open``, ``open`` on macOS, the Windows shell).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Literal

Graphics = Literal["sixel", "kitty"]

#: Environment variable: ``on`` (ask any terminal), ``off`` (never draw pictures).
IMAGES_ENV = "FORMULARY_IMAGES"

_KNOWN_TERMS = ("kitty", "foot", "mlterm", "contour", "ghostty", "wezterm")
_KNOWN_PROGRAMS = ("WezTerm", "iTerm.app", "ghostty", "contour")

_detected: Graphics | None = None


def detect_graphics() -> Graphics | None:
    """Ask the terminal (before the app starts) whether it draws pictures; remember it."""
    global _detected
    _detected = None
    setting = os.environ.get(IMAGES_ENV, "auto").strip().lower()
    if setting in {"off", "0", "no", "false"}:
        return None
    if not (sys.__stdout__ and sys.__stdout__.isatty() and sys.__stdin__ and
            sys.__stdin__.isatty()):
        return None
    term = os.environ.get("TERM", "").lower()
    program = os.environ.get("TERM_PROGRAM", "")
    known = (
        any(name in term for name in _KNOWN_TERMS)
        or program in _KNOWN_PROGRAMS
        or "KONSOLE_VERSION" in os.environ
        or "KITTY_WINDOW_ID" in os.environ
    )
    if setting not in {"on", "1", "yes", "true"} and not known:
        return None
    try:
        import textual_image.renderable as renderable
        import textual_image.widget  # noqa: F401 - measures the cell size now, while it can
    except Exception:
        return None  # a terminal that answers oddly: show the fallback, never crash
    if renderable.Image is renderable.SixelImage:
        _detected = "sixel"
    elif renderable.Image is renderable.TGPImage:
        _detected = "kitty"
    return _detected


def graphics() -> Graphics | None:
    """What :func:`detect_graphics` found (None: pictures are not drawn)."""
    return _detected


def viewer_command() -> list[str] | None:
    """The command that opens a file in the system viewer, or None when there is none."""
    if sys.platform == "darwin":
        return ["open"]
    if sys.platform.startswith("win"):
        return []  # os.startfile
    opener = shutil.which("xdg-open")
    return [opener] if opener else None


def private_copy(name: str, data: bytes) -> Path:
    """Write ``data`` as ``name`` in a new private temporary folder (0700, file 0600)."""
    folder = Path(tempfile.mkdtemp(prefix="formulary-photo-"))
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def open_in_viewer(path: Path) -> str | None:
    """Hand ``path`` to the system viewer; None when launched, else what to do instead."""
    command = viewer_command()
    if command is None:
        return f"no image viewer found (xdg-open); open {path} with your image viewer"
    try:
        if not command:
            os.startfile(path)  # type: ignore[attr-defined,unused-ignore]  # noqa: S606
        else:
            subprocess.Popen(
                [*command, str(path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
    except OSError as exc:
        return f"the image viewer did not start ({exc.strerror or exc}); open {path} yourself"
    return None
