"""``formulary formulation add|revise|retire|list|show``: a patient's formulations, headless.

What ``formulary session record`` needs from a chart: the formulation's id (or the
exact version's id) and its components by position, which the session file's
``lots[].component`` names. ``list`` and ``show`` write nothing.

``add`` and ``revise`` save through ``Store.save_formulation`` with the app's safety
rules: warnings need ``--acknowledge``, blocks ``--override "reason"`` (signed with the
password given to sign in), else nothing is saved and the exit status is 3, as for
``session record``. A component is ``product:NAME=AMOUNT`` (a stock product by id,
GTIN or name, drawn by volume) or ``ingredient:NAME=AMOUNT`` (a library or clinic
ingredient added by amount); amounts go through the units parser. A chart number or
an id that does not exist, or input that cannot be read, is one line on stderr and
exit status 2.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui.cli.errors import fail
from tui.cli.login import (
    PasswordStdinOption,
    UserOption,
    signed_in,
    signed_in_with_password,
    store_errors,
)
from tui.cli.options import DbOption, JsonOption, ReasonOption, db_location

if TYPE_CHECKING:
    from db.store import Actor, ComponentSpec, Store
    from formulary.export.ingredients import IngredientTable
    from formulary.records import Component, FormulationVersion
    from formulary.safety import Findings
    from formulary.units.amount import Amount

formulation_app = typer.Typer(
    help="A patient's formulations: add, revise, retire; their ids, versions and components.",
    no_args_is_help=True,
)

#: Exit status when the safety findings stop the save (as ``session record``).
EXIT_BLOCKED = 3

#: How a component is written on the command line (in every message about one).
COMPONENT_SYNTAX = (
    "product:NAME=AMOUNT or ingredient:NAME=AMOUNT (e.g. 'product:Biotin 5 mg/mL=1 mL')"
)

ComponentOption = Annotated[
    list[str] | None,
    typer.Option(
        "--component",
        "-c",
        help="A component, in order: product:NAME=AMOUNT (a stock product by id, GTIN or "
        "name, by volume) or ingredient:NAME=AMOUNT (an ingredient added by amount). "
        "Repeat for each.",
    ),
]
FinalVolumeOption = Annotated[
    str | None,
    typer.Option("--final-volume", help="The volume of the finished mix, e.g. '5 mL'."),
]
CheckOption = Annotated[
    bool, typer.Option("--check", help="Only report the safety findings; save nothing.")
]
AcknowledgeOption = Annotated[
    bool, typer.Option("--acknowledge", help="Acknowledge every warning found.")
]
OverrideOption = Annotated[
    str | None,
    typer.Option(
        "--override",
        help="Override what blocks (practitioner or admin), or say why a warning that needs "
        "a reason is acknowledged, with this written reason; signed with your password.",
    ),
]


def parse_component(text: str) -> tuple[str, str, str]:
    """``(kind, name, amount text)`` of ``KIND:NAME=AMOUNT``; ValueError saying what is wrong.

    The amount is after the last ``=`` and the kind before the first ``:``, so a name
    may hold a colon and an amount may be a ratio such as ``1:1000``.
    """
    head, sep, amount = text.rpartition("=")
    kind, colon, name = head.partition(":")
    kind = kind.strip().casefold()
    if not sep or not colon or kind not in ("product", "ingredient"):
        raise ValueError(f"write {COMPONENT_SYNTAX}")
    if not name.strip():
        raise ValueError(f"name the {kind} before '=' ({COMPONENT_SYNTAX})")
    if not amount.strip():
        raise ValueError(f"give the amount after '=' ({COMPONENT_SYNTAX})")
    return kind, " ".join(name.split()), amount.strip()


def _component_specs(store: Store, actor: Actor, items: list[str]) -> list[ComponentSpec]:
    """The components as the Store takes them, each resolved and its amount parsed."""
    from db.store import ComponentSpec
    from formulary.units import UnitsError, parse_quantity
    from tui.cli.product import find_product, ingredient_index, resolve_ingredient

    parsed = []
    for item in items:
        try:
            parsed.append(parse_component(item))
        except ValueError as exc:
            fail(f"--component {item!r}: {exc}")
    index: dict[str, list[int]] | None = None
    names: dict[int, str] = {}
    specs = []
    for kind, name, amount_text in parsed:
        try:
            # A product is drawn by volume, as in the app's editor; an ingredient
            # added on its own may be weighed or counted in units.
            amount = parse_quantity(amount_text, kind="volume" if kind == "product" else None)
        except UnitsError as exc:
            fail(f"--component {kind}:{name}: {exc}")
        if kind == "product":
            product = find_product(store, actor, name)
            specs.append(ComponentSpec(product.name, amount, product_id=product.id))
            continue
        if index is None:
            with store_errors():
                found = store.list_ingredients(actor)
            index = ingredient_index(found)
            names = {i.id: i.name for i in found}
        ident = resolve_ingredient(index, name)
        specs.append(ComponentSpec(names[ident], amount, ingredient_id=ident))
    return specs


def _final_volume(text: str) -> Amount:
    from formulary.units import UnitsError, parse_quantity

    try:
        return parse_quantity(text, kind="volume")
    except UnitsError as exc:
        fail(f"--final-volume: {exc}")


def _print_findings(findings: Findings, as_json: bool, extra: dict[str, Any]) -> None:
    if as_json:
        out = {"findings": [f.as_dict() for f in findings], **extra}
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    for line in findings.lines():
        typer.echo(line)


def _save(
    store: Store,
    actor: Actor,
    password: str,
    *,
    patient_id: int,
    name: str,
    specs: list[ComponentSpec],
    final_volume: Amount | None,
    note: str,
    formulation_id: int | None,
    check: bool,
    acknowledge: bool,
    override: str | None,
    as_json: bool,
) -> tuple[FormulationVersion, Findings]:
    """Check, then save through the Store; exit 3 with the findings when they stop it."""
    from db.store.safety import SafetyBlocked

    findings = store.check_formulation(
        actor,
        patient_id=patient_id,
        components=specs,
        final_volume=final_volume,
        formulation_id=formulation_id,
    )
    if check:
        _print_findings(findings, as_json, {"saved": False})
        raise typer.Exit(EXIT_BLOCKED if findings.requires_override else 0)
    try:
        version = store.save_formulation(
            actor,
            patient_id=patient_id,
            name=name,
            components=specs,
            final_volume=final_volume,
            note=note,
            formulation_id=formulation_id,
            acknowledge=acknowledge,
            override_reason=override,
            # An override is a signature: the password just given to sign in signs it.
            override_password=password if (override or "").strip() else None,
        )
    except SafetyBlocked as exc:
        _print_findings(exc.findings, as_json, {"saved": False, "error": str(exc)})
        needs_reason = any(w.needs_reason for w in exc.findings.warnings)
        hint = (
            'add --override "reason"'
            if exc.findings.requires_override or needs_reason
            else "add --acknowledge"
        )
        fail(f"not saved: {exc}; {hint}", EXIT_BLOCKED)
    return version, findings


def _report(version: FormulationVersion, findings: Findings, as_json: bool, said: str) -> None:
    if as_json:
        saved = {"saved": True, "outcome": said, **version_json(version)}
        _print_findings(findings, as_json, saved)
        return
    _print_findings(findings, as_json, {})
    typer.echo(f"{said}: {_heading(version)}")
    for line in _component_lines(version):
        typer.echo(line)
    if version.overrides:
        typer.echo(f"{len(version.overrides)} finding(s) overridden or acknowledged")


@formulation_app.command("add")
def add(
    ctx: typer.Context,
    chart: Annotated[str, typer.Argument(help="The patient's chart number.")],
    name: Annotated[str | None, typer.Option("--name", help="The formulation's name.")] = None,
    component: ComponentOption = None,
    final_volume: FinalVolumeOption = None,
    note: Annotated[str, typer.Option("--note", help="A note kept with the version.")] = "",
    check: CheckOption = False,
    acknowledge: AcknowledgeOption = False,
    override: OverrideOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write a patient's new formulation (practitioner or admin), with the safety rules."""
    if not name or not name.strip():
        fail("give the formulation a name with --name")
    if not component:
        fail(f"give each component with --component {COMPONENT_SYNTAX}")
    final = _final_volume(final_volume) if final_volume is not None else None
    location = db_location(ctx, db)
    with signed_in_with_password(location, user, password_stdin) as (store, actor, password):
        with store_errors():
            patient = store.find_patient(actor, chart)
        specs = _component_specs(store, actor, component)
        with store_errors():
            version, findings = _save(
                store, actor, password, patient_id=patient.id, name=name, specs=specs,
                final_volume=final, note=note, formulation_id=None, check=check,
                acknowledge=acknowledge, override=override, as_json=as_json,
            )
    _report(version, findings, as_json, "saved new")


def _current(store: Store, actor: Actor, patient_id: int, chart: str,
             formulation_id: int) -> FormulationVersion:
    """The current version of the patient's formulation, or one line saying why not."""
    with store_errors():
        current = store.list_formulations(actor, patient_id)
    for version in current:
        if version.formulation_id == formulation_id:
            return version
    fail(
        f"{chart} has no current formulation {formulation_id} (retired, or another "
        f"patient's): `formulary formulation list {chart}` shows its formulations"
    )


@formulation_app.command("revise")
def revise(
    ctx: typer.Context,
    chart: Annotated[str, typer.Argument(help="The patient's chart number.")],
    formulation: Annotated[
        int, typer.Argument(help="The formulation's id (formulary formulation list CHART).", min=1)
    ],
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    component: Annotated[
        list[str] | None,
        typer.Option(
            "--component",
            "-c",
            help="The new components, all of them in order (as for add); "
            "without it the current ones are kept.",
        ),
    ] = None,
    final_volume: FinalVolumeOption = None,
    no_final_volume: Annotated[
        bool,
        typer.Option(
            "--no-final-volume",
            help="Remove the final volume: the mix is what is drawn, with no diluent made "
            "up to a volume.",
        ),
    ] = False,
    note: Annotated[str | None, typer.Option("--note", help="A new note ('' clears it).")] = None,
    check: CheckOption = False,
    acknowledge: AcknowledgeOption = False,
    override: OverrideOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Change a formulation: a version used in a signed session is kept and a new one saved."""
    from db.store import ComponentSpec

    if final_volume is not None and no_final_volume:
        fail("--final-volume and --no-final-volume contradict each other: give one of them")
    if (name is None and not component and final_volume is None and not no_final_volume
            and note is None):
        fail("nothing to change: give --name, --component, --final-volume, "
             "--no-final-volume or --note")
    final = _final_volume(final_volume) if final_volume is not None else None
    location = db_location(ctx, db)
    with signed_in_with_password(location, user, password_stdin) as (store, actor, password):
        with store_errors():
            patient = store.find_patient(actor, chart)
        current = _current(store, actor, patient.id, patient.chart_number, formulation)
        specs = (
            _component_specs(store, actor, component)
            if component
            else [
                ComponentSpec(c.name, c.amount, product_id=c.product_id,
                              ingredient_id=c.ingredient_id)
                for c in sorted(current.components, key=lambda c: c.position)
            ]
        )
        with store_errors():
            version, findings = _save(
                store, actor, password, patient_id=patient.id,
                name=current.formulation_name if name is None else name, specs=specs,
                final_volume=(
                    None if no_final_volume
                    else current.final_volume if final is None else final
                ),
                note=current.note if note is None else note, formulation_id=formulation,
                check=check, acknowledge=acknowledge, override=override, as_json=as_json,
            )
    content = (version.components, version.final_volume, version.note)
    if version.id != current.id:
        said = f"saved as new version (version {current.version} was used in a signed session)"
    elif version == current:
        said = "unchanged"
    elif content == (current.components, current.final_volume, current.note):
        said = "renamed"
    else:
        said = "saved in place (the version was not used yet)"
    _report(version, findings, as_json, said)


@formulation_app.command("retire")
def retire(
    ctx: typer.Context,
    chart: Annotated[str, typer.Argument(help="The patient's chart number.")],
    formulation: Annotated[
        int, typer.Argument(help="The formulation's id (formulary formulation list CHART).", min=1)
    ],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Retire a formulation (practitioner or admin); its used versions stay on the sessions."""
    if not reason or not reason.strip():
        fail('say why with --reason "..." (recorded in the audit trail)')
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor):
        with store_errors():
            patient = store.find_patient(actor, chart)
        current = _current(store, actor, patient.id, patient.chart_number, formulation)
        with store_errors():
            store.delete_formulation(actor, formulation, reason)
    if as_json:
        out = version_json(current, retired=True)
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    typer.echo(f"retired formulation {formulation}: {current.formulation_name} "
               f"(`formulation list {patient.chart_number} --retired` still shows it)")



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
