"""Settling the heap: frozen objects that die are collected at the next settle."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator

import pytest

from tests.tui.demo_data import Demo
from tui.app import FormularyApp
from tui.heap import settle_heap


class _Cycle:
    def __init__(self) -> None:
        self.me = self  # only the cycle collector can free it


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_what_dies_after_a_settle_is_collected_at_the_next() -> None:
    cycle = _Cycle()
    alive = weakref.ref(cycle)
    assert settle_heap() > 0
    del cycle
    gc.collect()
    assert alive() is not None  # frozen: ordinary collections leave it alone
    settle_heap()
    assert alive() is None


@pytest.fixture
def _collector_restored() -> Iterator[None]:
    yield
    from tui.heap import resume_after_start

    resume_after_start()  # a failed test must not leave the collector stopped
    gc.enable()


@pytest.mark.usefixtures("_collector_restored")
def test_start_up_pauses_the_collector_and_freezes_what_it_made() -> None:
    from tui.heap import pause_for_start, resume_after_start

    pause_for_start()
    assert not gc.isenabled()
    cycle = _Cycle()
    alive = weakref.ref(cycle)
    resume_after_start()
    assert gc.isenabled()
    del cycle
    gc.collect()
    assert alive() is not None  # made during start-up: frozen, left to the next settle
    settle_heap()
    assert alive() is None


@pytest.mark.usefixtures("_collector_restored")
def test_resuming_without_a_pause_changes_nothing() -> None:
    from tui.heap import resume_after_start

    gc.unfreeze()
    resume_after_start()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("_collector_restored")
async def test_the_app_restarts_the_collector_once_the_form_is_shown(
    demo: Demo, make_app: Callable[..., FormularyApp]
) -> None:
    from tests.tui.pilot_helpers import until
    from tui.heap import pause_for_start

    pause_for_start()  # as the `formulary` command does before importing the app
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.store_is_open)
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_idle_settler_waits_for_idleness_and_settles_once_per_stretch() -> None:
    from tui.heap import SETTLE_WHEN_IDLE, IdleSettler
    from tui.idle import IdleWatch

    clock = _Clock()
    watch = IdleWatch(300, clock=clock)
    settler = IdleSettler(threshold=0)
    assert not settler.check(watch.idle_for, watch.last_input)  # typing: never
    clock.now += SETTLE_WHEN_IDLE
    assert settler.check(watch.idle_for, watch.last_input)
    assert gc.get_freeze_count() > 0
    clock.now += 60
    assert not settler.check(watch.idle_for, watch.last_input)  # once per idle stretch
    watch.touch()
    clock.now += SETTLE_WHEN_IDLE
    assert settler.check(watch.idle_for, watch.last_input)
    assert settler.settles == 2


def test_the_idle_settler_leaves_a_small_heap_alone() -> None:
    from tui.heap import SETTLE_WHEN_IDLE, IdleSettler, unfrozen_objects

    settle_heap()
    settler = IdleSettler(threshold=unfrozen_objects() + 1_000_000)
    assert not settler.check(SETTLE_WHEN_IDLE + 1, 0.0)
    assert settler.settles == 0


def test_what_accumulates_is_frozen_by_the_next_idle_settle() -> None:
    from tui.heap import SETTLE_WHEN_IDLE, IdleSettler, unfrozen_objects

    settle_heap()
    kept = [[n] for n in range(50_000)]  # long-lived objects of a busy morning
    gc.collect()
    assert unfrozen_objects() >= 50_000
    settler = IdleSettler(threshold=40_000)
    assert settler.check(SETTLE_WHEN_IDLE, 1.0)
    assert unfrozen_objects() < 40_000
    del kept


async def test_closed_charts_do_not_stay_alive(
    demo: Demo, make_app: Callable[..., FormularyApp]
) -> None:
    """Textual prunes watcher lists lazily; a day of charts must not pile up."""
    from textual.widgets import Header

    from tests.tui.pilot_helpers import settle, show_chart, sign_in, until
    from tui.heap import release_closed_watchers
    from tui.screens.patient import PatientScreen
    from tui.widgets.outcome_plot import OutcomePlot

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        home = app.screen
        for _ in range(4):
            await show_chart(pilot, demo.patients["dubois"])
            app.pop_screen()
            await until(pilot, lambda: app.screen is home)
        await settle(pilot)
        # The app's own settle after sign-in may already have released them when the
        # machine is slow (its timer fires during the chart opens): what matters is
        # that none is left afterwards and the closed charts are gone.
        release_closed_watchers(app)
        watchers = getattr(app, "__watchers", {})
        left = [entry for entries in watchers.values() for entry in entries]
        assert not any(getattr(entry[0], "_closing", False) for entry in left)
        gc.collect()
        headers = [o for o in gc.get_objects() if isinstance(o, Header)]
        assert len(headers) <= len(app.screen_stack), headers
        charts = [o for o in gc.get_objects() if isinstance(o, PatientScreen)]
        assert charts == []
        plots = [o for o in gc.get_objects() if isinstance(o, OutcomePlot)]
        assert plots == []
