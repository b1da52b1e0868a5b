"""docs/adding-a-session-field.md is true: a simple field added by its declaration alone
(and the columns its migration adds) is stored, loaded, read from the CLI session file,
checked, signed around, exported to CSV, PDF and FHIR, carried by the transfer file and
given an input on the session screen, with no other line of code written.

The declaration is added in a fresh interpreter before anything imports it (as a
release with the new entry would be): three fields, one of each simple kind, the whole
number signed (with the signed-content version 3 the recipe then asks for).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.storage, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    '''
    import json
    from decimal import Decimal
    import sys
    from pathlib import Path

    # 1. The declaration: the only code the recipe asks for.
    from formulary import session_fields as f

    ADDED = (
        f.SessionField(
            "needle_angle", f.Kind.INT, "needle angle", ("needle_angle",), signed_since=3,
            revision="9999", range=f.IntRange(0, 90, "needle angle", "°"), cli="needle_angle",
            csv=("needle_angle",), pdf="Needle angle", fhir="MedicationAdministration.note",
            transfer=("needle_angle",),
        ),
        f.SessionField(
            "wheal_spacing", f.Kind.AMOUNT, "wheal spacing",
            ("wheal_spacing_value", "wheal_spacing_unit"), signed_since=None, revision="9999",
            dimension="length", cli="wheal_spacing", csv=("wheal_spacing", "wheal_spacing_unit"),
            pdf="Wheal spacing", fhir="MedicationAdministration.note",
            transfer=("wheal_spacing",),
        ),
        f.SessionField(
            "skin_prep", f.Kind.TEXT, "skin preparation", ("skin_prep",), signed_since=None,
            revision="9999", max_length=200, cli="skin_prep", csv=("skin_prep",),
            pdf="Skin preparation", fhir="MedicationAdministration.note",
            transfer=("skin_prep",),
        ),
    )
    f.FIELDS = (*f.FIELDS, *ADDED)
    f.BY_NAME.update({a.name: a for a in ADDED})

    # 3 (signed fields only). The next signed-content version: the current one plus it.
    from types import MappingProxyType

    from formulary import signed_content as sc

    V3 = sc.SignedContentVersion(
        number=3, session_fields=(*sc.V2.session_fields, "needle_angle"),
        formulation_fields=sc.V2.formulation_fields, addendum_fields=sc.V2.addendum_fields,
        revision="9999", change="adds the needle angle",
    )
    sc.VERSIONS = MappingProxyType({**sc.VERSIONS, 3: V3})
    sc.CURRENT = V3

    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from argon2 import PasswordHasher
    from pypdf import PdfReader
    from sqlmodel import SQLModel
    from typer.testing import CliRunner

    import db.tables.audit  # noqa: F401
    from db import auth
    from db.database import open_database
    from db.tables.sessions import SessionRow
    from formulary.export.csv_export import sessions_csv
    from formulary.export.fhir_bundle import render_fhir
    from formulary.export.pdf_note import render_pdf
    from formulary.units.amount import Amount
    from tests.cli.test_session_record import PASSWORD, _open_clinic
    from tui.cli.main import app
    from tui.screens.session import SessionScreen, _DECLARED_ONLY

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    auth._hasher = lambda: cheap
    here = Path(sys.argv[1])
    names = [a.name for a in ADDED]

    # The table has the columns, made from the declaration.
    columns = {c.key for c in SessionRow.__table__.columns}
    assert {"needle_angle", "wheal_spacing_value", "wheal_spacing_unit", "skin_prep"} <= columns

    # 2. The migration (a stand-in here): the columns added in place, nullable or with a
    # server default; the schema then matches the table model exactly.
    MIGRATION = (
        "ALTER TABLE treatment_session ADD COLUMN needle_angle INTEGER",
        "ALTER TABLE treatment_session ADD COLUMN wheal_spacing_value VARCHAR",
        "ALTER TABLE treatment_session ADD COLUMN wheal_spacing_unit VARCHAR(32)",
        "ALTER TABLE treatment_session ADD COLUMN skin_prep VARCHAR(200) NOT NULL DEFAULT ''",
    )

    def migrate(database):
        with database.engine.begin() as connection:
            for statement in MIGRATION:
                connection.execute(sa.text(statement))
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            diffs = [d for d in compare_metadata(context, SQLModel.metadata)
                     if d[0] in ("add_column", "remove_column")]
        assert diffs == [], diffs

    clinic = _open_clinic(str(here / "clinic.db"))
    migrate(clinic.database)
    env = {"FORMULARY_PASSWORD": PASSWORD, "FORMULARY_DB": ""}

    def record(**changes):
        data = {
            "patient": "C-1", "formulation_id": clinic.formulation_id,
            "performed_at": "2026-01-05T10:00:00+00:00", "technique": "nappage",
            "total_volume": "1 mL", "zones": {"vertex": "1 mL"},
            "lots": [{"component": 1, "lot": "GOOD"}],
            "needle_angle": 45, "wheal_spacing": "1 cm", "skin_prep": "chlorhexidine",
        }
        data.update(changes)
        path = here / "session.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return CliRunner().invoke(
            app, ["session", "record", str(path), "--db", clinic.location, "--user", "drlee"],
            env=env,
        )

    # 3. The CLI session file reads them; the declared range is checked.
    refused = record(needle_angle=95)
    assert refused.exit_code != 0 and "needle angle must be between 0 ° and 90 °" in (
        refused.stderr), refused.stderr
    refused = record(skin_prep="x" * 201)
    assert refused.exit_code != 0 and "skin preparation is longer than 200" in (
        refused.stderr), refused.stderr
    done = record()
    assert done.exit_code == 0, done.stderr

    # 4. Stored and loaded; signed under the new version, which covers the angle.
    chart = clinic.store.load_chart(clinic.lee, clinic.patient_id)
    (session,) = chart.sessions
    assert session.value("needle_angle") == 45
    assert session.value("wheal_spacing") == Amount(Decimal("1"), "cm")
    assert session.value("skin_prep") == "chlorhexidine"
    assert clinic.store.verify_signatures(clinic.lee, session.id) == []
    with clinic.database.engine.connect() as connection:
        assert connection.execute(sa.text(
            "SELECT signed_content_version FROM treatment_session")).scalar() == 3

    # 5. The exports: CSV header and cells, the PDF note, the FHIR bundle (validated),
    # the JSON chart.
    header, row = sessions_csv(chart).decode("utf-8-sig").splitlines()[:2]
    assert all(c in header.split(",") for c in f.csv_columns()), header
    assert ",45," in row and ",1,cm," in row and "chlorhexidine" in row, row
    import io
    pages = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(chart))).pages)
    for shown in ("Needle angle", "45 °", "Wheal spacing", "1 cm", "chlorhexidine"):
        assert shown in pages, shown
    from dataclasses import replace
    from tests.export.fixtures import CHECKPOINT, EXPORTED_AT
    stamped = replace(chart, exported_at=EXPORTED_AT, checkpoint=CHECKPOINT)
    bundle = render_fhir(stamped).decode("utf-8")
    for shown in ("Needle angle: 45 °", "Wheal spacing: 1 cm",
                  "Skin preparation: chlorhexidine"):
        assert shown in bundle, shown

    from formulary.export.json_export import render_json
    (charted,) = json.loads(render_json(chart))["chart"]["sessions"]
    assert charted["needle_angle"] == 45 and charted["skin_prep"] == "chlorhexidine"

    # 6. The transfer file carries them, and an import into a new clinic keeps them.
    admin = ["--user", "admin", "--password-stdin"]
    out = here / "clinic.json"
    exported = CliRunner().invoke(
        app, ["export", "json", "-o", str(out), "--db", clinic.location, *admin],
        input=PASSWORD + "\\n", env=env)
    assert exported.exit_code == 0, exported.output
    (record_out,) = json.loads(out.read_text(encoding="utf-8"))["records"]["sessions"]
    assert record_out["needle_angle"] == 45, record_out
    assert record_out["skin_prep"] == "chlorhexidine"
    assert record_out["wheal_spacing"]["unit"] == "cm", record_out
    target = here / "new" / "clinic.db"
    fresh = CliRunner().invoke(
        app, ["init", "--db", str(target), "--admin", "admin", "--full-name", "Ada Admin",
              "--password-stdin"], input=PASSWORD + "\\n", env=env)
    assert fresh.exit_code == 0, fresh.output
    new = open_database(str(target))
    migrate(new)
    imported = CliRunner().invoke(
        app, ["import", str(out), "--db", str(target), *admin], input=PASSWORD + "\\n",
        env=env)
    assert imported.exit_code == 0, imported.output
    with new.engine.connect() as connection:
        stored = connection.execute(sa.text(
            "SELECT needle_angle, wheal_spacing_value, wheal_spacing_unit, skin_prep"
            " FROM treatment_session")).one()
    assert tuple(stored) == (45, "1", "cm", "chlorhexidine"), stored

    # 7. The session screen has an input for each, read and checked by its declaration.
    assert [d.name for d in _DECLARED_ONLY] == names
    typed = {"s-field-needle_angle": "95", "s-field-wheal_spacing": "1 cm",
             "s-field-skin_prep": "betadine"}
    errors = {}

    def amount(field_id, row, kind):
        from formulary.units import parse_quantity
        return parse_quantity(typed[field_id], kind=kind)

    read = SessionScreen._declared_only(typed.__getitem__, amount, errors)
    assert errors == {"row-field-needle_angle":
                      "The needle angle must be between 0 ° and 90 °."}, errors
    assert read["skin_prep"] == "betadine" and read["wheal_spacing"] == Amount(Decimal("1"), "cm")

    # 8. The audit trail replays (the new columns' value on older rows comes from the
    # declaration too) and verifies intact.
    from db.audit.history import ADDED_COLUMNS
    from db.audit.service import verify_database

    added = {c: ADDED_COLUMNS["treatment_session"][c] for c in (
        "needle_angle", "wheal_spacing_value", "wheal_spacing_unit", "skin_prep")}
    assert added == {"needle_angle": None, "wheal_spacing_value": None,
                     "wheal_spacing_unit": None, "skin_prep": ""}, added
    verification = verify_database(clinic.database, user="admin", record=False)
    assert verification.report.ok, verification.report

    # 9. The signature covers the signed field: changed behind the guards, it fails.
    with clinic.database.engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER signed_session_no_update")
        connection.execute(sa.text("UPDATE treatment_session SET needle_angle = 44"))
    assert clinic.store.verify_signatures(clinic.lee, session.id) != []
    print("recipe holds")
    '''
)


def test_a_field_added_by_its_declaration_and_migration_alone(tmp_path: Path) -> None:
    env = {**os.environ, "FORMULARY_KEY_DIR": str(tmp_path / "keys")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("recipe holds"), done.stdout
