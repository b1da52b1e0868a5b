"""Products from a spreadsheet export (CSV): parsed and checked, every problem named.

The file has a header row; columns may come in any order, names are case-insensitive
(spaces or hyphens count as ``_``), and a semicolon- or tab-separated export is read
as well as a comma-separated one. One row per ingredient of a product: rows with the
same ``name`` are one product, the product's own columns given on its first row (and
either repeated the same or left empty on the others).

=================  ========  =========================================================
column             required  what
=================  ========  =========================================================
name               yes       the product as it is called in the clinic
presentation       yes       ampoule, vial, prefilled syringe or powder
volume_per_unit    yes       fill volume (5 mL); for a powder, the reconstitution volume
ingredient         yes       ingredient key, name or synonym (library or clinic)
strength           yes       a concentration (5 mg/mL, 0.5 % w/v, 50000 IU/mL); for a
                             powder the amount per vial (20 mg) or the concentration
form               no        the form or basis the strength is stated in (needed for IU)
manufacturer       no
gtin               no        8, 12, 13 or 14 digits, check digit verified
=================  ========  =========================================================

Nothing here touches the database: :func:`parse_products` returns the products with
their ingredient *names*, or the problems, each with its line and column. Resolving
the names and writing every product in one transaction is the caller's work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from formulary.csv_table import FIRST_DATA_LINE, CsvImportError, CsvProblem, table_rows
from formulary.gs1 import ScanError, normalize_gtin
from formulary.products import parse_presentation, parse_strength, parse_unit_volume
from formulary.records import Presentation
from formulary.units.amount import Amount
from formulary.units.errors import UnitsError

REQUIRED = ("name", "presentation", "volume_per_unit", "ingredient", "strength")
OPTIONAL = ("form", "manufacturer", "gtin")
COLUMNS = REQUIRED + OPTIONAL
#: The product's own columns (the rest describe one ingredient line).
PRODUCT_COLUMNS = ("presentation", "volume_per_unit", "manufacturer", "gtin")

#: A clinic's catalogue is hundreds of lines; more is a wrong file.
MAX_ROWS = 10_000
MAX_CELL = 500


@dataclass(frozen=True, slots=True)
class IngredientLine:
    """One ingredient of a product as the file states it."""

    line: int
    ingredient: str  # as typed: a key, name or synonym, resolved by the caller
    strength: Amount  # as labelled (a powder's may be the amount per vial)
    form: str = ""


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """One product of the file, from its first line ``line``."""

    line: int
    name: str
    presentation: Presentation
    volume_per_unit: Amount
    ingredients: tuple[IngredientLine, ...]
    manufacturer: str = ""
    gtin: str = ""  # GTIN-14 or ""


def parse_products(text: str) -> list[ProductSpec]:
    """Every product of a CSV export; raises :class:`CsvImportError` listing each
    problem with its line and column (nothing is half-read: all or nothing)."""
    problems: list[CsvProblem] = []
    products: dict[str, dict[str, object]] = {}
    order: list[str] = []
    for line, row in table_rows(
        text, columns=COLUMNS, required=REQUIRED, max_rows=MAX_ROWS, problems=problems
    ):
        _read_row(line, row, products, order, problems)
    if not order and not problems:
        problems.append(CsvProblem(FIRST_DATA_LINE, "", "no products below the header"))
    if problems:
        raise CsvImportError(problems)
    return [_spec(products[key]) for key in order]


def _read_row(
    line: int,
    row: Mapping[str, str],
    products: dict[str, dict[str, object]],
    order: list[str],
    problems: list[CsvProblem],
) -> None:
    before = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(CsvProblem(line, column, message))

    for column, value in row.items():
        if len(value) > MAX_CELL:
            bad(column, f"longer than {MAX_CELL} characters")
    if len(problems) > before:
        return
    name = row["name"]
    if not name:
        bad("name", "required: the product's name")
        return
    key = " ".join(name.split()).casefold()
    product = products.get(key)
    if product is None:
        product = {"line": line, "name": name, "lines": []}
        for column in ("presentation", "volume_per_unit"):
            if not row.get(column, ""):
                bad(column, f"required on the first line of {name!r}")
        _product_columns(row, product, bad)
        if len(problems) > before:
            return
        products[key] = product
        order.append(key)
    else:
        for column in PRODUCT_COLUMNS:
            value = row.get(column, "")
            if value and value != product.get(f"raw_{column}", ""):
                bad(
                    column,
                    f"differs from line {product['line']} of the same product; "
                    "leave it empty or repeat it exactly",
                )
        if len(problems) > before:
            return
    ingredient = row["ingredient"]
    if not ingredient:
        bad("ingredient", "required: an ingredient key or name")
    strength_text = row["strength"]
    presentation = product["presentation"]
    volume = product["volume_per_unit"]
    assert isinstance(presentation, Presentation) and isinstance(volume, Amount)
    try:
        strength = parse_strength(strength_text, presentation, volume)
    except UnitsError as exc:
        bad("strength", str(exc))
        return
    if not ingredient:
        return
    # The label's own statement is kept (a powder's amount per vial); the Store
    # works out the concentration the same way.
    stated = strength.per_unit or strength.concentration
    lines = product["lines"]
    assert isinstance(lines, list)
    lines.append(IngredientLine(line, ingredient, stated, row.get("form", "")))


def _product_columns(
    row: Mapping[str, str], product: dict[str, object], bad: Callable[[str, str], None]
) -> None:
    for column in PRODUCT_COLUMNS:
        product[f"raw_{column}"] = row.get(column, "")
    try:
        product["presentation"] = parse_presentation(row["presentation"])
    except ValueError as exc:
        bad("presentation", str(exc))
        return
    try:
        product["volume_per_unit"] = parse_unit_volume(
            row["volume_per_unit"],
            product["presentation"],  # type: ignore[arg-type]
        )
    except UnitsError as exc:
        bad("volume_per_unit", str(exc))
    try:
        product["gtin"] = normalize_gtin(row.get("gtin", ""))
    except ScanError as exc:
        bad("gtin", str(exc))
    product["manufacturer"] = row.get("manufacturer", "")


def _spec(product: Mapping[str, object]) -> ProductSpec:
    lines = product["lines"]
    assert isinstance(lines, list)
    return ProductSpec(
        line=int(product["line"]),  # type: ignore[call-overload]
        name=str(product["name"]),
        presentation=product["presentation"],  # type: ignore[arg-type]
        volume_per_unit=product["volume_per_unit"],  # type: ignore[arg-type]
        ingredients=tuple(lines),
        manufacturer=str(product.get("manufacturer", "")),
        gtin=str(product.get("gtin", "")),
    )


def resolve_ingredients(
    products: Sequence[ProductSpec], known: Mapping[str, Sequence[int]]
) -> dict[int, int]:
    """Ingredient ids by file line, from ``known`` (each lower-cased key, name and
    synonym → the ids it names). Raises :class:`CsvImportError` for names that match
    no ingredient or several."""
    found: dict[int, int] = {}
    problems: list[CsvProblem] = []
    for product in products:
        for item in product.ingredients:
            ids = sorted(set(known.get(" ".join(item.ingredient.split()).casefold(), ())))
            if not ids:
                problems.append(
                    CsvProblem(
                        item.line,
                        "ingredient",
                        f"no ingredient is called {item.ingredient!r}; add it as a clinic "
                        "ingredient first, or use its key (formulary ingredient list)",
                    )
                )
            elif len(ids) > 1:
                problems.append(
                    CsvProblem(
                        item.line,
                        "ingredient",
                        f"{item.ingredient!r} names {len(ids)} ingredients; use the key",
                    )
                )
            else:
                found[item.line] = ids[0]
    if problems:
        raise CsvImportError(problems)
    return found
