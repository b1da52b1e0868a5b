"""The app's way to run a chart export: the db export service, delivering into a folder.

The service (:func:`db.ops.exports.export_chart`) stamps the chart with a fresh signed
checkpoint, renders it, audits it and hands the files to a ``deliver`` callable inside
its transaction; here that is :func:`tui.export_files.to_folder`, which never replaces
an existing file unless ``force`` is given. What comes back is what the screen shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.ops.exports import ExportResult
    from db.store import Actor, Store


@dataclass(frozen=True, slots=True)
class ChartExport:
    """The files an export wrote, its checkpoint line and its own audit entry."""

    paths: tuple[Path, ...]
    checkpoint_line: str
    audit_seq: int


def run_chart_export(
    store: Store, actor: Actor, chart_number: str, fmt: str, folder: Path, *, force: bool = False
) -> ChartExport:
    """Export ``chart_number`` as ``fmt`` into ``folder`` (created if missing)."""
    from db.ops.exports import export_chart
    from tui.export_files import to_folder

    write = to_folder(folder, force=force)
    written: list[Path] = []

    def deliver(result: ExportResult) -> list[Path]:
        paths = write(result)
        written.extend(paths)
        return paths

    result = export_chart(store, actor, chart_number, fmt, deliver)
    return ChartExport(tuple(written), result.checkpoint.line, result.audit_seq)
