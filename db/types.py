"""Column types that keep values exact on every engine.

SQLite has no decimal type (``Numeric`` goes through float) and no time zones, so
decimals are stored as their exact text and datetimes are normalised to UTC on the
way in and marked UTC on the way out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class DecimalText(sa.types.TypeDecorator[Decimal]):
    """An exact :class:`~decimal.Decimal` stored as text (``"0.5"``, ``"1000"``)."""

    impl = sa.String(64)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected a Decimal, got {type(value).__name__}")
        if not value.is_finite():
            raise ValueError("a stored quantity must be finite")
        return format(value, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        try:
            return Decimal(value)
        except InvalidOperation as exc:  # pragma: no cover - only on a corrupted row
            raise ValueError(f"stored decimal {value!r} is not a number") from exc


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every engine; naive datetimes are refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware (UTC)")
        utc = value.astimezone(UTC)
        # SQLite's DateTime is text without an offset: store the UTC wall time.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the only clock the Store uses)."""
    return datetime.now(UTC)
