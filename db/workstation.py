"""The workstation's name, as every audit entry records it."""

from __future__ import annotations

import os
import socket

#: Environment variable naming the workstation ("Treatment room 2") instead of the host.
ENV_VAR = "FORMULARY_WORKSTATION"


def workstation_name() -> str:
    """``$FORMULARY_WORKSTATION``, else the machine's host name (at most 200 characters)."""
    return (os.environ.get(ENV_VAR, "").strip() or socket.gethostname() or "unknown")[:200]
