"""What a signature covers, version by version: the frozen signed-content definitions.

A session signature is a hash over the session's *signed content*: a chosen list of
the session's stored fields, the content of the formulation version it gave, and
(from version 2) the version number itself. An addendum signature covers the
addendum's text and reason and the hash of the session it amends.

Each signature stores the number of the definition it was made under, and is always
verified with that definition. A definition, once released, never changes: adding a
field to what sessions record means adding a version here (a copy of the current one
plus the new field), making it :data:`CURRENT`, and a migration adding the column. A
session signed under an older version keeps verifying against the fields that
existed when it was signed. See docs/adding-a-session-field.md.

The field names are the stored names (the columns of ``treatment_session`` and
``formulation_version``, as the audit trail's row images spell them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class SignedContentVersion:
    """One frozen definition of what a session (and an addendum) signature covers."""

    number: int
    #: The session's stored fields covered, by stored name.
    session_fields: tuple[str, ...]
    #: The formulation version's stored fields covered (what was given).
    formulation_fields: tuple[str, ...]
    #: An addendum's fields covered (``session_hash`` is the amended session's hash).
    addendum_fields: tuple[str, ...]
    #: The schema revision that introduced this definition.
    revision: str
    #: What changed from the previous version, for people.
    change: str


_FORMULATION_FIELDS = (
    "id",
    "formulation_id",
    "version",
    "components",
    "final_volume_value",
    "final_volume_unit",
)
_ADDENDUM_FIELDS = ("session_id", "session_hash", "text", "reason")

#: Version 1: every column of ``treatment_session`` at revision 0001 except those the
#: signature itself fills (status, signer, time, meaning, hash, updated_at).
_V1_SESSION_FIELDS = (
    "id",
    "patient_id",
    "formulation_version_id",
    "course_id",
    "session_number",
    "performed_at",
    "technique",
    "needle_gauge",
    "needle_length_value",
    "needle_length_unit",
    "depth_value",
    "depth_unit",
    "total_volume_value",
    "total_volume_unit",
    "zones",
    "lots",
    "anaesthesia",
    "pain_score",
    "adverse_events",
    "post_care",
    "notes",
    "overrides",
    "created_at",
    "created_by_id",
    "deleted_at",
)

V1 = SignedContentVersion(
    number=1,
    session_fields=_V1_SESSION_FIELDS,
    formulation_fields=_FORMULATION_FIELDS,
    addendum_fields=_ADDENDUM_FIELDS,
    revision="0001",
    change="the first release: every session column but the signature's own",
)

V2 = SignedContentVersion(
    number=2,
    session_fields=(*_V1_SESSION_FIELDS, "injection_points"),
    formulation_fields=_FORMULATION_FIELDS,
    addendum_fields=_ADDENDUM_FIELDS,
    revision="0005",
    change="adds the injection points (wheals) per zone; the content names its version",
)

#: Every released definition by number. Never edit one; add the next.
VERSIONS: Mapping[int, SignedContentVersion] = MappingProxyType({1: V1, 2: V2})

#: The definition new signatures are made under.
CURRENT: SignedContentVersion = V2


class UnknownSignedContentVersion(LookupError):
    """A signature names a definition this Formulary does not have."""


def definition(number: int | None) -> SignedContentVersion:
    """The definition numbered ``number``; None means 1 (signed before versions were kept)."""
    found = VERSIONS.get(1 if number is None else number)
    if found is None:
        raise UnknownSignedContentVersion(
            f"signed-content version {number} is not known to this Formulary "
            f"(it knows {', '.join(str(n) for n in VERSIONS)}); use a newer release"
        )
    return found


def _pick(image: Mapping[str, Any], fields: tuple[str, ...], what: str) -> dict[str, Any]:
    missing = [name for name in fields if name not in image]
    if missing:
        raise KeyError(f"the {what} lacks the signed field(s) {', '.join(missing)}")
    return {name: image[name] for name in fields}


def session_content(
    session: Mapping[str, Any],
    formulation_version: Mapping[str, Any],
    version: SignedContentVersion,
) -> dict[str, Any]:
    """The signed content of a session under ``version``, from stored row images.

    ``session`` and ``formulation_version`` are plain images (field name to stored
    value, as in the audit trail); fields the version does not cover are ignored.
    """
    content: dict[str, Any] = {
        "session": _pick(session, version.session_fields, "session"),
        "formulation_version": _pick(
            formulation_version, version.formulation_fields, "formulation version"
        ),
    }
    if version.number >= 2:
        # From version 2 the content names its definition, so that a signature can never
        # be re-read under another version's field list.
        content["content_version"] = version.number
    return content


def addendum_content(
    session_id: int | None,
    session_hash: str | None,
    text: str,
    reason: str,
    version: SignedContentVersion,
) -> dict[str, Any]:
    """The signed content of an addendum under ``version``."""
    values = {"session_id": session_id, "session_hash": session_hash, "text": text,
              "reason": reason}
    content = _pick(values, version.addendum_fields, "addendum")
    if version.number >= 2:
        content["content_version"] = version.number
    return content
