"""``formulary formulation list|show``: a patient's formulations, read headless.

What ``formulary session record`` needs from a chart: the formulation's id (or the
exact version's id) and its components by position, which the session file's
``lots[].component`` names. Nothing here writes; a chart number or an id that does
not exist is one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui.cli.errors import fail
from tui.cli.login import PasswordStdinOption, UserOption, signed_in, store_errors
from tui.cli.options import DbOption, JsonOption, db_location

if TYPE_CHECKING:
    from formulary.export.ingredients import IngredientTable
    from formulary.records import Component, FormulationVersion

formulation_app = typer.Typer(
    help="A patient's formulations: their ids, versions and components (read only).",
    no_args_is_help=True,
)



def _when(version: FormulationVersion) -> str:
    return version.created_at.astimezone().strftime("%Y-%m-%d %H:%M")


def _component_json(component: Component) -> dict[str, Any]:
    from formulary.units import format_amount

    return {
        "position": component.position,
        "name": component.name,
        "amount": format_amount(component.amount),
        "product_id": component.product_id,
        "ingredient_id": component.ingredient_id,
    }


def version_json(version: FormulationVersion, *, retired: bool | None = None) -> dict[str, Any]:
    """A formulation version as ``--json`` prints it (keys as the session file names them)."""
    from formulary.units import format_amount

    out: dict[str, Any] = {
        "formulation_id": version.formulation_id,
        "name": version.formulation_name,
        "formulation_version_id": version.id,
        "version": version.version,
    }
    if retired is not None:
        out["retired"] = retired
    out.update(
        {
            "used": version.locked,
            "final_volume": format_amount(version.final_volume) if version.final_volume else None,
            "note": version.note,
            "created_at": version.created_at.isoformat(),
            "created_by": version.created_by,
            "components": [
                _component_json(c) for c in sorted(version.components, key=lambda c: c.position)
            ],
        }
    )
    return out


def _heading(version: FormulationVersion) -> str:
    used = ", used in a signed session" if version.locked else ""
    return (
        f"formulation {version.formulation_id}: {version.formulation_name}, version "
        f"{version.version} (formulation_version_id {version.id}{used})"
    )


def _component_lines(version: FormulationVersion) -> list[str]:
    from formulary.units import format_amount

    lines = []
    for c in sorted(version.components, key=lambda c: c.position):
        source = f"product {c.product_id}" if c.product_id is not None else "ingredient added"
        lines.append(f"  {c.position:>2}  {c.name:<30} {format_amount(c.amount):>10}  ({source})")
    if version.final_volume is not None:
        lines.append(f"      {'total volume':<30} {format_amount(version.final_volume):>10}")
    return lines


@formulation_app.command("list")
def list_formulations(
    ctx: typer.Context,
    chart: Annotated[str, typer.Argument(help="The patient's chart number.")],
    retired: Annotated[
        bool, typer.Option("--retired", help="Include retired formulations.")
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List a patient's formulations: ids, current version and components by position."""
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        patient = store.find_patient(actor, chart)
        current = store.list_formulations(actor, patient.id)
        versions = list(store.load_chart(actor, patient.id).formulation_versions) if retired else []
    active = {v.formulation_id for v in current}
    latest: dict[int, FormulationVersion] = {}
    for version in versions:  # every version of every formulation, retired ones too
        if version.formulation_id not in active:
            kept = latest.get(version.formulation_id)
            if kept is None or version.version > kept.version:
                latest[version.formulation_id] = version
    shown = sorted([*current, *latest.values()], key=lambda v: v.formulation_id)
    if as_json:
        listed = [version_json(v, retired=v.formulation_id not in active) for v in shown]
        typer.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    if not shown:
        typer.echo(f"{patient.chart_number} has no formulation yet.")
    for version in shown:
        note = "" if version.formulation_id in active else "  [retired]"
        typer.echo(_heading(version) + note)
        for line in _component_lines(version):
            typer.echo(line)


def _ingredient_json(table: IngredientTable) -> list[dict[str, Any]]:
    from formulary.units import format_amount
    from formulary.units.display import DISPLAY_SIGNIFICANT

    return [
        {
            "ingredient_id": line.ingredient_id,
            "ingredient": line.ingredient_name,
            "form": line.form,
            "per_session": format_amount(line.amount_per_session, significant=DISPLAY_SIGNIFICANT),
            "in_final_mix": format_amount(line.final_concentration, significant=DISPLAY_SIGNIFICANT)
            if line.final_concentration
            else None,
        }
        for line in table.lines
    ]


@formulation_app.command("show")
def show(
    ctx: typer.Context,
    formulation: Annotated[
        int | None,
        typer.Argument(help="The formulation's id (formulary formulation list CHART).", min=1),
    ] = None,
    version_number: Annotated[
        int | None,
        typer.Option("--version", help="Show this version number (default: the current one).",
                     min=1),
    ] = None,
    version_id: Annotated[
        int | None,
        typer.Option("--version-id", help="Show the version with this id instead.", min=1),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Show one formulation version in full: components, per-ingredient amounts, history."""
    from formulary.export.ingredients import ingredient_lines

    if formulation is None and version_id is None:
        fail("give the formulation's id (formulary formulation list CHART shows them), "
             "or --version-id ID")
    if formulation is not None and version_id is not None:
        fail("give the formulation's id or --version-id, not both")
    if version_id is not None and version_number is not None:
        fail("--version picks a version of a formulation id; --version-id names one already")
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        if version_id is not None:
            chosen = store.get_formulation_version(actor, version_id)
            history = store.formulation_history(actor, chosen.formulation_id)
        else:
            assert formulation is not None
            history = store.formulation_history(actor, formulation)
            if version_number is None:
                chosen = max(history, key=lambda v: v.version)
            else:
                found = [v for v in history if v.version == version_number]
                if not found:
                    numbers = ", ".join(str(v.version) for v in history)
                    fail(f"formulation {formulation} has no version {version_number} "
                         f"(its versions: {numbers})")
                chosen = found[0]
        drawn = {c.product_id for c in chosen.components if c.product_id is not None}
        products = [p for p in store.list_products(actor, include_retired=True) if p.id in drawn]
    table = ingredient_lines(chosen, products)
    current = max(v.version for v in history)
    if as_json:
        out = version_json(chosen)
        out["current"] = chosen.version == current
        out["ingredients"] = _ingredient_json(table)
        out["ingredients_unavailable"] = table.problem or None
        out["overrides"] = [
            {"rule": o.rule, "severity": o.severity, "finding": o.message, "reason": o.reason,
             "by": o.by, "signed_by": o.signed_by, "at": o.at.isoformat(), "meaning": o.meaning}
            for o in chosen.overrides
        ]
        out["versions"] = [
            {"version": v.version, "formulation_version_id": v.id, "used": v.locked,
             "created_at": v.created_at.isoformat(), "created_by": v.created_by}
            for v in history
        ]
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    typer.echo(_heading(chosen) + ("" if chosen.version == current else f"  [current: {current}]"))
    typer.echo(f"saved {_when(chosen)} by {chosen.created_by}")
    if chosen.note:
        typer.echo(f"note: {chosen.note}")
    typer.echo("components (the session file's lots[].component is the position):")
    for line in _component_lines(chosen):
        typer.echo(line)
    _print_ingredients(table)
    for o in chosen.overrides:
        what = "overridden" if o.severity == "block" else "acknowledged"
        typer.echo(f"{o.severity.upper()} {o.rule} {what} by {o.signed_by} "
                   f"{o.at.astimezone():%Y-%m-%d %H:%M}: {o.message} (reason: {o.reason})")
    typer.echo("versions: " + ", ".join(
        f"{v.version} (id {v.id}{', used' if v.locked else ''})" for v in history))


def _print_ingredients(table: IngredientTable) -> None:
    from formulary.units import format_amount
    from formulary.units.display import DISPLAY_SIGNIFICANT

    if table.problem:
        typer.echo(f"per-ingredient amounts unavailable: {table.problem}")
        return
    typer.echo("per session (in the final mix):")
    for line in table.lines:
        name = line.ingredient_name + (f" ({line.form})" if line.form else "")
        amount = format_amount(line.amount_per_session, significant=DISPLAY_SIGNIFICANT)
        mix = (
            f" ({format_amount(line.final_concentration, significant=DISPLAY_SIGNIFICANT)})"
            if line.final_concentration
            else ""
        )
        typer.echo(f"      {name:<30} {amount}{mix}")
