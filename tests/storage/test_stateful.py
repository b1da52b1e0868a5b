"""Random sequences of Store calls keep the audit trail complete and the chain intact.

After every step: the chain verifies; every row change has exactly one audit entry
(each entry's before-image is the previous after-image of that row, and no entry
records a non-change); replaying the after-images reproduces every table exactly.
A call the Store refuses writes nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from db.database import open_database
from db.errors import AuthenticationFailed, StoreError
from db.store import ComponentSpec, LotChoice, PatientFields, SessionDraft, Store
from formulary.records import Allergy, LotStatus, ScalpZone, Sex, Technique, ZoneVolume
from formulary.units.amount import Amount
from tests.consent_helpers import sign_consent

from .conftest import PASSWORD
from .helpers import World, chain_problems, events, replay_problems

pytestmark = [pytest.mark.storage, pytest.mark.slow]

_T = TypeVar("_T")

names = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
reasons = st.sampled_from(["", "  ", "typo", "patient request"])
volumes = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5"), places=2)


def make_machine(new_url: Callable[[], str], drop: Callable[[str], None]) -> type:
    class StoreMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.url = new_url()
            self.db = open_database(self.url)
            self.store = Store(self.db, "prop")
            self.admin = self.store.create_first_admin("admin", "Ada Admin", PASSWORD)
            self.world = World(self.store, self.admin)
            self.patients = [self.world.patient.id]
            self.formulations = {self.world.patient.id: self.world.version.formulation_id}
            self.lots = [self.world.lot.id]
            self.drafts: list[tuple[int, int]] = []
            self.signed: list[int] = []
            self.charts = 0

        def teardown(self) -> None:
            self.db.dispose()
            drop(self.url)

        def attempt(
            self, call: Callable[[], _T], *, audited_failure: bool = False
        ) -> _T | None:
            before = len(events(self.db))
            try:
                return call()
            except StoreError as exc:
                after = len(events(self.db))
                expected = (
                    before + 1
                    if audited_failure and isinstance(exc, AuthenticationFailed)
                    else before
                )
                assert after == expected, f"{exc!r} wrote {after - before} audit entries"
                return None

        @rule(family=names, chart=st.integers(0, 6))
        def create_patient(self, family: str, chart: int) -> None:
            fields = PatientFields(f"P{chart}", family, "Given", date(1970, 1, 1), Sex.MALE)
            made = self.attempt(lambda: self.store.create_patient(self.admin, fields))
            if made is not None:
                self.patients.append(made.id)
                # Sessions outside a course need the patient's consent to be signed.
                self.attempt(lambda: sign_consent(self.store, self.admin, PASSWORD, made))

        @rule(data=st.data(), diagnosis=names, reason=reasons)
        def update_patient(self, data: st.DataObject, diagnosis: str, reason: str) -> None:
            pid = data.draw(st.sampled_from(self.patients))
            current = self.attempt(lambda: self.store.get_patient(self.admin, pid))
            if current is None:
                return
            fields = PatientFields(
                current.chart_number,
                current.family_name,
                current.given_name,
                current.date_of_birth,
                current.sex,
                diagnosis=diagnosis,
            )
            self.attempt(lambda: self.store.update_patient(self.admin, pid, fields, reason))

        @rule(data=st.data(), substance=st.sampled_from(["biotin", "zinc", "lidocaine"]))
        def add_allergy(self, data: st.DataObject, substance: str) -> None:
            pid = data.draw(st.sampled_from(self.patients))
            self.attempt(lambda: self.store.add_allergy(self.admin, pid, Allergy(substance)))

        @rule(data=st.data(), reason=reasons)
        def delete_patient(self, data: st.DataObject, reason: str) -> None:
            pid = data.draw(st.sampled_from(self.patients))
            self.attempt(lambda: self.store.delete_patient(self.admin, pid, reason))

        @rule(number=st.integers(0, 3), quantity=volumes)
        def receive_lot(self, number: int, quantity: Decimal) -> None:
            lot = self.attempt(
                lambda: self.store.receive_lot(
                    self.admin,
                    product_id=self.world.product.id,
                    lot_number=f"R{number}",
                    expiry=date(2099, 1, 1),
                    quantity=Amount(quantity, "mL"),
                )
            )
            if lot is not None:
                self.lots.append(lot.id)

        @rule(
            data=st.data(), delta=st.decimals(min_value=-3, max_value=3, places=2), reason=reasons
        )
        def adjust_stock(self, data: st.DataObject, delta: Decimal, reason: str) -> None:
            lot_id = data.draw(st.sampled_from(self.lots))
            self.attempt(
                lambda: self.store.adjust_stock(self.admin, lot_id, Amount(delta, "mL"), reason)
            )

        @rule(data=st.data(), status=st.sampled_from(LotStatus), reason=reasons)
        def set_lot_status(self, data: st.DataObject, status: LotStatus, reason: str) -> None:
            lot_id = data.draw(st.sampled_from(self.lots))
            self.attempt(lambda: self.store.set_lot_status(self.admin, lot_id, status, reason))

        @rule(data=st.data(), amount=volumes)
        def save_formulation(self, data: st.DataObject, amount: Decimal) -> None:
            pid = data.draw(st.sampled_from(self.patients))
            component = ComponentSpec(
                "Biotin", Amount(amount, "mL"), product_id=self.world.product.id
            )
            saved = self.attempt(
                lambda: self.store.save_formulation(
                    self.admin,
                    patient_id=pid,
                    name="Mix",
                    components=[component],
                    formulation_id=self.formulations.get(pid),
                )
            )
            if saved is not None:
                self.formulations[pid] = saved.formulation_id

        @precondition(lambda self: bool(self.formulations))
        @rule(data=st.data(), half=volumes)
        def save_draft(self, data: st.DataObject, half: Decimal) -> None:
            pid = data.draw(st.sampled_from(sorted(self.formulations)))
            current = self.attempt(lambda: self.store.list_formulations(self.admin, pid))
            if not current:
                return
            version = current[0]
            amount = version.components[0].amount
            lot_id = data.draw(st.sampled_from(self.lots))
            draft = SessionDraft(
                patient_id=pid,
                formulation_version_id=version.id,
                performed_at=datetime.now(UTC),
                technique=Technique.NAPPAGE,
                total_volume=Amount(half * 2, "mL"),
                zones=(
                    ZoneVolume(ScalpZone.VERTEX, Amount(half, "mL")),
                    ZoneVolume(ScalpZone.FRONTAL, Amount(half, "mL")),
                ),
                lots=(LotChoice(1, lot_id, amount),),
            )
            saved = self.attempt(lambda: self.store.save_session_draft(self.admin, draft))
            if saved is not None:
                self.drafts.append((saved.id, pid))

        @precondition(lambda self: bool(self.drafts))
        @rule(data=st.data())
        def sign(self, data: st.DataObject) -> None:
            session_id, _ = data.draw(st.sampled_from(self.drafts))
            signed = self.attempt(lambda: self.store.sign_session(self.admin, session_id, PASSWORD))
            if signed is not None:
                self.signed.append(session_id)
                self.drafts = [d for d in self.drafts if d[0] != session_id]

        @precondition(lambda self: bool(self.signed))
        @rule(data=st.data(), text=names)
        def addendum(self, data: st.DataObject, text: str) -> None:
            session_id = data.draw(st.sampled_from(self.signed))
            self.attempt(
                lambda: self.store.add_addendum(
                    self.admin, session_id, text, "correction", PASSWORD
                )
            )

        @rule(data=st.data(), density=st.decimals(min_value=1, max_value=300, places=1))
        def record_outcome(self, data: st.DataObject, density: Decimal) -> None:
            pid = data.draw(st.sampled_from(self.patients))
            self.attempt(
                lambda: self.store.record_outcome(
                    self.admin,
                    patient_id=pid,
                    measured_at=datetime.now(UTC),
                    density=Amount(density, "hairs/cm2"),
                )
            )

        @rule()
        def failed_login(self) -> None:
            self.attempt(
                lambda: self.store.authenticate("admin", "not the password"), audited_failure=True
            )
            # Keep the admin usable: a successful login resets the failure count.
            self.store.authenticate("admin", PASSWORD)

        @invariant()
        def chain_verifies(self) -> None:
            assert chain_problems(self.db) == []

        @invariant()
        def replay_reproduces_every_table(self) -> None:
            assert replay_problems(self.db) == []

    return StoreMachine


def test_random_store_calls_keep_the_audit_trail_complete(
    engine_kind: str, url_factory: Callable[[], str], pg_databases: object
) -> None:
    def drop(url: str) -> None:
        if engine_kind == "postgresql":
            pg_databases.drop(url)  # type: ignore[attr-defined]

    machine = make_machine(url_factory, drop)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=8 if engine_kind == "sqlite" else 4,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
