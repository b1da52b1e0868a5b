"""Weight history and height: kg or lb stored as exact kg, the latest used by the rules."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from db import migrate
from db.audit.chain import append_event
from db.database import open_database
from db.errors import ValidationError
from db.store import Actor, ComponentSpec, PatientFields, Store
from db.tables.people import PatientWeightRow
from formulary.records import Role, Sex
from formulary.units.amount import Amount

from .helpers import chain_problems, count_rows, events, replay_problems

pytestmark = pytest.mark.storage


def fields(**kw: object) -> PatientFields:
    values: dict[str, object] = {
        "chart_number": "W-1",
        "family_name": "Weigh",
        "given_name": "Wanda",
        "date_of_birth": date(1980, 1, 2),
        "sex": Sex.FEMALE,
    }
    values.update(kw)
    return PatientFields(**values)  # type: ignore[arg-type]


def test_weight_in_pounds_is_stored_as_exact_kilograms(
    store: Store, users: dict[Role, Actor]
) -> None:
    sam = users[Role.ASSISTANT]
    p = store.create_patient(
        sam,
        fields(
            weight=Amount(Decimal("154"), "lb"),
            weight_measured_on=date(2026, 11, 30),
            height=Amount(Decimal("168"), "cm"),
        ),
    )
    assert p.weight_kg == Amount(Decimal("69.85322498"), "kg")
    assert p.height_cm == Amount(Decimal("168"), "cm")
    [entry] = store.weight_history(sam, p.id)
    assert entry.entered == Amount(Decimal("154"), "lb")
    assert entry.weight_kg.value == Decimal("154") * Decimal("0.45359237")
    assert entry.measured_on == date(2026, 11, 30) and entry.recorded_by == sam.username
    assert store.get_patient(sam, p.id).weight_kg == entry.weight_kg
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_history_keeps_every_measurement_and_the_latest_date_wins(
    store: Store, users: dict[Role, Actor]
) -> None:
    sam = users[Role.ASSISTANT]
    p = store.create_patient(sam, fields())
    assert p.weight_kg is None and store.weight_history(sam, p.id) == []
    today = date.today()
    store.record_weight(sam, p.id, Amount(Decimal("70"), "kg"), today - timedelta(days=10))
    store.record_weight(sam, p.id, Amount(Decimal("72.5"), "kg"), today)
    # An older measurement entered later goes into the history, not onto the chart.
    latest = store.record_weight(
        sam, p.id, Amount(Decimal("65"), "kg"), today - timedelta(days=400)
    )
    assert latest.weight_kg == Amount(Decimal("72.5"), "kg")
    history = store.weight_history(sam, p.id)
    assert [e.weight_kg.value for e in history] == [Decimal("72.5"), Decimal("70"), Decimal("65")]
    assert count_rows(store.database, PatientWeightRow) == 3
    actions = [e.action for e in events(store.database) if e.entity == "patient_weight"]
    assert actions == ["patient.weight_record"] * 3
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_update_adds_a_measurement_only_when_the_weight_changed(
    store: Store, users: dict[Role, Actor]
) -> None:
    sam = users[Role.ASSISTANT]
    p = store.create_patient(sam, fields(weight=Amount(Decimal("80"), "kg")))
    store.update_patient(sam, p.id, fields(weight=p.weight_kg, diagnosis="AGA"), "diagnosis")
    assert len(store.weight_history(sam, p.id)) == 1
    store.update_patient(sam, p.id, fields(weight=Amount(Decimal("176"), "lb")), "weighed")
    history = store.weight_history(sam, p.id)
    assert len(history) == 2 and history[0].entered == Amount(Decimal("176"), "lb")
    assert store.get_patient(sam, p.id).weight_kg == history[0].weight_kg
    # weight=None leaves the history (and the chart's weight) alone.
    store.update_patient(sam, p.id, fields(diagnosis="AGA"), "no weight typed")
    assert store.get_patient(sam, p.id).weight_kg == history[0].weight_kg
    assert replay_problems(store.database) == []


def test_an_update_repeating_a_weight_measured_that_day_adds_nothing(
    store: Store, users: dict[Role, Actor]
) -> None:
    sam = users[Role.ASSISTANT]
    day = date.today() - timedelta(days=3)
    p = store.create_patient(sam, fields())
    store.update_patient(sam, p.id, fields(weight=Amount(Decimal("154"), "lb"),
                                           weight_measured_on=day), "weighed")
    before = len(events(store.database))
    # The same measurement saved again, typed in pounds or in kilograms: nothing new.
    for weight in (Amount(Decimal("154"), "lb"), Amount(Decimal("69.85322498"), "kg")):
        same = store.update_patient(
            sam, p.id, fields(weight=weight, weight_measured_on=day), "saved twice"
        )
        assert same.weight_kg == Amount(Decimal("69.85322498"), "kg")
    assert len(store.weight_history(sam, p.id)) == 1 and len(events(store.database)) == before
    # Another weight that day, or the same weight another day, is a new measurement.
    store.update_patient(sam, p.id, fields(weight=Amount(Decimal("70"), "kg"),
                                           weight_measured_on=day), "weighed again")
    store.update_patient(sam, p.id, fields(weight=Amount(Decimal("70"), "kg"),
                                           weight_measured_on=day + timedelta(days=1)), "next day")
    assert [e.weight_kg.value for e in store.weight_history(sam, p.id)] == [
        Decimal("70"), Decimal("70"), Decimal("154") * Decimal("0.45359237")
    ]
    assert replay_problems(store.database) == []


@pytest.mark.parametrize(
    ("weight", "measured", "message"),
    [
        (Amount(Decimal("7000"), "kg"), None, "outside"),
        (Amount(Decimal("70"), "mg"), None, "kg or lb"),
        (Amount(Decimal("70"), "kg"), date.today() + timedelta(days=2), "future"),
        (Amount(Decimal("70"), "kg"), date(1970, 1, 1), "before the date of birth"),
    ],
)
def test_bad_weights_are_refused_and_nothing_is_written(
    store: Store,
    users: dict[Role, Actor],
    weight: Amount,
    measured: date | None,
    message: str,
) -> None:
    sam = users[Role.ASSISTANT]
    p = store.create_patient(sam, fields())
    n = len(events(store.database))
    with pytest.raises(ValidationError, match=message):
        store.record_weight(sam, p.id, weight, measured)
    with pytest.raises(ValidationError, match=message):
        store.create_patient(
            sam, fields(chart_number="W-2", weight=weight, weight_measured_on=measured)
        )
    assert len(events(store.database)) == n
    assert count_rows(store.database, PatientWeightRow) == 0


def test_height_outside_human_range_is_refused(store: Store, users: dict[Role, Actor]) -> None:
    with pytest.raises(ValidationError, match="height"):
        store.create_patient(users[Role.ADMIN], fields(height=Amount(Decimal("17"), "cm")))


def test_auditor_cannot_record_a_weight(store: Store, users: dict[Role, Actor]) -> None:
    from db.errors import PermissionDenied

    p = store.create_patient(users[Role.ADMIN], fields())
    with pytest.raises(PermissionDenied):
        store.record_weight(users[Role.AUDITOR], p.id, Amount(Decimal("70"), "kg"))


def test_migration_carries_a_single_weight_into_the_history(engine_url: str) -> None:
    """A database of revision 0001 with a weighed patient gains one audited history entry."""
    from alembic import command

    from db.engine import make_engine, prepare_sqlite_file, resolve

    location = resolve(engine_url)
    if location.is_sqlite:
        assert location.path is not None
        prepare_sqlite_file(location.path, create=True)
    engine = make_engine(location)
    try:
        with engine.begin() as connection:
            cfg = migrate._config()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "0001")
            db_id = connection.execute(sa.text("SELECT db_id FROM installation")).scalar_one()
            connection.execute(
                sa.text(
                    "INSERT INTO patient (id, chart_number, family_name, given_name, family_key,"
                    " given_key, search_key, date_of_birth, sex, diagnosis, grade, weight_value,"
                    " weight_unit, allergies, conditions, consent_on_file, created_at,"
                    " updated_at) VALUES (1, 'M-1', 'Old', 'Ona', 'old', 'ona', 'old ona m-1',"
                    " :born, 'female', '', '', '63.5', 'kg', '[]', '[]', :no, :at, :at)"
                ),
                {"born": date(1970, 5, 1), "no": False, "at": "2026-10-01 09:00:00"},
            )
            append_event(
                connection,
                db_id=db_id,
                user="test",
                workstation="t",
                action="test.note",
                entity="note",
                entity_id=1,
                before=None,
                after={"x": 1},
                reason=None,
            )
    finally:
        engine.dispose()
    database = open_database(engine_url)
    try:
        with database.engine.connect() as connection:
            assert migrate.current_revision(connection) == migrate.head_revision()
            rows = connection.execute(
                sa.text(
                    "SELECT patient_id, measured_on, weight_value, entered_unit,"
                    " recorded_by FROM patient_weight"
                )
            ).all()
        assert len(rows) == 1
        patient_id, measured_on, weight_value, entered_unit, recorded_by = rows[0]
        assert (patient_id, weight_value, entered_unit, recorded_by) == (1, "63.5", "kg", "system")
        assert str(measured_on).startswith("2026-10-01")
        entry = [e for e in events(database) if e.entity == "patient_weight"]
        assert [e.action for e in entry] == ["patient.weight_record"]
        assert chain_problems(database) == []
        store = Store(database, "ws")
        admin = store.create_first_admin("admin", "Ada Admin", "long enough pw")
        assert store.weight_history(admin, 1)[0].weight_kg == Amount(Decimal("63.5"), "kg")
        # The sequence moved past the carried-over ids: a new measurement inserts cleanly.
        store.record_weight(admin, 1, Amount(Decimal("64"), "kg"))
        assert len(store.weight_history(admin, 1)) == 2
    finally:
        database.dispose()


def test_add_patients_is_all_or_nothing_and_dry_run_writes_nothing(
    store: Store, users: dict[Role, Actor]
) -> None:
    sam = users[Role.ASSISTANT]
    batch = [
        fields(chart_number="B-1", weight=Amount(Decimal("150"), "lb")),
        fields(chart_number="B-2"),
    ]
    n = len(events(store.database))
    checked = store.add_patients(sam, batch, labels=["f.csv:2", "f.csv:3"], dry_run=True)
    assert [p.chart_number for p in checked] == ["B-1", "B-2"]
    assert len(events(store.database)) == n and store.list_patients(sam) == []
    bad = [*batch, fields(chart_number="B-1")]
    with pytest.raises(Exception, match=r"f.csv:4 \(B-1\).*already belongs"):
        store.add_patients(sam, bad, labels=["f.csv:2", "f.csv:3", "f.csv:4"])
    assert store.list_patients(sam) == [] and count_rows(store.database, PatientWeightRow) == 0
    store.add_patients(sam, batch)
    assert len(store.list_patients(sam)) == 2
    assert count_rows(store.database, PatientWeightRow) == 1
    assert chain_problems(store.database) == [] and replay_problems(store.database) == []


def test_the_lidocaine_per_kg_limit_works_from_the_recorded_weight(
    store: Store, users: dict[Role, Actor]
) -> None:
    """No weight: the per-kg rule asks for one. Weighed in pounds: it computes from it."""
    lee = users[Role.PRACTITIONER]
    lidocaine = next(i.id for i in store.list_ingredients(lee, "lidocaine") if i.key == "lidocaine")
    p = store.create_patient(lee, fields())

    def rules(amount: str) -> list[str]:
        found = store.check_formulation(
            lee,
            patient_id=p.id,
            components=[
                ComponentSpec("Lidocaine", Amount(Decimal(amount), "mg"), ingredient_id=lidocaine)
            ],
            final_volume=Amount(Decimal("4"), "mL"),
        )
        return [f.rule for f in found]

    assert "limit.weight_missing" in rules("40")
    store.record_weight(lee, p.id, Amount(Decimal("154"), "lb"))  # 69.85 kg
    assert "limit.weight_missing" not in rules("40")
    # 4.5 mg/kg x 69.85 kg = 314 mg: 400 mg is over the limit worked out from the weight.
    over = store.check_formulation(
        lee,
        patient_id=p.id,
        components=[
            ComponentSpec("Lidocaine", Amount(Decimal("400"), "mg"), ingredient_id=lidocaine)
        ],
        final_volume=Amount(Decimal("4"), "mL"),
    )
    assert any("recorded weight" in f.message for f in over), [f.message for f in over]
