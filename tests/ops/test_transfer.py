"""``export json`` / ``import``: lossless round trip, validation, all or nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from db.audit.chain import read_head
from db.audit.verify import verify_chain
from db.ops import transfer
from db.ops.bulk import BulkWriter
from db.ops.transfer import BY_NAME, TransferError, _row_from_json, _to_json, parse_document
from db.store import Store
from formulary.body import WEIGHT_UNITS
from tests.ops.conftest import DEMO_ADMIN

Cli = Callable[..., Any]


def _export(cli: Cli, location: str, out: Path) -> dict[str, Any]:
    result = cli(["export", "json", "-o", str(out), "--db", location,
                  "--user", DEMO_ADMIN.username, "--password-stdin"],
                 input=DEMO_ADMIN.password + "\n")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def _fresh(cli: Cli, location: str) -> None:
    result = cli(["init", "--db", location, "--admin", DEMO_ADMIN.username, "--full-name",
                  "Someone Else", "--password-stdin"], input=DEMO_ADMIN.password + "\n")
    assert result.exit_code == 0, result.output


def _import(cli: Cli, location: str, path: Path) -> Any:
    return cli(["import", str(path), "--json", "--db", location,
                "--user", DEMO_ADMIN.username, "--password-stdin"],
               input=DEMO_ADMIN.password + "\n")


@pytest.fixture
def exported(demo_copy: Path, cli: Cli, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    out = tmp_path / "clinic.json"
    return out, _export(cli, str(demo_copy), out)


@pytest.mark.storage
@pytest.mark.parametrize("batch", [transfer.BATCH, 7])
def test_export_import_export_gives_identical_records(
    exported: tuple[Path, dict[str, Any]], cli: Cli, new_location: Callable[[], str],
    open_db: Callable[..., Any], tmp_path: Path, batch: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A small batch: the import writes and checks signatures in many rounds, each
    # against the rows the rounds before it wrote.
    monkeypatch.setattr(transfer, "BATCH", batch)
    path, first = exported
    assert path.stat().st_mode & 0o777 == 0o600
    target = new_location()
    _fresh(cli, target)
    result = _import(cli, target, path)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["counts"]["sessions"] == 60
    # Every course's signed consent travels, with its text and hashes (and the
    # template merged with the new database's default one).
    assert summary["counts"]["consents"] == summary["counts"]["courses"] > 0
    assert sorted(summary["users_without_password"]) == ["dr.okafor", "nurse.lind"]
    second = _export(cli, target, tmp_path / "again.json")
    # Documented as differing: the header (when, which database, its checkpoint), and
    # the time of the default consent template's first version, which the new database
    # seeded itself (the same text and hash; a version never changes once written).
    for document in (first, second):
        for version in document["records"]["consent_template_versions"]:
            if version["created_by_id"] is None:
                version.pop("created_at")
    assert second["records"] == first["records"]
    assert second["clinic"] == first["clinic"]
    assert second["source"]["db_id"] != first["source"]["db_id"]
    database = open_db(target)
    with database.engine.connect() as conn:
        assert verify_chain(conn, database.db_id).ok
    store = Store(database)
    admin = store.authenticate(DEMO_ADMIN.username, DEMO_ADMIN.password)
    assert all(store.verify_signatures(admin, s["id"]) == []
               for s in second["records"]["sessions"])


def test_imported_accounts_have_no_password_until_reset(
    exported: tuple[Path, dict[str, Any]], cli: Cli, tmp_path: Path,
) -> None:
    target = str(tmp_path / "new.db")
    _fresh(cli, target)
    assert _import(cli, target, exported[0]).exit_code == 0
    okafor = next(u for u in exported[1]["records"]["users"] if u["username"] == "dr.okafor")
    login = cli(["lots", "recall", "X", "--db", target, "--user", "dr.okafor",
                 "--password-stdin"], input="okafor-demo-2026\n")
    assert "locked" in login.stderr
    reset = cli(["user", "reset-password", "dr.okafor", "--reason", "moved to new server",
                 "--db", target, "--user", DEMO_ADMIN.username, "--password-stdin"],
                input=f"{DEMO_ADMIN.password}\nnew-okafor-pass\n")
    assert reset.exit_code == 0, reset.output
    again = cli(["lots", "recall", "X", "--db", target, "--user", okafor["username"],
                 "--password-stdin"], input="new-okafor-pass\n")
    assert "no lot numbered 'X'" in again.stderr


def _state(location: str, open_db: Callable[..., Any]) -> tuple[int, tuple[int, str]]:
    database = open_db(location)
    with database.engine.connect() as conn:
        patients = int(conn.execute(sa.text("SELECT count(*) FROM patient")).scalar_one())
        return patients, read_head(conn)


@pytest.mark.storage
def test_a_bad_record_halfway_writes_nothing(
    exported: tuple[Path, dict[str, Any]], cli: Cli, new_location: Callable[[], str],
    open_db: Callable[..., Any], tmp_path: Path,
) -> None:
    target = new_location()
    _fresh(cli, target)
    before = _state(target, open_db)
    bad = copy.deepcopy(exported[1])
    bad["records"]["sessions"][30]["lots"][0]["lot_id"] = 9999
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    result = _import(cli, target, path)
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [
        "formulary: records.sessions[30].lots[0].lot_id: refers to lots id 9999, which the "
        "file does not contain; nothing was imported"
    ]
    assert _state(target, open_db)[0] == before[0] == 0


@pytest.mark.storage
def test_a_database_failure_during_the_write_rolls_everything_back(
    exported: tuple[Path, dict[str, Any]], cli: Cli, new_location: Callable[[], str],
    open_db: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = new_location()
    _fresh(cli, target)
    before = _state(target, open_db)
    real_flush = BulkWriter.flush

    def fail_halfway(self: BulkWriter, table_order: Any = ()) -> None:
        real_flush(self, list(table_order)[:6])  # patients, formulations … are written
        raise sa.exc.IntegrityError("INSERT", {}, Exception("disk full (simulated)"))

    monkeypatch.setattr(BulkWriter, "flush", fail_halfway)
    result = _import(cli, target, exported[0])
    assert result.exit_code != 0
    assert "nothing was imported" in result.stderr
    after = _state(target, open_db)
    assert after[0] == before[0] == 0
    assert after[1][0] == before[1][0] + 1  # only the sign-in entry
    with open_db(target).engine.connect() as conn:
        imported = conn.execute(
            sa.text("SELECT count(*) FROM audit_event WHERE action LIKE '%.import'")
        ).scalar_one()
        assert imported == 0
        assert conn.execute(sa.text("SELECT count(*) FROM product")).scalar_one() == 0


def test_altered_signed_content_is_refused(exported: tuple[Path, dict[str, Any]]) -> None:
    data = copy.deepcopy(exported[1])
    data["records"]["sessions"][5]["notes"] = "edited after signing"
    with pytest.raises(TransferError, match=r"sessions\[5\].*differs from what was signed"):
        parse_document(json.dumps(data))


def test_altered_consent_text_or_typed_name_is_refused(
    exported: tuple[Path, dict[str, Any]],
) -> None:
    data = copy.deepcopy(exported[1])
    data["records"]["consents"][0]["text"] += "\nA line added later."
    with pytest.raises(TransferError, match=r"consents\[0\]\.text.*the signed text was changed"):
        parse_document(json.dumps(data))
    data = copy.deepcopy(exported[1])
    data["records"]["consents"][0]["typed_name"] = "Someone Else"
    with pytest.raises(TransferError, match=r"consents\[0\]\.record_hash"):
        parse_document(json.dumps(data))


def test_import_into_a_database_with_patients_is_refused(
    exported: tuple[Path, dict[str, Any]], demo_copy: Path, cli: Cli,
) -> None:
    result = _import(cli, str(demo_copy), exported[0])
    assert "already holds products" in result.stderr or "already holds" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_dry_run_checks_and_writes_nothing(
    exported: tuple[Path, dict[str, Any]], cli: Cli, tmp_path: Path,
    open_db: Callable[..., Any],
) -> None:
    target = str(tmp_path / "new.db")
    _fresh(cli, target)
    before = _state(target, open_db)
    result = cli(["import", str(exported[0]), "--dry-run", "--db", target, "--user",
                  DEMO_ADMIN.username, "--password-stdin"], input=DEMO_ADMIN.password + "\n")
    assert result.exit_code == 0, result.output
    assert "nothing written" in result.stdout
    after = _state(target, open_db)
    assert after[0] == before[0] == 0
    assert after[1][0] == before[1][0] + 1  # only the sign-in entry


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="something-else"), "not a Formulary export"),
        (lambda d: d.update(version=99), "format version 99"),
        (lambda d: d["records"]["patients"][0].update(sex="robot"), "sex: 'robot' is not"),
        (lambda d: d["records"]["patients"][0].update(shoe_size=44), "unknown field"),
        (lambda d: d["records"]["patients"][0].pop("diagnosis"), "'diagnosis' is missing"),
        (lambda d: d["records"]["lots"][0].update(quantity={"value": 5, "unit": "mL"}),
         "written as a string"),
        (lambda d: d["records"]["lots"][0].update(quantity={"value": "1e3", "unit": "mL"}),
         "plain finite decimal"),
        (lambda d: d["records"]["lots"][0].update(quantity={"value": "5", "unit": "cc"}),
         "unknown unit 'cc'"),
        (lambda d: d["records"]["patients"][1].update(
            chart_number=d["records"]["patients"][0]["chart_number"]), "appears twice"),
        (lambda d: d["records"]["sessions"][0].update(performed_at="2026-01-01T10:00:00"),
         "ending in Z"),
    ],
)
def test_invalid_files_get_one_clear_message(
    exported: tuple[Path, dict[str, Any]], mutate: Callable[[dict[str, Any]], Any], message: str
) -> None:
    data = copy.deepcopy(exported[1])
    mutate(data)
    with pytest.raises(TransferError) as caught:
        parse_document(json.dumps(data))
    assert message in str(caught.value)
    assert str(caught.value).endswith("nothing was imported")
    assert "\n" not in str(caught.value)


# -- property: the format keeps text and quantities exactly -------------------------------

_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
    max_size=120,
)
# No quantity in a record is negative (the import refuses one, by its path).
_decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None,
                        min_value=Decimal("0"), max_value=Decimal("1e9"))
_moment = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1),
                       timezones=st.just(UTC))


@given(family=_text.filter(lambda s: s != ""), given_name=_text.filter(lambda s: s != ""),
       diagnosis=_text, weight=_decimals, unit=st.sampled_from(["kg", "mg", "mL", "% w/v"]),
       created=_moment)
def test_patient_text_and_quantities_survive_the_format(
    family: str, given_name: str, diagnosis: str, weight: Decimal, unit: str, created: datetime
) -> None:
    section = BY_NAME["patients"]
    row = {
        "id": 7, "chart_number": "C-1", "family_name": family, "given_name": given_name,
        "family_key": "", "given_key": "", "search_key": "", "date_of_birth": date(1980, 1, 2),
        "sex": "female", "diagnosis": diagnosis, "grade_scale": None, "grade": "",
        "weight_value": weight, "weight_unit": unit, "allergies": [{"substance": family}],
        "conditions": [], "consent_on_file": False, "consent_date": None,
        "created_at": created, "updated_at": created, "deleted_at": None,
        "height_value": None, "height_unit": None,
    }
    record = json.loads(json.dumps(_to_json(section, row), ensure_ascii=False))
    assert record["weight"]["value"] == format(weight, "f")
    back = _row_from_json(section, record, "p", transfer._units())
    for key, value in back.items():
        if key == "weight_value":
            assert format(value, "f") == format(weight, "f") and value == weight
        else:
            assert value == row[key], key


def test_export_to_stdout_is_audited_and_carries_a_checkpoint(
    demo_copy: Path, cli: Cli, open_db: Callable[..., Any]
) -> None:
    result = cli(["export", "json", "--db", str(demo_copy), "--user", DEMO_ADMIN.username,
                  "--password-stdin"], input=DEMO_ADMIN.password + "\n")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["format"] == "formulary-export" and data["version"] == 1
    assert data["source"]["checkpoint"] in result.stderr
    database = open_db(demo_copy)
    with database.engine.connect() as conn:
        actions = [r[0] for r in conn.execute(sa.text(
            "SELECT action FROM audit_event ORDER BY seq DESC LIMIT 2"))]
    assert actions == ["database.export", "auth.login"]


def test_only_administrators_export_everything(demo_copy: Path, cli: Cli) -> None:
    result = cli(["export", "json", "--db", str(demo_copy), "--user", "dr.okafor",
                  "--password-stdin"], input="okafor-demo-2026\n")
    assert result.exit_code != 0
    assert "cannot export the whole database" in result.stderr


def test_a_version_1_patient_without_height_still_imports() -> None:
    """Files written before the height field existed read it as not recorded."""
    section = BY_NAME["patients"]
    record = {
        "id": 3, "chart_number": "C-3", "family_name": "Old", "given_name": "File",
        "date_of_birth": "1980-01-02", "sex": "female", "diagnosis": "", "grade_scale": None,
        "grade": "", "weight": None, "allergies": [], "conditions": [],
        "consent_on_file": False, "consent_date": None, "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z", "deleted_at": None,
    }
    row = _row_from_json(section, record, "p", transfer._units())
    assert row["height_value"] is None and row["height_unit"] is None


@given(spelling=st.sampled_from(sorted(WEIGHT_UNITS)),
       value=st.decimals(min_value=Decimal("2.3"), max_value=Decimal("400"), places=1))
def test_a_weight_in_any_accepted_unit_survives_the_format(spelling: str, value: Decimal) -> None:
    """Every spelling the weight fields accept (kg, lb, pounds...) exports and imports."""
    from formulary.body import parse_weight

    weight = parse_weight(f"{value} {spelling}")
    row = {
        "id": 1, "patient_id": 7, "measured_on": date(2026, 5, 1),
        "weight_value": weight.kg.value, "weight_unit": weight.kg.unit,
        "entered_value": weight.entered.value, "entered_unit": weight.entered.unit,
        "recorded_at": datetime(2026, 5, 1, 9, tzinfo=UTC), "recorded_by": "admin",
    }
    section = BY_NAME["patient_weights"]
    record = json.loads(json.dumps(_to_json(section, row), ensure_ascii=False))
    assert _row_from_json(section, record, "w", transfer._units()) == row


def test_pounds_are_the_only_extra_unit_and_only_for_a_weight_as_typed() -> None:
    section = BY_NAME["patients"]
    record = {
        "id": 3, "chart_number": "C-3", "family_name": "Old", "given_name": "File",
        "date_of_birth": "1980-01-02", "sex": "female", "diagnosis": "", "grade_scale": None,
        "grade": "", "weight": {"value": "80", "unit": "lb"}, "allergies": [],
        "conditions": [], "consent_on_file": False, "consent_date": None,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "deleted_at": None,
    }
    with pytest.raises(TransferError, match=r"p\.weight: unknown unit 'lb'"):
        _row_from_json(section, record, "p", transfer._units())
