"""What a signature covers, and its hash: the Store's signature recipe, public.

A session signature is a SHA-256 over the canonical JSON of the session as signed
(every field but the ones the signature itself fills, the lots drawn, and the
formulation version's content) bound to the signer's printed name, the UTC time and
the meaning. An addendum signature covers the addendum's text and reason and the hash
of the session it amends. Bulk loading and transfer use the same recipe, so
``verify_signatures`` and ``formulary audit verify`` accept what they write.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from db.audit.canonical import canonical_json
from db.images import row_image
from db.tables.formulations import FormulationVersionRow
from db.tables.sessions import SessionRow

#: Session columns that the signature itself fills (not part of the signed content).
SIGNATURE_COLUMNS = frozenset(
    {
        "status",
        "signed_by_id",
        "signer_name",
        "signed_at",
        "signature_meaning",
        "content_hash",
        "updated_at",
    }
)


def signed_content(row: SessionRow, version: FormulationVersionRow) -> dict[str, Any]:
    """What a session signature covers: the session and the formulation content given."""
    session = {k: v for k, v in row_image(row).items() if k not in SIGNATURE_COLUMNS}
    return {
        "session": session,
        "formulation_version": {
            "id": version.id,
            "formulation_id": version.formulation_id,
            "version": version.version,
            "components": version.components,
            "final_volume_value": version.final_volume_value,
            "final_volume_unit": version.final_volume_unit,
        },
    }


def signature_hash(content: Any, signer_name: str, signed_at: datetime, meaning: str) -> str:
    """SHA-256 hex over the canonical JSON of ``content`` bound to who, when and why."""
    payload = {
        "content": content,
        "signer": signer_name,
        "signed_at": signed_at,
        "meaning": meaning,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def addendum_content(session: SessionRow, text: str, reason: str) -> dict[str, Any]:
    """What an addendum signature covers: its text and reason and the session's hash."""
    return {
        "session_id": session.id,
        "session_hash": session.content_hash,
        "text": text,
        "reason": reason,
    }
