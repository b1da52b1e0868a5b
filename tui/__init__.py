"""Formulary's user-facing layer: the Textual app and the ``formulary`` command line."""

import os

#: Frames per second Textual may paint. At Textual's default of 60, an answer that comes
#: in just after a frame waits up to 16.7 ms for the next one: most of a search keystroke
#: on a chain's PostgreSQL server (median 43 ms at 60, 29 ms at 120; benchmarks/chain_bench).
#: Textual reads it once, when first imported, so it is set here, before any of the app's
#: modules import Textual; a TEXTUAL_FPS already in the environment still wins.
FRAME_RATE = 120
os.environ.setdefault("TEXTUAL_FPS", str(FRAME_RATE))
