"""Checks shared by the storage tests: chain verification and audit replay."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from db.audit.canonical import canonical_json
from db.audit.verify import verify_chain
from db.database import Database
from db.images import row_image
from db.store import (
    Actor,
    ComponentSpec,
    IngredientFields,
    LotChoice,
    PatientFields,
    SessionDraft,
    Store,
    StrengthSpec,
)
from db.tables.audit import AuditEvent
from db.tables.formulations import CourseRow, FormulationRow, FormulationVersionRow
from db.tables.installation import InstallationRow
from db.tables.outcomes import OutcomeRow
from db.tables.people import PatientRow, PatientWeightRow, UserRow
from db.tables.sessions import AddendumRow, SessionLotRow, SessionRow
from db.tables.stock import IngredientRow, LotRow, ProductRow
from formulary.records import ScalpZone, Sex, Technique, ZoneVolume
from formulary.units.amount import Amount
from tests.consent_helpers import sign_consent

#: Every table whose rows the Store writes (and the audit trail must account for).
AUDITED: tuple[type[SQLModel], ...] = (
    InstallationRow,
    UserRow,
    PatientRow,
    PatientWeightRow,
    IngredientRow,
    ProductRow,
    LotRow,
    FormulationRow,
    FormulationVersionRow,
    CourseRow,
    SessionRow,
    SessionLotRow,
    AddendumRow,
    OutcomeRow,
)


def ml(text: str) -> Amount:
    """An amount in mL."""
    return Amount(Decimal(text), "mL")


def events(database: Database) -> list[AuditEvent]:
    """Every audit event, in order."""
    with Session(database.engine) as db:
        return list(db.exec(select(AuditEvent).order_by(AuditEvent.seq)).all())  # type: ignore[arg-type]


def chain_problems(database: Database) -> list[str]:
    """The audit chain verified by ``db.audit.verify``; its problem (empty when intact)."""
    with database.engine.connect() as connection:
        report = verify_chain(connection, database.db_id)
    return [] if report.ok else [str(report.problem)]


def replay_problems(database: Database) -> list[str]:
    """Differences between the tables and the audit trail's after-images replayed.

    Also checks that each row's images link up: an entry's ``before`` is the previous
    entry's ``after`` of the same row, and no entry records a change that changes
    nothing, so every change has exactly one entry.
    """
    state: dict[tuple[str, str], Any] = {}
    problems: list[str] = []
    for event in events(database):
        if event.after is None:
            continue
        key = (event.entity, str(event.entity_id))
        after = json.loads(event.after)
        before = json.loads(event.before) if event.before is not None else None
        if before != state.get(key):
            problems.append(f"seq {event.seq}: before-image of {key} is not the last after-image")
        if before == after:
            problems.append(f"seq {event.seq}: records no change")
        state[key] = after
    with Session(database.engine) as db:
        for model in AUDITED:
            table = str(model.__tablename__)
            actual = {
                (table, str(row.id)): json.loads(canonical_json(row_image(row)))  # type: ignore[attr-defined]
                for row in db.exec(select(model)).all()
            }
            expected = {k: v for k, v in state.items() if k[0] == table}
            for key in sorted(set(actual) | set(expected)):
                if actual.get(key) != expected.get(key):
                    problems.append(f"{key}: table {actual.get(key)} != replay {expected.get(key)}")
    return problems


def count_rows(database: Database, model: type[SQLModel]) -> int:
    """Rows in ``model``'s table."""
    with database.engine.connect() as connection:
        table = model.__table__  # type: ignore[attr-defined]
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


class World:
    """A small clinic: one patient, one product with a lot, one formulation."""

    def __init__(
        self, store: Store, actor: Actor, *, chart: str = "C-1", consent: bool = True,
        password: str = "correct horse battery",
    ) -> None:
        self.store = store
        self.actor = actor
        self.patient = store.create_patient(
            actor, PatientFields(chart, "Doe", "Jane", date(1980, 1, 2), Sex.FEMALE)
        )
        if consent and actor.role.value in {"admin", "practitioner"}:
            # Sessions outside a course need the patient's consent outside a course.
            sign_consent(store, actor, password, self.patient)
        self.ingredient = store.upsert_ingredient(
            actor, IngredientFields(key=f"biotin-{chart.lower()}", name="Biotin")
        )
        self.product = store.create_product(
            actor,
            # A clinic's live products have different names: a second world's is its own.
            name="Biotin 5 mg/mL" if chart == "C-1" else f"Biotin 5 mg/mL ({chart})",
            ingredients=[StrengthSpec(self.ingredient.id, Amount(Decimal("5"), "mg/mL"))],
            volume_per_unit=ml("2"),
        )
        self.lot = store.receive_lot(
            actor,
            product_id=self.product.id,
            lot_number=f"L-{chart}",
            expiry=date(2099, 1, 1),
            quantity=ml("1000"),
        )
        self.version = store.save_formulation(
            actor,
            patient_id=self.patient.id,
            name="Cocktail",
            components=[ComponentSpec("Biotin", ml("1"), product_id=self.product.id)],
            final_volume=ml("1"),
        )

    def draft(self, *, lot_id: int | None = None, total: str = "1", **changes: Any) -> SessionDraft:
        """A complete session draft drawing 1 mL from the lot, split over two zones."""
        values: dict[str, Any] = {
            "patient_id": self.patient.id,
            "formulation_version_id": self.version.id,
            "performed_at": datetime.now(UTC),
            "technique": Technique.NAPPAGE,
            "needle_gauge": 32,
            "total_volume": ml(total),
            "zones": (
                ZoneVolume(ScalpZone.VERTEX, ml("0.5")),
                ZoneVolume(ScalpZone.FRONTAL, ml("0.5")),
            ),
            "lots": (LotChoice(1, lot_id if lot_id is not None else self.lot.id),),
        }
        values.update(changes)
        return SessionDraft(**values)
