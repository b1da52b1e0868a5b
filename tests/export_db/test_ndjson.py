"""FHIR Bulk Data NDJSON export: one file per type, a manifest, a checkpoint, audited."""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from db.audit.service import verify_database
from db.database import Database
from db.ops.ndjson import EXPORT_BULK, MANIFEST, export_ndjson, iter_ndjson
from db.tables.audit import AuditEvent
from formulary.export.fhir_bundle import chart_resources, dumps, validate_resource
from tests.export.fixtures import build_chart
from tests.export_db.clinic import PASSWORD, Clinic
from tui.export_files import StagedFolder

pytestmark = pytest.mark.storage


def read_all(folder: Path) -> dict[str, list[dict[str, Any]]]:
    return {p.stem: list(iter_ndjson(p)) for p in sorted(folder.glob("*.ndjson"))}


def walk(node: Any) -> list[Any]:
    found = [node]
    if isinstance(node, dict):
        for value in node.values():
            found += walk(value)
    elif isinstance(node, list):
        for value in node:
            found += walk(value)
    return found


def test_one_file_per_type_a_manifest_and_an_audit_entry(
    clinic: Clinic, database: Database, tmp_path: Path
) -> None:
    out = tmp_path / "bulk"
    result = export_ndjson(clinic.store, clinic.admin, StagedFolder(out))
    files = read_all(out)
    assert len(files["Patient"]) == len(clinic.chart_numbers) == result.patients
    assert len(files["MedicationAdministration"]) == len(clinic.session_ids)
    assert len(files["Organization"]) == 1  # shared resources written once
    assert len(files["Practitioner"]) == len({r["id"] for r in files["Practitioner"]})
    for kind, resources in files.items():
        for resource in resources:
            assert resource["resourceType"] == kind
            assert resource["text"]["status"] == "generated"
            validate_resource(resource)
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(out.glob(".*"))  # no temporary file left behind
    # Every reference resolves inside the export (Type/id) or to a contained resource.
    ids = {f"{kind}/{r['id']}" for kind, rs in files.items() for r in rs}
    for resources in files.values():
        for resource in resources:
            local = {f"#{c['id']}" for c in resource.get("contained", [])}
            for node in walk(resource):
                if isinstance(node, dict) and "reference" in node:
                    assert node["reference"] in ids | local, node["reference"]
    # The manifest has the Bulk Data shape, the checkpoint and the files' hashes.
    manifest = json.loads((out / MANIFEST).read_text("utf-8"))
    assert manifest["requiresAccessToken"] is False and manifest["error"] == []
    assert {o["type"]: o["count"] for o in manifest["output"]} == {
        k: len(v) for k, v in files.items()}
    for item in manifest["output"]:
        data = (out / item["url"]).read_bytes()
        assert manifest["extension"]["sha256"][item["url"]] == hashlib.sha256(data).hexdigest()
    assert manifest["extension"]["checkpoint"] == result.checkpoint.line
    assert manifest["extension"]["fhirVersion"] == "4.3.0"
    with Session(database.engine) as db:
        last = db.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc())).first()
    assert last is not None and last.seq == result.audit_seq and last.action == EXPORT_BULK
    after = json.loads(last.after or "{}")
    assert after["checkpoint"] == result.checkpoint.line
    assert {f["name"] for f in after["files"]} == {p.name for p in out.iterdir()}
    check = verify_database(database, user="tester", checkpoint_files=[out / MANIFEST])
    assert check.report.status == "ok" and check.report.checkpoints_checked >= 1


def test_drafts_are_left_out(clinic: Clinic, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from db.store.inputs import SessionDraft
    from formulary.records import SessionStatus

    patient = clinic.store.find_patient(clinic.admin, clinic.chart_numbers[0])
    signed_one = clinic.store.list_sessions(clinic.admin, patient.id)[0]
    draft = clinic.store.save_session_draft(clinic.doctor, SessionDraft(
        patient_id=patient.id, formulation_version_id=signed_one.formulation_version_id,
        performed_at=datetime.now(UTC).replace(microsecond=0), notes="not yet signed"))
    out = tmp_path / "bulk"
    export_ndjson(clinic.store, clinic.admin, StagedFolder(out))
    exported = {r["identifier"][0]["value"] for r in read_all(out)["MedicationAdministration"]}
    signed = set()
    for number in clinic.chart_numbers:
        patient = clinic.store.find_patient(clinic.admin, number)
        for s in clinic.store.list_sessions(clinic.admin, patient.id):
            if s.status is SessionStatus.SIGNED:
                signed.add(str(s.id))
    assert exported == signed and str(draft.id) not in exported


def test_existing_files_are_kept_and_a_failure_leaves_nothing(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.export_files import ExportFileExists

    out = tmp_path / "bulk"
    out.mkdir()
    (out / "Patient.ndjson").write_text("mine\n")
    with pytest.raises(ExportFileExists):
        export_ndjson(clinic.store, clinic.admin, StagedFolder(out))
    assert (out / "Patient.ndjson").read_text() == "mine\n"
    assert sorted(p.name for p in out.iterdir()) == ["Patient.ndjson"]

    import db.ops.ndjson as module

    def broken(*args: object, **kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module, "append_event", broken)
    with pytest.raises(OSError):
        export_ndjson(clinic.store, clinic.admin, StagedFolder(out, force=True))
    assert sorted(p.name for p in out.iterdir()) == ["Patient.ndjson"]


def test_cli_writes_the_folder_and_prints_the_checkpoint(
    clinic: Clinic, database: Database, tmp_path: Path, cli: Callable[..., Any]
) -> None:
    out = tmp_path / "bulk"
    location = str(database.path) if database.path else database.url
    run = cli(["export", "all", "--format", "ndjson", "-o", str(out), "--db", location,
               "--user", "drmartin", "--password-stdin", "--json"], input=f"{PASSWORD}\n")
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
    assert report["patients"] == len(clinic.chart_numbers)
    assert report["checkpoint"].startswith("FORMULARY-CHECKPOINT")
    assert (out / "Patient.ndjson").exists() and (out / MANIFEST).exists()
    again = cli(["export", "all", "--format", "ndjson", "-o", str(out), "--db", location,
                 "--user", "drmartin", "--password-stdin"], input=f"{PASSWORD}\n")
    assert again.exit_code == 2 and "--force" in again.output


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=20),
       amount=st.decimals(min_value="0.0001", max_value="9999", places=4))
def test_ndjson_lines_round_trip(text: str, amount: Any, tmp_path_factory: Any) -> None:
    from dataclasses import replace
    from decimal import Decimal

    from formulary.records import Practitioner, Role
    from formulary.units.amount import Amount

    base = build_chart(sessions=2, outcomes=1)
    patient = replace(base.patient, given_name=text, family_name=text)
    first = replace(base.sessions[0], notes=text, total_volume=Amount(Decimal(amount), "mL"),
                    prepared_by=Practitioner(9, text, text, Role.ASSISTANT))
    chart = replace(base, patient=patient, sessions=(first, *base.sessions[1:]))
    out = tmp_path_factory.mktemp("nd")
    staging = StagedFolder(out)
    resources = [r for _, r in chart_resources(chart, relative=True)]
    handles: dict[str, Any] = {}
    for resource in resources:
        kind = resource["resourceType"]
        if kind not in handles:
            handles[kind] = staging.open(f"{kind}.ndjson")
        handles[kind].write((dumps(resource) + "\n").encode("utf-8"))
    staging.publish()
    back = [r for rs in read_all(out).values() for r in rs]
    expected = [json.loads(dumps(r)) for r in resources]
    assert sorted(back, key=lambda r: (r["resourceType"], r["id"])) == sorted(
        expected, key=lambda r: (r["resourceType"], r["id"]))
    admin = next(r for r in back if r["resourceType"] == "MedicationAdministration")
    assert Decimal(str(admin["dosage"]["dose"]["value"])) == Decimal(amount)
    # Who prepared it is a performer whose Practitioner is in the export, written Type/id.
    preparer = admin["performer"][1]
    assert preparer["function"]["coding"][0]["code"] == "preparer"
    ids = {f"{r['resourceType']}/{r['id']}" for r in back}
    assert preparer["actor"]["reference"] in ids
