"""``formulary import-csv products FILE``: moving in from a spreadsheet, all or nothing.

One sub-command per kind of record (``products`` here; ``patients`` beside it). Each
reads a CSV export with a documented header (docs/import-csv.md), checks every row
before anything is written, names every bad cell by line and column (one line each
on stderr, exit 2), and writes everything in one audited transaction. ``--dry-run``
runs every check, the Store's included, and writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tui.cli.errors import EXIT_USAGE, fail
from tui.cli.login import PasswordStdinOption, UserOption, signed_in, store_errors
from tui.cli.options import DbOption, JsonOption

import_csv_app = typer.Typer(
    help="Import records from a spreadsheet export (CSV), all or nothing.", no_args_is_help=True
)

FileArgument = Annotated[Path, typer.Argument(help="The CSV file (UTF-8; , ; or tab separated).")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Check everything, write nothing.")]

#: Larger files are not a clinic's catalogue.
MAX_BYTES = 20 * 1024 * 1024


def read_text(path: Path) -> str:
    """The file's text (UTF-8, with or without BOM), or one clear error."""
    try:
        if path.stat().st_size > MAX_BYTES:
            fail(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MB; split it")
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        fail(f"there is no file {path}")
    except IsADirectoryError:
        fail(f"{path} is a directory; give the CSV file")
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text: export the spreadsheet as 'CSV UTF-8'")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")


def report_problems(path: Path, problems: object) -> None:
    """Every problem on its own line of stderr (``FILE:LINE: column C: …``), then exit 2."""
    from formulary.csv_table import CsvProblem

    assert isinstance(problems, tuple)
    for problem in problems:
        assert isinstance(problem, CsvProblem)
        column = f"column {problem.column}: " if problem.column else ""
        typer.echo(f"formulary: {path}:{problem.line}: {column}{problem.message}", err=True)
    typer.echo(f"formulary: nothing imported ({len(problems)} problem(s) in {path})", err=True)
    raise typer.Exit(EXIT_USAGE)


@import_csv_app.command("products")
def products(
    ctx: typer.Context,
    file: FileArgument,
    dry_run: DryRunOption = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import products: one row per ingredient, rows with the same name are one product."""
    import json

    from db.store import ProductFields, StrengthSpec
    from formulary.csv_table import CsvImportError
    from formulary.product_csv import parse_products, resolve_ingredients
    from tui.cli.product import ingredient_index, location, product_json

    text = read_text(file)
    try:
        specs = parse_products(text)
    except CsvImportError as exc:
        report_problems(file, exc.problems)
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor):
        with store_errors():
            index = ingredient_index(store.list_ingredients(actor))
        try:
            ids = resolve_ingredients(specs, index)
        except CsvImportError as exc:
            report_problems(file, exc.problems)
        fields = [
            ProductFields(
                name=spec.name,
                presentation=spec.presentation,
                volume_per_unit=spec.volume_per_unit,
                ingredients=tuple(
                    StrengthSpec(ids[item.line], item.strength, item.form)
                    for item in spec.ingredients
                ),
                manufacturer=spec.manufacturer,
                gtin=spec.gtin,
            )
            for spec in specs
        ]
        labels = [f"{file}:{spec.line}" for spec in specs]
        with store_errors():
            added = store.add_products(actor, fields, labels=labels, dry_run=dry_run)
    if as_json:
        typer.echo(
            json.dumps(
                {"dry_run": dry_run, "products": [product_json(p) for p in added]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    verb = "would import" if dry_run else "imported"
    typer.echo(f"{file}: {verb} {len(added)} product(s); nothing else changed.")


@import_csv_app.command("patients")
def patients(
    ctx: typer.Context,
    file: FileArgument,
    dry_run: DryRunOption = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import patients: one row per patient (columns in docs/import-csv.md)."""
    import json
    from datetime import date

    from db.store import PatientFields
    from formulary.csv_table import CsvImportError
    from formulary.patient_csv import parse_patients
    from tui.cli.patient import patient_json
    from tui.cli.product import location

    text = read_text(file)
    try:
        specs = parse_patients(text, today=date.today())
    except CsvImportError as exc:
        report_problems(file, exc.problems)
    fields = [
        PatientFields(
            chart_number=s.chart_number,
            family_name=s.family_name,
            given_name=s.given_name,
            date_of_birth=s.date_of_birth,
            sex=s.sex,
            diagnosis=s.diagnosis,
            grade_scale=s.grade_scale,
            grade=s.grade,
            weight=s.weight.entered if s.weight else None,
            weight_measured_on=s.weighed_on,
            height=s.height,
            allergies=s.allergies,
            conditions=s.conditions,
            consent_on_file=s.consent_on_file,
            consent_date=s.consent_date,
        )
        for s in specs
    ]
    labels = [f"{file}:{s.line}" for s in specs]
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        added = store.add_patients(actor, fields, labels=labels, dry_run=dry_run)
    if as_json:
        typer.echo(
            json.dumps(
                {"dry_run": dry_run, "patients": [patient_json(p) for p in added]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    verb = "would import" if dry_run else "imported"
    typer.echo(f"{file}: {verb} {len(added)} patient(s); nothing else changed.")
