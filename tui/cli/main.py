"""The ``formulary`` command: no command opens the app; sub-commands run headless.

Every sub-command group lives in its own module under ``tui/cli`` and is registered
here. Heavy imports (the database, Pint, the Textual app) happen inside the commands
so that ``formulary --help`` and the calculator start quickly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from formulary import __version__
from tui.cli import (
    audit,
    backup,
    calc,
    export,
    export_group,
    import_csv,
    ingredient,
    lots,
    patient,
    product,
    session,
    transfer,
    user,
)
from tui.cli import clinic as clinic_command
from tui.cli import init as init_command
from tui.cli import label as label_command

app = typer.Typer(
    name="formulary",
    help="Keyboard-first record keeper for hair mesotherapy.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Sub-command groups are registered below, one line each.
app.add_typer(audit.app, name="audit")
app.add_typer(calc.app, name="calc")
app.command("init")(init_command.init)
app.add_typer(user.user_app, name="user")
app.add_typer(lots.lots_app, name="lot")
app.add_typer(lots.lots_app, name="lots", hidden=True)  # the older spelling
app.add_typer(product.product_app, name="product")
app.add_typer(ingredient.ingredient_app, name="ingredient")
app.add_typer(import_csv.import_csv_app, name="import-csv")
app.add_typer(patient.patient_app, name="patient")
app.add_typer(export_group.export_app, name="export")
export.register(export_group.export_app)  # export chart|session|all
app.command("import")(transfer.import_file)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.add_typer(session.app, name="session")
app.add_typer(clinic_command.clinic_app, name="clinic")
app.command("label")(label_command.label)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"formulary {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", envvar="FORMULARY_DB", help="SQLite file path or PostgreSQL URL."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Open the treatment-room app, or run one of the commands below."""
    ctx.obj = {"db": db}
    if ctx.invoked_subcommand is not None:
        # Exports and printed times use the clinic's zone from config.toml, as the app does.
        from tui.keymap import apply_time_zone, load_settings

        apply_time_zone(load_settings().time_zone)
    if ctx.invoked_subcommand is None:
        from tui.app import run_app

        run_app(db=Path(db) if db and "://" not in db else db)


def run() -> None:
    """Console-script entry point: never a traceback, one line and a documented exit."""
    import sys

    try:
        # standalone_mode=False: click hands exceptions (and exit codes) back to us.
        code = app(standalone_mode=False)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        print("formulary: interrupted; nothing more was written", file=sys.stderr)
        sys.exit(130)
    except BaseException as exc:
        sys.exit(_last_resort(exc))
    sys.exit(code if isinstance(code, int) else 0)


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
    import sys

    import click

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
        print("formulary: the input is nested too deeply to read; check the file",
              file=sys.stderr)
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
