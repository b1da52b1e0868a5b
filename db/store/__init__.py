"""The Store: the one API through which Formulary reads and writes its database.

Every write method takes the signed-in :class:`Actor` first, checks the actor's role,
and runs as one transaction holding the change, an audit entry per changed row and
every derived effect (stock drawn, formulation versions locked). See docs/store.md.

Public beyond the Store's methods: :meth:`Store.transaction` (a :class:`UnitOfWork`)
and :meth:`Store.reading` (a read-only session), :mod:`db.store.roles`,
:mod:`db.store.signing`, :mod:`db.store.validate` and :mod:`db.store.clock` (the time
each unit of work stamps, which tests pin). Modules named ``_*`` are the
Store's own; an import-linter contract keeps everyone else out of them.
"""

from __future__ import annotations

from db.store._base import Actor, UnitOfWork
from db.store.audit_reads import AuditReadsStore
from db.store.consent import ConsentStore
from db.store.formulations import FormulationsStore
from db.store.inputs import (
    AuditEntry,
    ClinicLimit,
    ClinicLimitFields,
    ComponentSpec,
    IngredientFields,
    LotChoice,
    PatientFields,
    ProductFields,
    RecallHit,
    RetiredPatient,
    SessionDraft,
    SigningCheck,
    StoredIngredient,
    StrengthSpec,
    UserInfo,
)
from db.store.keys import KeysStore
from db.store.outcomes import OutcomesStore
from db.store.patients import PatientsStore
from db.store.photos import PhotosStore
from db.store.recovery import RecoveryStore
from db.store.sessions import ADMINISTERED_BY, AMENDED_BY, SessionsStore
from db.store.stock import StockStore

__all__ = [
    "ADMINISTERED_BY",
    "AMENDED_BY",
    "Actor",
    "AuditEntry",
    "ClinicLimit",
    "ClinicLimitFields",
    "ComponentSpec",
    "IngredientFields",
    "LotChoice",
    "PatientFields",
    "ProductFields",
    "RecallHit",
    "RetiredPatient",
    "SessionDraft",
    "SigningCheck",
    "Store",
    "StoredIngredient",
    "StrengthSpec",
    "UnitOfWork",
    "UserInfo",
]


class Store(
    SessionsStore,
    PatientsStore,
    StockStore,
    FormulationsStore,
    OutcomesStore,
    PhotosStore,
    AuditReadsStore,
    KeysStore,
    RecoveryStore,
    ConsentStore,
):
    """One object per open database and workstation: ``Store(open_database(path))``."""
