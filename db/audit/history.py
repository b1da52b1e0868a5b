"""Columns that later migrations added to existing tables, and what old rows got.

The table replay (:mod:`db.audit.replay`) holds each row against its last audited
image. An image written before a migration added a column lacks that column; the
migration gave every existing row a fixed value (NULL, or the column's server
default), so the replay reads the old image as if it held that value. A migration
that adds a column to an existing table registers it here, with the value existing
rows get (``tests/storage/test_replay_history.py`` compares this list with what the
migrations actually do, revision by revision). A migration that changes existing
rows otherwise must audit each change, as 0002 does, so the trail still replays.

Values are as canonical JSON has them (a decimal as its text, a timestamp as UTC text).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from formulary import session_fields

#: table -> column -> the value rows that existed before the column got.
ADDED_COLUMNS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        # 0002: a patient's height
        "patient": MappingProxyType({"height_value": None, "height_unit": None}),
        # 0003: the clinic's identifier and beyond-use time
        # (0010: the photo size limit, 25 MB)
        "installation": MappingProxyType(
            {"clinic_identifier": "", "beyond_use_minutes": 60, "photo_max_bytes": 26214400}
        ),
        # 0004: stock setup
        "product": MappingProxyType({"presentation": None, "gtin": None, "retired_reason": ""}),
        "lot": MappingProxyType({"supplier": "", "units_received": None}),
        # 0005: signed-content versions; the session fields added since 0001 come from
        # their declaration (injection points at 0005): NULL, or "" for text, as the
        # recipe's migration gives them (docs/adding-a-session-field.md).
        "treatment_session": MappingProxyType(
            {
                **{
                    column: declared.empty
                    for declared in session_fields.added_after("0001")
                    for column in declared.columns
                },
                "signed_content_version": None,
            }
        ),
        "session_addendum": MappingProxyType({"signed_content_version": None}),
        # 0007: safety overrides signed with a formulation version
        "formulation_version": MappingProxyType({"overrides": None}),
    }
)
