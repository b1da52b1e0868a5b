"""Pilot helpers for a clinic's stock set-up, reusable by any app test.

Each drives the app's own screens the way a user does (keys and typed fields), waits
for the workers, and returns with the Stock screen back on top:

- ``empty_clinic(tmp_path)``: ``formulary init`` on a new database (no demo), returns
  its path; the administrator is ``ADMIN_NAME`` / ``ADMIN_PASSWORD``.
- ``open_stock(pilot)``: from the patient list to Formulary and stock (f5).
- ``add_product(pilot, name=…, presentation=…, volume=…, ingredients=[(name, strength, form)],
  gtin=…, manufacturer=…)``: ctrl+n on the Products tab, fill, ctrl+s.
- ``receive_lot(pilot, product=…, lot=…, expiry=…, count=… | volume=…, supplier=…, scan=…)``:
  ctrl+r; with ``scan`` the GS1 string is typed into the lot field and Enter pressed.
- ``add_clinic_ingredient(pilot, name=…, form=…, molar_mass=…)`` and
  ``add_clinic_limit(pilot, ingredient=…, amount=…, per=…, source=…)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, TabbedContent

from formulary.records import Presentation
from tests.tui.pilot_helpers import settle, until

ADMIN_NAME = "admin"
ADMIN_PASSWORD = "first admin password"


def empty_clinic(tmp_path: Path) -> Path:
    """A new clinic made by ``formulary init`` (library and one administrator, nothing else)."""
    from typer.testing import CliRunner

    from tui.cli.main import app

    location = tmp_path / "clinic.db"
    result = CliRunner().invoke(
        app,
        ["init", "--db", str(location), "--admin", ADMIN_NAME, "--full-name", "Ada Admin",
         "--password-stdin"],
        input=f"{ADMIN_PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return location


async def open_stock(pilot: Pilot[None]) -> None:
    """Open Formulary and stock and wait for it to be read."""
    from tui.screens.stock import StockScreen

    await pilot.press("f5")
    await until(pilot, lambda: isinstance(pilot.app.screen, StockScreen))
    await settle(pilot)


async def _tab(pilot: Pilot[None], tab: str) -> None:
    pilot.app.screen.query_one(TabbedContent).active = tab
    await pilot.pause()


async def _fill(pilot: Pilot[None], values: dict[str, str]) -> None:
    for ident, value in values.items():
        pilot.app.screen.query_one(f"#{ident}", Input).value = value
    await pilot.pause()


async def add_product(
    pilot: Pilot[None],
    *,
    name: str,
    presentation: Presentation,
    volume: str,
    ingredients: Sequence[tuple[str, str, str]],
    gtin: str = "",
    manufacturer: str = "",
    save: bool = True,
) -> None:
    """New product from the Products tab (leaves the form open when ``save`` is False)."""
    from tui.screens.product_form import ProductFormScreen

    if not isinstance(pilot.app.screen, ProductFormScreen):
        await _tab(pilot, "tab-products")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(pilot.app.screen, ProductFormScreen))
    form = pilot.app.screen
    values = {"p-name": name, "p-manufacturer": manufacturer, "p-volume": volume}
    if gtin:
        values["p-gtin"] = gtin
    for n, (ingredient, strength, form_name) in enumerate(ingredients, start=1):
        values |= {f"i-name-{n}": ingredient, f"i-strength-{n}": strength, f"i-form-{n}": form_name}
    await _fill(pilot, values)
    form.query_one("#p-presentation", Select).value = presentation
    await pilot.pause()
    if save:
        await pilot.press("ctrl+s")
        await settle(pilot)


async def receive_lot(
    pilot: Pilot[None],
    *,
    product: int | None = None,
    lot: str = "",
    expiry: str = "",
    count: int | None = None,
    volume: str = "",
    supplier: str = "",
    scan: str = "",
    save: bool = True,
) -> None:
    """Receive a lot with ctrl+r; ``scan`` is typed into the lot field as a scanner does."""
    from tui.screens.receive_lot import BY_COUNT, BY_VOLUME, ReceiveLotScreen

    if not isinstance(pilot.app.screen, ReceiveLotScreen):
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ReceiveLotScreen))
    form = pilot.app.screen
    if scan:
        form.query_one("#lot-number", Input).focus()
        for character in scan:
            if character == "\x1d":
                await pilot.press("ctrl+right_square_bracket")
            else:
                await pilot.press(character)
        await pilot.press("enter")
        await settle(pilot)
        if pilot.app.screen is not form:
            return  # the scan asked something (a GTIN no product carries)
    if product is not None:
        form.query_one("#lot-product", Select).value = product
    values = {}
    if lot:
        values["lot-number"] = lot
    if expiry:
        values["lot-expiry"] = expiry
    if supplier:
        values["lot-supplier"] = supplier
    await _fill(pilot, values)
    form.query_one("#lot-by", Select).value = BY_VOLUME if volume else BY_COUNT
    await _fill(pilot, {"lot-quantity": volume or str(count or "")})
    if save:
        await pilot.press("ctrl+s")
        await settle(pilot)


async def add_clinic_ingredient(
    pilot: Pilot[None], *, name: str, form: str = "", molar_mass: str = "", source: str = ""
) -> None:
    """New clinic ingredient from the Ingredients tab."""
    from tui.screens.clinic_ingredient_form import ClinicIngredientScreen

    await _tab(pilot, "tab-ingredients")
    await pilot.press("ctrl+n")
    await until(pilot, lambda: isinstance(pilot.app.screen, ClinicIngredientScreen))
    await _fill(
        pilot, {"ci-name": name, "ci-form": form, "ci-molar-mass": molar_mass, "ci-source": source}
    )
    await pilot.press("ctrl+s")
    await settle(pilot)


async def add_clinic_limit(
    pilot: Pilot[None], *, ingredient: str, amount: str, per: str = "session", source: str = ""
) -> None:
    """Highlight ``ingredient`` on the Ingredients tab, ctrl+t, fill and save."""
    from tui.screens.clinic_limit_form import ClinicLimitScreen

    await _tab(pilot, "tab-ingredients")
    screen = pilot.app.screen
    screen.query_one("#ingredient-filter", Input).value = ingredient
    await settle(pilot)
    table = screen.query_one("#ingredients", DataTable)
    names = [str(table.get_row_at(r)[0]) for r in range(table.row_count)]
    table.move_cursor(row=names.index(ingredient))
    table.focus()
    await pilot.press("ctrl+t")
    await until(pilot, lambda: isinstance(pilot.app.screen, ClinicLimitScreen))
    pilot.app.screen.query_one("#cl-per", Select).value = per
    await _fill(pilot, {"cl-amount": amount, "cl-source": source})
    await pilot.press("ctrl+s")
    await settle(pilot)
