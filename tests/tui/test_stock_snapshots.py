"""SVG snapshots of the stock set-up screens and dialogs at 120×40 and 80×24.

Update after a deliberate change with
``pytest tests/tui/test_stock_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, TabbedContent

from db.store import ProductFields, StrengthSpec
from formulary.records import Presentation
from formulary.units.amount import Amount
from tests.tui.demo_data import ADMIN, Demo
from tests.tui.pilot_helpers import settle, sign_in, until
from tui.app import FormularyApp

MakeApp = Callable[..., FormularyApp]

SIZES = pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])


@pytest.fixture(autouse=True)
def utc_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local times are shown in the workstation's zone: pin it so snapshots agree."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _rows(pilot: Pilot[None], selector: str) -> int:
    table = pilot.app.screen.query_one(selector, DataTable)
    if table.virtual_size.height < table.row_count + int(table.show_header):
        return 0  # rows added but not laid out yet
    return table.row_count


async def _stock(pilot: Pilot[None], tab: str, *, signed_in: bool = False) -> None:
    if not signed_in:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
    await pilot.press("f5")
    await until(pilot, lambda: bool(pilot.app.screen.query("#products")))
    await until(pilot, lambda: _rows(pilot, "#products") > 0 and _rows(pilot, "#lots") > 0)
    pilot.app.screen.query_one(TabbedContent).active = tab
    await settle(pilot)


async def _dialog(pilot: Pilot[None], key: str, kind: type) -> None:
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, kind))
    await settle(pilot)
    await pilot.pause(0.1)


def _still(pilot: Pilot[None]) -> None:
    pilot.app.screen.set_focus(None)


def _snap(
    snap_compare: Any,
    demo: Demo,
    make_app: MakeApp,
    size: tuple[int, int],
    ready: Callable[[Pilot[None]], Awaitable[None]],
) -> bool:
    return bool(snap_compare(make_app(demo.path), terminal_size=size, run_before=ready))


@SIZES
def test_stock_products_tab(
    snap_compare: Any, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        # A box with a GTIN: at 80 columns the GTIN column stays on screen.
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        app = pilot.app
        assert isinstance(app, FormularyApp) and app.user is not None
        (biotin,) = [i for i in app.store.list_ingredients(app.user, "biotin") if i.key == "biotin"]
        app.store.add_product(
            app.user,
            ProductFields(
                name="Biotin 5 mg/mL box of 10",
                presentation=Presentation.AMPOULE,
                volume_per_unit=Amount(Decimal(1), "mL"),
                ingredients=(StrengthSpec(biotin.id, Amount(Decimal(5), "mg/mL")),),
                manufacturer="Aubrac Pharma",
                gtin="05012345678900",
            ),
        )
        await _stock(pilot, "tab-products", signed_in=True)
        _still(pilot)

    assert _snap(snap_compare, demo, make_app, size, ready)


@SIZES
def test_product_form_with_refusals(
    snap_compare: Any, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    from tui.screens.product_form import ProductFormScreen

    async def ready(pilot: Pilot[None]) -> None:
        await _stock(pilot, "tab-products")
        await _dialog(pilot, "ctrl+n", ProductFormScreen)
        form = pilot.app.screen
        for ident, value in {
            "p-name": "Vitamin E 400",
            "p-volume": "2 mL",
            "p-gtin": "5012345678901",
            "i-name-1": "vitamin-e-natural",
            "i-strength-1": "400 IU",
        }.items():
            form.query_one(f"#{ident}", Input).value = value
        form.query_one("#p-presentation", Select).value = Presentation.AMPOULE
        await pilot.press("ctrl+s")
        await settle(pilot)
        _still(pilot)

    assert _snap(snap_compare, demo, make_app, size, ready)


@SIZES
def test_receive_lot_after_a_scan(
    snap_compare: Any, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    from tui.screens.receive_lot import ReceiveLotScreen

    async def ready(pilot: Pilot[None]) -> None:
        await _stock(pilot, "tab-lots")
        await _dialog(pilot, "ctrl+r", ReceiveLotScreen)
        form = pilot.app.screen
        assert isinstance(form, ReceiveLotScreen)
        form.apply_scan("010501234567890010LOT-42")  # a GTIN no demo product has; no expiry
        await settle(pilot)
        if not isinstance(pilot.app.screen, ReceiveLotScreen):
            await pilot.press("escape")  # the offer to create the product
            await settle(pilot)
        _still(pilot)

    assert _snap(snap_compare, demo, make_app, size, ready)


@SIZES
def test_new_product_offer_for_an_unknown_gtin(
    snap_compare: Any, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    from tui.screens.confirm import ConfirmScreen
    from tui.screens.receive_lot import ReceiveLotScreen

    async def ready(pilot: Pilot[None]) -> None:
        await _stock(pilot, "tab-lots")
        await _dialog(pilot, "ctrl+r", ReceiveLotScreen)
        form = pilot.app.screen
        assert isinstance(form, ReceiveLotScreen)
        form.apply_scan("(01)09506000134352(17)301231(10)DX-77")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await settle(pilot)
        _still(pilot)

    assert _snap(snap_compare, demo, make_app, size, ready)


@SIZES
def test_clinic_ingredient_form(
    snap_compare: Any, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    from tui.screens.clinic_ingredient_form import ClinicIngredientScreen

    async def ready(pilot: Pilot[None]) -> None:
        await _stock(pilot, "tab-ingredients")
        await _dialog(pilot, "ctrl+n", ClinicIngredientScreen)
        form = pilot.app.screen
        form.query_one("#ci-name", Input).value = "Adenosine"
        form.query_one("#ci-molar-mass", Input).value = "267.24"
        await pilot.press("ctrl+s")
        await settle(pilot)
        _still(pilot)

    assert _snap(snap_compare, demo, make_app, size, ready)


@SIZES
def test_clinic_limit_form(
    snap_compare: Any, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    from tui.screens.clinic_limit_form import ClinicLimitScreen

    async def ready(pilot: Pilot[None]) -> None:
        await _stock(pilot, "tab-ingredients")
        screen = pilot.app.screen
        screen.query_one("#ingredient-filter", Input).value = "lidocaine"
        await settle(pilot)
        table = screen.query_one("#ingredients", DataTable)
        table.focus()
        table.move_cursor(row=0)
        await _dialog(pilot, "ctrl+t", ClinicLimitScreen)
        pilot.app.screen.query_one("#cl-amount", Input).value = "200 mg"
        await pilot.press("ctrl+s")
        await settle(pilot)
        _still(pilot)

    assert _snap(snap_compare, demo, make_app, size, ready)


@SIZES
def test_stock_clinic_limits_tab(
    snap_compare: Any, demo: Demo, make_app: MakeApp, size: tuple[int, int]
) -> None:
    from decimal import Decimal

    from db.store import ClinicLimitFields
    from formulary.units.amount import Amount

    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        app = pilot.app
        assert isinstance(app, FormularyApp) and app.user is not None
        (lidocaine,) = [
            i for i in app.store.list_ingredients(app.user, "lidocaine") if i.key == "lidocaine"
        ]
        app.store.add_clinic_limit(
            app.user,
            lidocaine.id,
            ClinicLimitFields(
                "session",
                Amount(Decimal(200), "mg"),
                "clinic protocol 2026-12",
                "lidocaine hydrochloride anhydrous",
                "without adrenaline",
            ),
        )
        await _stock(pilot, "tab-limits", signed_in=True)
        await until(pilot, lambda: _rows(pilot, "#limits") > 0)
        _still(pilot)

    assert _snap(snap_compare, demo, make_app, size, ready)
