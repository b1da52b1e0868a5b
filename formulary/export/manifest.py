"""A plain-text manifest written beside exported files: what, whose, when, which checkpoint.

CSV has no place for a footer, so the audit checkpoint of a CSV export travels in this
file, together with the SHA-256 of every file it vouches for. The checkpoint line is a
whole line of its own, where ``formulary audit verify --checkpoint manifest.txt`` finds it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from formulary.export.display import show_time
from formulary.records import Checkpoint

#: File name the manifest is written under.
MANIFEST_FILE = "manifest.txt"


def render_manifest(
    files: Mapping[str, bytes],
    *,
    checkpoint: Checkpoint,
    subject: str,
    export_format: str,
) -> bytes:
    """The manifest for ``files`` (name -> content) exported under ``checkpoint``.

    ``subject`` says whose record it is (a chart number and name, or "all patients").
    """
    lines = [
        "Formulary export manifest",
        f"subject: {subject}",
        f"format: {export_format}",
        f"exported: {show_time(checkpoint.at)}",
        "audit checkpoint:",
        checkpoint.line,
        "files (sha256, bytes, name):",
        *(
            f"{hashlib.sha256(data).hexdigest()}  {len(data)}  {name}"
            for name, data in sorted(files.items())
        ),
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")
