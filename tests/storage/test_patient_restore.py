"""Retired patients: listed with when, by whom and why, and brought back when retired by
mistake (audited ``patient.restore`` with the row before and after)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from db.errors import NotFound, PermissionDenied, ValidationError
from db.store import Actor, PatientFields, Store
from formulary.records import Role, Sex

from .helpers import chain_problems, events, replay_problems

pytestmark = pytest.mark.storage


def fields(chart: str, family: str = "Doe") -> PatientFields:
    return PatientFields(chart, family, "Jane", date(1980, 1, 2), Sex.FEMALE)


def test_a_retired_patient_is_listed_with_why_and_can_be_restored(
    store: Store, users: dict[Role, Actor]
) -> None:
    lee, sam = users[Role.PRACTITIONER], users[Role.ASSISTANT]
    kept = store.create_patient(lee, fields("C-1", "Keep"))
    gone = store.create_patient(lee, fields("C-2", "Gone"))
    assert store.retired_patients(sam) == []
    store.delete_patient(lee, gone.id, "duplicate chart")
    (retired,) = store.retired_patients(sam)
    assert retired.patient == gone
    assert (retired.retired_by, retired.reason) == (lee.username, "duplicate chart")
    assert store.retired_patients(sam, "gone c-2") and store.retired_patients(sam, "keep") == []
    assert store.find_patient(sam, "c-2", retired=True) == gone
    with pytest.raises(NotFound, match="no retired patient has chart number C-1"):
        store.find_patient(sam, "C-1", retired=True)

    with pytest.raises(PermissionDenied):
        store.restore_patient(sam, gone.id, "mistake")
    with pytest.raises(ValidationError, match="reason"):
        store.restore_patient(lee, gone.id, "  ")
    with pytest.raises(ValidationError, match="C-1 is not retired"):
        store.restore_patient(lee, kept.id, "mistake")
    n = len(events(store.database))
    assert store.restore_patient(lee, gone.id, "retired the wrong chart") == gone
    assert store.get_patient(sam, gone.id) == gone
    assert store.find_patient(sam, "C-2") == gone
    assert store.retired_patients(sam) == []
    (entry,) = events(store.database)[n:]
    assert (entry.action, entry.reason) == ("patient.restore", "retired the wrong chart")
    assert entry.before is not None and entry.after is not None
    assert json.loads(entry.before)["deleted_at"] is not None
    assert json.loads(entry.after)["deleted_at"] is None
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []
