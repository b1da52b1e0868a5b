"""A believable demo clinic, written entirely through the Store.

Everything goes through the Store's public writes (so every row has its audit
entry, every session its signature, every draw its stock movement): three accounts,
nine stock products with two lots each (one expiring within the month, one
quarantined), twelve patients with their cocktails (two of them raised to a second
version after the fourth session), a course each and sixty signed sessions, with
density and shaft-diameter measurements at baseline and at follow-ups. Each of the
two signers signs their sessions in one signing run (the password checked in full
once, then given again and compared for each signature), and every signature is
followed by its audit checkpoint, as in the app.

The clinic is deterministic: the same ``seed`` and ``today`` give the same records
(only the audit timestamps and the signature times differ, they are the real
clock's). Dates are relative to ``today``; every session lies in the past.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from db.auth import PasswordHashing
from db.database import Database
from db.errors import ValidationError
from db.ops.demo_data import (
    ADVERSE,
    ANAESTHESIA,
    NOTES,
    PATIENTS,
    POST_CARE,
    PRODUCTS,
    RECIPES,
    SIGNERS,
    STEP_UP,
    USERS,
    DemoPatient,
    DemoRecipe,
    DemoUser,
)
from db.store import (
    Actor,
    ComponentSpec,
    LotChoice,
    PatientFields,
    SessionDraft,
    Store,
    StrengthSpec,
)
from db.store.signing import SigningRun
from formulary.records import (
    AdverseEvent,
    Allergy,
    Condition,
    LotStatus,
    Technique,
    ZoneVolume,
)
from formulary.units.amount import Amount

#: Seed of the demo's choices (pain scores, times, notes …).
DEFAULT_SEED = 2026

#: Sessions before this many days ago drew from each product's older lot.
LOT_SWITCH_DAYS = 45

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DemoReport:
    """What the demo builder wrote."""

    users: tuple[DemoUser, ...]
    patients: int
    products: int
    lots: int
    formulations: int
    courses: int
    sessions: int
    outcomes: int
    seconds: float


@dataclass
class Stock:
    """Products and lots by demo key, for choosing what a session draws from."""

    product_ids: dict[str, int]
    lots: dict[str, list[tuple[int, str, date]]]  # product key -> (lot id, number, expiry)

    def lot_for(self, product: str, day: date, today: date) -> int:
        usable = [lot for lot in self.lots[product] if lot[2] >= day]
        older_first = sorted(usable, key=lambda lot: lot[2])
        if day < today - timedelta(days=LOT_SWITCH_DAYS) or len(older_first) == 1:
            return older_first[0][0]
        return older_first[1][0]


def build_demo(
    database: Database,
    *,
    today: date | None = None,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
    passwords: PasswordHashing | None = None,
) -> DemoReport:
    """Fill a new, empty database with the demo clinic; returns what was written.

    Refused (:class:`~db.errors.Conflict`) once the database has any account.
    ``today`` defaults to the current UTC date and may not lie in the future.
    ``passwords`` is where the accounts' argon2 work is done: by default when asked;
    a :class:`~db.auth_ahead.PasswordsAhead` made from
    :func:`~db.ops.demo_data.password_steps` has it started ahead on another core.
    """
    started = time.perf_counter()
    real_today = datetime.now(UTC).date()
    day0 = today or real_today
    if day0 > real_today:
        raise ValidationError(
            f"the demo's today ({day0.isoformat()}) is after the real date; sessions cannot "
            "be signed in the future"
        )
    say = progress or (lambda _message: None)
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    store = Store(database, workstation="demo-builder", passwords=passwords)

    say("accounts")
    actors = create_accounts(store)
    admin, doctor, nurse = actors["admin"], actors["dr.okafor"], actors["nurse.lind"]
    password_of = {u.username: u.password for u in USERS}

    say("stock")
    ingredients = {i.key: i.id for i in store.list_ingredients(admin)}
    missing = sorted({s.ingredient_key for p in PRODUCTS for s in p.strengths} - set(ingredients))
    if missing:
        raise ValidationError(
            f"the ingredient library lacks {', '.join(missing)}; this build cannot make the demo"
        )
    stock = receive_stock(store, admin, nurse, ingredients, day0)

    runs = SigningRuns(store, password_of)
    counts = {"formulations": 0, "courses": 0, "sessions": 0, "outcomes": 0}
    # Every patient signs the clinic's consent form (the one a new database starts with).
    consent_template = store.consent_templates(doctor)[0].id
    for number, spec in enumerate(PATIENTS, start=1):
        say(f"patient {number} of {len(PATIENTS)}")
        _patient(store, spec, admin, doctor, nurse, password_of, runs, stock, ingredients, day0,
                 rng, counts, consent_template)
    for name in SIGNERS:
        runs.end(actors[name])

    return DemoReport(
        users=USERS,
        patients=len(PATIENTS),
        products=len(PRODUCTS),
        lots=sum(len(p.lots) for p in PRODUCTS),
        formulations=counts["formulations"],
        courses=counts["courses"],
        sessions=counts["sessions"],
        outcomes=counts["outcomes"],
        seconds=time.perf_counter() - started,
    )


class SigningRuns:
    """Each of the demo's signers signs a series of sessions (and the doctor witnesses the
    consents) in one continuous signing run, begun at their first signature: that one
    checks the password in full, the others give it again and have it compared with it
    (Store.begin_signing_run; 21 CFR 11.200(a)(1)(i)).
    """

    def __init__(self, store: Store, passwords: dict[str, str]) -> None:
        self._store = store
        self._passwords = passwords
        self._runs: dict[str, SigningRun] = {}

    def of(self, signer: Actor) -> SigningRun:
        """``signer``'s run, begun now if this is their first signature."""
        if signer.username not in self._runs:
            self._runs[signer.username] = self._store.begin_signing_run(
                signer, self._passwords[signer.username]
            )
        return self._runs[signer.username]

    def end(self, signer: Actor) -> None:
        """End ``signer``'s run, if they began one."""
        run = self._runs.pop(signer.username, None)
        if run is not None:
            self._store.end_signing_run(signer, run)


def create_accounts(store: Store) -> dict[str, Actor]:
    """The demo's three accounts, signed in (the first is the first administrator)."""
    first, *others = USERS
    admin = store.create_first_admin(first.username, first.full_name, first.password)
    for user in others:
        store.create_user(admin, user.username, user.full_name, user.role, user.password)
    # The administrator is the Actor that creating the account returned; the others sign in.
    return {first.username: admin} | {
        u.username: store.authenticate(u.username, u.password) for u in others
    }


def receive_stock(
    store: Store,
    admin: Actor,
    nurse: Actor,
    ingredients: dict[str, int],
    today: date,
    extra_ml: dict[str, Decimal] | None = None,
) -> Stock:
    """Create the demo's products and receive their lots (``extra_ml`` more per lot number).

    Returns the product ids and the usable lots; the quarantined lot is left out.
    """
    extra = extra_ml or {}
    product_ids: dict[str, int] = {}
    lots: dict[str, list[tuple[int, str, date]]] = {}
    for product in PRODUCTS:
        volume = Amount(Decimal(product.volume_ml), "mL")
        made = store.create_product(
            admin,
            name=product.name,
            manufacturer=product.manufacturer,
            volume_per_unit=volume,
            ingredients=[
                StrengthSpec(ingredients[s.ingredient_key], Amount(Decimal(s.value), s.unit),
                             s.form)
                for s in product.strengths
            ],
        )
        product_ids[product.key] = made.id
        lots[product.key] = []
        for lot in product.lots:
            expiry = today + timedelta(days=lot.expires_in_days)
            received = store.receive_lot(
                nurse,
                product_id=made.id,
                lot_number=lot.number,
                expiry=expiry,
                quantity=Amount(volume.value * lot.units + extra.get(lot.number, Decimal(0)),
                                "mL"),
            )
            if lot.quarantine_reason:
                store.set_lot_status(admin, received.id, LotStatus.QUARANTINED,
                                     lot.quarantine_reason)
            else:
                lots[product.key].append((received.id, lot.number, expiry))
    return Stock(product_ids, lots)


def _components(recipe: DemoRecipe, stock: Stock) -> list[ComponentSpec]:
    names = {p.key: p.name for p in PRODUCTS}
    return [
        ComponentSpec(names[key], Amount(Decimal(ml), "mL"), product_id=stock.product_ids[key])
        for key, ml in recipe.components
    ]


def _total(recipe: DemoRecipe) -> Decimal:
    return sum((Decimal(ml) for _, ml in recipe.components), Decimal(0))


#: The volume the demo's practitioners give into one injection point (wheal).
VOLUME_PER_POINT = Decimal("0.05")


def points_for(volume: Decimal) -> int:
    """Injection points for ``volume`` mL at about :data:`VOLUME_PER_POINT` each."""
    return max(1, int((volume / VOLUME_PER_POINT).to_integral_value()))


def split_volume(total: Decimal, shares: tuple[int, ...]) -> list[Decimal]:
    """``total`` mL split by ``shares`` into 0.05 mL steps that add up exactly."""
    step = Decimal("0.05")
    whole = sum(shares)
    parts = [
        (total * share / whole / step).quantize(Decimal(1), rounding=ROUND_DOWN) * step
        for share in shares
    ]
    parts[-1] += total - sum(parts, Decimal(0))
    return [p.normalize() if p != p.to_integral() else p.quantize(Decimal(1)) for p in parts]


def _patient(
    store: Store,
    spec: DemoPatient,
    admin: Actor,
    doctor: Actor,
    nurse: Actor,
    passwords: dict[str, str],
    runs: SigningRuns,
    stock: Stock,
    ingredients: dict[str, int],
    today: date,
    rng: random.Random,
    counts: dict[str, int],
    consent_template: int,
) -> None:
    first_day = today - timedelta(days=(spec.sessions - 1) * spec.interval_days + rng.randint(2, 9))
    consent = first_day - timedelta(days=rng.randint(7, 20))
    patient = store.create_patient(
        nurse,
        PatientFields(
            chart_number=spec.chart,
            family_name=spec.family,
            given_name=spec.given,
            date_of_birth=spec.born,
            sex=spec.sex,
            diagnosis=spec.diagnosis,
            grade_scale=spec.scale,
            grade=spec.grade,
            weight=Amount(Decimal(spec.weight_kg), "kg"),
            allergies=tuple(
                Allergy(substance, ingredients.get(key) if key else None, reaction)
                for substance, key, reaction in spec.allergies
            ),
            conditions=tuple(Condition(code, text) for code, text in spec.conditions),
            consent_on_file=True,
            consent_date=consent,
        ),
    )
    recipe = RECIPES[spec.recipe]
    version = store.save_formulation(
        doctor,
        patient_id=patient.id,
        name=recipe.name,
        components=_components(recipe, stock),
        final_volume=Amount(_total(recipe), "mL"),
        note="Prescribed at the initial consultation.",
    )
    counts["formulations"] += 1
    course = store.start_course(
        doctor,
        patient_id=patient.id,
        name=f"Induction: {spec.planned} sessions every {spec.interval_days} days",
        planned_sessions=spec.planned,
        interval_days=spec.interval_days,
        start_date=first_day,
        formulation_id=version.formulation_id,
    )
    counts["courses"] += 1
    # The patient signs the clinic's consent for the course, the doctor witnessing.
    store.sign_consent(doctor, patient_id=patient.id, template_id=consent_template,
                       typed_name=f"{spec.given} {spec.family}",
                       password=passwords[doctor.username], course_id=course.id,
                       run=runs.of(doctor))
    baseline_density = Decimal(rng.randint(105, 165))
    baseline_diameter = Decimal(rng.randint(52, 68))
    measure_zone = spec.zones[-1][0] if spec.sex.value == "male" else spec.zones[1][0]
    for number in range(1, spec.sessions + 1):
        if spec.step_up_after and number == spec.step_up_after + 1:
            recipe = STEP_UP[spec.recipe]
            version = store.save_formulation(
                doctor,
                patient_id=patient.id,
                name=recipe.name,
                components=_components(recipe, stock),
                final_volume=Amount(_total(recipe), "mL"),
                note=f"Raised after the review at session {spec.step_up_after}.",
                formulation_id=version.formulation_id,
            )
        day = first_day + timedelta(days=(number - 1) * spec.interval_days)
        at = datetime(day.year, day.month, day.day, rng.choice((8, 9, 10, 13, 14, 15)),
                      rng.choice((0, 15, 30, 45)), tzinfo=UTC)
        total = _total(recipe)
        volumes = split_volume(total, tuple(share for _, share in spec.zones))
        adverse: tuple[AdverseEvent, ...] = ()
        if rng.random() < 0.15:
            kind, severity, text = ADVERSE[rng.randrange(len(ADVERSE))]
            adverse = (AdverseEvent(kind, severity, text),)
        anaesthesia = (
            "lidocaine 2 % in the cocktail (0.2 mL)" if spec.recipe == "dut_lido"
            else ANAESTHESIA[rng.randrange(len(ANAESTHESIA))]
        )
        draft = store.save_session_draft(
            nurse,
            SessionDraft(
                patient_id=patient.id,
                formulation_version_id=version.id,
                performed_at=at,
                course_id=course.id,
                session_number=number,
                technique=spec.technique,
                needle_gauge=30,
                needle_length=Amount(Decimal("4"), "mm"),
                depth=Amount(Decimal("2") if spec.technique is Technique.POINT_BY_POINT
                             else Decimal("1.5"), "mm"),
                total_volume=Amount(total, "mL"),
                zones=tuple(
                    ZoneVolume(zone, Amount(volume, "mL"), points_for(volume))
                    for (zone, _), volume in zip(spec.zones, volumes, strict=True)
                ),
                lots=tuple(
                    LotChoice(position, stock.lot_for(key, day, today))
                    for position, (key, _) in enumerate(recipe.components, start=1)
                ),
                anaesthesia=anaesthesia,
                pain_score=rng.randint(1, 5),
                adverse_events=adverse,
                post_care=POST_CARE,
                notes=NOTES[rng.randrange(len(NOTES))],
            ),
        )
        signer = doctor if number % 3 else admin
        # The demo's practitioners acknowledge the warnings a real clinic meets (a lot
        # expiring before the course ends); they are recorded with the session.
        store.sign_session(signer, draft.id, passwords[signer.username], acknowledge=True,
                           run=runs.of(signer))
        counts["sessions"] += 1
        if number == 1 or number % 4 == 0 or number == spec.sessions:
            gain = Decimal(number - 1) * Decimal(rng.choice(("1.5", "2", "2.5", "3")))
            store.record_outcome(
                nurse,
                patient_id=patient.id,
                measured_at=at + timedelta(minutes=-20),
                density=Amount(baseline_density + gain.quantize(Decimal(1)), "hairs/cm2"),
                shaft_diameter=Amount(
                    baseline_diameter + (gain / 4).quantize(Decimal("0.1")), "micrometre"
                ),
                scale_grade=spec.grade,
                zone=measure_zone,
                photo_refs=(f"photos/{spec.chart}/{day.isoformat()}-{measure_zone.value}.jpg",),
                notes="Trichoscopy, tattoo-marked fixed field of 0.9 cm2."
                if number == 1 else "Same tattoo-marked field as at baseline.",
                session_id=draft.id,
            )
            counts["outcomes"] += 1
