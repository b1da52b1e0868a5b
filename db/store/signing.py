"""What a signature covers, and its hash: the Store's signature recipe, public.

A session signature is a SHA-256 over the canonical JSON of the session as signed
(every field but the ones the signature itself fills, the lots drawn, and the
formulation version's content) bound to the signer's printed name, the UTC time and
the meaning. An addendum signature covers the addendum's text and reason and the hash
of the session it amends. Bulk loading and transfer use the same recipe, so
``verify_signatures`` and ``formulary audit verify`` accept what they write.

A signing run (:class:`SigningRun`) lets one signer sign a series of sessions in one
continuous session with the password verified once in full (21 CFR 11.200(a)(1)(i)).

Which fields the content holds is decided by the versioned definitions of
:mod:`formulary.signed_content`: each signature stores the number of the definition
it was made under and is verified with that one, so a schema change never breaks a
signature already given.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.audit.canonical import canonical_json
from db.images import row_image
from db.tables.formulations import FormulationVersionRow
from db.tables.sessions import SessionRow
from formulary.signed_content import (
    SignedContentVersion,
    UnknownSignedContentVersion,
    addendum_content,
    session_content,
)
from formulary.signed_content import definition as content_definition

#: Session columns that the signature itself fills (never part of the signed content).
SIGNATURE_COLUMNS = frozenset(
    {
        "status",
        "signed_by_id",
        "signer_name",
        "signed_at",
        "signature_meaning",
        "content_hash",
        "signed_content_version",
        "updated_at",
    }
)


def signed_content(
    row: SessionRow,
    version: FormulationVersionRow,
    definition: SignedContentVersion | None = None,
) -> dict[str, Any]:
    """What a session signature covers, under the definition the signature names.

    ``definition`` defaults to the row's own ``signed_content_version`` (None: version
    1); pass :data:`formulary.signed_content.CURRENT` when signing.
    """
    used = definition or signed_content_definition(row.signed_content_version)
    given = {name: getattr(version, name) for name in used.formulation_fields}
    return session_content(row_image(row), given, used)


def signed_content_definition(number: int | None) -> SignedContentVersion:
    """The definition numbered ``number`` (None: 1); ``ValueError`` when unknown."""
    try:
        return content_definition(number)
    except UnknownSignedContentVersion as exc:
        raise ValueError(str(exc)) from exc


def signature_hash(content: Any, signer_name: str, signed_at: datetime, meaning: str) -> str:
    """SHA-256 hex over the canonical JSON of ``content`` bound to who, when and why."""
    payload = {
        "content": content,
        "signer": signer_name,
        "signed_at": signed_at,
        "meaning": meaning,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def addendum_signed_content(
    session: SessionRow,
    text: str,
    reason: str,
    definition: SignedContentVersion,
) -> dict[str, Any]:
    """What an addendum signature covers: its text and reason and the session's hash."""
    return addendum_content(session.id, session.content_hash, text, reason, definition)


# -- signing runs ------------------------------------------------------------------------

#: A signing run ends when its signer has not signed for this long (seconds): the
#: continuous period of controlled access is over, the next signature checks the
#: password in full again. The app's idle lock is 5 minutes by default.
SIGNING_RUN_IDLE_SECONDS = 300
#: And at the latest this long after it began, however busy the signer.
SIGNING_RUN_MAX_SECONDS = 3600
#: Audit actions of a run's beginning and end (a signature in a run is ``session.sign``
#: as any other, its reason naming the run).
SIGNING_RUN_BEGIN = "signing_run.begin"
#: The audit entity of a run's entries (the id is the run's), not a table.
SIGNING_RUN_ENTITY = "signing_run"
SIGNING_RUN_END = "signing_run.end"


@dataclass(frozen=True, slots=True)
class SigningRun:
    """A series of signatures by one signer in one continuous session (the handle).

    21 CFR 11.200(a)(1)(i): when an individual signs a series of records during one
    continuous period of controlled system access, the first signing uses every
    component (here: the signed-in account and its password, checked with argon2 by
    :meth:`Store.begin_signing_run`), and each later one at least one component only
    the individual can execute: the password, typed again for every signature, and
    compared with the one verified at the start (a keyed hash the Store keeps in
    memory; the handle carries no secret). Anything else (another signer, a run that
    ended, idled out or outlived :data:`SIGNING_RUN_MAX_SECONDS`, a password that does
    not match, an account changed since) falls back to the full check, so a wrong
    password counts toward the lockout exactly as outside a run.
    """

    id: str
    user_id: int
    username: str
    began_at: datetime


@dataclass(slots=True)
class RunCredential:
    """What the Store remembers of a run it opened (never leaves the Store)."""

    run: SigningRun
    key: bytes
    digest: bytes
    password_hash: str
    #: The run as its ``signing_run.begin`` entry recorded it.
    image: dict[str, Any]
    began: float
    last_used: float
    signatures: int = 0

    @classmethod
    def create(
        cls, run: SigningRun, password: str, password_hash: str, image: dict[str, Any]
    ) -> RunCredential:
        """The credential of ``run``, keyed with fresh random bytes."""
        key = secrets.token_bytes(32)
        now = time.monotonic()
        return cls(run, key, _keyed(key, password), password_hash, image, now, now)

    def accepts(self, password: str, now: float) -> bool:
        """True when ``password`` is the run's and the run is still continuous at ``now``."""
        if now - self.last_used > SIGNING_RUN_IDLE_SECONDS:
            return False
        if now - self.began > SIGNING_RUN_MAX_SECONDS:
            return False
        return hmac.compare_digest(self.digest, _keyed(self.key, password))


def _keyed(key: bytes, password: str) -> bytes:
    return hmac.new(key, password.encode("utf-8"), hashlib.sha256).digest()
