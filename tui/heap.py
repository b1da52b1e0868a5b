"""Keeping the garbage collector's full passes out of keystrokes."""

from __future__ import annotations

import gc

#: Seconds after sign-in before the heap is settled (the patient list is on screen).
SETTLE_AFTER_SIGN_IN = 1.0


def settle_heap() -> int:
    """Collect once, then exempt everything alive from later full collections.

    A full collection walks every object the interpreter tracks. With Textual,
    SQLAlchemy and the ingredient library loaded that is about 150,000 objects and a
    pause of 80-100 ms, which landed inside keystrokes: the worst search keystroke and
    the slow chart openings in ``benchmarks/tui_bench.py`` were all such pauses. The
    objects alive once a user has signed in (start-up's among them) mostly live
    until sign-out, so they are frozen after one collection; later full passes walk
    only what was made since (8-20 ms). Each call first unfreezes, so what was frozen
    and has since died (an earlier user's screens) is collected then: nothing leaks
    for longer than a sign-in. Returns how many objects are frozen.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
