"""Settling the heap: frozen objects that die are collected at the next settle."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

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
