"""Complete row images for the audit trail.

Every audit entry's ``after`` is the whole row as stored (every column), so that
replaying the after-images in order reproduces the tables exactly. Secrets never
enter the trail: a password hash is replaced by a SHA-256 fingerprint of it, which
still shows *that* it changed and still lets a replay be compared.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlmodel import SQLModel

#: Columns whose value is replaced by a fingerprint in audit images.
REDACTED = frozenset({("app_user", "password_hash")})


def table_name(row: SQLModel) -> str:
    """The table a row belongs to (its audit ``entity``)."""
    return str(row.__table__.name)  # type: ignore[attr-defined]


def row_image(row: SQLModel) -> dict[str, Any]:
    """Every column of ``row`` as plain values (secrets fingerprinted)."""
    table = row.__table__  # type: ignore[attr-defined]
    image: dict[str, Any] = {}
    for column in table.columns:
        value = getattr(row, column.key)
        if (table.name, column.key) in REDACTED and value is not None:
            value = fingerprint(str(value))
        image[column.key] = value
    return image


def fingerprint(secret: str) -> str:
    """``sha256:<hex>`` of a secret, for the audit trail."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()
