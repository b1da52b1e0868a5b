"""Canonical JSON: one exact byte string for one value, so that hashes are stable.

Rules (also in docs/audit.md): object keys sorted by code point, no whitespace,
UTF-8 (non-ASCII characters are not escaped), ``Decimal`` as a JSON string without
exponent (``Decimal("1E+3")`` -> ``"1000"``; trailing zeros kept, they are part of
the recorded value), timezone-aware ``datetime`` as ISO-8601 UTC with microseconds
and ``Z``, ``date`` as ``YYYY-MM-DD``, enums as their value, dataclasses as objects
of their fields, tuples as arrays. Floats are refused (binary floats are not exact
and NaN/inf are not JSON), as are naive datetimes, non-string keys and sets.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID


class CanonicalJSONError(ValueError):
    """A value that has no canonical JSON form (float, naive datetime, set …)."""


def format_utc(moment: datetime) -> str:
    """``2026-11-24T16:41:11.000123Z``: an aware datetime in UTC with microseconds."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CanonicalJSONError(
            f"datetime {moment.isoformat()} has no time zone; pass an aware (UTC) datetime"
        )
    # isoformat, not strftime: strftime does not zero-pad years before 1000.
    plain = moment.astimezone(UTC).replace(tzinfo=None)
    return plain.isoformat(timespec="microseconds") + "Z"


def format_decimal(value: Decimal) -> str:
    """A finite Decimal in plain notation, never with an exponent."""
    if not value.is_finite():
        raise CanonicalJSONError(f"Decimal {value} is not finite; only finite numbers are stored")
    return format(value, "f")


def _plain(value: Any, path: str) -> Any:
    """Turn ``value`` into str/int/bool/None/list/dict only, refusing what is not exact."""
    # bool before int: bool is an int subclass but must stay true/false.
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return _plain(value.value, path)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        raise CanonicalJSONError(
            f"{path or 'value'} is a float ({value!r}); use Decimal or int for exact values"
        )
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name), f"{path}.{f.name}")
            for f in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key.value if isinstance(key, Enum) else key
            if not isinstance(name, str):
                raise CanonicalJSONError(
                    f"{path or 'value'} has a non-string key {key!r}; JSON keys are strings"
                )
            out[name] = _plain(item, f"{path}.{name}")
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise CanonicalJSONError(
        f"{path or 'value'} of type {type(value).__name__} has no canonical JSON form"
    )


# One encoder, built once: json.dumps with options builds a new one on every call,
# which is most of the cost when a million entries are re-hashed.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def dumps_plain(value: Any) -> str:
    """Serialize a value that is already plain (str/int/bool/None/list/dict of them).

    The fast path used by hashing, where every field is known to be plain.
    """
    return _ENCODER.encode(value)


class _Unusual(Exception):
    """A value the fast path leaves to :func:`_plain` (which also words the errors)."""


_SIMPLE = frozenset({str, int, bool, type(None)})


def _fast(value: Any) -> Any:
    """:func:`_plain` for the common exact types only; :class:`_Unusual` otherwise.

    Row images and signed content are dicts and lists of str/int/bool/None, Decimal,
    aware datetimes and dates: dispatching on the exact type (no isinstance chain, no
    path strings) makes verification's re-serialisation several times faster. The
    result is the same as :func:`_plain`'s for every value it accepts.
    """
    kind = type(value)
    if kind in _SIMPLE:
        return value
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            out[key] = item if type(item) in _SIMPLE else _fast(item)
        return out
    if kind is list or kind is tuple:
        return [item if type(item) in _SIMPLE else _fast(item) for item in value]
    if kind is Decimal:
        if not value.is_finite():
            raise _Unusual
        return format(value, "f")
    if kind is datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise _Unusual
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    if kind is date:
        return value.isoformat()
    raise _Unusual


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value`` (see the module docstring for the rules)."""
    try:
        plain = _fast(value)
    except _Unusual:
        plain = _plain(value, "")
    text = dumps_plain(plain)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalJSONError(
            "text contains an unpaired surrogate and cannot be stored as UTF-8"
        ) from exc
    return text


def canonical_bytes(value: Any) -> bytes:
    """UTF-8 bytes of :func:`canonical_json`."""
    return canonical_json(value).encode("utf-8")
