"""A synthetic clinic of N patients (about ten signed sessions each), for benchmarks.

Accounts, products and lots go through the Store as in the demo. The patients,
their cocktails, courses, sessions, lot draws and outcomes are generated and written
with :class:`db.ops.bulk.BulkWriter`: batches of patients per transaction, each row with
its own audit entry holding the complete row image, the hash chain computed in
Python, every session signed with the Store's own signature recipe
(:func:`db.store.signing.signed_content` and ``signature_hash``, under the current
signed-content definition) so that
``verify_signatures`` and ``formulary audit verify`` accept them. The stock drawn is
booked against the lots at the end (one audited ``lot.draw`` update per lot).

Deterministic for a given ``seed`` and ``today`` (apart from audit timestamps).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Protocol

import sqlalchemy as sa

from db.audit.canonical import dumps_plain, format_decimal, format_utc
from db.database import Database
from db.errors import Conflict, ValidationError
from db.ops.bulk import (
    BulkWriter,
    PreparedRows,
    bump_sequences,
    defer_indexes,
    plain_image,
    restore_indexes,
    take_append_lock,
)
from db.ops.demo import (
    DEFAULT_SEED,
    LOT_SWITCH_DAYS,
    create_accounts,
    points_for,
    receive_stock,
    split_volume,
)
from db.ops.demo_data import ADVERSE, NOTES, POST_CARE, PRODUCTS, RECIPES, USERS, DemoUser
from db.store import ADMINISTERED_BY, Store
from db.store.signing import signature_hash, signed_content
from db.store.validate import search_key
from db.tables.audit import AuditEvent
from db.tables.formulations import CourseRow, FormulationRow, FormulationVersionRow
from db.tables.outcomes import OutcomeRow
from db.tables.people import PatientRow, PatientWeightRow
from db.tables.sessions import SessionLotRow, SessionRow
from db.tables.stock import LotRow
from formulary.signed_content import CURRENT, session_content

#: Patients written per transaction.
PATIENTS_PER_BATCH = 1_000

Progress = Callable[[str], None]

_FAMILY = (
    "Abara", "Achterberg", "Adeyemi", "Albrecht", "Alvarez", "Andersson", "Aoki", "Bauer",
    "Becker", "Bianchi", "Bjork", "Blanco", "Brandt", "Castillo", "Chen", "Costa", "Dahl",
    "Dimitrov", "Dubois", "Eriksen", "Ferreira", "Fischer", "Garcia", "Gomez", "Haddad",
    "Hansen", "Horvath", "Ibrahim", "Ivanova", "Jansen", "Jensen", "Kaya", "Keller", "Kim",
    "Kowalski", "Lambert", "Larsen", "Laurent", "Lopez", "Meyer", "Moreau", "Murphy",
    "Nakamura", "Nguyen", "Novak", "O'Brien", "Okafor", "Olsen", "Papadopoulos", "Patel",
    "Pereira", "Petrov", "Quinn", "Rossi", "Santos", "Schmidt", "Silva", "Sousa", "Suzuki",
    "Tanaka", "Varga", "Vogel", "Wagner", "Walsh", "Weber", "Yilmaz", "Zielinski"
)
_MALE = (
    "Adam", "Ahmed", "Alexander", "Andrei", "Ben", "Carlos", "Daniel", "David", "Elias", "Emil",
    "Felix", "Hugo", "Ivan", "Jakub", "James", "Jonas", "Karim", "Kenji", "Leon", "Luca",
    "Lukas", "Marco", "Mateo", "Max", "Mehmet", "Noah", "Omar", "Oscar", "Paul", "Pedro",
    "Rafael", "Samuel", "Simon", "Stefan", "Thomas", "Tomas", "Victor", "Yusuf"
)
_FEMALE = (
    "Aisha", "Alice", "Amelia", "Ana", "Anna", "Beatriz", "Camille", "Chiara", "Clara", "Elena",
    "Emma", "Eva", "Fatima", "Grace", "Hana", "Ines", "Ingrid", "Julia", "Laura", "Leila",
    "Lena", "Lucia", "Maja", "Marta", "Mia", "Nadia", "Nina", "Olivia", "Paula", "Rosa", "Sara",
    "Sofia", "Yuki", "Zoe"
)
_NORWOOD = ("II", "III", "III vertex", "IV", "V", "VI")
_LUDWIG = ("I", "II", "III")
_Zones = tuple[tuple[str, int], ...]
_ZONES_M: _Zones = (("frontal", 3), ("mid_scalp", 2), ("vertex", 3))
_ZONES_F: _Zones = (("frontal", 1), ("mid_scalp", 3), ("vertex", 2), ("parietal", 2))
_ZONES_TE: _Zones = (
    ("frontal", 1), ("mid_scalp", 1), ("vertex", 1), ("parietal", 1), ("occipital", 1)
)


@dataclass(frozen=True, slots=True)
class SyntheticReport:
    """What the synthetic builder wrote, and how long it took."""

    users: tuple[DemoUser, ...]
    counts: dict[str, int]
    audit_entries: int
    seconds: float


@dataclass(frozen=True, slots=True)
class _Plan:
    """One generated patient and their care, before any id exists."""

    number: int
    sex: str
    family: str
    given: str
    born: date
    diagnosis: str
    scale: str | None
    grade: str
    weight: Decimal
    allergies: tuple[tuple[str, str], ...]
    recipe: str
    zones: tuple[tuple[str, int], ...]
    technique: str
    interval: int
    planned: int
    days: tuple[date, ...]
    hours: tuple[int, ...]
    pains: tuple[int, ...]
    adverse: tuple[int, ...]  # index into ADVERSE, or -1
    notes: tuple[int, ...]
    density: int
    diameter: int


def _plan(number: int, rng: random.Random, today: date) -> _Plan:
    roll = rng.random()
    if roll < 0.55:
        sex, recipe, zones, scale = "male", rng.choice(("dut", "dut", "mnx_b")), _ZONES_M, "norwood"
        grade, diagnosis = rng.choice(_NORWOOD), "androgenetic alopecia (male pattern)"
    elif roll < 0.9:
        sex, recipe, zones, scale = "female", "mnx_f", _ZONES_F, "ludwig"
        grade, diagnosis = rng.choice(_LUDWIG), "androgenetic alopecia (female pattern hair loss)"
    else:
        sex, recipe, zones, scale = rng.choice(("male", "female")), "te", _ZONES_TE, None
        grade, diagnosis = "", "telogen effluvium"
    given = rng.choice(_MALE if sex == "male" else _FEMALE)
    interval = 21 if recipe == "te" else 14
    planned = rng.randint(8, 12)
    done = planned if rng.random() < 0.7 else rng.randint(max(1, planned - 4), planned)
    last = today - timedelta(days=rng.randint(1, 540))
    first = last - timedelta(days=(done - 1) * interval)
    allergies: tuple[tuple[str, str], ...] = ()
    if rng.random() < 0.05:
        allergies = (("procaine", "urticaria"),)
    elif rng.random() < 0.03:
        allergies = (("cobalt", "contact dermatitis"),)
    return _Plan(
        number=number,
        sex=sex,
        family=rng.choice(_FAMILY),
        given=given,
        born=date(rng.randint(1950, 2003), rng.randint(1, 12), rng.randint(1, 28)),
        diagnosis=diagnosis,
        scale=scale,
        grade=grade,
        weight=Decimal(rng.randint(50, 105)),
        allergies=allergies,
        recipe=recipe,
        zones=zones,
        technique="point_by_point" if recipe == "te" else rng.choice(("nappage", "papule")),
        interval=interval,
        planned=planned,
        days=tuple(first + timedelta(days=k * interval) for k in range(done)),
        hours=tuple(rng.choice((8, 9, 10, 11, 13, 14, 15, 16)) for _ in range(done)),
        pains=tuple(rng.randint(1, 6) for _ in range(done)),
        adverse=tuple(rng.randrange(len(ADVERSE)) if rng.random() < 0.1 else -1
                      for _ in range(done)),
        notes=tuple(rng.randrange(len(NOTES)) for _ in range(done)),
        density=rng.randint(95, 170),
        diameter=rng.randint(50, 70),
    )


def _lot_index(day: date, today: date) -> int:
    return 0 if day < today - timedelta(days=LOT_SWITCH_DAYS) else 1


def _amount(value: Decimal, unit: str) -> dict[str, str]:
    return {"value": format_decimal(value), "unit": unit}


def build_synthetic_clinic(
    database: Database,
    patients: int,
    *,
    today: date | None = None,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> SyntheticReport:
    """Fill a new, empty database with ``patients`` generated patients; returns counts."""
    started = time.perf_counter()
    if patients < 1:
        raise ValidationError("the synthetic clinic needs at least one patient")
    real_today = datetime.now(UTC).date()
    day0 = today or real_today
    if day0 > real_today:
        raise ValidationError(
            f"the demo's today ({day0.isoformat()}) is after the real date; sessions cannot "
            "be signed in the future"
        )
    say = progress or (lambda _message: None)
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    plans = [_plan(n, rng, day0) for n in range(1, patients + 1)]

    # Lots big enough for every draw: received through the Store like any delivery.
    drawn: dict[str, Decimal] = defaultdict(Decimal)
    lot_numbers = {p.key: [lot.number for lot in p.lots if not lot.quarantine_reason]
                   for p in PRODUCTS}
    for plan in plans:
        for day in plan.days:
            for key, ml in RECIPES[plan.recipe].components:
                drawn[lot_numbers[key][_lot_index(day, day0)]] += Decimal(ml)

    say("accounts and stock")
    store = Store(database, workstation="demo-builder")
    actors = create_accounts(store)
    admin, doctor, nurse = actors["admin"], actors["dr.okafor"], actors["nurse.lind"]
    ingredients = {i.key: i.id for i in store.list_ingredients(admin)}
    missing = sorted({s.ingredient_key for p in PRODUCTS for s in p.strengths} - set(ingredients))
    if missing:
        raise ValidationError(
            f"the ingredient library lacks {', '.join(missing)}; this build cannot make the demo"
        )
    stock = receive_stock(store, admin, nurse, ingredients, day0, extra_ml=dict(drawn))
    lot_ids = {number: lot_id for lots in stock.lots.values() for lot_id, number, _ in lots}
    names = {p.key: p.name for p in PRODUCTS}
    signers = ((doctor.id, doctor.full_name), (admin.id, admin.full_name))

    counts: dict[str, int] = defaultdict(int)
    signature = _Signer()
    entries = 0
    reason = f"synthetic demo clinic (formulary init --demo --patients {patients}, seed {seed})"
    context = _Context(stock.product_ids, lot_ids, names, lot_numbers, signers, doctor.id, day0,
                       nurse.username, store.workstation, reason, database.dialect)
    workers = _workers(database, patients)
    if workers > 1:
        entries += _write_in_parallel(database, plans, context, workers, counts, say)
    for start in range(0, len(plans) if workers <= 1 else 0, PATIENTS_PER_BATCH):
        batch = plans[start : start + PATIENTS_PER_BATCH]
        say(f"patients {start + 1}-{start + len(batch)} of {len(plans)}")
        with database.engine.begin() as connection:
            take_append_lock(connection)
            writer = BulkWriter(connection, db_id=database.db_id, user=nurse.username,
                                workstation=store.workstation, now=datetime.now(UTC),
                                reason=reason)
            ids = _next_ids(connection)
            for plan in batch:
                _write_patient(writer, writer.now, plan, ids, counts, stock.product_ids,
                               lot_ids, names, lot_numbers, signers, doctor.id, day0, signature)
            writer.flush(_ORDER)
            bump_sequences(connection, [_table(m) for m in _MODELS])
            entries += writer.entries_written

    say("stock drawn")
    with database.engine.begin() as connection:
        take_append_lock(connection)
        writer = BulkWriter(connection, db_id=database.db_id, user=admin.username,
                            workstation=store.workstation, now=datetime.now(UTC), reason=reason)
        table = _table(LotRow)
        for row in connection.execute(sa.select(table)).mappings():
            used = drawn.get(row["lot_number"])
            if used:
                before = dict(row)
                after = {**before, "quantity_value": before["quantity_value"] - used,
                         "updated_at": writer.now}
                writer.update(table, before, after, "lot.draw")
        writer.flush()
        entries += writer.entries_written

    if database.dialect == "postgresql":
        # Fresh statistics for the planner: without them, until autovacuum gets round to
        # it, PostgreSQL plans the patient search as if the tables were empty (a full
        # scan where the name or trigram index answers in milliseconds). VACUUM too:
        # it marks the loaded pages all-visible, without which the list's index-only
        # reads (migration 0012) go to the table for every entry. The audit trail,
        # the largest table by far and read in order, gets its statistics only.
        say("statistics")
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for model in _MODELS:
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {_table(model).name}")  # our names
            conn.exec_driver_sql("ANALYZE audit_event")

    return SyntheticReport(
        users=USERS,
        counts={"patients": counts["patient"], "products": len(PRODUCTS),
                "lots": sum(len(p.lots) for p in PRODUCTS), "formulations":
                counts["formulation"], "courses": counts["course"],
                "signed_sessions": counts["treatment_session"], "outcomes": counts["outcome"]},
        audit_entries=entries,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True, slots=True)
class _Context:
    """What every batch needs besides its patients (plain and picklable)."""

    product_ids: dict[str, int]
    lot_ids: dict[str, int]
    names: dict[str, str]
    lot_numbers: dict[str, list[str]]
    signers: tuple[tuple[int, str], ...]
    prescriber: int
    today: date
    user: str
    workstation: str
    reason: str
    dialect: str


def _workers(database: Database, patients: int) -> int:
    """Worker processes for generating rows: a clinic big enough to pay for them."""
    if patients < 2 * PATIENTS_PER_BATCH:
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def _rows_of(plan: _Plan) -> dict[str, int]:
    """How many rows of each table :func:`_write_patient` writes for ``plan``."""
    sessions = len(plan.days)
    return {
        "patient": 1, "patient_weight": 1, "formulation": 1, "formulation_version": 1, "course": 1,
        "treatment_session": sessions,
        "session_lot": sessions * len(RECIPES[plan.recipe].components),
        "outcome": 2 if sessions > 1 else 1,
    }


def _prepare(plans: list[_Plan], ids: dict[str, int], context: _Context,
             now: datetime) -> tuple[PreparedRows, dict[str, int]]:
    """Worker: one batch of patients as stored rows and audit entries (no chain yet)."""
    sink = PreparedRows(format_utc(now), context.user, context.workstation, context.reason,
                        dialect=context.dialect)
    counts: dict[str, int] = defaultdict(int)
    signer = _Signer()
    for plan in plans:
        _write_patient(sink, now, plan, ids, counts, context.product_ids, context.lot_ids,
                       context.names, context.lot_numbers, context.signers, context.prescriber,
                       context.today, signer)
    sink.seal()
    return sink, dict(counts)


def _write_in_parallel(
    database: Database, plans: list[_Plan], context: _Context, workers: int,
    counts: dict[str, int], say: Progress,
) -> int:
    """Worker processes build the rows of each batch; this process chains and writes them.

    Ids are handed out up front (every plan's row counts are known), so batches are
    built independently and written in order. On SQLite each batch is a transaction
    of its own, and each checks that nobody else inserted rows meanwhile. On
    PostgreSQL the whole load is one transaction holding the append lock: the
    secondary indexes and the unique and foreign-key constraints of the loaded tables
    are dropped first and rebuilt (and so checked again) once every row is in
    (:func:`db.ops.bulk.defer_indexes`), all or nothing.
    """
    with database.engine.connect() as connection:
        ids = _next_ids(connection)
    batches = []
    for start in range(0, len(plans), PATIENTS_PER_BATCH):
        batch = plans[start : start + PATIENTS_PER_BATCH]
        batches.append((batch, dict(ids)))
        for plan in batch:
            for name, n in _rows_of(plan).items():
                ids[name] += n
    tables = {_table(m).name: _table(m) for m in _MODELS}
    now = datetime.now(UTC)

    def write(connection: sa.Connection, prepared: PreparedRows) -> int:
        writer = BulkWriter(connection, db_id=database.db_id, user=context.user,
                            workstation=context.workstation, now=now, reason=context.reason)
        writer.add_prepared(tables, prepared)
        writer.flush(_ORDER)
        return writer.entries_written

    def check(connection: sa.Connection, expected: dict[str, int]) -> None:
        if _next_ids(connection) != expected:
            raise Conflict(
                "another program wrote to the database while the synthetic clinic was "
                "being built; build it in a new database"
            )

    entries = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[tuple[PreparedRows, dict[str, int]]]] = deque()
        queued = iter(batches)
        for batch, first in itertools.islice(queued, workers + 1):
            pending.append(pool.submit(_prepare, batch, first, context, now))

        def results() -> Iterator[tuple[int, PreparedRows]]:
            done = 0
            while pending:
                prepared, batch_counts = pending.popleft().result()
                following = next(queued, None)
                if following is not None:
                    pending.append(
                        pool.submit(_prepare, following[0], following[1], context, now))
                for name, n in batch_counts.items():
                    counts[name] += n
                yield done, prepared
                done += 1
                say(f"patients up to {min(done * PATIENTS_PER_BATCH, len(plans))} of "
                    f"{len(plans)}")

        if database.dialect != "postgresql":
            for done, prepared in results():
                with database.engine.begin() as connection:
                    take_append_lock(connection)
                    check(connection, batches[done][1])
                    entries += write(connection, prepared)
            return entries
        with database.engine.begin() as connection:
            take_append_lock(connection)
            check(connection, batches[0][1])
            restore = defer_indexes(connection, [*tables.values(), _table(AuditEvent)])
            for _done, prepared in results():
                entries += write(connection, prepared)
            say("indexes and constraints")
            restore_indexes(connection, restore)
            bump_sequences(connection, tables.values())
    return entries


def _table(model: Any) -> sa.Table:
    table: sa.Table = model.__table__
    return table


_MODELS = (PatientRow, PatientWeightRow, FormulationRow, FormulationVersionRow, CourseRow,
           SessionRow, SessionLotRow, OutcomeRow)
_ORDER = [_table(m).name for m in _MODELS]


def _next_ids(connection: sa.Connection) -> dict[str, int]:
    out = {}
    for model in _MODELS:
        table = _table(model)
        out[table.name] = int(connection.execute(
            sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()) + 1
    return out


def _take(ids: dict[str, int], table: sa.Table) -> int:
    value = ids[table.name]
    ids[table.name] = value + 1
    return value


class _Sink(Protocol):
    def insert_plain(
        self, table: sa.Table, values: Mapping[str, Any], action: str, after_json: str,
        image: Mapping[str, Any] | None = None,
    ) -> None: ...


def _add(writer: _Sink, model: Any, values: dict[str, Any], action: str,
         counts: dict[str, int], plain: dict[str, Any] | None = None) -> None:
    table = _table(model)
    image = plain if plain is not None else plain_image(table, values)
    writer.insert_plain(table, values, action, dumps_plain(image), image)
    counts[table.name] += 1


class _Signer:
    """The Store's session signature, computed on plain values (no generic converter).

    The first signature of a run is also computed with the Store's own functions and
    must agree, so a change to the Store's recipe can never go unnoticed here.
    """

    def __init__(self) -> None:
        self.checked = False

    def sign(self, plain: dict[str, Any], row: dict[str, Any], version: dict[str, Any],
             version_plain: dict[str, Any], signer: str, signed_at: datetime) -> str:
        payload = {
            "content": session_content(plain, version_plain, CURRENT),
            "signer": signer,
            "signed_at": format_utc(signed_at),
            "meaning": ADMINISTERED_BY,
        }
        digest = hashlib.sha256(dumps_plain(payload).encode("utf-8")).hexdigest()
        if not self.checked:
            table = _table(SessionRow)
            content = signed_content(
                SimpleNamespace(__table__=table, **row),  # type: ignore[arg-type]
                SimpleNamespace(**version),  # type: ignore[arg-type]
                CURRENT,
            )
            if signature_hash(content, signer, signed_at, ADMINISTERED_BY) != digest:
                raise AssertionError("the bulk signature no longer matches the Store's recipe")
            self.checked = True
        return digest


def _write_patient(
    writer: _Sink,
    now: datetime,
    plan: _Plan,
    ids: dict[str, int],
    counts: dict[str, int],
    product_ids: dict[str, int],
    lot_ids: dict[str, int],
    names: dict[str, str],
    lot_numbers: dict[str, list[str]],
    signers: tuple[tuple[int, str], ...],
    prescriber: int,
    today: date,
    signer: _Signer,
) -> None:
    chart = f"SY-{plan.number:06d}"
    patient_id = _take(ids, _table(PatientRow))
    consent = plan.days[0] - timedelta(days=14)
    _add(writer, PatientRow, {
        "id": patient_id, "chart_number": chart, "family_name": plan.family,
        "given_name": plan.given, "family_key": search_key(plan.family),
        "given_key": search_key(plan.given), "search_key": search_key(plan.family, plan.given,
                                                                     chart),
        "date_of_birth": plan.born, "sex": plan.sex, "diagnosis": plan.diagnosis,
        "grade_scale": plan.scale, "grade": plan.grade, "weight_value": plan.weight,
        "weight_unit": "kg", "height_value": None, "height_unit": None,
        "allergies": [{"substance": s, "ingredient_id": None, "reaction": r}
                      for s, r in plan.allergies],
        "conditions": [], "consent_on_file": True, "consent_date": consent,
        "created_at": now, "updated_at": now, "deleted_at": None,
    }, "patient.create", counts)
    # The chart's weight is the first entry of its weight history, as the Store keeps it.
    _add(writer, PatientWeightRow, {
        "id": _take(ids, _table(PatientWeightRow)), "patient_id": patient_id,
        "measured_on": consent, "weight_value": plan.weight, "weight_unit": "kg",
        "entered_value": plan.weight, "entered_unit": "kg", "recorded_at": now,
        "recorded_by": "demo",
    }, "patient.weight_record", counts)

    recipe = RECIPES[plan.recipe]
    total = sum((Decimal(ml) for _, ml in recipe.components), Decimal(0))
    formulation_id = _take(ids, _table(FormulationRow))
    _add(writer, FormulationRow, {
        "id": formulation_id, "patient_id": patient_id, "name": recipe.name,
        "current_version": 1, "created_at": now, "updated_at": now, "deleted_at": None,
    }, "formulation.create", counts)
    components = [
        {"position": pos, "name": names[key], "amount": _amount(Decimal(ml), "mL"),
         "product_id": product_ids[key], "ingredient_id": None}
        for pos, (key, ml) in enumerate(recipe.components, start=1)
    ]
    version = {
        "id": _take(ids, _table(FormulationVersionRow)), "formulation_id": formulation_id,
        "version": 1, "final_volume_value": total, "final_volume_unit": "mL",
        "components": components, "note": "", "locked": True, "created_at": now,
        "created_by_id": prescriber, "overrides": [],
    }
    _add(writer, FormulationVersionRow, version, "formulation_version.create", counts)
    version_plain = {
        "id": version["id"], "formulation_id": formulation_id, "version": 1,
        "components": components, "final_volume_value": format_decimal(total),
        "final_volume_unit": "mL",
    }

    course_id = _take(ids, _table(CourseRow))
    _add(writer, CourseRow, {
        "id": course_id, "patient_id": patient_id, "formulation_id": formulation_id,
        "name": f"Induction: {plan.planned} sessions every {plan.interval} days",
        "planned_sessions": plan.planned, "interval_days": plan.interval,
        "start_date": plan.days[0], "created_at": now,
    }, "course.create", counts)

    volumes = split_volume(total, tuple(share for _, share in plan.zones))
    zones = [{"zone": zone, "volume": _amount(volume, "mL")}
             for (zone, _), volume in zip(plan.zones, volumes, strict=True)]
    points = [{"zone": zone, "points": points_for(volume)}
              for (zone, _), volume in zip(plan.zones, volumes, strict=True)]
    depth = Decimal("2") if plan.technique == "point_by_point" else Decimal("1.5")
    session_table = _table(SessionRow)
    last = len(plan.days)
    for k, day in enumerate(plan.days):
        performed = datetime(day.year, day.month, day.day, plan.hours[k], 0, tzinfo=UTC)
        signed_at = performed + timedelta(minutes=25)
        signer_id, signer_name = signers[1 if k % 3 == 2 else 0]
        session_id = _take(ids, session_table)
        index = _lot_index(day, today)
        draws = [
            (pos, lot_ids[lot_numbers[key][index]], Decimal(ml))
            for pos, (key, ml) in enumerate(recipe.components, start=1)
        ]
        adverse = [] if plan.adverse[k] < 0 else [
            dict(zip(("kind", "severity", "description"), ADVERSE[plan.adverse[k]], strict=True))
        ]
        row: dict[str, Any] = {
            "id": session_id, "patient_id": patient_id,
            "formulation_version_id": version["id"], "course_id": course_id,
            "session_number": k + 1, "performed_at": performed, "status": "signed",
            "technique": plan.technique, "needle_gauge": 30,
            "needle_length_value": Decimal("4"), "needle_length_unit": "mm",
            "depth_value": depth, "depth_unit": "mm",
            "total_volume_value": total, "total_volume_unit": "mL",
            "zones": zones, "injection_points": points,
            "lots": [{"component_position": p, "lot_id": lot, "drawn": _amount(ml, "mL")}
                     for p, lot, ml in draws],
            "anaesthesia": "none", "pain_score": plan.pains[k], "adverse_events": adverse,
            "post_care": POST_CARE, "notes": NOTES[plan.notes[k]], "overrides": [],
            "created_at": performed - timedelta(minutes=15), "created_by_id": prescriber,
            "updated_at": signed_at, "signed_by_id": signer_id, "signer_name": signer_name,
            "signed_at": signed_at, "signature_meaning": ADMINISTERED_BY,
            "content_hash": None, "signed_content_version": CURRENT.number,
            "deleted_at": None,
        }
        plain = plain_image(session_table, row)
        digest = signer.sign(plain, row, version, version_plain, signer_name, signed_at)
        row["content_hash"] = plain["content_hash"] = digest
        _add(writer, SessionRow, row, "session.sign", counts, plain)
        for pos, lot, ml in draws:
            _add(writer, SessionLotRow, {
                "id": _take(ids, _table(SessionLotRow)), "session_id": session_id,
                "component_position": pos, "lot_id": lot, "drawn_value": ml, "drawn_unit": "mL",
            }, "session_lot.draw", counts)
        if k == 0 or k + 1 == last:
            gain = Decimal(k) * Decimal("2")
            _add(writer, OutcomeRow, {
                "id": _take(ids, _table(OutcomeRow)), "patient_id": patient_id,
                "session_id": session_id, "measured_at": performed - timedelta(minutes=20),
                "density_value": Decimal(plan.density) + gain, "density_unit": "hairs/cm2",
                "diameter_value": Decimal(plan.diameter) + gain / 4, "diameter_unit": "micrometre",
                "scale_grade": plan.grade, "zone": plan.zones[-1][0], "photo_refs": [],
                "notes": "Trichoscopy, fixed field.", "created_at": now,
                "created_by_id": prescriber, "deleted_at": None,
            }, "outcome.create", counts)
