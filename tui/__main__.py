"""``python -m tui`` runs the ``formulary`` command."""

from tui.cli.main import run

run()
