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


def empty_list() -> list[Any]:
    """A new empty list: a JSON column's default.

    A Python function, not the builtin ``list``: pydantic inspects a default factory's
    signature whenever a row is made, and the builtin's signature is parsed from text
    (0.4 ms per JSON column; a session row has seven).
    """
    return []


def empty_dict() -> dict[str, Any]:
    """A new empty dict: a JSON object column's default (see :func:`empty_list`)."""
    return {}


def json_field() -> Any:
    """A JSON column holding a list or object of plain values (decimals as strings)."""
    return Field(default_factory=empty_list, sa_type=sa.JSON(), nullable=False)
