"""Filters as typed, a patient's scope, and paging through the Store (no app)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db import auth
from db.audit.service import Verification
from db.audit.subject import patient_of
from db.audit.verify import VerifyReport
from db.store import Actor, AuditEntry, Store
from tests.conftest import cheap_hasher
from tests.tui.demo_data import PRACTITIONER, Demo, build_demo
from tui.audit_query import fetch_page, parse_filter, patient_scope
from tui.screens.audit import verdict
from tui.widgets.audit_diff import field_rows


def test_dates_are_whole_utc_days_both_ends_included() -> None:
    flt, problems = parse_filter(" C-1 ", "drmartin", "Session.", "2026-09-01", "2026-09-30")
    assert problems == {}
    assert flt is not None
    assert flt.chart_number == "C-1" and flt.action == "session."
    assert flt.since == datetime(2026, 9, 1, tzinfo=UTC)
    assert flt.until == datetime(2026, 10, 1, tzinfo=UTC)
    assert flt.describe() == (
        "patient C-1, user drmartin, action session.…, from 2026-09-01, to 2026-09-30"
    )


def test_bad_filters_are_named_one_message_per_field() -> None:
    flt, problems = parse_filter("", "", "drop table;", "2026-13-01", "yesterday")
    assert flt is None
    assert set(problems) == {"action", "from", "to"}
    assert "YYYY-MM-DD" in problems["from"]
    _, problems = parse_filter("", "", "", "2026-10-02", "2026-10-01")
    assert problems == {"to": "The end date is before the start date."}


@given(st.text(max_size=20))
def test_any_typed_date_is_accepted_or_explained(text: str) -> None:
    flt, problems = parse_filter("", "", "", text, "")
    assert (flt is None) == bool(problems)
    if flt is None:
        assert "YYYY-MM-DD" in problems["from"]


def entry(
    entity: str,
    entity_id: str | None,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
) -> SimpleNamespace:
    return SimpleNamespace(entity=entity, entity_id=entity_id, before=before, after=after)


def _owner(table: str, ident: int) -> int | None:
    # Session 5 and formulation 3 are patient 2's.
    return {("treatment_session", 5): 2, ("formulation", 3): 2}.get((table, ident))


def test_which_patient_an_entry_is_about() -> None:
    def about(e: SimpleNamespace) -> int | None:
        return patient_of(e.entity, e.entity_id, e.before, e.after, _owner)

    assert about(entry("patient", "2")) == 2
    assert about(entry("patient", "12")) == 12
    assert about(entry("treatment_session", "5")) == 2
    assert about(entry("session_lot", "9", after={"session_id": 5})) == 2
    assert about(entry("formulation_version", "4", before={"formulation_id": 3})) == 2
    assert about(entry("outcome", "1", after={"patient_id": 2})) == 2
    assert about(entry("outcome", "1", after={"patient_id": 1})) == 1
    assert about(entry("app_user", "2")) is None
    assert about(entry("lot", "7", after={"product_id": 3})) is None


def concerns(e: AuditEntry, patient: int, sessions: set[int], formulations: set[int]) -> bool:
    """The screen's former scan, kept as the oracle the index must agree with."""
    def refers(image: Mapping[str, Any] | None) -> bool:
        return image is not None and (
            image.get("patient_id") == patient
            or image.get("session_id") in sessions
            or image.get("formulation_id") in formulations
        )

    ident = e.entity_id
    if e.entity == "patient" and ident == str(patient):
        return True
    if ident is not None and ident.isdigit():
        if e.entity == "treatment_session" and int(ident) in sessions:
            return True
        if e.entity == "formulation" and int(ident) in formulations:
            return True
    return refers(e.before) or refers(e.after)


def _oracle(store: Store, actor: Actor, patient_id: int) -> list[int]:
    sessions = {s.id for s in store.list_sessions(actor, patient_id)}
    formulations = {v.formulation_id for v in store.list_formulations(actor, patient_id)}
    everything = store.audit_events(actor, limit=5000)
    return [e.seq for e in everything if concerns(e, patient_id, sessions, formulations)]


def test_field_rows_line_up_both_images() -> None:
    rows = field_rows({"a": 1, "b": [1, 2], "gone": "x"}, {"a": 2, "b": [1, 2], "new": None})
    assert [(r.name, r.change) for r in rows] == [
        ("a", "changed"), ("b", "same"), ("gone", "removed"), ("new", "added"),
    ]
    assert rows[1].before == rows[1].after == "[\n  1,\n  2\n]"
    assert rows[2].after is None and rows[3].before is None and rows[3].after == "null"


def report(**fields: Any) -> Verification:
    base: dict[str, Any] = dict(
        db_id="d", status="ok", rows=1234, head_seq=1234, head_hash="h", first_bad_seq=None,
        problem=None, checkpoint=None, checkpoints_checked=1, newest_checkpoint_seq=1222,
        rows_after_checkpoint=12,
    )
    return Verification(VerifyReport(**{**base, **fields}), (), None)


def test_verdicts_in_plain_words() -> None:
    assert verdict(report()) == (
        "Audit trail intact: 1,234 entries; 12 after the newest checkpoint.", True
    )
    text, good = verdict(report(status="altered", first_bad_seq=57,
                                problem="seq 57: the stored hash does not match"))
    assert not good and text.startswith("ALTERED at entry 57: seq 57")
    text, good = verdict(report(newest_checkpoint_seq=None, rows_after_checkpoint=1234))
    assert good and "(there is none yet" in text
    assert not verdict(report(status="truncated", problem="the chain ends at seq 3"))[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_hasher", cheap_hasher)
        return build_demo(tmp_path_factory.mktemp("demo") / "demo.db")


def test_a_patients_entries_include_sessions_lots_drawn_and_formulations(demo: Demo) -> None:
    from db.database import open_database
    from db.store import Store

    store = Store(open_database(Path(demo.path)))
    try:
        doctor = store.authenticate(PRACTITIONER[0], PRACTITIONER[2])
        scope = patient_scope(store, doctor, "C-1002")
        assert scope.patient_id == demo.patients["dubois"]
        from tui.audit_query import AuditFilter

        flt = AuditFilter(chart_number="C-1002")
        page = fetch_page(store, doctor, flt, scope, None, page_size=10)
        assert len(page.entries) == 10 and page.more
        rest = fetch_page(store, doctor, flt, scope, page.next_before_seq, page_size=1000)
        assert not rest.more
        found = list(page.entries) + list(rest.entries)
        seqs = [e.seq for e in found]
        assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)
        actions = {e.action for e in found}
        assert {"patient.create", "formulation.create", "formulation_version.create",
                "course.create", "session.create_draft", "session_lot.draw", "session.sign",
                "outcome.create"} <= actions
        # Nothing about the other patients, users or stock as such.
        assert not [e for e in found if e.entity == "patient" and e.entity_id != str(
            scope.patient_id)]
        assert "user.create" not in actions and "lot.receive" not in actions
        assert seqs == _oracle(store, doctor, scope.patient_id)
    finally:
        store.database.dispose()


def test_paging_through_a_patient_by_the_index_finds_every_entry(demo: Demo) -> None:
    from db.database import open_database
    from db.store import Store
    from tui.audit_query import AuditFilter

    store = Store(open_database(Path(demo.path)))
    try:
        doctor = store.authenticate(PRACTITIONER[0], PRACTITIONER[2])
        scope = patient_scope(store, doctor, "C-1001")  # Moreau: a few entries, far back
        flt = AuditFilter(chart_number="C-1001")
        found: list[int] = []
        cursor = None
        while True:
            page = fetch_page(store, doctor, flt, scope, cursor, page_size=3)
            found += [e.seq for e in page.entries]
            if not page.more:
                break
            cursor = page.next_before_seq
        assert found == _oracle(store, doctor, scope.patient_id)
        assert found  # the patient's creation at least
    finally:
        store.database.dispose()
