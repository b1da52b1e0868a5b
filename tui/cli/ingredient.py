"""``formulary ingredient list|add`` and ``formulary ingredient limit add|list|retire``.

Library ingredients are read-only; the clinic adds the ones the library lacks (forms
with molar masses, IU factors with their source) and sets its own limits on any
ingredient, each with its source. The stricter of a clinic and a library limit applies.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from tui.cli.errors import fail
from tui.cli.login import (
    PasswordStdinOption,
    UserOption,
    signed_in,
    store_errors,
)
from tui.cli.options import DbOption, JsonOption, ReasonOption

if TYPE_CHECKING:
    from db.store import ClinicLimit

ingredient_app = typer.Typer(
    help="Ingredients: list, add the clinic's own, set clinic limits.", no_args_is_help=True
)
limit_app = typer.Typer(
    help="Clinic limits on ingredients: add, list, retire.", no_args_is_help=True
)
ingredient_app.add_typer(limit_app, name="limit")



@ingredient_app.command("list")
def list_ingredients(
    ctx: typer.Context,
    search: Annotated[str, typer.Argument(help="Words of the name, key or synonym.")] = "",
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List ingredients (library and clinic) with their keys and forms."""
    from tui.cli.product import location

    with signed_in(location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        found = store.list_ingredients(actor, search)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": i.id,
                        "key": i.key,
                        "name": i.name,
                        "category": i.category,
                        "origin": i.origin,
                        "forms": [str(f.get("label", "")) for f in i.facts.get("forms", []) or []],
                    }
                    for i in found
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for i in found:
        forms = ", ".join(str(f.get("label", "")) for f in i.facts.get("forms", []) or [])
        typer.echo(f"{i.id:>5}  {i.key:<32} {i.name}  [{i.origin}]  {forms}")


@ingredient_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The ingredient's name.")],
    category: Annotated[
        str, typer.Option("--category", help="vitamin, mineral, amino acid, peptide, … other.")
    ] = "other",
    synonym: Annotated[list[str] | None, typer.Option("--synonym", help="Another name.")] = None,
    klass: Annotated[
        list[str] | None,
        typer.Option("--class", help="A group allergies may name (e.g. 'copper', 'sulfite')."),
    ] = None,
    form: Annotated[
        list[str] | None,
        typer.Option("--form", help="FORM[=MOLAR MASS in g/mol], e.g. 'zinc gluconate=455.7'."),
    ] = None,
    iu: Annotated[
        list[str] | None,
        typer.Option("--iu", help="FORM=MG PER IU, e.g. 'retinyl palmitate=0.00055'."),
    ] = None,
    iu_source: Annotated[
        str, typer.Option("--iu-source", help="Where the IU factors come from.")
    ] = "",
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Where the facts come from.")
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add an ingredient the library lacks (administrator or practitioner)."""
    from db.store import IngredientFields
    from formulary.clinic_ingredients import (
        MOLAR_MASS_RANGE,
        ClinicForm,
        ingredient_document,
        ingredient_key,
        parse_category,
        parse_positive,
        slug,
    )
    from tui.cli.product import location

    try:
        key = ingredient_key(name)
        chosen_category = parse_category(category)
        factors: dict[str, object] = {}
        for item in iu or ():
            label, sep, value = item.partition("=")
            if not sep:
                fail(f"--iu {item!r}: write FORM=MG PER IU, e.g. 'retinyl palmitate=0.00055'")
            factors[slug(label)] = parse_positive(value, "mg per IU")
        forms = []
        for item in form or ():
            label, sep, value = item.partition("=")
            mass = parse_positive(value, "molar mass", limits=MOLAR_MASS_RANGE) if sep else None
            forms.append(
                ClinicForm(
                    label.strip(),
                    mass,
                    factors.pop(slug(label), None),  # type: ignore[arg-type]
                    iu_source,
                )
            )
        if factors:
            fail(f"--iu names a form not given with --form: {', '.join(factors)}")
        facts = ingredient_document(forms, classes=klass or ())
    except ValueError as exc:
        fail(str(exc))
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        added = store.add_clinic_ingredient(
            actor,
            IngredientFields(
                key=key,
                name=name,
                category=chosen_category,
                synonyms=tuple(synonym or ()),
                sources=tuple(source or ()),
                facts=facts,
            ),
        )
    if as_json:
        typer.echo(json.dumps({"id": added.id, "key": added.key, "name": added.name}))
    else:
        typer.echo(f"Added clinic ingredient {added.id}: {added.name} (key {added.key}).")


def _limit_json(limit: ClinicLimit) -> dict[str, object]:
    from formulary.units import format_amount

    return {
        "id": limit.id,
        "ingredient_id": limit.ingredient_id,
        "ingredient": limit.ingredient_name,
        "per": limit.per,
        "amount": format_amount(limit.amount),
        "basis": limit.basis,
        "source": limit.source,
        "note": limit.note,
        "retired_reason": limit.retired_reason or None,
    }


def _limit_text(limit: ClinicLimit) -> str:
    from formulary.units import format_amount

    per = {"kg": "per kg in one session", "session": "per session", "course": "per course"}
    basis = f" ({limit.basis})" if limit.basis else ""
    return (
        f"{limit.ingredient_name}{basis}: at most {format_amount(limit.amount)} "
        f"{per.get(limit.per, limit.per)}, source: {limit.source}"
    )


@limit_app.command("add")
def limit_add(
    ctx: typer.Context,
    ingredient: Annotated[str, typer.Argument(help="Ingredient key, name or synonym.")],
    per: Annotated[str, typer.Option("--per", help="session, course or kg.")],
    amount: Annotated[str, typer.Option("--amount", help="The maximum, e.g. '200 mg'.")],
    source: Annotated[str, typer.Option("--source", help="Where the figure comes from.")] = "",
    basis: Annotated[
        str, typer.Option("--basis", help="The form the amount is stated in (needed for IU).")
    ] = "",
    note: Annotated[str, typer.Option("--note", help="When it applies.")] = "",
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Set a clinic limit on an ingredient; the stricter of it and the library's applies."""
    from db.store import ClinicLimitFields
    from formulary.units import UnitsError, parse_quantity
    from tui.cli.product import ingredient_index, location, resolve_ingredient

    if not source.strip():
        fail("give the limit's --source (a label, a guideline, the clinic's protocol)")
    if per not in ("session", "course", "kg"):
        fail(f"--per {per!r}: use session, course or kg")
    try:
        maximum = parse_quantity(amount, kind="dose")
    except UnitsError as exc:
        fail(f"--amount: {exc}")
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        ident = resolve_ingredient(ingredient_index(store.list_ingredients(actor)), ingredient)
        added = store.add_clinic_limit(
            actor, ident, ClinicLimitFields(per, maximum, source, basis, note)
        )
    if as_json:
        typer.echo(json.dumps(_limit_json(added), ensure_ascii=False))
    else:
        typer.echo(f"Clinic limit {added.id} set: {_limit_text(added)}.")


@limit_app.command("list")
def limit_list(
    ctx: typer.Context,
    retired: Annotated[bool, typer.Option("--retired", help="Include retired limits.")] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List the clinic's limits."""
    from tui.cli.product import location

    with signed_in(location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        limits = store.list_clinic_limits(actor, include_retired=retired)
    if as_json:
        typer.echo(json.dumps([_limit_json(c) for c in limits], ensure_ascii=False, indent=2))
        return
    if not limits:
        typer.echo("No clinic limits: the library's published limits apply.")
    for c in limits:
        gone = f"  [retired: {c.retired_reason}]" if c.retired else ""
        typer.echo(f"{c.id:>5}  {_limit_text(c)}{gone}")


@limit_app.command("retire")
def limit_retire(
    ctx: typer.Context,
    limit_id: Annotated[
        int, typer.Argument(help="The limit's id (formulary ingredient limit list).")
    ],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Stop applying a clinic limit (kept on record with the reason)."""
    from tui.cli.product import location

    if not reason or not reason.strip():
        fail("give a reason with --reason (the audit trail records why a limit was retired)")
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        retired = store.retire_clinic_limit(actor, limit_id, reason)
    typer.echo(f"Retired clinic limit {retired.id}: {_limit_text(retired)}.")


@ingredient_app.command("retire")
def retire(
    ctx: typer.Context,
    ingredient: Annotated[str, typer.Argument(help="The clinic ingredient's key or name.")],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Retire a clinic ingredient (library ingredients stay; records keep it)."""
    from tui.cli.product import ingredient_index, location, resolve_ingredient

    if not reason or not reason.strip():
        fail("give a reason with --reason (the audit trail records why)")
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        found = store.list_ingredients(actor)
        ident = resolve_ingredient(ingredient_index(found), ingredient)
        chosen = next(i for i in found if i.id == ident)
        if chosen.origin != "clinic":
            fail(
                f"{chosen.name} is a library ingredient: it stays; set a clinic limit "
                "with `formulary ingredient limit add` to restrict it"
            )
        store.delete_ingredient(actor, ident, reason)
    typer.echo(f"Retired ingredient {chosen.name} ({chosen.key}).")


@limit_app.command("edit")
def limit_edit(
    ctx: typer.Context,
    limit_id: Annotated[
        int, typer.Argument(help="The limit's id (formulary ingredient limit list).")
    ],
    reason: ReasonOption = None,
    per: Annotated[str | None, typer.Option("--per", help="session, course or kg.")] = None,
    amount: Annotated[str | None, typer.Option("--amount", help="The new maximum.")] = None,
    source: Annotated[str | None, typer.Option("--source")] = None,
    basis: Annotated[str | None, typer.Option("--basis")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Change a clinic limit; what is not given stays (needs --reason)."""
    from db.store import ClinicLimitFields
    from formulary.units import UnitsError, parse_quantity
    from tui.cli.product import location

    if not reason or not reason.strip():
        fail("give a reason with --reason (the audit trail records why a limit changed)")
    maximum = None
    if amount is not None:
        try:
            maximum = parse_quantity(amount, kind="dose")
        except UnitsError as exc:
            fail(f"--amount: {exc}")
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        current = next((c for c in store.list_clinic_limits(actor) if c.id == limit_id), None)
        if current is None:
            fail(f"there is no clinic limit {limit_id} in force; see `ingredient limit list`")
        changed = store.update_clinic_limit(
            actor,
            limit_id,
            ClinicLimitFields(
                per=per if per is not None else current.per,
                amount=maximum if maximum is not None else current.amount,
                source=source if source is not None else current.source,
                basis=basis if basis is not None else current.basis,
                note=note if note is not None else current.note,
            ),
            reason,
        )
    if as_json:
        typer.echo(json.dumps(_limit_json(changed), ensure_ascii=False))
    else:
        typer.echo(f"Clinic limit {changed.id} changed: {_limit_text(changed)}.")
