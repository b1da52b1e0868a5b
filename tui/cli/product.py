"""``formulary product add|edit|list|retire``: the clinic's stock products, headless.

A product is what arrives in a box: ``--presentation`` (ampoule, vial, prefilled
syringe, powder), ``--volume`` per unit (for a powder, its reconstitution volume),
an optional ``--gtin`` and one ``--ingredient INGREDIENT=STRENGTH[@FORM]`` per
ingredient (``biotin=5 mg/mL``, ``vitamin-e-natural=100 IU/mL@RRR-alpha-tocopherol``,
for a powder ``biotin=20 mg`` per vial). Strengths go through the same strict parser
and checks as the app.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

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
    from db.store import Actor, ProductFields, Store, StoredIngredient, StrengthSpec
    from formulary.records import Presentation, Product

product_app = typer.Typer(
    help="Stock products: add, edit, list and retire (never deleted).", no_args_is_help=True
)

NameOption = Annotated[str, typer.Option("--name", help="The product's name.")]
PresentationOption = Annotated[
    str, typer.Option("--presentation", help="ampoule, vial, prefilled syringe or powder.")
]
VolumeOption = Annotated[
    str,
    typer.Option("--volume", help="Volume per unit, e.g. '5 mL' (powder: reconstitution volume)."),
]
IngredientOption = Annotated[
    list[str],
    typer.Option(
        "--ingredient",
        "-i",
        help="INGREDIENT=STRENGTH[@FORM], once per ingredient (e.g. 'biotin=5 mg/mL').",
    ),
]
ManufacturerOption = Annotated[str, typer.Option("--manufacturer", help="Who makes it.")]
GtinOption = Annotated[str, typer.Option("--gtin", help="The GTIN on the box (optional).")]


def location(ctx: typer.Context, db: str | None) -> str | None:
    """``--db`` of the command, else of ``formulary`` itself."""
    return db or (ctx.find_root().obj or {}).get("db")


def ingredient_index(ingredients: Sequence[StoredIngredient]) -> dict[str, list[int]]:
    """Each ingredient's key, name and synonyms (lower case) → the ids they name."""
    index: dict[str, list[int]] = {}
    for ingredient in ingredients:
        for name in {ingredient.key, ingredient.name, *ingredient.synonyms}:
            key = " ".join(name.split()).casefold()
            if key and ingredient.id not in index.setdefault(key, []):
                index[key].append(ingredient.id)
    return index


def resolve_ingredient(index: Mapping[str, Sequence[int]], name: str) -> int:
    """The one ingredient ``name`` names, or one clear error."""
    ids = index.get(" ".join(name.split()).casefold(), ())
    if not ids:
        fail(
            f"no ingredient is called {name!r}; `formulary ingredient list` shows them "
            "(add the clinic's own with `formulary ingredient add`)"
        )
    if len(ids) > 1:
        fail(f"{name!r} names {len(ids)} ingredients; use the ingredient's key")
    return ids[0]


def parse_presentation_option(text: str) -> Presentation:
    """``--presentation`` as a :class:`Presentation`, or one clear error."""
    from formulary.products import parse_presentation

    try:
        return parse_presentation(text)
    except ValueError as exc:
        fail(f"--presentation: {exc}")


def _strength_specs(
    store: Store, actor: Actor, items: Sequence[str], presentation: Presentation, volume: Any
) -> tuple[StrengthSpec, ...]:
    from db.store import StrengthSpec
    from formulary.products import parse_strength
    from formulary.units import UnitsError

    if not items:
        fail("give each ingredient with --ingredient INGREDIENT=STRENGTH (e.g. 'biotin=5 mg/mL')")
    with store_errors():
        index = ingredient_index(store.list_ingredients(actor))
    specs = []
    for item in items:
        name, sep, rest = item.partition("=")
        if not sep or not name.strip() or not rest.strip():
            fail(f"--ingredient {item!r}: write INGREDIENT=STRENGTH, such as 'biotin=5 mg/mL'")
        strength_text, _, form = rest.partition("@")
        try:
            labelled = parse_strength(strength_text, presentation, volume)
        except UnitsError as exc:
            fail(f"--ingredient {name.strip()}: {exc}")
        stated = labelled.per_unit or labelled.concentration
        specs.append(StrengthSpec(resolve_ingredient(index, name.strip()), stated, form.strip()))
    return tuple(specs)


def _fields(
    store: Store,
    actor: Actor,
    *,
    name: str,
    presentation: str,
    volume: str,
    ingredients: Sequence[str],
    manufacturer: str,
    gtin: str,
) -> ProductFields:
    from db.store import ProductFields
    from formulary.products import parse_unit_volume
    from formulary.units import UnitsError

    chosen = parse_presentation_option(presentation)
    try:
        unit_volume = parse_unit_volume(volume, chosen)
    except UnitsError as exc:
        fail(f"--volume: {exc}")
    specs = _strength_specs(store, actor, ingredients, chosen, unit_volume)
    return ProductFields(
        name=name,
        presentation=chosen,
        volume_per_unit=unit_volume,
        ingredients=specs,
        manufacturer=manufacturer,
        gtin=gtin,
    )


def product_json(product: Product) -> dict[str, Any]:
    """A product as plain JSON values."""
    from formulary.units import format_amount

    return {
        "id": product.id,
        "name": product.name,
        "manufacturer": product.manufacturer,
        "presentation": product.presentation.value if product.presentation else None,
        "volume_per_unit": format_amount(product.volume_per_unit)
        if product.volume_per_unit
        else None,
        "gtin": product.gtin or None,
        "ingredients": [
            {
                "ingredient_id": s.ingredient_id,
                "ingredient": s.ingredient_name,
                "strength": format_amount(s.strength),
                "per_unit": format_amount(s.per_unit) if s.per_unit else None,
                "form": s.form,
            }
            for s in product.ingredients
        ],
        "retired_reason": product.retired_reason or None,
    }


def describe(product: Product) -> str:
    """``Biotin 5 mg/mL (ampoule of 1 mL; biotin 5 mg/mL), GTIN 0501…``."""
    from formulary.units import format_amount

    parts = []
    if product.presentation is not None:
        unit = format_amount(product.volume_per_unit) if product.volume_per_unit else "?"
        made_up = " made up to" if product.presentation.value == "powder" else " of"
        parts.append(f"{product.presentation.label}{made_up} {unit}")
    for s in product.ingredients:
        strength = format_amount(s.strength)
        if s.per_unit is not None:
            strength = f"{format_amount(s.per_unit)} per vial = {strength}"
        form = f" ({s.form})" if s.form else ""
        parts.append(f"{s.ingredient_name}{form} {strength}")
    gtin = f", GTIN {product.gtin}" if product.gtin else ""
    return f"{product.name} ({'; '.join(parts)}){gtin}"


def find_product(store: Store, actor: Actor, wanted: str, *, retired: bool = False) -> Product:
    """The product named by id, GTIN or exact name (case-insensitive)."""
    with store_errors():
        products = store.list_products(actor, include_retired=retired)
    text = wanted.strip()
    if text.isdigit():
        by_id = [p for p in products if p.id == int(text)]
        if by_id:
            return by_id[0]
        from formulary.gs1 import ScanError, normalize_gtin

        try:
            gtin = normalize_gtin(text)
        except ScanError:
            gtin = ""
        by_gtin = [p for p in products if gtin and p.gtin == gtin]
        if by_gtin:
            return by_gtin[0]
    by_name = [p for p in products if p.name.casefold() == text.casefold()]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        fail(f"{len(by_name)} products are called {wanted!r}; give its id (formulary product list)")
    fail(f"no product {wanted!r}; `formulary product list` shows the products and their ids")


@product_app.command("add")
def add(
    ctx: typer.Context,
    name: NameOption,
    presentation: PresentationOption,
    volume: VolumeOption,
    ingredient: IngredientOption,
    manufacturer: ManufacturerOption = "",
    gtin: GtinOption = "",
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add a product as its box describes it (administrator or practitioner)."""
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor):
        fields = _fields(
            store,
            actor,
            name=name,
            presentation=presentation,
            volume=volume,
            ingredients=ingredient,
            manufacturer=manufacturer,
            gtin=gtin,
        )
        with store_errors():
            product = store.add_product(actor, fields)
    if as_json:
        typer.echo(json.dumps(product_json(product), ensure_ascii=False))
    else:
        typer.echo(f"Added product {product.id}: {describe(product)}.")


@product_app.command("edit")
def edit(
    ctx: typer.Context,
    product: Annotated[str, typer.Argument(help="The product's id, GTIN or name.")],
    reason: ReasonOption = None,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    presentation: Annotated[str | None, typer.Option("--presentation")] = None,
    volume: Annotated[str | None, typer.Option("--volume")] = None,
    ingredient: Annotated[
        list[str] | None,
        typer.Option("--ingredient", "-i", help="Replaces every ingredient line when given."),
    ] = None,
    manufacturer: Annotated[str | None, typer.Option("--manufacturer")] = None,
    gtin: Annotated[str | None, typer.Option("--gtin", help="New GTIN ('' to clear).")] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Change what is recorded of a product; what is not given stays (needs --reason)."""
    from db.store import ProductFields, StrengthSpec
    from formulary.products import parse_unit_volume
    from formulary.units import UnitsError

    if not reason or not reason.strip():
        fail("give a reason with --reason (the audit trail records why a product changed)")
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor):
        current = find_product(store, actor, product)
        chosen = (
            parse_presentation_option(presentation)
            if presentation is not None
            else current.presentation
        )
        if chosen is None:
            fail(f"{current.name} has no presentation recorded; give --presentation")
        unit_volume = current.volume_per_unit
        if volume is not None:
            try:
                unit_volume = parse_unit_volume(volume, chosen)
            except UnitsError as exc:
                fail(f"--volume: {exc}")
        if unit_volume is None:
            fail(f"{current.name} has no volume per unit recorded; give --volume")
        specs = (
            _strength_specs(store, actor, ingredient, chosen, unit_volume)
            if ingredient
            else tuple(
                StrengthSpec(s.ingredient_id, s.per_unit or s.strength, s.form)
                for s in current.ingredients
            )
        )
        fields = ProductFields(
            name=name if name is not None else current.name,
            presentation=chosen,
            volume_per_unit=unit_volume,
            ingredients=specs,
            manufacturer=manufacturer if manufacturer is not None else current.manufacturer,
            gtin=gtin if gtin is not None else current.gtin,
        )
        with store_errors():
            updated = store.update_product(actor, current.id, fields, reason)
    if as_json:
        typer.echo(json.dumps(product_json(updated), ensure_ascii=False))
    else:
        typer.echo(f"Updated product {updated.id}: {describe(updated)}.")


@product_app.command("list")
def list_products(
    ctx: typer.Context,
    retired: Annotated[bool, typer.Option("--retired", help="Include retired products.")] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List the products (id, name, presentation, strengths, GTIN)."""
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        products = store.list_products(actor, include_retired=retired)
    if as_json:
        typer.echo(json.dumps([product_json(p) for p in products], ensure_ascii=False, indent=2))
        return
    if not products:
        typer.echo("No products yet: add one with `formulary product add` or import a CSV file.")
    for p in products:
        retired_note = f"  [retired: {p.retired_reason}]" if p.retired_reason else ""
        typer.echo(f"{p.id:>5}  {describe(p)}{retired_note}")


@product_app.command("retire")
def retire(
    ctx: typer.Context,
    product: Annotated[str, typer.Argument(help="The product's id, GTIN or name.")],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Retire a product: it leaves the lists, its lots and history stay (needs --reason)."""

    if not reason or not reason.strip():
        fail("give a reason with --reason (the audit trail records why a product was retired)")
    with signed_in(location(ctx, db), user, password_stdin) as (store, actor):
        found = find_product(store, actor, product)
        with store_errors():
            store.retire_product(actor, found.id, reason)
    typer.echo(f"Retired product {found.id}: {found.name}.")
