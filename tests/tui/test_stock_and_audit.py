"""Formulary and stock (receive, quarantine with confirmation, recall lookup) and audit."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from formulary.records import LotStatus
from tests.tui.demo_data import ADMIN, Demo
from tests.tui.fixture_types import MakeApp, user_of
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.app import FormularyApp
from tui.screens.audit import AuditScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.recall import RecallScreen
from tui.screens.receive_lot import ReceiveLotScreen
from tui.screens.stock import StockScreen
from tui.widgets.field_row import FieldRow


async def test_lots_receive_quarantine_and_recall_lookup(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await pilot.press("f5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StockScreen)
        text = screen_text(pilot)
        assert "BT-2301" in text and "2025-12-31 EXPIRED" in text
        assert "quarantined" in text

        # Receive: bad input explained beside each field, then a good lot.
        await pilot.press("ctrl+r")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ReceiveLotScreen)
        form.query_one("#lot-expiry", Input).value = "2020-01-01"
        form.query_one("#lot-quantity", Input).value = "10 mg"
        await pilot.press("ctrl+s")
        await pilot.pause()
        errors = {row.id: row.error for row in form.query(FieldRow)}
        assert errors["row-product"] == "Choose the product received."
        assert errors["row-number"].startswith("Required")
        assert "Expired on 2020-01-01" in errors["row-expiry"]
        assert errors["row-quantity"] != ""
        form.query_one("#lot-product", Select).value = demo.products["dexpanthenol"]
        form.query_one("#lot-number", Input).value = "DX-0200"
        form.query_one("#lot-expiry", Input).value = "2029-01-31"
        form.query_one("#lot-by", Select).value = "volume"
        form.query_one("#lot-quantity", Input).value = "20 mL"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, StockScreen)
        lots = app.store.list_lots(user_of(app), demo.products["dexpanthenol"])
        assert any(lot.lot_number == "DX-0200" for lot in lots)

        # Quarantine the biotin lot in use: confirmation with a reason first.
        table = screen.query_one("#lots", DataTable)
        table.focus()
        row = [str(table.get_row_at(i)[1]) for i in range(table.row_count)].index("BT-2412")
        table.move_cursor(row=row)
        await pilot.press("f7")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        await pilot.click("#confirm-ok")
        await pilot.pause()
        assert "Give a reason" in str(confirm.query_one("#confirm-error", Static).render())
        confirm.query_one("#confirm-reason", Input).value = "cloudy ampoules reported"
        await pilot.pause(0.3)  # past the button's press effect, which ignores clicks
        await pilot.click("#confirm-ok")
        await settle(pilot)
        assert app.store.get_lot(user_of(app), demo.lots["biotin"]).status is LotStatus.QUARANTINED

        # Who received it: the two signed sessions of DUBOIS.
        table.move_cursor(row=row)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, RecallScreen)
        text = screen_text(pilot)
        assert "2 signed session(s), 1 patient(s)" in text and "DUBOIS, Marc" in text


async def test_audit_at_80x24_shows_entries_and_the_filters_whole(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await until(pilot, lambda: screen.query_one("#audit-table", DataTable).row_count > 5)
        await pilot.pause(0.2)
        lines = screen_text(pilot).splitlines()
        # The entry below takes what the list leaves: the list keeps rows to move in,
        # and nothing is pushed off the screen (the filters' box is whole).
        assert screen.query_one("#audit-table", DataTable).size.height >= 5
        assert screen.max_scroll_y == 0
        assert lines[1].startswith("╭") and "Filters" in lines[1]


async def test_audit_filters_before_after_and_verify(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        screen.query_one("#filter-action", Input).value = "lot.set_status"
        await settle(pilot)
        table = screen.query_one("#audit-table", DataTable)
        assert table.row_count == 1
        assert "particles seen in one vial" in screen_text(pilot)
        # Before and after side by side, the changed field first: status available -> quarantined.
        status = next(line for line in screen_text(pilot).splitlines() if "~  status" in line)
        assert status.index('"available"') < status.index('"quarantined"')
        screen.query_one("#filter-action", Input).value = ""
        screen.query_one("#filter-patient", Input).value = "C-1002"
        await settle(pilot)
        assert table.row_count > 3
        assert "patient C-1002" in str(screen.query_one("#audit-note").render())
        screen.query_one("#filter-from", Input).value = "02/11/2026"
        await settle(pilot)
        assert "'02/11/2026' is not a date; type it as YYYY-MM-DD." in screen_text(pilot)
        screen.query_one("#filter-from", Input).value = ""
        await pilot.press("f8")
        await settle(pilot, rounds=5)
        result = str(screen.query_one("#verify-result", Static).render())
        assert "Audit trail intact" in result


def _notes(app: FormularyApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def _lot_row(pilot: Pilot[None], number: str) -> None:
    await pilot.press("f5")
    await until(pilot, lambda: isinstance(pilot.app.screen, StockScreen))
    screen = pilot.app.screen
    table = screen.query_one("#lots", DataTable)
    await until(pilot, lambda: table.row_count > 0)
    table.focus()
    table.move_cursor(row=[str(table.get_row_at(i)[1]) for i in range(table.row_count)].index(
        number))
    await pilot.pause()


async def test_f9_on_a_recalled_lot_says_the_recall_is_final_and_an_admin_lifts_it(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)  # the practitioner
        lee = user_of(app)
        app.store.set_lot_status(lee, demo.lots["biotin"], LotStatus.RECALLED, "maker notice")
        await _lot_row(pilot, "BT-2412")
        assert not app.command_available("lift_recall")  # administrators only
        await pilot.press("f9")
        await settle(pilot)
        # No reason is asked for a release that cannot happen: the refusal is said at once.
        assert isinstance(app.screen, StockScreen)
        assert (
            "Stock: Lot BT-2412 of Biotin 5 mg/mL ampoule is recalled, and a recall is final: "
            "the lot is never drawn from again and cannot be released; if the recall was "
            "recorded by mistake, an administrator can lift it"
        ) in "\n".join(_notes(app)), _notes(app)
        assert "Lift a recall in the command palette (ctrl+p)" in "\n".join(_notes(app))
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, StockScreen)
        assert any("cannot be quarantined" in n for n in _notes(app))
        assert app.store.get_lot(lee, demo.lots["biotin"]).status is LotStatus.RECALLED

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await _lot_row(pilot, "BT-2412")
        assert app.command_available("lift_recall")
        app.run_command("lift_recall")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert "Lift the recall of lot BT-2412?" in screen_text(pilot)
        confirm.query_one("#confirm-reason", Input).value = "the notice named BT-2142"
        await pilot.pause(0.3)
        await pilot.click("#confirm-ok")
        await settle(pilot)
        lot = app.store.get_lot(user_of(app), demo.lots["biotin"])
        assert lot.status is LotStatus.QUARANTINED  # checked before it is drawn again
        # Quarantined, it is released as any quarantined lot: f9 asks for the reason.
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
