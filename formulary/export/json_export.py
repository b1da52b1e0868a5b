"""The chart record itself as JSON: every field, exact decimals, for other programs.

Amounts are ``{"value": "0.05", "unit": "mg/mL"}`` with the value as a string so that
no reader turns an exact dose into a binary float. Times are ISO 8601 with offset.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from formulary.records import ChartedFields, Patient, PatientChart
from formulary.units.amount import Amount

#: Identifies the document shape, so readers can refuse a layout they do not know.
FORMAT_NAME = "formulary.patient-chart"
FORMAT_VERSION = 1


def _plain(value: Any) -> Any:
    if isinstance(value, Amount):
        return {"value": format(value.value.normalize(), "f"), "unit": value.unit}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, Patient):
            out["display_name"] = value.display_name
        if isinstance(value, ChartedFields):
            # Fields declared with nothing but their declaration are fields like any other.
            out.update(out.pop("others"))
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def chart_document(chart: PatientChart) -> dict[str, Any]:
    """The chart as a JSON-ready dict (strings, numbers, lists and dicts only)."""
    return {"format": FORMAT_NAME, "version": FORMAT_VERSION, "chart": _plain(chart)}


def render_json(chart: PatientChart, *, compact: bool = False) -> bytes:
    """The chart as UTF-8 JSON, indented unless ``compact``, non-ASCII kept as is."""
    text = json.dumps(chart_document(chart), ensure_ascii=False,
                      indent=None if compact else 2, sort_keys=False)
    return (text + "\n").encode("utf-8")
