"""``export json`` streamed: exactly the text of the whole-document export."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from db.database import Database
from db.ops.transfer import dumps_document, export_document, write_document
from db.store import Store
from tests.ops.conftest import DEMO_ADMIN


def test_streamed_text_is_the_document_text(demo_copy: Path,
                                            open_db: Callable[..., Database]) -> None:
    database = open_db(demo_copy)
    store = Store(database)
    actor = store.authenticate(DEMO_ADMIN.username, DEMO_ADMIN.password)
    moment = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    whole = dumps_document(export_document(database, actor, now=moment))
    out = io.StringIO()
    counts = write_document(database, actor, out, now=moment)
    streamed = out.getvalue()
    # Each export is audited, so the second one's checkpoint is one entry later.
    first = json.loads(whole)["source"]["checkpoint"]
    assert streamed == whole.replace(first, str(counts["checkpoint"]))
    records = json.loads(streamed)["records"]
    assert {k: len(v) for k, v in records.items()} == {
        k: v for k, v in counts.items() if k != "checkpoint"}
    assert records["sessions"] and records["patients"]


def test_the_clinic_identity_travels_with_the_file(
    demo_copy: Path, open_db: Callable[..., Database], new_location: Callable[[], str],
    cli: Callable[..., object], tmp_path: Path,
) -> None:
    database = open_db(demo_copy)
    store = Store(database)
    actor = store.authenticate(DEMO_ADMIN.username, DEMO_ADMIN.password)
    store.set_clinic_settings(actor, identifier="north-clinic", beyond_use_minutes=75)
    out = io.StringIO()
    write_document(database, actor, out)
    header = json.loads(out.getvalue())["clinic"]
    assert header["identifier"] == "north-clinic" and header["beyond_use_minutes"] == 75
    path = tmp_path / "clinic.json"
    path.write_text(out.getvalue(), encoding="utf-8")
    target = new_location()
    made = cli(["init", "--db", target, "--admin", DEMO_ADMIN.username, "--password-stdin"],
               input=f"{DEMO_ADMIN.password}\n{DEMO_ADMIN.password}\n")
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    done = cli(["import", str(path), "--db", target, "--user", DEMO_ADMIN.username,
                "--password-stdin"], input=f"{DEMO_ADMIN.password}\n")
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    moved = open_db(target)
    shown = Store(moved).clinic(Store(moved).authenticate(DEMO_ADMIN.username,
                                                           DEMO_ADMIN.password))
    assert (shown.identifier, shown.beyond_use_minutes) == ("north-clinic", 75)
