"""Every demo patient's chart exports to a FHIR bundle that validates (R4B models)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from db.database import open_database
from db.ops.demo import build_demo
from db.ops.demo_data import USERS
from db.ops.exports import export_all
from db.store import Store
from tests.export_db.clinic import resource_types
from tui.export_files import to_folder


@pytest.mark.slow
def test_every_demo_patient_bundle_validates(tmp_path: Path) -> None:
    database = open_database(tmp_path / "demo.db")
    try:
        report = build_demo(database)
        store = Store(database, workstation="test-ws")
        admin = store.authenticate(USERS[0].username, USERS[0].password)
        results = list(export_all(store, admin, "fhir", to_folder(tmp_path / "out")))
    finally:
        database.dispose()
    assert len(results) == report.patients > 0
    administrations = 0
    for result in results:
        (data,) = result.files.values()
        bundle = Bundle.model_validate_json(data)
        assert bundle.type == "document"
        kinds = resource_types(bundle)
        assert kinds[0] == "Composition" and kinds.count("Patient") == 1
        administrations += kinds.count("MedicationAdministration")
    assert administrations == report.sessions
