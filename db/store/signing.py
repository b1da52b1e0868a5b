"""What a signature covers, and its hash: the Store's signature recipe, public.

A session signature is a SHA-256 over the canonical JSON of the session as signed
(every field but the ones the signature itself fills, the lots drawn, and the
formulation version's content) bound to the signer's printed name, the UTC time and
the meaning. An addendum signature covers the addendum's text and reason and the hash
of the session it amends. Bulk loading and transfer use the same recipe, so
``verify_signatures`` and ``formulary audit verify`` accept what they write.

Which fields the content holds is decided by the versioned definitions of
:mod:`formulary.signed_content`: each signature stores the number of the definition
it was made under and is verified with that one, so a schema change never breaks a
signature already given.
"""

from __future__ import annotations

import hashlib
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
