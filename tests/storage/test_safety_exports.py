"""An overridden safety finding appears on every export of its session (PDF, FHIR, CSV,
JSON), with the override's signature: the signer's printed name and its meaning."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from db.ops import exports
from db.store import Actor, Store
from formulary.records import Role
from formulary.safety import OVERRIDE_MEANING

from .conftest import PASSWORD
from .helpers import World, events, ml

pytestmark = pytest.mark.storage

REASON = "manufacturer extended the expiry in writing"


@pytest.fixture
def overridden(store: Store, users: dict[Role, Actor]) -> tuple[Actor, int]:
    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    expired = store.receive_lot(
        lee,
        product_id=world.product.id,
        lot_number="OLD",
        expiry=date(2020, 1, 1),
        quantity=ml("10"),
    )
    draft = store.save_session_draft(lee, world.draft(lot_id=expired.id))
    signed = store.sign_session(lee, draft.id, PASSWORD, override_reason=REASON)
    return lee, signed.id


def _export(store: Store, actor: Actor, session_id: int, fmt: str, key_dir: Path | None) -> bytes:
    got: dict[str, bytes] = {}

    def deliver(result: Any) -> Sequence[Path]:
        got.update(result.files)
        return ()

    exports.export_session(store, actor, session_id, fmt, deliver, key_dir=key_dir)
    (data,) = got.values()
    return data


def test_override_line_on_the_pdf(
    store: Store, overridden: tuple[Actor, int], tmp_path: Path
) -> None:
    from pypdf import PdfReader

    lee, session_id = overridden
    pdf = _export(store, lee, session_id, "pdf", None)
    text = " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )
    assert "Safety block overridden" in text
    assert "lot.expired" in text and REASON in text
    assert f"signed by {lee.full_name}" in text and "safety override" in text
    assert events(store.database)[-1].action == "export.session"


def test_override_on_the_fhir_bundle(
    store: Store, overridden: tuple[Actor, int], tmp_path: Path
) -> None:
    lee, session_id = overridden
    bundle = json.loads(_export(store, lee, session_id, "fhir", None))
    notes = [
        note["text"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "MedicationAdministration"
        for note in entry["resource"].get("note", [])
    ]
    (line,) = [n for n in notes if "overridden" in n]
    assert "lot.expired" in line and REASON in line
    assert f"signed by {lee.full_name}" in line and OVERRIDE_MEANING in line


def test_override_in_the_csv_and_json(
    store: Store, overridden: tuple[Actor, int], tmp_path: Path
) -> None:
    lee, session_id = overridden
    for fmt in ("csv", "json"):
        got: dict[str, bytes] = {}

        def deliver(result: Any, into: dict[str, bytes] = got) -> Sequence[Path]:
            into.update(result.files)
            return ()

        exports.export_session(store, lee, session_id, fmt, deliver, key_dir=None)
        text = b"".join(got.values()).decode("utf-8")
        assert "lot.expired" in text and REASON in text, fmt
        assert lee.full_name in text and OVERRIDE_MEANING in text, fmt


FORMULATION_REASON = "anaesthetist reviewed: single field block, patient monitored"


@pytest.fixture
def overridden_formulation(store: Store, users: dict[Role, Actor]) -> tuple[Actor, int]:
    """A formulation version saved past a block (signed), then given in a session."""
    from decimal import Decimal

    from db.store import ComponentSpec
    from formulary.units.amount import Amount

    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    lidocaine = next(i for i in store.list_ingredients(lee, "lidocaine") if i.key == "lidocaine")
    components = [
        ComponentSpec("Biotin", ml("1"), product_id=world.product.id),
        ComponentSpec("Lidocaine", Amount(Decimal(400), "mg"), ingredient_id=lidocaine.id),
    ]
    version = store.save_formulation(
        lee,
        patient_id=world.patient.id,
        name="Cocktail",
        components=components,
        final_volume=ml("1"),
        formulation_id=world.version.formulation_id,
        override_reason=FORMULATION_REASON,
        override_password=PASSWORD,
    )
    assert version.overrides and all(o.signer_name == lee.full_name for o in version.overrides)
    draft = store.save_session_draft(lee, world.draft(formulation_version_id=version.id))
    signed = store.sign_session(lee, draft.id, PASSWORD, override_reason=REASON)
    return lee, signed.id


def test_a_formulation_override_is_kept_with_its_version(
    store: Store, overridden_formulation: tuple[Actor, int]
) -> None:
    lee, session_id = overridden_formulation
    session = store.get_session(lee, session_id)
    chart = store.load_chart(lee, session.patient_id)
    (version,) = [v for v in chart.formulation_versions if v.id == session.formulation_version_id]
    blocks = [o for o in version.overrides if o.severity == "block"]
    assert blocks
    for o in blocks:
        assert (o.reason, o.signer_name, o.by, o.meaning) == (
            FORMULATION_REASON,
            lee.full_name,
            lee.username,
            OVERRIDE_MEANING,
        )


@pytest.mark.parametrize("fmt", ["pdf", "fhir", "csv", "json"])
def test_a_formulation_override_shows_on_every_export(
    store: Store, overridden_formulation: tuple[Actor, int], tmp_path: Path, fmt: str
) -> None:
    lee, session_id = overridden_formulation
    data = _export(store, lee, session_id, fmt, None) if fmt != "csv" else None
    if fmt == "csv":
        got: dict[str, bytes] = {}

        def deliver(result: Any) -> Sequence[Path]:
            got.update(result.files)
            return ()

        exports.export_session(store, lee, session_id, fmt, deliver, key_dir=None)
        data = b"".join(got.values())
    assert data is not None
    if fmt == "pdf":
        from pypdf import PdfReader

        text = " ".join(
            " ".join((page.extract_text() or "").split())
            for page in PdfReader(io.BytesIO(data)).pages
        )
    else:
        text = data.decode("utf-8")
    assert FORMULATION_REASON in text, fmt
    assert lee.full_name in text and "safety override" in text, fmt
