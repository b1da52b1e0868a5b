"""Retiring a patient from the chart and restoring one retired by mistake, in the app.

The practitioner retires the open chart from the command palette (*Retire this
patient*, with a reason) and is back on the patient list without it; *Restore a retired
patient* on the list shows the retired charts with when, by whom and why, and Enter
brings the highlighted one back (with a reason). An assistant is offered neither.
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from db.store import Store
from tests.tui.demo_data import ASSISTANT, PRACTITIONER, Demo
from tests.tui.fixture_types import MakeApp, formulary_app, user_of
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.screens.confirm import ConfirmScreen
from tui.screens.patient import PatientScreen
from tui.screens.patients import PatientsScreen
from tui.screens.retired_patients import RetiredPatientsScreen


async def _palette(pilot: Pilot[None], command: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*[c if c != " " else "space" for c in command])
    await pilot.pause(0.3)
    await pilot.press("enter")


async def _reason(pilot: Pilot[None], reason: str) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
    field = pilot.app.screen.query_one("#confirm-reason", Input)
    field.value = reason
    await pilot.press("enter")


def _listed(store: Store, pilot: Pilot[None]) -> list[str]:
    return [p.chart_number for p in store.list_patients(user_of(formulary_app(pilot)), limit=100)]


async def test_retire_from_the_chart_and_restore_from_the_list(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        store = formulary_app(pilot).store
        patient = store.get_patient(user_of(app), demo.patients["moreau"])
        formulary_app(pilot).open_patient(patient.id)
        await until(pilot, lambda: isinstance(app.screen, PatientScreen))
        await settle(pilot)

        # Cancelled: nothing happens.
        await _palette(pilot, "Retire this patient")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PatientScreen))
        assert patient.chart_number in _listed(store, pilot)

        await _palette(pilot, "Retire this patient")
        await _reason(pilot, "duplicate chart")
        await until(pilot, lambda: isinstance(app.screen, PatientsScreen))
        await settle(pilot)
        assert patient.chart_number not in _listed(store, pilot)
        (retired,) = store.retired_patients(user_of(app))
        assert (retired.patient.id, retired.reason) == (patient.id, "duplicate chart")
        assert retired.retired_by == PRACTITIONER[0]

        await _palette(pilot, "Restore a patient")
        await until(pilot, lambda: isinstance(app.screen, RetiredPatientsScreen))
        screen = app.screen
        await until(pilot, lambda: screen.query_one(DataTable).row_count == 1)
        shown = screen_text(pilot)
        assert patient.chart_number in shown and "duplicate chart" in shown
        screen.query_one(DataTable).focus()
        await pilot.press("enter")
        await _reason(pilot, "retired the wrong chart")
        await until(pilot, lambda: isinstance(app.screen, PatientsScreen))
        await settle(pilot)
        assert patient.chart_number in _listed(store, pilot)
        assert store.retired_patients(user_of(app)) == []
        (entry,) = store.audit_events(user_of(app), entity="patient", entity_id=patient.id,
                                      action_prefix="patient.restore")
        assert entry.reason == "retired the wrong chart"
        assert entry.before is not None and entry.before["deleted_at"] is not None
        assert entry.after is not None and entry.after["deleted_at"] is None


async def test_an_assistant_is_offered_neither(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ASSISTANT[0], ASSISTANT[2])
        assert isinstance(app.screen, PatientsScreen)
        assert not formulary_app(pilot).command_available("restore_patient")
        formulary_app(pilot).open_patient(demo.patients["moreau"])
        await until(pilot, lambda: isinstance(app.screen, PatientScreen))
        assert not formulary_app(pilot).command_available("retire_patient")
