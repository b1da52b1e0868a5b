"""Column helpers shared by the table modules."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from db.types import DecimalText, UTCDateTime


def decimal_field(*, nullable: bool = True) -> Any:
    """An exact decimal column (text on every engine)."""
    return Field(default=None, sa_type=DecimalText(), nullable=nullable)


def unit_field() -> Any:
    """The canonical unit string that goes with a decimal column."""
    return Field(default=None, max_length=32, nullable=True)


def utc_field(*, nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware UTC timestamp column."""
    return Field(default=None, sa_type=UTCDateTime(), nullable=nullable, index=index)


def json_field() -> Any:
    """A JSON column holding a list or object of plain values (decimals as strings)."""
    return Field(default_factory=list, sa_type=sa.JSON(), nullable=False)
