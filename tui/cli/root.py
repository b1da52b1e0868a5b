"""The ``formulary`` command's options and sub-commands (Typer).

Every sub-command group lives in its own module under ``tui/cli`` and is registered
here. Heavy imports (the database, Pint, the Textual app) happen inside the commands
so that ``formulary --help`` and the calculator start quickly. Plain ``formulary``
(the app) does not even come here: :mod:`tui.cli.main` opens the app without Typer.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from typer.core import TyperGroup

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


def command_for(argv: Sequence[str]) -> TyperGroup:
    """The Click command that runs ``argv``: the root with only the sub-command it names.

    Typer turns every command and option of ``formulary`` into Click's before it parses
    anything, reading each command's annotations (about 0.15 s, most of what a short
    command takes to start). A command line runs one sub-command, and the root parses it
    the same with that one alone registered, so only that one is built. Without a
    sub-command (``--help``, ``--version``, the app), or naming one the root does not
    have, the whole tree is built: help lists every command, and a misspelt one is
    reported among them as before.
    """
    name = _named_sub_command(argv)
    return _tree(name if name in _registered_names() else None)


@cache
def _tree(name: str | None) -> TyperGroup:
    if name is None:
        return typer.main.get_group(app)
    return typer.main.get_group(_with_only(name))


def _with_only(name: str | None) -> typer.Typer:
    """The root Typer (its options, its callback) with only the sub-command ``name``."""
    subset = copy.copy(app)
    subset.registered_groups = [g for g in app.registered_groups if g.name == name]
    subset.registered_commands = [c for c in app.registered_commands if c.name == name]
    return subset


def _registered_names() -> set[str | None]:
    return {g.name for g in app.registered_groups} | {c.name for c in app.registered_commands}


def _named_sub_command(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` names, read by the root's own option parser, or None."""
    root = _tree_of_options()
    context = typer.Context(root, info_name="formulary", resilient_parsing=True)
    try:
        _options, rest, _order = root.make_parser(context).parse_args(list(argv))
    except Exception:  # whatever the root refuses, the whole tree parses and reports
        return None
    return rest[0] if rest else None


@cache
def _tree_of_options() -> TyperGroup:
    return typer.main.get_group(_with_only(None))
