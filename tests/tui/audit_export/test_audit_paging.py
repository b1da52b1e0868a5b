"""A long audit trail opens a page at a time, loads older pages on demand, and verifies
in a worker with its progress shown."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session
from textual.widgets import DataTable, ProgressBar

from tests.tui.audit_export.clinic import STARTED_AT, WORKSTATION, Clinic, open_store
from tests.tui.audit_export.pilot import settle, sign_in, visible_text
from tests.tui.fixture_types import MakeApp
from tui.audit_query import PAGE_SIZE
from tui.screens.audit import AuditScreen

#: Entries added behind the clinic's history (lot draws, one per minute).
EXTRA = 2_500


def lengthen(path: Path, count: int) -> int:
    """Append ``count`` valid entries to the chain; the new head seq."""
    from db.audit.chain import append_event, read_head

    store = open_store(path)
    try:
        with Session(store.database.engine) as session:
            for n in range(count):
                append_event(
                    session, db_id=store.database.db_id, user="drmartin",
                    workstation=WORKSTATION, action="lot.draw", entity="lot", entity_id=n % 7,
                    before={"quantity_value": str(1000 - n)},
                    after={"quantity_value": str(999 - n)}, reason=f"session {n}",
                    now=STARTED_AT + timedelta(days=1, seconds=n),
                )
            session.commit()
            return read_head(session.connection())[0]
    finally:
        store.database.dispose()


@pytest.fixture
def long_clinic(clinic: Clinic) -> Clinic:
    lengthen(clinic.path, EXTRA)
    return clinic


def seqs(screen: AuditScreen) -> list[int]:
    table = screen.query_one("#audit-table", DataTable)
    return [int(str(table.get_row_at(i)[0])) for i in range(table.row_count)]


async def test_a_long_trail_opens_one_page_and_pages_back(
    long_clinic: Clinic, make_app: MakeApp
) -> None:
    head = long_clinic.entries + EXTRA + 1  # + the sign-in
    app = make_app(long_clinic.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        assert seqs(screen) == list(range(head, head - PAGE_SIZE, -1))
        assert f"Showing the newest {PAGE_SIZE} entries" in visible_text(pilot)

        await pilot.press("ctrl+o")
        await settle(pilot)
        assert seqs(screen) == list(range(head, head - 2 * PAGE_SIZE, -1))

        # Reaching the last row asks for the next page by itself.
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert len(seqs(screen)) == 3 * PAGE_SIZE
        assert seqs(screen) == sorted(set(seqs(screen)), reverse=True)

        await pilot.press("f8")
        await settle(pilot, rounds=5)
        bar = screen.query_one("#verify-progress", ProgressBar)
        assert bar.total == bar.progress == head
        assert f"Audit trail intact: {head:,} entries" in visible_text(pilot)
