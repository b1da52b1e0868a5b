"""One clear line on stderr and a non-zero exit: how every command reports bad input."""

from __future__ import annotations

from typing import NoReturn

import typer

#: Exit status for input the user can correct (bad amount, unknown unit, wrong flag).
EXIT_USAGE = 2

#: Exit status when the change WAS saved but the audit checkpoint after it failed:
#: do not retry the command; fix the key folder and run ``formulary audit checkpoint``.
EXIT_SAVED_CHECKPOINT_FAILED = 5

#: Exit status when a file or folder could not be read or written (full disk, missing
#: folder, read-only file system): the message names it; nothing half-written is left.
EXIT_IO = 6

#: Exit status of an unexpected internal error: one line, the details in a private report.
EXIT_INTERNAL = 70


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``formulary: <message>`` on stderr and exit with ``code``."""
    typer.echo(f"formulary: {message}", err=True)
    raise typer.Exit(code)
