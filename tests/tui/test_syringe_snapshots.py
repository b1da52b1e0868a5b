"""SVG snapshots of the syringe: the session screen and review-and-sign, at 120×40 and 80×24.

A cocktail of a product and an ingredient added by amount (which has no lot): both
are in the table, the ingredient with its "no lot recorded" warning. Update after a
deliberate change with ``--snapshot-update`` and look at the SVGs before committing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Input, Select

from formulary.records import Technique
from formulary.units.amount import Amount
from tests.consent_helpers import sign_consent
from tests.tui.demo_data import PRACTITIONER, Demo
from tests.tui.fixture_types import MakeApp, SnapCompare
from tests.tui.pilot_helpers import settle, sign_in, until

SIZES = {"120x40": (120, 40), "80x24": (80, 24)}


@pytest.fixture(autouse=True)
def utc_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local times are shown in the workstation's zone: pin it so snapshots agree."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def _open_cocktail_session(pilot: Pilot[None], demo: Demo) -> None:
    from db.store import ComponentSpec

    await sign_in(pilot)
    app = pilot.app
    store, user = app.store, app.user  # type: ignore[attr-defined]
    biotin = next(i for i in store.list_ingredients(user) if i.key == "biotin")
    store.save_formulation(
        user,
        patient_id=demo.patients["okafor"],
        name="Okafor cocktail",
        components=[
            ComponentSpec(
                "Biotin 5 mg/mL ampoule",
                Amount(Decimal(1), "mL"),
                product_id=demo.products["biotin"],
            ),
            ComponentSpec("Biotin powder", Amount(Decimal(2), "mg"), ingredient_id=biotin.id),
        ],
        final_volume=Amount(Decimal(2), "mL"),
        acknowledge=True,
    )
    # Her consent is signed: these pictures are about the syringe, not the consent rule.
    sign_consent(store, user, PRACTITIONER[2], demo.patients["okafor"])
    app.open_patient(demo.patients["okafor"])  # type: ignore[attr-defined]
    await settle(pilot)
    await pilot.press("ctrl+n")
    await until(pilot, lambda: getattr(pilot.app.screen, "_ready", False))
    pilot.app.screen.query_one("#zone-vertex", Input).value = "2 mL"
    pilot.app.screen.query_one("#s-technique", Select).value = Technique.NAPPAGE
    await until(
        pilot, lambda: "saved at" in str(pilot.app.screen.query_one("#session-status").render())
    )


@pytest.mark.parametrize("size", SIZES)
def test_session_shows_the_syringe(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp, size: str
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await _open_cocktail_session(pilot, demo)
        pilot.app.screen.set_focus(None)
        pilot.app.screen.query_one("#session-body").scroll_home(animate=False)
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZES[size], run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_review_and_sign_shows_the_syringe(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp, size: str
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        from tui.screens.sign_session import SignSessionScreen

        await _open_cocktail_session(pilot, demo)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(pilot.app.screen, SignSessionScreen))
        await settle(pilot)
        pilot.app.screen.set_focus(None)
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZES[size], run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_discard_draft_asks_first(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp, size: str
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        from tui.screens.confirm import ConfirmScreen

        await _open_cocktail_session(pilot, demo)
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await settle(pilot)
        pilot.app.screen.set_focus(None)

    assert snap_compare(make_app(demo.path), terminal_size=SIZES[size], run_before=ready)


def _overview_laid_out(pilot: Pilot[None]) -> bool:
    from textual.widgets import DataTable

    table = next(pilot.app.screen.query("#overview-sessions").results(DataTable), None)
    return table is not None and 0 < table.row_count < table.virtual_size.height


def test_chart_at_80x24_shows_local_times_and_signers(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        await sign_in(pilot)
        pilot.app.open_patient(demo.patients["dubois"])  # type: ignore[attr-defined]
        await until(pilot, lambda: _overview_laid_out(pilot))
        pilot.app.screen.set_focus(None)
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZES["80x24"], run_before=ready)


def test_formulation_editor_at_80x24_offers_remove_only_on_the_table(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        from textual.widgets import DataTable

        await sign_in(pilot)
        pilot.app.open_patient(demo.patients["dubois"])  # type: ignore[attr-defined]
        await until(pilot, lambda: _overview_laid_out(pilot))
        await pilot.press("ctrl+f")
        await until(pilot, lambda: getattr(pilot.app.screen, "findings", None) is not None)
        pilot.app.screen.query_one("#editor-table", DataTable).focus()
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZES["80x24"], run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_help_names_the_palette_commands(
    snap_compare: SnapCompare, demo: Demo, make_app: MakeApp, size: str
) -> None:
    async def ready(pilot: Pilot[None]) -> None:
        from tui.screens.help import HelpScreen

        await sign_in(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        await settle(pilot)
        pilot.app.screen.set_focus(None)
        # The palette's commands, listed below the keys of every screen.
        scroll = pilot.app.screen.query_one("HelpScreen > VerticalScroll", VerticalScroll)
        scroll.scroll_to_widget(pilot.app.screen.query_one("#help-commands"), top=True,
                                animate=False)
        await settle(pilot)

    assert snap_compare(make_app(demo.path), terminal_size=SIZES[size], run_before=ready)
