"""Every write command under every fault: one line, a documented exit code, nothing half-done.

The table below lists each command of the CLI that writes (to the database, a file, the
managed photo folder or the key folder); :func:`test_every_command_is_in_the_fault_table`
fails when a command of the app is neither in it, nor on the commented list of
read-only commands, nor among the few with faults of their own at the end of this file.
Each is first run on a healthy clinic, where it must succeed (so the faults below
exercise its real path), then on a fresh copy of the clinic with a fault injected:

* an unsafe key file (mode 0644) or a missing key folder after the key was pinned;
* a read-only database (SQLite ``query_only``);
* a full disk: ``ENOSPC`` from every file write and every fsync, and SQLite's
  "database or disk is full" at commit;
* missing folders for the files a command writes, and for the database itself.

Each fault must give exactly one line on stderr starting ``formulary:``, an exit code
the documentation defines (never 70, the unexpected error: these faults are expected),
no traceback, no new audit entry (sign-in entries aside), and no new file in the output
folder, partial or whole.

The clinic is built once per module (its records, a signed session, a photo, consents,
limits, a recovery code and a rolled-back copy) and copied, key folder and photo folder
with it, for each test.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db.audit.keys import key_path, resolve_key_dir
from db.audit.service import checkpoint_database
from tests.cli.test_fault_injection import DOCUMENTED, invoke, non_login, one_line
from tests.cli.test_session_record import PASSWORD, _open_clinic, session_file
from tui.cli.errors import EXIT_INTERNAL, EXIT_IO

CSV_PRODUCTS = (
    "name,manufacturer,presentation,volume_per_unit,gtin,ingredient,strength,form\n"
    "Biotin 3 mg/mL,Acme,ampoule,1 mL,,biotin,3 mg/mL,\n"
)
CSV_PATIENTS = (
    "chart_number,family_name,given_name,date_of_birth,sex\nC-77,Roux,Lea,1985-04-03,female\n"
)
#: A clinic ingredient the table retires (the library has no such name).
RETIRED_INGREDIENT = "Faultine"

Command = tuple[list[str], str]


def _cheap_hashing(patch: pytest.MonkeyPatch) -> None:
    """The suite's cheap hashing and no throttle waits, for a module-scoped fixture (the
    function-scoped ones in tests/conftest.py do not reach it)."""
    from db import auth
    from tests.conftest import cheap_hasher

    cheap = cheap_hasher()
    patch.setattr(auth, "_hasher", lambda: cheap)
    patch.setattr(auth, "pause", lambda _s: None)


@dataclass(frozen=True)
class Template:
    """The clinic every test copies: where it is, and the ids the table names."""

    folder: Path
    db_id: str
    rolled_db_id: str
    session_id: int
    consent_id: int
    template_id: int
    old_template_id: int
    photo_id: int
    limit_to_edit: int
    limit_to_retire: int
    recovery_code: str
    draft_id: int
    outcome_id: int


def _record_session(location: str, record: Path) -> int:
    from typer.testing import CliRunner

    from tui.cli.root import app

    result = CliRunner().invoke(
        app, ["session", "record", str(record), "--db", location, "--user", "drlee", "--json"],
        env={"FORMULARY_PASSWORD": PASSWORD, "FORMULARY_DB": ""},
    )
    assert result.exit_code == 0, result.stderr
    return int(json.loads(result.stdout)["session_id"])


def _build(folder: Path) -> Template:
    """The clinic of :func:`_open_clinic` with what every command of the table acts on."""
    from db.store import (
        ClinicLimitFields,
        IngredientFields,
        PatientFields,
        SessionDraft,
        StrengthSpec,
    )
    from formulary.clinic_ingredients import ingredient_key
    from formulary.consent import DEFAULT_TEMPLATE_TEXT
    from formulary.records import LotStatus, Role, Sex
    from formulary.units.amount import Amount
    from tests.cli.test_session_record import ml
    from tests.photos import images

    inputs = folder / "inputs"
    inputs.mkdir()
    (inputs / "products.csv").write_text(CSV_PRODUCTS, encoding="utf-8")
    (inputs / "patients.csv").write_text(CSV_PATIENTS, encoding="utf-8")
    (inputs / "photo.jpg").write_bytes(images.jpeg())
    (inputs / "other.jpg").write_bytes(images.jpeg(color=(20, 120, 200)))
    (inputs / "scan.pdf").write_bytes(b"%PDF-1.4 scanned paper consent\n" * 20)
    (inputs / "consent.md").write_text(DEFAULT_TEMPLATE_TEXT + "\nRevised.\n", encoding="utf-8")
    location = str(folder / "clinic.db")
    made = _open_clinic(location)
    try:
        store, lee = made.store, made.lee
        admin = store.authenticate("admin", PASSWORD)
        checkpoint_database(made.database)  # the key's first use pins it, as init does
        store.files.create()
        biotin = next(i.id for i in store.list_ingredients(lee, "biotin") if i.key == "biotin")
        store.create_product(  # no lots yet: what is in it may still be edited
            lee, name="Biotin 2 mg/mL", volume_per_unit=ml("1"), manufacturer="Acme",
            ingredients=[StrengthSpec(biotin, Amount(Decimal(2), "mg/mL"))],
        )
        kim = store.create_user(admin, "kim", "Kim Locum", Role.ASSISTANT, PASSWORD)
        store.deactivate_user(admin, kim.id, "contract ended")
        store.add_clinic_ingredient(lee, IngredientFields(
            key=ingredient_key(RETIRED_INGREDIENT), name=RETIRED_INGREDIENT, category="other"))
        limits = [
            store.add_clinic_limit(lee, biotin, ClinicLimitFields(
                per, Amount(Decimal(amount), "mg"), "protocol", "", ""))
            for per, amount in (("session", 20), ("course", 200))
        ]
        recovery_code = store.issue_recovery_code(admin)
        # Quarantined, so that releasing it changes something (a release of a lot
        # already available saves nothing, and would pass under every fault).
        old_lot = next(x for x in store.list_lots(lee, include_empty=True)
                       if x.lot_number == "OLD")
        store.set_lot_status(lee, old_lot.id, LotStatus.QUARANTINED, "set aside")
        # Recalled by mistake, so that lifting the recall changes something.
        product_id = old_lot.product_id
        mix_up = store.receive_lot(lee, product_id=product_id, lot_number="MIX-UP",
                                   expiry=date(2099, 1, 1), quantity=ml("10"))
        store.set_lot_status(lee, mix_up.id, LotStatus.RECALLED, "notice read wrongly")
        template_id = store.consent_templates(admin)[0].id
        old = store.add_consent_template(admin, "Old form", DEFAULT_TEMPLATE_TEXT)
        # C-1 consented on the first template already (the consent rule): this one, with
        # a scanned form, is on the other; C-3 is yet to consent.
        consent = store.sign_consent(
            lee, patient_id=made.patient_id, template_id=old.id, typed_name="Jane Doe",
            password=PASSWORD, form=inputs / "scan.pdf",
        )
        store.create_patient(lee, PatientFields("C-3", "Roux", "Ida", date(1992, 5, 6),
                                                Sex.FEMALE))
        # C-4 was retired by mistake (patient restore brings it back).
        retired = store.create_patient(lee, PatientFields("C-4", "Roux", "Lea",
                                                          date(1993, 6, 7), Sex.FEMALE))
        store.delete_patient(lee, retired.id, "retired by mistake")
        first = folder / "first"
        first.mkdir()
        session_id = _record_session(location, session_file(first, made))
        photo = store.attach_photo_file(
            lee, inputs / "photo.jpg", patient_id=made.patient_id, view="vertex",
            taken_on=date(2026, 11, 20), session_id=session_id,
        )
        # The table's own session (retried with the same key, it is never recorded twice).
        session_file(inputs, made, idempotency_key="fault-retry-1", pain_score=3)
        draft = store.save_session_draft(lee, SessionDraft(
            patient_id=made.patient_id,
            formulation_version_id=store.list_formulations(lee, made.patient_id)[0].id,
            performed_at=datetime.now(UTC),
        ))
        outcome = store.record_outcome(
            lee, patient_id=made.patient_id, measured_at=datetime.now(UTC), scale_grade="II"
        )
    finally:
        made.database.dispose()
    return Template(
        folder, made.database.db_id, _rolled_back(folder), session_id, consent.id,
        template_id, old.id, photo.id, limits[0].id, limits[1].id, recovery_code, draft.id,
        outcome.id,
    )


def _rolled_back(folder: Path) -> str:
    """``rolled.db``: a database behind its log's newest checkpoint; its db id.

    As an older copy restored over a newer one leaves it. It is a database of its own
    (the same key folder, its own key and log): accepting its rollback must not make
    ``clinic.db`` a rolled-back copy in turn.
    """
    from db.database import open_database
    from db.store import Store
    from formulary.records import Role

    database = open_database(str(folder / "ahead.db"))
    try:
        store = Store(database, workstation="test-ws")
        admin = store.create_first_admin("admin", "Ada Admin", PASSWORD)
        checkpoint_database(database)
        database.dispose()
        with contextlib.closing(sqlite3.connect(folder / "ahead.db")) as source, \
                contextlib.closing(sqlite3.connect(folder / "rolled.db")) as rolled:
            source.backup(rolled)
        store.create_user(admin, "eve", "Eve Later", Role.AUDITOR, PASSWORD)
        checkpoint_database(database)
        return database.db_id
    finally:
        database.dispose()
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """One clinic for the module; each test works on a copy (see :func:`clinic`)."""
    folder = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORMULARY_KEY_DIR", str(folder / "keys"))
        patch.delenv("FORMULARY_FILES_DIR", raising=False)
        patch.delenv("FORMULARY_DB", raising=False)
        _cheap_hashing(patch)
        return _build(folder)


@dataclass(frozen=True)
class Case:
    """A test's copy of the template clinic (database, rolled-back copy, keys, photos)."""

    template: Template
    folder: Path
    out: Path

    @property
    def location(self) -> str:
        return str(self.folder / "clinic.db")

    @property
    def rolled(self) -> str:
        return str(self.folder / "rolled.db")

    @property
    def photos(self) -> Path:
        return self.folder / "clinic.db.files"


@pytest.fixture
def clinic(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Case:
    folder = tmp_path / "clinic"
    shutil.copytree(template.folder, folder)  # modes too: the key stays 0600
    monkeypatch.setenv("FORMULARY_KEY_DIR", str(folder / "keys"))
    monkeypatch.delenv("FORMULARY_FILES_DIR", raising=False)
    monkeypatch.delenv("FORMULARY_DB", raising=False)
    out = tmp_path / "out"
    out.mkdir()
    return Case(template, folder, out)


def commands(case: Case) -> dict[str, Command]:
    """Every write command, as an administrator or the practitioner would run it.

    In the order the healthy run needs (``accept-rollback`` before ``rekey``, which
    would leave the rolled-back copy pinned to a replaced key).
    """
    t = case.template
    db = ["--db", case.location]
    out = case.out
    inputs = case.folder / "inputs"
    admin = [*db, "--user", "admin"]
    lee = [*db, "--user", "drlee"]
    return {
        "user add": (["user", "add", "bob", "--role", "practitioner", "--full-name", "Bob",
                      *admin, "--password-stdin"], f"{PASSWORD}\nbob-password-1\n"),
        "user deactivate": (["user", "deactivate", "sam", "--reason", "left", *admin], ""),
        "user reactivate": (["user", "reactivate", "kim", "--reason", "back", *admin], ""),
        "user unlock": (["user", "unlock", "sam", "--reason", "locked out", *admin], ""),
        "user reset-password": (["user", "reset-password", "sam", "--reason", "forgot",
                                 *admin, "--password-stdin"], f"{PASSWORD}\nsam-password-2\n"),
        "product add": (["product", "add", "--name", "Zinc 2 mg/mL", "--presentation",
                         "ampoule", "--volume", "5 mL", "-i", "zinc=2 mg/mL", *lee], ""),
        "lot receive": (["lot", "receive", "--product", "Biotin 5 mg/mL", "--lot", "NEW-1",
                         "--expiry", "2099-01-01", "--quantity", "10 mL", *lee], ""),
        "ingredient add": (["ingredient", "add", "--name", "Adenosine", "--category", "other",
                            *lee], ""),
        "ingredient retire": (["ingredient", "retire", RETIRED_INGREDIENT, "--reason",
                               "never stocked", *lee], ""),
        "ingredient limit add": (["ingredient", "limit", "add", "biotin", "--per", "session",
                                  "--amount", "10 mg", "--source", "protocol", *lee], ""),
        "ingredient limit edit": (["ingredient", "limit", "edit", str(t.limit_to_edit),
                                   "--amount", "15 mg", "--reason", "revised", *lee], ""),
        "ingredient limit retire": (["ingredient", "limit", "retire", str(t.limit_to_retire),
                                     "--reason", "superseded", *lee], ""),
        "patient add": (["patient", "add", "--chart", "C-9", "--family", "Roux", "--given",
                         "Ana", "--born", "1990-01-02", "--sex", "female", *lee], ""),
        "patient update": (["patient", "update", "C-1", "--grade", "III", "--reason", "seen",
                            *lee], ""),
        "import-csv products": (["import-csv", "products", str(inputs / "products.csv"),
                                 *lee], ""),
        "product edit": (["product", "edit", "Biotin 2 mg/mL", "--manufacturer", "Acme2",
                          "--presentation", "ampoule", "--reason", "label", *lee], ""),
        "import-csv patients": (["import-csv", "patients", str(inputs / "patients.csv"),
                                 *lee], ""),
        "clinic set": (["clinic", "set", "--name", "Hair Clinic", "--address", "1 Main St",
                        *admin], ""),
        "session record": (["session", "record", str(inputs / "session.json"), *lee], ""),
        # Formulation 1 of C-1 is used in the signed session: revise makes version 2.
        "formulation add": (["formulation", "add", "C-1", "--name", "Second mix", "-c",
                             "product:Biotin 5 mg/mL=1 mL", "--final-volume", "1 mL", *lee],
                            ""),
        "formulation revise": (["formulation", "revise", "C-1", "1", "--final-volume", "2 mL",
                                *lee], ""),
        "course start": (["course", "start", "C-1", "--name", "Spring", "--sessions", "6",
                          "--interval", "28", "--start", "2026-11-24", "--formulation", "1",
                          *lee], ""),
        "formulation retire": (["formulation", "retire", "C-1", "1", "--reason", "replaced",
                                *lee], ""),
        "session addendum": (["session", "addendum", str(t.session_id), "--text",
                              "pain score was 3", "--reason", "typo", *lee], ""),
        "session discard": (["session", "discard", str(t.draft_id), "--reason", "duplicate",
                             *lee], ""),
        "session outcome": (["session", "outcome", "C-1", "--density", "150 hairs/cm2",
                             "--grade", "III", *lee], ""),
        "session retire-outcome": (["session", "retire-outcome", str(t.outcome_id),
                                    "--reason", "wrong zone", *lee], ""),
        # After the session: it draws from GOOD, which these change.
        "lot adjust": (["lot", "adjust", "GOOD", "--by", "-1 mL", "--reason", "counted",
                        *lee], ""),
        "lot quarantine": (["lot", "quarantine", "GOOD", "--reason", "cloudy", *lee], ""),
        "lot release": (["lot", "release", "OLD", "--reason", "checked", *lee], ""),
        "lot mark-recalled": (["lot", "mark-recalled", "OLD", "--reason", "maker notice 14",
                               *lee], ""),
        "lot lift-recall": (["lot", "lift-recall", "MIX-UP", "--reason", "notice named "
                             "another lot", *admin], ""),
        "lot correct": (["lot", "correct", "GOOD", "--expiry", "2099-12-31", "--reason",
                         "the box says December", *lee], ""),
        "label": (["label", str(t.session_id), "-o", str(out / "label.pdf"), *lee], ""),
        "export json": (["export", "json", "-o", str(out / "all.json"), *admin], ""),
        "export chart": (["export", "chart", "C-1", "--format", "pdf", "-o",
                          str(out / "c.pdf"), *lee], ""),
        "export session": (["export", "session", str(t.session_id), "--format", "pdf", "-o",
                            str(out / "s.pdf"), *lee], ""),
        "export all": (["export", "all", "--format", "csv", "-o", str(out / "all"), *admin],
                       ""),
        "consent sign": (["consent", "sign", "C-3", "--typed-name", "Ida Roux", "--template",
                          str(t.template_id), *lee], ""),
        "consent pdf": (["consent", "pdf", str(t.consent_id), "-o", str(out / "consent.pdf"),
                         *lee], ""),
        "consent form": (["consent", "form", str(t.consent_id), "-o", str(out / "form.pdf"),
                          *lee], ""),
        "consent withdraw": (["consent", "withdraw", str(t.consent_id), "--reason",
                              "changed her mind", *lee], ""),
        # After consent sign, which is for C-3.
        "patient retire": (["patient", "retire", "C-3", "--reason", "duplicate", *lee], ""),
        "patient restore": (["patient", "restore", "C-4", "--reason", "the wrong chart", *lee],
                            ""),
        "consent template add": (["consent", "template", "add", "Second form", *admin], ""),
        "consent template edit": (["consent", "template", "edit", str(t.old_template_id),
                                   "--file", str(inputs / "consent.md"), *admin], ""),
        "consent template retire": (["consent", "template", "retire",
                                     str(t.old_template_id), "--reason", "replaced", *admin],
                                    ""),
        "photo add": (["photo", "add", str(inputs / "other.jpg"), "--patient", "C-1",
                       "--view", "frontal", "--taken", "2026-11-21", "--session",
                       str(t.session_id), *lee], ""),
        "photo export": (["photo", "export", "C-1", "--to", str(out / "photos"), *lee], ""),
        "photo retire": (["photo", "retire", str(t.photo_id), "--reason", "wrong patient",
                          *lee], ""),
        "photo folder": (["photo", "folder", "--create", *db], ""),
        "backup": (["backup", str(out / "b.db"), *admin], ""),
        "audit checkpoint": (["audit", "checkpoint", *db], ""),
        "audit verify": (["audit", "verify", *db], ""),
        "product retire": (["product", "retire", "Biotin 2 mg/mL", "--reason", "gone", *lee],
                           ""),
        "audit accept-rollback": (["audit", "accept-rollback", "--reason", "restored copy",
                                   "--db", case.rolled, "--user", "admin"], ""),
        "user recover": (["user", "recover", "admin", "--code-stdin", *db],
                         f"{t.recovery_code}\n"),
        "audit rekey": (["audit", "rekey", "--reason", "rotate", *admin], ""),
    }


#: Commands whose output goes to a file in ``out`` (the full-disk fault for files).
WRITES_FILES = {"label", "export json", "export chart", "export session", "export all",
                "backup", "consent pdf", "consent form", "photo export"}
#: Commands that make their output folder (with its parents), as documented.
MAKES_ITS_FOLDER = {"export all", "photo export"}
#: Commands that write nothing to the database (a checkpoint goes to the key folder's
#: log, ``photo folder`` makes the managed folder): they may succeed while the database
#: or the key refuses writes, and then still add no audit entry. (``consent form`` is
#: not one: a scan copied out is an audited export, refused with the rest.)
NO_DATABASE_WRITE = {"audit checkpoint", "photo folder"}
#: ``audit verify`` records its own entry only when the database can be written, and
#: says so when not (its verdict, exit 0 on this clinic, stands). It needs no key (a
#: copy is verified on another machine without one), so it still records its entry
#: when the key folder is gone; an unsafe key stops it (exit 1, one line).
RECORDS_WHEN_IT_CAN = {"audit verify"}
#: What must work while the key refuses every write, and the entry each records:
#: ``audit rekey`` replaces a lost or unsafe key; ``user recover`` lets a locked-out
#: administrator in to run it.
KEY_REMEDIES = {"user recover": "user.recover", "audit rekey": "key.rekey"}

#: Commands that change nothing: no record, no audit entry (sign-ins aside), no file.
#: :func:`test_every_command_is_in_the_fault_table` runs each once and checks that.
READ_ONLY: dict[str, list[str]] = {
    # Arithmetic on the command line: no database at all.
    "calc convert": ["calc", "convert", "0.5% w/v", "mg/mL"],
    "calc dose": ["calc", "dose", "250 mg/mL", "2 mL"],
    "calc volume": ["calc", "volume", "500 mg", "250 mg/mL"],
    "calc dilute": ["calc", "dilute", "--stock", "0.05% w/v", "--target", "0.01% w/v",
                    "--final", "5 mL"],
    # Listings and reports printed on stdout.
    "user list": ["user", "list", "--user", "admin"],
    "product list": ["product", "list", "--user", "drlee"],
    "ingredient list": ["ingredient", "list", "biotin", "--user", "drlee"],
    "ingredient limit list": ["ingredient", "limit", "list", "--user", "drlee"],
    "patient list": ["patient", "list", "--retired", "--user", "drlee"],
    "formulation list": ["formulation", "list", "C-1", "--retired", "--user", "drlee"],
    "formulation show": ["formulation", "show", "1", "--user", "drlee"],
    "course list": ["course", "list", "C-1", "--user", "drlee"],
    "lot recall": ["lot", "recall", "GOOD", "--user", "drlee"],
    "lot list": ["lot", "list", "--all", "--user", "drlee"],
    "consent show": ["consent", "show", "C-1", "--user", "drlee"],
    "consent template list": ["consent", "template", "list", "--user", "drlee"],
    "consent template show": ["consent", "template", "show", "1", "--user", "drlee"],
    "clinic show": ["clinic", "show", "--user", "drlee"],
    "photo list": ["photo", "list", "C-1", "--user", "drlee"],
    "session list": ["session", "list", "C-1", "--user", "drlee"],
    "session outcomes": ["session", "outcomes", "C-1", "--user", "drlee"],
}
#: Commands that make or replace the database itself, with faults of their own in
#: :func:`test_restore_import_and_init_under_faults_are_one_line_and_change_nothing`.
OWN_FAULT_TEST = {"init", "import", "restore"}


def _database_of(args: list[str]) -> str:
    return args[args.index("--db") + 1]


def entries(location: str) -> list[str]:
    """The audit trail's actions, read without the app (faults patch its engines)."""
    with contextlib.closing(sqlite3.connect(f"file:{location}?mode=ro", uri=True)) as conn:
        return [str(a) for (a,) in conn.execute("SELECT action FROM audit_event ORDER BY seq")]


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


State = tuple[list[str], list[str], list[str]]


def _state(case: Case, args: list[str]) -> State:
    """What a refused command must leave as it was: entries, output files, photo files."""
    return non_login(entries(_database_of(args))), _files(case.out), _files(case.photos)


def _assert_refused(name: str, code: int, err: str) -> str:
    assert code in DOCUMENTED and code not in (0, EXIT_INTERNAL), (name, code, err)
    return one_line(err)


def _run_table(
    case: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    table: dict[str, Command], said: Callable[[str, str], None] | None = None,
) -> None:
    """Run every command under the fault in force: refused, one line, nothing left."""
    for name, (args, stdin) in table.items():
        before = _state(case, args)
        code, out, err = invoke(monkeypatch, capsys, args, stdin)
        said_by = (name, code, out[-300:], err)
        if name in NO_DATABASE_WRITE and code == 0:
            assert _state(case, args)[0] == before[0], said_by
            continue
        if name in RECORDS_WHEN_IT_CAN and code == 0:
            after = _state(case, args)
            recorded = ["audit.verify"] if "was recorded as audit entry" in out else []
            assert "was not recorded" in out or recorded, said_by
            assert after[0] == before[0] + recorded and after[1:] == before[1:], said_by
            continue
        line = _assert_refused(name, code, err)
        assert _state(case, args) == before, said_by
        if said is not None:
            said(name, line)


def test_every_command_succeeds_on_a_healthy_clinic(
    clinic: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    failed = []
    for name, (args, stdin) in commands(clinic).items():
        code, _, err = invoke(monkeypatch, capsys, args, stdin)
        if code != 0:
            failed.append((name, code, err))
    assert failed == [], "\n".join(f"{n}: {c} {e.strip()}" for n, c, e in failed)


def _app_commands() -> dict[str, Any]:
    """Every command of the Typer app by its full name, with the function it runs."""
    import typer

    from tui.cli.root import app

    found: dict[str, Any] = {}

    def walk(command: Any, prefix: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children is None:
            # Typer wraps the function anew for each name it is registered under.
            found[" ".join(prefix)] = getattr(command.callback, "__wrapped__", command.callback)
            return
        for name, child in children.items():
            walk(child, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return found


def test_every_command_is_in_the_fault_table(
    clinic: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    table = commands(clinic)
    known = set(table) | set(READ_ONLY) | OWN_FAULT_TEST
    app = _app_commands()
    # A command registered twice (``lots`` is the older spelling of ``lot``) is covered
    # when any of its names is.
    covered = {app[name] for name in known if name in app}
    missing = sorted(name for name, callback in app.items() if callback not in covered)
    assert missing == [], (
        f"{missing}: add each to the fault table in commands() if it writes anything "
        "(the database, a file, a folder, the key folder), else to READ_ONLY"
    )
    assert sorted(known - set(app)) == [], "the table names commands the app does not have"
    assert not set(READ_ONLY) & set(table)
    # READ_ONLY is held to its word: each runs and changes nothing.
    for name, args in READ_ONLY.items():
        full = [*args, "--db", clinic.location] if not name.startswith("calc") else args
        before = _state(clinic, full) if "--db" in full else None
        code, _, err = invoke(monkeypatch, capsys, full)
        assert code == 0, (name, err)
        if before is not None:
            assert _state(clinic, full) == before, name


def test_an_unsafe_key_refuses_every_write(
    clinic: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    table = commands(clinic)
    for db_id in (clinic.template.db_id, clinic.template.rolled_db_id):
        os.chmod(key_path(db_id), 0o644)
    remedies = {name: table.pop(name) for name in KEY_REMEDIES}

    def names_the_fix(name: str, line: str) -> None:
        assert "chmod 600" in line, (name, line)

    _run_table(clinic, monkeypatch, capsys, table, names_the_fix)
    _remedies_work(clinic, monkeypatch, capsys, remedies)


def _remedies_work(
    case: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    remedies: dict[str, Command],
) -> None:
    for name, command in remedies.items():
        before = non_login(entries(case.location))
        code, _, err = invoke(monkeypatch, capsys, *command)
        added = non_login(entries(case.location))[len(before):]
        assert code == 0 and KEY_REMEDIES[name] in added, (name, err, added)


def test_a_missing_key_folder_refuses_every_write(
    clinic: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    table = commands(clinic)
    shutil.move(resolve_key_dir(), clinic.folder / "keys-elsewhere")
    remedies = {name: table.pop(name) for name in KEY_REMEDIES}

    def names_the_key(name: str, line: str) -> None:
        assert "key" in line, (name, line)

    _run_table(clinic, monkeypatch, capsys, table, names_the_key)
    assert not resolve_key_dir().exists()  # no key is ever created but by rekey
    _remedies_work(clinic, monkeypatch, capsys, remedies)


def _read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import db.engine as engines

    real = engines.make_engine

    def read_only(location: Any) -> sa.Engine:
        engine = real(location)

        @sa.event.listens_for(engine, "connect")
        def _query_only(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA query_only=ON")

        return engine

    monkeypatch.setattr(engines, "make_engine", read_only)


def test_a_read_only_database_refuses_every_write(
    clinic: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    table = commands(clinic)
    _read_only(monkeypatch)
    _run_table(clinic, monkeypatch, capsys, table)


def _full_disk_for_files(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """ENOSPC from every write and fsync of a file under ``root`` (the output folder)."""
    full = OSError(errno.ENOSPC, "No space left on device")
    real_open = builtins.open
    real_os_open = os.open
    real_fsync = os.fsync
    doomed: set[int] = set()

    def inside(path: Any) -> bool:
        try:
            return Path(os.fsdecode(path)).resolve().is_relative_to(root.resolve())
        except (TypeError, ValueError):
            return False

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | bytes | os.PathLike) and inside(file) and (
            "w" in mode or "a" in mode or "x" in mode
        ):
            handle = real_open(file, mode, *args, **kwargs)
            handle.close()
            raise full
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_os_open(path, flags, *args, **kwargs)
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR):
            doomed.add(fd)
        return fd

    def fake_fsync(fd: Any) -> None:
        number = fd if isinstance(fd, int) else fd.fileno()
        if number in doomed:
            raise full
        real_fsync(fd)

    real_write = os.write

    def fake_write(fd: int, data: Any) -> int:
        if fd in doomed:
            raise full
        return real_write(fd, data)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    monkeypatch.setattr(os, "fsync", fake_fsync)
    monkeypatch.setattr(os, "write", fake_write)
    import db.ops.backup as backup_ops

    def full_copy(_source: Path, partial: Path) -> None:
        partial.write_bytes(b"")  # the partial file exists, as a real copy leaves it
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(backup_ops, "_copy_with_backup_api", full_copy)


def test_a_full_disk_for_files_leaves_no_file_and_no_entry(
    clinic: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    table = commands(clinic)
    statuses: dict[str, int] = {}
    for name in sorted(WRITES_FILES):
        args, stdin = table[name]
        before = entries(clinic.location)
        with monkeypatch.context() as patch:
            _full_disk_for_files(patch, clinic.out)
            code, _, err = invoke(monkeypatch, capsys, args, stdin)
        line = _assert_refused(name, code, err)
        assert "space" in line or "full" in line, (name, line)
        statuses[name] = code
        assert _files(clinic.out) == [], name
        added = non_login(entries(clinic.location))[len(non_login(before)):]
        if name == "backup":
            # The copy holds its own entry, so it is made first; its failure follows it.
            assert added == ["database.backup", "database.backup_failed"], added
            assert "records the attempt" in line
        else:
            assert added == [], (name, added)
    # A file that could not be written is the "file or folder" status, not bad input.
    assert {n: c for n, c in statuses.items() if c != EXIT_IO} == {}


def _full_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's 'database or disk is full' at every commit."""
    import db.engine as engines

    real = engines.make_engine

    def full(location: Any) -> sa.Engine:
        engine = real(location)

        @sa.event.listens_for(engine, "commit")
        def _no_room(_conn: Any) -> None:
            raise sa.exc.OperationalError(
                "COMMIT", None, sqlite3.OperationalError("database or disk is full")
            )

        return engine

    monkeypatch.setattr(engines, "make_engine", full)


def test_a_full_disk_for_the_database_writes_nothing(
    clinic: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    table = commands(clinic)
    _full_database(monkeypatch)
    _run_table(clinic, monkeypatch, capsys, table)


def test_missing_output_folders_are_one_line_before_anything_is_audited(
    clinic: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    table = commands(clinic)
    clinic.out.rmdir()
    for name in sorted(WRITES_FILES - MAKES_ITS_FOLDER):
        args, stdin = table[name]
        before = entries(clinic.location)
        code, _, err = invoke(monkeypatch, capsys, args, stdin)
        line = _assert_refused(name, code, err)
        assert "does not exist" in line or "no such" in line.lower(), (name, line)
        assert non_login(entries(clinic.location)) == non_login(before), name
        assert not clinic.out.exists(), name


def test_a_missing_database_folder_is_one_line(
    clinic: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gone = str(tmp_path / "nowhere" / "clinic.db")
    for name, (args, stdin) in commands(clinic).items():
        moved = [gone if a in (clinic.location, clinic.rolled) else a for a in args]
        code, _, err = invoke(monkeypatch, capsys, moved, stdin)
        _assert_refused(name, code, err)
    assert not (tmp_path / "nowhere").exists()


def test_restore_import_and_init_under_faults_are_one_line_and_change_nothing(
    clinic: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import db.ops.backup as backup_ops

    table = commands(clinic)
    code, _, err = invoke(monkeypatch, capsys, *table["backup"])
    assert code == 0, err
    code, _, err = invoke(monkeypatch, capsys, *table["export json"])
    assert code == 0, err
    db_file = Path(clinic.location)
    before_entries = entries(clinic.location)
    restore = ["restore", str(clinic.out / "b.db"), "--db", clinic.location,
               "--user", "admin", "--force"]

    # A full disk while the backup is staged beside the database.
    def full_copy(_source: Path, partial: Path) -> None:
        partial.write_bytes(b"half")
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as patch:
        patch.setattr(backup_ops, "_copy_with_backup_api", full_copy)
        code, _, err = invoke(monkeypatch, capsys, restore)
    assert "disk is full" in _assert_refused("restore", code, err)
    assert code == EXIT_IO, err
    assert non_login(entries(clinic.location)) == non_login(before_entries)  # untouched
    assert not list(db_file.parent.glob(".*.restoring"))

    # A backup that is missing, or whose manifest does not match it.
    (clinic.out / "b.db").rename(clinic.out / "moved.db")
    code, _, err = invoke(monkeypatch, capsys, restore)
    assert "b.db" in _assert_refused("restore", code, err)
    assert non_login(entries(clinic.location)) == non_login(before_entries)

    # import into a new database on a full disk: no database is left behind.
    target = tmp_path / "new" / "clinic.db"
    target.parent.mkdir()
    with monkeypatch.context() as patch:
        _full_database(patch)
        code, _, err = invoke(monkeypatch, capsys, [
            "import", str(clinic.out / "all.json"), "--db", str(target),
            "--user", "admin"])
    _assert_refused("import", code, err)
    if target.exists():  # an empty shell may exist; it holds no records
        with contextlib.closing(sqlite3.connect(target)) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            assert "patient" not in names or not conn.execute(
                "SELECT 1 FROM patient LIMIT 1").fetchone()

    # init in a folder that cannot be written.
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = invoke(monkeypatch, capsys, [
            "init", "--db", str(locked / "clinic.db")], "admin\nAda\nadmin-password-1\n")
        if os.geteuid() != 0:  # root writes anywhere
            _assert_refused("init", code, err)
            assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)
