"""Keeping the garbage collector's full passes out of keystrokes."""

from __future__ import annotations

import gc

#: Seconds after sign-in before the heap is settled (the patient list is on screen).
SETTLE_AFTER_SIGN_IN = 1.0

#: Seconds without a key or a click before the heap may be settled again.
SETTLE_WHEN_IDLE = 3.0

#: Objects made (and still alive) since the last settle that make a new one worth
#: its pause: a full collection walks about 1,000 objects per 0.1 ms here, so at this
#: size the full passes during typing have grown by a few milliseconds.
RESETTLE_OBJECTS = 40_000


#: Objects a headless command makes between young-generation passes (Python's own: 700).
COMMAND_YOUNG_OBJECTS = 10_000


#: True while :func:`pause_for_start` has the collector stopped.
_paused_for_start = False


def pause_for_start() -> None:
    """Stop the collector while the app starts; :func:`resume_after_start` restarts it.

    Importing Textual, parsing the stylesheets and composing the sign-in form make
    hundreds of thousands of objects and almost no garbage, yet every 700 of them
    set off a young-generation pass: about 3 % of the work before the form is on
    screen. Nothing is freed later for the pause (the objects stay alive anyway).
    """
    global _paused_for_start
    if gc.isenabled():
        gc.disable()
        _paused_for_start = True


def space_collections_for_command() -> None:
    """Collect the young generation every :data:`COMMAND_YOUNG_OBJECTS` objects.

    A headless command is one short process that imports SQLAlchemy and the tables,
    then makes rows and records that mostly live until it ends: at Python's default
    a young pass runs every 700 new objects and finds almost nothing to free. Spaced
    out, ``init --demo`` spends 70-90 ms in the collector instead of 120-155 ms (22
    passes instead of 336) and its peak memory does not move; cycles are still
    collected, only in larger batches.
    """
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, COMMAND_YOUNG_OBJECTS), *older)


def skip_final_collection() -> None:
    """Spare the process's last moments a walk over every object it made.

    As the interpreter shuts down it collects garbage over the whole heap, and after
    a command that built a clinic (``init --demo``: SQLAlchemy, the tables, thousands of
    rows and records) that walk took 0.2-0.4 s, between the last line printed and the
    shell's prompt. Everything the process holds is about to go back to the system
    anyway, so it is frozen instead: out of the collector's reach. Files and database
    connections are closed explicitly before this (they never waited on a collection),
    and objects freed by reference counting are freed as before.
    """
    gc.freeze()


def resume_after_start() -> None:
    """Restart the collector stopped by :func:`pause_for_start` (else do nothing).

    What start-up made is frozen first: re-enabled as it is, the collector would
    walk all of it at its next allocation, a pause of tens of milliseconds just as
    the user starts typing. The settle after sign-in unfreezes it and frees what
    has died since.
    """
    global _paused_for_start
    if _paused_for_start:
        _paused_for_start = False
        gc.freeze()
        gc.enable()


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


def release_closed_watchers(*objects: object) -> int:
    """Drop the watchers that closed widgets left on ``objects``; returns how many.

    Textual keeps a list of the widgets watching each reactive attribute of an
    object and prunes it only when that attribute next changes. A chart's ``Header``
    watches the app's title and sub-title and its plot the app's theme, which seldom
    change, so every chart opened in a day stayed alive after it closed, with all its
    render caches. Read through ``getattr`` so that a Textual release that stores them
    otherwise makes this a no-op, not a crash (tests/tui/test_heap.py notices).
    """
    dropped = 0
    for obj in objects:
        watchers = getattr(obj, "__watchers", None)
        if not isinstance(watchers, dict):
            continue
        for entries in watchers.values():
            kept = [entry for entry in entries if not getattr(entry[0], "_closing", False)]
            dropped += len(entries) - len(kept)
            entries[:] = kept
    return dropped


def unfrozen_objects() -> int:
    """Objects in the oldest generation that a full collection would walk."""
    return len(gc.get_objects(generation=2))


class IdleSettler:
    """Settles the heap again while the user is idle, once per idle stretch.

    A workday never restarts the app: chart after chart leaves long-lived objects
    (caches, the ORM's identity maps, screens kept in history) in the oldest
    generation, and each full collection, which lands inside some keystroke, walks
    them all. Settling while nobody types moves them out of the collector's way; it
    is done only when enough has gathered, and at most once between two inputs.
    """

    def __init__(self, threshold: int = RESETTLE_OBJECTS) -> None:
        self.threshold = threshold
        self._done_for: float | None = None
        #: How many settles this settler has done (shown by the day benchmark).
        self.settles = 0

    def check(self, idle_for: float, last_input: float, *watched: object) -> bool:
        """Settle if idle for long enough and enough has gathered; True if it did.

        ``watched`` are long-lived objects (the app) whose watchers closed widgets may
        still hold: released first, so that the collection can free those widgets.
        """
        if idle_for < SETTLE_WHEN_IDLE or self._done_for == last_input:
            return False
        self._done_for = last_input
        release_closed_watchers(*watched)
        if unfrozen_objects() < self.threshold:
            return False
        settle_heap()
        self.settles += 1
        return True
