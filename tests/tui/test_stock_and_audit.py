"""Formulary and stock (receive, quarantine with confirmation, recall lookup) and audit."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Select, Static

from formulary.records import LotStatus
from tests.tui.demo_data import ADMIN, Demo
from tests.tui.fixture_types import MakeApp, user_of
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
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
