"""A new clinic's stock, set up in the app from an empty database (``formulary init``).

Products (one by a scanned GS1 code whose GTIN no product carries yet), a clinic
ingredient with a clinic limit, lots received by count and by volume; what each screen
shows, the rows and the audit entries written, and the refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from textual.screen import Screen
from textual.widgets import Input, Select, TabbedContent

from formulary.records import Presentation
from tests.tui.fixture_types import user_of
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tests.tui.stock_helpers import (
    ADMIN_NAME,
    ADMIN_PASSWORD,
    add_clinic_ingredient,
    add_clinic_limit,
    add_product,
    empty_clinic,
    open_stock,
    receive_lot,
)
from tui.app import FormularyApp
from tui.screens.clinic_limit_form import ClinicLimitScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.form_guard import DiscardChangesScreen
from tui.screens.product_form import ProductFormScreen
from tui.screens.receive_lot import ReceiveLotScreen
from tui.screens.stock import StockScreen
from tui.widgets.field_row import FieldRow

MakeApp = Callable[..., FormularyApp]

GTIN_NEW = "09506000134352"


def _errors(screen: Screen[Any]) -> dict[str, str]:
    return {row.id or "": row.error for row in screen.query(FieldRow) if row.error}


def _actions(app: FormularyApp, entity: str) -> list[str]:
    return [e.action for e in reversed(app.store.audit_events(user_of(app), entity=entity))]


async def test_first_week_stock_from_an_empty_database(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app(empty_clinic(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN_NAME, ADMIN_PASSWORD)
        await open_stock(pilot)
        assert app.store.list_products(user_of(app)) == []

        # A product, typed from its box.
        await add_product(
            pilot,
            name="Biotin 5 mg/mL",
            presentation=Presentation.AMPOULE,
            volume="5 mL",
            ingredients=[("biotin", "5 mg/mL", "")],
            gtin="5012345678900",
            manufacturer="Aubrac Pharma",
        )
        assert isinstance(app.screen, StockScreen)
        (biotin,) = app.store.list_products(user_of(app))
        assert biotin.gtin == "05012345678900" and biotin.presentation is Presentation.AMPOULE
        await until(pilot, lambda: "ampoule of 5 mL" in screen_text(pilot))
        assert "05012345678900" in screen_text(pilot)

        # Received by count: 10 ampoules of 5 mL are 50 mL on hand.
        await receive_lot(
            pilot, product=biotin.id, lot="BT-1", expiry="2031-01-31", count=10,
            supplier="Pharma Wholesale",
        )  # fmt: skip
        assert isinstance(app.screen, StockScreen)
        # By volume: what is left of an opened delivery.
        await receive_lot(pilot, product=biotin.id, lot="BT-2", expiry="2031-02-28", volume="12 mL")
        lots = {lot.lot_number: lot for lot in app.store.list_lots(user_of(app))}
        assert lots["BT-1"].quantity_on_hand.value == Decimal(50)
        assert lots["BT-1"].units_received == 10 and lots["BT-1"].supplier == "Pharma Wholesale"
        assert lots["BT-2"].quantity_on_hand.value == Decimal(12)
        await until(pilot, lambda: "Pharma Wholesale" in screen_text(pilot))
        text = screen_text(pilot)
        assert "BT-1" in text and "50 mL" in text

        # A linear barcode (EAN-13) on the box: the product is chosen by its GTIN.
        await receive_lot(pilot, scan="5012345678900", save=False)
        form = app.screen
        assert isinstance(form, ReceiveLotScreen)
        assert form.query_one("#lot-product", Select).value == biotin.id
        assert form.query_one("#lot-number", Input).value == ""
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DiscardChangesScreen))
        await pilot.press("d")  # the product chosen is typed data: asked, then discarded
        await settle(pilot)
        assert isinstance(app.screen, StockScreen)

        # A box whose GTIN no product carries: the scan offers to create the product.
        await receive_lot(pilot, scan=f"]d201{GTIN_NEW}17301231\x1d10DX-77", save=False)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"No product has GTIN {GTIN_NEW}" in screen_text(pilot)
        await pilot.press("enter")  # creating the product is what Enter does here
        await until(pilot, lambda: isinstance(app.screen, ProductFormScreen))
        assert app.screen.query_one("#p-gtin", Input).value == GTIN_NEW
        await add_product(
            pilot,
            name="Dexpanthenol 250 mg/mL",
            presentation=Presentation.AMPOULE,
            volume="2 mL",
            ingredients=[("dexpanthenol", "250 mg/mL", "")],
        )
        form = app.screen
        assert isinstance(form, ReceiveLotScreen)
        assert form.query_one("#lot-number", Input).value == "DX-77"
        assert form.query_one("#lot-expiry", Input).value == "2030-12-31"
        await receive_lot(pilot, count=5)
        assert isinstance(app.screen, StockScreen)
        dex = app.store.product_by_gtin(user_of(app), GTIN_NEW)
        assert dex is not None
        (dx,) = app.store.list_lots(user_of(app), dex.id)
        assert dx.lot_number == "DX-77" and dx.quantity_on_hand.value == Decimal(10)

        # A clinic ingredient the library lacks, and a clinic limit on it.
        await add_clinic_ingredient(
            pilot, name="Adenosine", form="adenosine", molar_mass="267.24", source="PubChem"
        )
        assert isinstance(app.screen, StockScreen)
        assert any(
            i.key == "clinic-adenosine" and i.origin == "clinic"
            for i in app.store.list_ingredients(user_of(app), "adenosine")
        )
        await add_clinic_limit(pilot, ingredient="Adenosine", amount="3 mg", source="")
        assert isinstance(app.screen, ClinicLimitScreen)
        assert _errors(app.screen) == {"row-cl-source": "Required: where the figure comes from."}
        app.screen.query_one("#cl-source", Input).value = "clinic protocol 2026-12"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, StockScreen)
        (limit,) = app.store.list_clinic_limits(user_of(app))
        assert limit.ingredient_name == "Adenosine" and limit.source == "clinic protocol 2026-12"

        assert _actions(app, "product") == ["product.create", "product.create"]
        assert _actions(app, "lot") == ["lot.receive"] * 3
        assert _actions(app, "clinic_limit") == ["clinic_limit.create"]


async def test_refusals_stay_in_the_form(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app(empty_clinic(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN_NAME, ADMIN_PASSWORD)
        await open_stock(pilot)
        await add_product(
            pilot,
            name="Vitamin E",
            presentation=Presentation.AMPOULE,
            volume="2 mL",
            ingredients=[("vitamin-e-natural", "400 IU", "")],
            gtin="5012345678901",
        )
        form = app.screen
        assert isinstance(form, ProductFormScreen)
        errors = _errors(form)
        assert "expected a concentration" in errors["row-line-1"]
        assert "check digit" in errors["row-gtin"]
        # An IU/mL strength needs its form: the Store says so, the form stays.
        await add_product(
            pilot,
            name="Vitamin E",
            presentation=Presentation.AMPOULE,
            volume="2 mL",
            ingredients=[("vitamin-e-natural", "100 IU/mL", "")],
            gtin="5012345678900",
        )
        assert app.screen is form
        assert "without its form" in str(form.query_one("#form-error").render())
        assert app.store.list_products(user_of(app)) == []
        # Escape asks before throwing the typed form away.
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DiscardChangesScreen)
        assert "Discard what you typed?" in screen_text(pilot)
        await pilot.press("escape")  # no: back to the form, nothing lost
        await pilot.pause()
        assert app.screen is form and form.query_one("#p-name", Input).value == "Vitamin E"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, StockScreen)

        # A bad scan: one clear message beside the lot field.
        await receive_lot(pilot, scan="0105012345678901172812311012AB", save=False)
        form = app.screen
        assert isinstance(form, ReceiveLotScreen)
        assert app.focused is form.query_one("#lot-number", Input)
        assert "wrong check digit" in _errors(form)["row-number"]
        # A partial scan fills what it carries and says what to type.
        form.query_one("#lot-number", Input).value = ""
        await receive_lot(pilot, scan="010501234567890010AB", save=False)
        assert isinstance(app.screen, ConfirmScreen)  # no product has this GTIN yet
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is form and form.query_one("#lot-number", Input).value == "AB"
        note = str(form.query_one("#scan-note").render())
        assert "no expiry date (17): type it" in note


async def test_stock_form_messages_follow_the_corrections(
    tmp_path: Path, make_app: MakeApp
) -> None:
    app = make_app(empty_clinic(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN_NAME, ADMIN_PASSWORD)
        await open_stock(pilot)
        await add_product(
            pilot,
            name="",
            presentation=Presentation.AMPOULE,
            volume="2 mL",
            ingredients=[("biotin", "5 mg/mL", "")],
            gtin="5012345678901",
        )
        form = app.screen
        assert isinstance(form, ProductFormScreen)
        assert set(_errors(form)) == {"row-name", "row-gtin"}, _errors(form)
        summary = "Correct the fields marked beside them."
        assert summary in screen_text(pilot)
        form.query_one("#p-name", Input).value = "Biotin 10 mg/2 mL"
        await settle(pilot)
        # The corrected field's message goes; the one still wrong keeps its own.
        assert set(_errors(form)) == {"row-gtin"}
        assert summary in screen_text(pilot)
        form.query_one("#p-gtin", Input).value = "50123"
        await settle(pilot)
        assert "50123" in _errors(form)["row-gtin"] or "digits" in _errors(form)["row-gtin"]
        form.query_one("#p-gtin", Input).value = ""
        await settle(pilot)
        assert _errors(form) == {} and summary not in screen_text(pilot)


async def test_product_form_says_what_is_wrong_with_an_ingredient_line(
    tmp_path: Path, make_app: MakeApp
) -> None:
    app = make_app(empty_clinic(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN_NAME, ADMIN_PASSWORD)
        await open_stock(pilot)
        # A volume that cannot be read: its message alone, not "at least one ingredient"
        # beside the ingredient typed.
        await add_product(
            pilot,
            name="Biotin 10 mg/2 mL",
            presentation=Presentation.AMPOULE,
            volume="2 kg",
            ingredients=[("biotin", "5 mg/mL", "")],
        )
        form = app.screen
        assert isinstance(form, ProductFormScreen)
        assert set(_errors(form)) == {"row-volume"}, _errors(form)
        # The start of a name (the suggestion not taken) names what it may be.
        await add_product(
            pilot,
            name="Dexpanthenol 250 mg/2 mL",
            presentation=Presentation.AMPOULE,
            volume="2 mL",
            ingredients=[("dexpanth", "125 mg/mL", "")],
        )
        assert app.screen is form
        assert "did you mean Dexpanthenol?" in _errors(form)["row-line-1"], _errors(form)


async def test_edit_and_retire_need_a_reason(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app(empty_clinic(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN_NAME, ADMIN_PASSWORD)
        await open_stock(pilot)
        await add_product(
            pilot,
            name="Biotin",
            presentation=Presentation.AMPOULE,
            volume="1 mL",
            ingredients=[("biotin", "5 mg/mL", "")],
        )
        await add_clinic_limit(pilot, ingredient="Biotin", amount="10 mg", source="protocol 1")
        (limit,) = app.store.list_clinic_limits(user_of(app))

        # Edit the limit: the reason is asked before anything is saved.
        screen = app.screen
        screen.query_one(TabbedContent).active = "tab-limits"
        await settle(pilot)
        screen.query_one("#limits").focus()
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, ClinicLimitScreen))
        assert app.screen.query_one("#cl-amount", Input).value == "10 mg"
        app.screen.query_one("#cl-amount", Input).value = "8 mg"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        app.screen.query_one("#confirm-reason", Input).value = "protocol 2 is stricter"
        await pilot.click("#confirm-ok")
        await until(pilot, lambda: isinstance(app.screen, StockScreen))
        (changed,) = app.store.list_clinic_limits(user_of(app))
        assert changed.id == limit.id and changed.amount.value == Decimal(8)

        # Retire the product: a reason, then it leaves the list but stays on record.
        screen.query_one(TabbedContent).active = "tab-products"
        await settle(pilot)
        screen.query_one("#products").focus()
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        app.screen.query_one("#confirm-reason", Input).value = "replaced by the 2 mL ampoule"
        await pilot.click("#confirm-ok")
        await settle(pilot)
        assert app.store.list_products(user_of(app)) == []
        (retired,) = app.store.list_products(user_of(app), include_retired=True)
        assert retired.retired_reason == "replaced by the 2 mL ampoule"
        events = app.store.audit_events(user_of(app), entity="clinic_limit")
        assert events[0].action == "clinic_limit.update"
        assert events[0].reason == "protocol 2 is stricter"


async def test_palette_offers_the_stock_commands_on_the_stock_screen(
    tmp_path: Path, make_app: MakeApp
) -> None:
    app = make_app(empty_clinic(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN_NAME, ADMIN_PASSWORD)
        assert not app.command_available("new_product")  # the patient list has none
        await open_stock(pilot)
        for action in ("new_product", "receive_lot", "new_ingredient", "clinic_limit"):
            assert app.command_available(action)
        app.run_command("new_product")
        await until(pilot, lambda: isinstance(app.screen, ProductFormScreen))
        assert app.focused is app.screen.query_one("#p-name", Input)


async def test_edit_a_product_with_a_reason(tmp_path: Path, make_app: MakeApp) -> None:
    app = make_app(empty_clinic(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN_NAME, ADMIN_PASSWORD)
        await open_stock(pilot)
        await add_product(
            pilot,
            name="Biotin 5 mg/mL",
            presentation=Presentation.AMPOULE,
            volume="5 mL",
            ingredients=[("biotin", "5 mg/mL", "")],
            manufacturer="Aubrac Pharma",
        )
        (before,) = app.store.list_products(user_of(app))
        screen = app.screen
        screen.query_one(TabbedContent).active = "tab-products"
        await settle(pilot)
        screen.query_one("#products").focus()
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, ProductFormScreen))
        form = app.screen
        assert form.query_one("#p-name", Input).value == "Biotin 5 mg/mL"
        assert form.query_one("#i-strength-1", Input).value == "5 mg/mL"
        form.query_one("#p-name", Input).value = "Biotin 2.5 mg/mL"
        form.query_one("#p-volume", Input).value = "2 mL"
        form.query_one("#i-strength-1", Input).value = "2.5 mg/mL"
        form.query_one("#p-gtin", Input).value = "5012345678900"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Save the changes to Biotin 5 mg/mL?" in screen_text(pilot)
        # No reason, no save: the dialog says so and nothing is written.
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Give a reason" in screen_text(pilot)
        assert app.store.list_products(user_of(app))[0].name == "Biotin 5 mg/mL"
        await pilot.press(*"the supplier changed the ampoule", "enter")
        await until(pilot, lambda: isinstance(app.screen, StockScreen))
        await until(pilot, lambda: "Biotin 2.5 mg/mL" in screen_text(pilot))
        text = screen_text(pilot)
        assert "ampoule of 2 mL" in text and "05012345678900" in text
        assert "Biotin 5 mg/mL" not in text

        (after,) = app.store.list_products(user_of(app))
        assert after.id == before.id and after.name == "Biotin 2.5 mg/mL"
        assert after.gtin == "05012345678900" and after.manufacturer == "Aubrac Pharma"
        assert after.volume_per_unit is not None and after.volume_per_unit.value == Decimal(2)
        assert after.ingredients[0].strength.value == Decimal("2.5")
        event = app.store.audit_events(user_of(app), entity="product")[0]
        assert event.action == "product.update" and event.entity_id == str(before.id)
        assert event.reason == "the supplier changed the ampoule"
        assert event.before is not None and event.after is not None
        assert (event.before["name"], event.after["name"]) == ("Biotin 5 mg/mL", "Biotin 2.5 mg/mL")
        assert (event.before["gtin"], event.after["gtin"]) == (None, "05012345678900")
        assert _actions(app, "product") == ["product.create", "product.update"]


async def test_edit_a_clinic_ingredient_with_a_reason(tmp_path: Path, make_app: MakeApp) -> None:
    from tui.screens.clinic_ingredient_form import ClinicIngredientScreen

    app = make_app(empty_clinic(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN_NAME, ADMIN_PASSWORD)
        await open_stock(pilot)
        await add_clinic_ingredient(
            pilot, name="Adenosine", form="adenosine", molar_mass="267.24", source="PubChem"
        )
        (before,) = [
            i for i in app.store.list_ingredients(user_of(app), "adenosine") if i.origin == "clinic"
        ]
        screen = app.screen
        screen.query_one("#ingredient-filter", Input).value = "adenosine"
        await settle(pilot)
        screen.query_one("#ingredients").focus()
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, ClinicIngredientScreen))
        form = app.screen
        assert form.query_one("#ci-name", Input).value == "Adenosine"
        assert form.query_one("#ci-molar-mass", Input).value == "267.24"
        form.query_one("#ci-synonyms", Input).value = "adenosine base; ADO"
        form.query_one("#ci-source", Input).value = "PubChem CID 60961"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Save the changes to Adenosine?" in screen_text(pilot)
        app.screen.query_one("#confirm-reason", Input).value = "synonyms from the label"
        await pilot.click("#confirm-ok")
        await until(pilot, lambda: isinstance(app.screen, StockScreen))
        await until(pilot, lambda: "adenosine base, ADO" in screen_text(pilot))

        (after,) = [
            i for i in app.store.list_ingredients(user_of(app), "adenosine") if i.origin == "clinic"
        ]
        assert after.id == before.id and after.key == before.key == "clinic-adenosine"
        assert list(after.synonyms) == ["adenosine base", "ADO"]
        assert list(after.sources) == ["PubChem CID 60961"]
        assert after.facts["forms"][0]["molar_mass"] == before.facts["forms"][0]["molar_mass"]
        event = app.store.audit_events(user_of(app), entity="ingredient")[0]
        assert event.action == "ingredient.update" and event.entity_id == str(before.id)
        assert event.reason == "synonyms from the label"
        assert event.before is not None and event.after is not None
        assert event.before["synonyms"] == []
        assert event.after["synonyms"] == ["adenosine base", "ADO"]
        assert event.after["sources"] == ["PubChem CID 60961"]


async def test_receive_lot_checks_expiry_against_the_apps_clock(tmp_path: Path) -> None:
    """ "Already expired" means before the app's today, not the machine's: with the clock
    in 2031 a lot expiring in January 2031 is refused, and once the clock reads 2030 it
    is received."""
    from datetime import UTC, datetime

    from tui.keymap import Settings

    now = [datetime(2031, 6, 1, 9, 0, tzinfo=UTC)]
    app = FormularyApp(empty_clinic(tmp_path), settings=Settings(), clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN_NAME, ADMIN_PASSWORD)
        await open_stock(pilot)
        await add_product(
            pilot,
            name="Biotin",
            presentation=Presentation.AMPOULE,
            volume="1 mL",
            ingredients=[("biotin", "5 mg/mL", "")],
        )
        (biotin,) = app.store.list_products(user_of(app))
        await receive_lot(pilot, product=biotin.id, lot="BT-9", expiry="2031-01-31", count=2)
        form = app.screen
        assert isinstance(form, ReceiveLotScreen)
        assert _errors(form)["row-expiry"] == "Expired on 2031-01-31: do not receive this lot."
        assert "Expired on 2031-01-31" in screen_text(pilot)
        assert app.store.list_lots(user_of(app)) == []

        now[0] = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, StockScreen))
        (lot,) = app.store.list_lots(user_of(app))
        assert lot.lot_number == "BT-9" and str(lot.expiry) == "2031-01-31"
