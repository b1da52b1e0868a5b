"""Signatures survive schema change: each is verified under the definition it was made under.

``fixtures/rev0001.db.gz`` is a clinic signed by the release at revision 0001 (sixty
signed sessions and two addenda, see ``fixtures/make_rev0001.py``). Migrated to head,
on SQLite and on PostgreSQL, every one of those signatures must still verify.
"""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from db import migrate
from db.database import open_database
from db.store import Actor, Store
from formulary import signed_content
from formulary.records import Role, ScalpZone, ZoneVolume

from .conftest import PASSWORD
from .helpers import World, ml

pytestmark = pytest.mark.storage

FIXTURE = Path(__file__).parent / "fixtures" / "rev0001.db.gz"
#: The fixture's practitioner (the demo clinic's, as the 0001 release built it).
FIXTURE_USER = ("dr.okafor", "okafor-demo-2026")
#: The columns a session signature itself fills at revision 0001.
SIGNATURE_COLUMNS_0001 = {
    "status",
    "signed_by_id",
    "signer_name",
    "signed_at",
    "signature_meaning",
    "content_hash",
    "updated_at",
}


def _unpack(tmp_path: Path) -> Path:
    target = tmp_path / "rev0001" / "formulary.db"
    target.parent.mkdir(mode=0o700)
    with gzip.open(FIXTURE) as source, target.open("wb") as out:
        shutil.copyfileobj(source, out)
    target.chmod(0o600)
    return target


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return migrate.current_revision(connection)


def _copy_rows(source: sa.Engine, target: sa.Engine) -> None:
    """Every clinical row of ``source`` into ``target`` (both at revision 0001), as stored."""
    have = sa.MetaData()
    have.reflect(source)
    want = sa.MetaData()
    want.reflect(target)
    skip = {"alembic_version", "installation", "audit_event"}
    with source.connect() as reading, target.begin() as writing:
        for table in have.sorted_tables:
            if table.name in skip:
                continue
            rows = [dict(r._mapping) for r in reading.execute(sa.select(table))]
            for row in rows:
                for key, value in row.items():
                    if isinstance(value, datetime) and value.tzinfo is None:
                        row[key] = value.replace(tzinfo=UTC)  # SQLite keeps UTC wall time
            if rows:
                writing.execute(want.tables[table.name].insert(), rows)


def _verify_all(store: Store) -> tuple[int, list[str]]:
    actor = store.authenticate(*FIXTURE_USER)
    with store.database.engine.connect() as connection:
        ids = [r[0] for r in connection.execute(sa.text("SELECT id FROM treatment_session"))]
    problems = [p for session_id in ids for p in store.verify_signatures(actor, session_id)]
    return len(ids), problems


def test_version_1_is_exactly_what_revision_0001_signed(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{_unpack(tmp_path)}")
    try:
        columns = {c["name"] for c in sa.inspect(engine).get_columns("treatment_session")}
        assert _revision(engine) == "0001"
    finally:
        engine.dispose()
    assert set(signed_content.V1.session_fields) == columns - SIGNATURE_COLUMNS_0001
    assert signed_content.definition(None) is signed_content.V1
    assert signed_content.CURRENT.number == max(signed_content.VERSIONS)


def test_signatures_made_at_0001_verify_after_migrating_sqlite(tmp_path: Path) -> None:
    path = _unpack(tmp_path)
    database = open_database(path)  # migrates 0001 -> head
    try:
        assert _revision(database.engine) == migrate.head_revision() != "0001"
        count, problems = _verify_all(Store(database))
        assert count == 60 and problems == []
        with database.engine.connect() as connection:
            versions = connection.execute(
                sa.text("SELECT DISTINCT signed_content_version FROM session_addendum")
            ).all()
        assert versions == [(None,)]  # two addenda, both version 1 (NULL)
    finally:
        database.dispose()


def test_signatures_made_at_0001_verify_after_migrating_postgresql(
    tmp_path: Path, pg_databases: Any
) -> None:
    if pg_databases is None:
        pytest.skip("FORMULARY_TEST_PG_URL is not set (PostgreSQL tests skipped)")
    url = pg_databases.create()
    source = sa.create_engine(f"sqlite:///{_unpack(tmp_path)}")
    target = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))
    try:
        migrate.upgrade(target, revision="0001")
        assert _revision(target) == "0001"
        _copy_rows(source, target)
    finally:
        source.dispose()
        target.dispose()
    database = open_database(url)  # migrates 0001 -> head on PostgreSQL
    try:
        assert _revision(database.engine) == migrate.head_revision()
        count, problems = _verify_all(Store(database))
        assert count == 60 and problems == []
    finally:
        database.dispose()
        pg_databases.drop(url)


def _drop_guards(store: Store) -> None:
    statements = (
        ["DROP TRIGGER signed_session_no_update", "DROP TRIGGER addendum_no_update"]
        if store.database.dialect == "sqlite"
        else [
            "DROP TRIGGER signed_session_guard ON treatment_session",
            "DROP TRIGGER addendum_guard ON session_addendum",
        ]
    )
    with store.database.engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def _sql(store: Store, statement: str, **values: Any) -> None:
    with store.database.engine.begin() as connection:
        connection.execute(sa.text(statement), values)


@pytest.fixture
def signed(store: Store, users: dict[Role, Actor]) -> tuple[Actor, int]:
    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    draft = world.draft(
        zones=(
            ZoneVolume(ScalpZone.VERTEX, ml("0.5"), 20),
            ZoneVolume(ScalpZone.FRONTAL, ml("0.5"), 25),
        )
    )
    session = store.sign_session(lee, store.save_session_draft(lee, draft).id, PASSWORD)
    store.add_addendum(lee, session.id, "no bleeding", "late entry", PASSWORD)
    return lee, session.id


def test_new_signatures_are_current_and_cover_injection_points(
    store: Store, signed: tuple[Actor, int]
) -> None:
    lee, session_id = signed
    session = store.get_session(lee, session_id)
    assert [(z.zone, z.points, z.volume_per_point) for z in session.zones] == [
        (ScalpZone.VERTEX, 20, ml("0.025")),
        (ScalpZone.FRONTAL, 25, ml("0.02")),
    ]
    with store.database.engine.connect() as connection:
        stored = connection.execute(
            sa.text(
                "SELECT s.signed_content_version, a.signed_content_version FROM "
                "treatment_session s JOIN session_addendum a ON a.session_id = s.id"
            )
        ).one()
    assert tuple(stored) == (signed_content.CURRENT.number, signed_content.CURRENT.number)
    assert "injection_points" in signed_content.CURRENT.session_fields
    assert store.verify_signatures(lee, session_id) == []


def test_changing_a_point_count_breaks_the_signature(
    store: Store, signed: tuple[Actor, int]
) -> None:
    lee, session_id = signed
    _drop_guards(store)
    _sql(
        store,
        "UPDATE treatment_session SET injection_points = :p WHERE id = :i",
        p='[{"zone": "vertex", "points": 2}, {"zone": "frontal", "points": 25}]',
        i=session_id,
    )
    assert store.get_session(lee, session_id).zones[0].points == 2
    assert store.verify_signatures(lee, session_id) == [
        f"session {session_id}: content differs from what was signed"
    ]


def test_claiming_an_older_version_does_not_hide_a_change(
    store: Store, signed: tuple[Actor, int]
) -> None:
    lee, session_id = signed
    _drop_guards(store)
    # Re-labelled as version 1, the content no longer holds the points at all: the
    # hash made under version 2 cannot match.
    _sql(store, "UPDATE treatment_session SET signed_content_version = 1 WHERE id = :i",
         i=session_id)
    _sql(store, "UPDATE session_addendum SET signed_content_version = 1")
    problems = store.verify_signatures(lee, session_id)
    assert problems[0] == f"session {session_id}: content differs from what was signed"
    assert problems[1].endswith("content differs from what was signed")


def test_an_unknown_version_is_reported_not_guessed(
    store: Store, signed: tuple[Actor, int]
) -> None:
    lee, session_id = signed
    _drop_guards(store)
    _sql(store, "UPDATE treatment_session SET signed_content_version = 99 WHERE id = :i",
         i=session_id)
    (problem,) = store.verify_signatures(lee, session_id)
    assert "signed-content version 99 is not known" in problem


def test_points_out_of_range_are_refused(
    store: Store, users: dict[Role, Actor]
) -> None:
    from db.errors import ValidationError

    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    for points in (0, 501):
        draft = world.draft(
            zones=(
                ZoneVolume(ScalpZone.VERTEX, ml("0.5"), points),
                ZoneVolume(ScalpZone.FRONTAL, ml("0.5")),
            )
        )
        with pytest.raises(ValidationError, match="injection points in the vertex zone"):
            store.save_session_draft(lee, draft)


@pytest.mark.parametrize(("points", "blocked"), [(2, False), (1, True)])
def test_the_library_per_wheal_limit_is_checked_through_the_store(
    store: Store, users: dict[Role, Actor], points: int, blocked: bool
) -> None:
    """Procaine 2 % (20 mg/mL): 1 mL in 2 points is 10 mg a wheal (at the limit)."""
    from decimal import Decimal

    from db.store import ComponentSpec, LotChoice, StrengthSpec
    from formulary.units.amount import Amount

    lee = users[Role.PRACTITIONER]
    world = World(store, lee)
    procaine = next(i for i in store.list_ingredients(lee) if i.key == "procaine")
    product = store.create_product(
        lee, name="Procaine 2%",
        ingredients=[StrengthSpec(procaine.id, Amount(Decimal(20), "mg/mL"))],
        volume_per_unit=ml("2"),
    )
    lot = store.receive_lot(lee, product_id=product.id, lot_number="PRC-1",
                            expiry=world.lot.expiry, quantity=ml("100"))
    version = store.save_formulation(
        lee, patient_id=world.patient.id, name="Procaine",
        components=[ComponentSpec("Procaine 2%", ml("1"), product_id=product.id)],
        final_volume=ml("1"), acknowledge=True,
    )
    draft = world.draft(
        formulation_version_id=version.id,
        lots=(LotChoice(1, lot.id),),
        zones=(ZoneVolume(ScalpZone.VERTEX, ml("1"), points),),
    )
    rules = [f.rule for f in store.check_session_draft(lee, draft)]
    assert ("limit.wheal" in rules) is blocked
    assert "limit.wheal_unchecked" not in rules
