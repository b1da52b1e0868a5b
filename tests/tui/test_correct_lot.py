"""Correct a lot from the stock screen: the palette's Correct lot, its dialog, the refusals."""

from __future__ import annotations

from datetime import date

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.tui.demo_data import ASSISTANT, Demo
from tests.tui.fixture_types import MakeApp, user_of
from tests.tui.pilot_helpers import settle, sign_in, until
from tui.app import FormularyApp
from tui.screens.correct_lot import CorrectLotScreen
from tui.screens.form_guard import DiscardChangesScreen
from tui.screens.stock import StockScreen
from tui.widgets.field_row import FieldRow


def _notes(app: FormularyApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def _numbers(table: DataTable[object]) -> list[str]:
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


async def _highlight(pilot: Pilot[None], number: str) -> DataTable[object]:
    await pilot.press("f5")
    await until(pilot, lambda: isinstance(pilot.app.screen, StockScreen))
    table: DataTable[object] = pilot.app.screen.query_one("#lots", DataTable)
    await until(pilot, lambda: table.row_count > 0)
    table.focus()
    table.move_cursor(row=_numbers(table).index(number))
    await pilot.pause()
    return table


async def _open(pilot: Pilot[None]) -> CorrectLotScreen:
    app = pilot.app
    assert isinstance(app, FormularyApp)
    assert app.command_available("correct_lot")
    app.run_command("correct_lot")
    await until(pilot, lambda: isinstance(app.screen, CorrectLotScreen))
    await settle(pilot)
    form = app.screen
    assert isinstance(form, CorrectLotScreen)
    return form


async def test_correcting_number_and_expiry_shows_the_lot_and_audits_the_reason(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)  # the practitioner
        table = await _highlight(pilot, "BT-2412")
        form = await _open(pilot)
        # Prefilled from the lot, the first field focused.
        assert form.query_one("#lot-number", Input).value == "BT-2412"
        assert form.query_one("#lot-expiry", Input).value == "2028-06-30"
        assert form.focused is form.query_one("#lot-number", Input)
        form.query_one("#lot-number", Input).value = "BT-2417"
        form.query_one("#lot-expiry", Input).value = "2028-07-31"
        # The reason is required, said beside its field before anything is sent.
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#row-reason", FieldRow).error.startswith("Required")
        form.query_one("#lot-reason", Input).value = "box reads BT-2417, typed BT-2412"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, StockScreen))
        await until(pilot, lambda: "BT-2417" in _numbers(table))
        await settle(pilot)
        assert "BT-2412" not in _numbers(table)
        row = _numbers(table).index("BT-2417")
        assert str(table.get_row_at(row)[2]).startswith("2028-07-31")
        assert "Stock: Lot BT-2417 corrected." in _notes(app)

        user = user_of(app)
        lot = app.store.get_lot(user, demo.lots["biotin"])
        assert (lot.lot_number, lot.expiry, lot.supplier) == ("BT-2417", date(2028, 7, 31),
                                                              "")
        (entry,) = app.store.audit_events(user, action_prefix="lot.correct")
        assert str(entry.entity_id) == str(demo.lots["biotin"])
        assert entry.reason == "box reads BT-2417, typed BT-2412"


async def test_a_twin_number_is_refused_in_the_dialog_and_nothing_is_written(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await _highlight(pilot, "BT-2412")
        form = await _open(pilot)
        form.query_one("#lot-number", Input).value = "bt-2301"  # BT-2301, whatever the case
        form.query_one("#lot-reason", Input).value = "typed wrong"
        await pilot.press("ctrl+s")
        await until(
            pilot, lambda: "Not saved" in str(form.query_one("#form-error", Static).render())
        )
        assert app.screen is form
        said = str(form.query_one("#form-error", Static).render())
        assert (
            "Not saved: lot BT-2412 of Biotin 5 mg/mL ampoule cannot become bt-2301: that "
            "product has lot BT-2301 already"
        ) in said, said
        user = user_of(app)
        assert app.store.get_lot(user, demo.lots["biotin"]).lot_number == "BT-2412"
        assert app.store.audit_events(user, action_prefix="lot.correct") == []


async def test_escape_after_typing_asks_before_discarding(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await _highlight(pilot, "BT-2412")
        form = await _open(pilot)
        # Opened and closed untouched: no question.
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, StockScreen))
        form = await _open(pilot)
        await pilot.press("end", "7")
        await pilot.pause()
        assert form.query_one("#lot-number", Input).value == "BT-24127"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DiscardChangesScreen))
        await pilot.press("escape")  # keep editing
        await until(pilot, lambda: app.screen is form)
        assert form.query_one("#lot-number", Input).value == "BT-24127"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DiscardChangesScreen))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, StockScreen))
        assert app.store.get_lot(user_of(app), demo.lots["biotin"]).lot_number == "BT-2412"


async def test_an_assistant_is_not_offered_it_and_is_refused(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ASSISTANT[0], ASSISTANT[2])
        await _highlight(pilot, "BT-2412")
        assert not app.command_available("correct_lot")
        screen = app.screen
        assert isinstance(screen, StockScreen)
        screen.action_correct_lot()
        await settle(pilot)
        assert app.screen is screen
        assert any(
            "Only administrators and practitioners correct a lot" in n for n in _notes(app)
        ), _notes(app)
