"""The manifest beside exported files: checkpoint line on its own line, file hashes."""

from __future__ import annotations

import hashlib

from formulary.export.csv_export import render_csv
from formulary.export.manifest import render_manifest
from formulary.records import PatientChart


def test_manifest_lists_hashes_and_checkpoint(chart: PatientChart) -> None:
    assert chart.checkpoint is not None
    files = render_csv(chart)
    text = render_manifest(files, checkpoint=chart.checkpoint,
                           subject="C-000123 MÜLLER-ÉDOUARD, José",
                           export_format="csv").decode("utf-8")
    lines = text.splitlines()
    assert chart.checkpoint.line in lines
    assert "subject: C-000123 MÜLLER-ÉDOUARD, José" in lines
    assert "exported: 2026-06-01 14:05 UTC" in lines
    for name, data in files.items():
        assert f"{hashlib.sha256(data).hexdigest()}  {len(data)}  {name}" in lines
