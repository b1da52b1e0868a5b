"""The ``formulary`` command's options and sub-commands (Typer).

Every sub-command group lives in its own module under ``tui/cli`` and is registered
here. Heavy imports (the database, Pint, the Textual app) happen inside the commands
so that ``formulary --help`` and the calculator start quickly. Plain ``formulary``
(the app) does not even come here: :mod:`tui.cli.main` opens the app without Typer.
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
    consent,
    course,
    export,
    export_group,
    formulation,
    import_csv,
    ingredient,
    lots,
    patient,
    photo,
    product,
    session,
    session_records,
    transfer,
    user,
)
from tui.cli import clinic as clinic_command
from tui.cli import init as init_command
from tui.cli import label as label_command
from tui.cli.arguments import Utf8Group

app = typer.Typer(
    name="formulary",
    help="Keyboard-first record keeper for hair mesotherapy.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=Utf8Group,
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
app.add_typer(formulation.formulation_app, name="formulation")
app.add_typer(course.course_app, name="course")
app.add_typer(export_group.export_app, name="export")
export.register(export_group.export_app)  # export chart|session|all
app.command("import")(transfer.import_file)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.add_typer(session.app, name="session")
session_records.register(session.app)  # session list|addendum|discard|outcome…
app.add_typer(consent.consent_app, name="consent")
app.add_typer(clinic_command.clinic_app, name="clinic")
app.add_typer(photo.photo_app, name="photo")
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
