"""The app's .tcss files; ``STYLES / "name.tcss"`` is an absolute path (subclass-proof)."""

from pathlib import Path

STYLES = Path(__file__).resolve().parent
