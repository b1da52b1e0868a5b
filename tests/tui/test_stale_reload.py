"""A reload that a newer one replaced never shows what it read (AppScreen.post_if_current)."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from textual import on, work
from textual.app import App
from textual.message import Message
from textual.worker import WorkerCancelled

from tui.screens.base import AppScreen


class _Read(Message):
    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what


class _Listing(AppScreen):
    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []
        self.first_is_reading = threading.Event()
        self.first_may_finish = threading.Event()

    @work(thread=True, exclusive=True, group="listing")
    def reload(self, what: str, wait: bool) -> None:
        if wait:  # read before a change, and slow to come back
            self.first_is_reading.set()
            self.first_may_finish.wait(10)
        self.post_if_current(_Read(what))

    @on(_Read)
    def _show(self, message: _Read) -> None:
        self.shown.append(message.what)


async def test_a_replaced_reload_does_not_show_its_older_records() -> None:
    listing = _Listing()
    app: App[None] = App()
    async with app.run_test() as pilot:
        await app.push_screen(listing)
        first = listing.reload("before the change", True)
        assert await asyncio.to_thread(listing.first_is_reading.wait, 10)
        second = listing.reload("after the change", False)
        await second.wait()
        listing.first_may_finish.set()
        with contextlib.suppress(WorkerCancelled):  # replaced: it ran on, then stopped
            await first.wait()
        await pilot.pause()
    assert listing.shown == ["after the change"]
