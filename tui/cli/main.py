"""The ``formulary`` entry point: plain ``formulary`` opens the app, anything else runs Typer.

Typing ``formulary`` (or ``formulary --db PATH``) is how the treatment room starts its
day, and the sign-in form should be on screen as fast as a bare Textual app's first
frame. Typer, Click and the sub-commands' modules (the domain's records, units and
session fields with them) take longer to import than Textual itself, so the app's own
command line is read here by hand and the app opened without them. Every other command
line, ``--help`` and ``--version`` included, goes through :mod:`tui.cli.root` as
before, so the two paths cannot disagree about anything but speed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

#: The ``--db`` option (and its environment variable), as :mod:`tui.cli.root` declares it.
_DB_OPTION = "--db"
_DB_ENV = "FORMULARY_DB"


def app_only(argv: list[str]) -> tuple[bool, str | None]:
    """Whether ``argv`` only opens the app, and the ``--db`` value it gives (None: not given).

    Only the two shapes the app takes are recognised: no argument, or ``--db`` with its
    value (``--db PATH`` or ``--db=PATH``). Anything else, a misspelt option included,
    is left to Typer, which knows every command and reports usage errors.
    """
    if not argv:
        return True, None
    if len(argv) == 2 and argv[0] == _DB_OPTION and not argv[1].startswith("-"):
        return True, argv[1]
    if len(argv) == 1 and argv[0].startswith(f"{_DB_OPTION}="):
        return True, argv[0].split("=", 1)[1]
    return False, None


def _open_app(db: str | None) -> None:
    if db is None:  # as Typer would: the environment variable, when set
        db = os.environ.get(_DB_ENV)
    # No collections until the form is on screen: Textual's import is the largest
    # part of start-up, so the pause starts before it (the app restarts the collector).
    from tui.heap import pause_for_start

    pause_for_start()
    from tui.app import run_app

    run_app(db=Path(db) if db and "://" not in db else db)


def run() -> None:
    """Console-script entry point: never a traceback, one line and a documented exit."""
    from tui.frame_rate import use_app_frame_rate

    use_app_frame_rate()  # before anything imports Textual
    just_the_app, db = app_only(sys.argv[1:])
    code: object = 0
    try:
        if just_the_app:
            _open_app(db)
        else:
            from tui.heap import space_collections_for_command

            space_collections_for_command()
            from tui.cli.root import command_for

            # standalone_mode=False: click hands exceptions (and exit codes) back to us.
            code = command_for(sys.argv[1:])(standalone_mode=False)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        print("formulary: interrupted; nothing more was written", file=sys.stderr)
        sys.exit(130)
    except BaseException as exc:
        sys.exit(_last_resort(exc))
    from tui.heap import skip_final_collection

    skip_final_collection()
    sys.exit(code if isinstance(code, int) else 0)


def __getattr__(name: str) -> typer.Typer:
    # ``from tui.cli.main import app`` (tests, scripts) still finds the Typer app, which
    # is imported only when asked for.
    if name == "app":
        from tui.cli.root import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's usage-error class, and the one of the copy of Click newer Typers ship."""
    import click

    found: tuple[type[Exception], ...] = (click.ClickException,)
    try:
        from typer._click.exceptions import ClickException as Vendored
    except ImportError:  # a Typer that uses Click itself
        return found
    return (*found, Vendored)


def _last_resort(exc: BaseException) -> int:
    """One line on stderr for an error no command turned into a message; the exit code."""
    import click
    import typer

    from tui.cli.errors import EXIT_INTERNAL, EXIT_IO, EXIT_USAGE

    if isinstance(exc, click.exceptions.Exit | typer.Exit):
        return int(exc.exit_code)
    if isinstance(exc, _usage_errors()):
        # Click's own usage box is several lines; the contract is one line on stderr.
        message = getattr(exc, "format_message", lambda: str(exc))()
        print(f"formulary: {message} (see --help)", file=sys.stderr)
        code = int(getattr(exc, "exit_code", EXIT_USAGE))
        return EXIT_USAGE if code == 2 else code
    if isinstance(exc, click.exceptions.Abort | typer.Abort):
        print("formulary: aborted; nothing more was written", file=sys.stderr)
        return 1
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        reason = exc.strerror or str(exc)
        print(f"formulary: cannot read or write{where}: {reason}", file=sys.stderr)
        return EXIT_IO
    if isinstance(exc, RecursionError):
        print("formulary: the input is nested too deeply to read; check the file", file=sys.stderr)
        return EXIT_USAGE
    from tui.crash import crash_dir, write_report

    try:
        report: str = str(write_report(exc, crash_dir()))
    except OSError:
        report = "(no report could be written)"
    print(
        f"formulary: unexpected error ({type(exc).__name__}); nothing more was written; "
        f"details for support in {report}",
        file=sys.stderr,
    )
    return EXIT_INTERNAL
