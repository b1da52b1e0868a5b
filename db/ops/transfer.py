"""``export json`` and ``import``: a whole clinic as one documented, versioned JSON file.

The format is described for people in docs/json-format.md. In short: a header
(format name, version, when, by whom, the source database's id, schema revision and
a signed audit checkpoint, the clinic's name) and ``records``: one list per kind of
record, each record carrying every stored field under its column name, ``id`` as
a reference that other records use (``patient_id`` …), quantities as
``{"value": "<exact decimal>", "unit": "<canonical unit>"}``, times as UTC ISO-8601
with ``Z``, dates as ``YYYY-MM-DD``.

Deliberately left out: password hashes and login state (``failed_logins``,
``locked``) of accounts, the derived search keys (recomputed on import), and the
audit trail itself (its hashes bind it to the source database; a backup keeps it).

An import goes into a database that holds no clinical records yet (a new one made
with ``formulary init``): it keeps every id, so signatures, whose hashes cover ids,
still verify. It streams: the file is read a record at a time (db/ops/json_stream.py),
each record validated (shape, types, units, enumerations, references to the lists
before it, uniqueness, every session and addendum signature) and written with its
audit entry, a batch at a time, all inside one transaction: any problem, on the first
record or the last, and nothing is imported. Memory stays small whatever the size of
the clinic: what later records are checked against is kept as ids and unique keys,
and signatures are checked against the rows already written in the transaction.
"""

from __future__ import annotations

import io
import json
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TextIO

import sqlalchemy as sa

from db.audit.canonical import format_decimal, format_utc
from db.audit.chain import append_event
from db.audit.checkpoint import make_checkpoint
from db.audit.service import writable_key
from db.database import Database
from db.engine import READ_ONLY
from db.errors import StoreError
from db.ops.bulk import BulkWriter, bump_sequences, take_append_lock
from db.ops.json_stream import JsonStream, JsonStreamError
from db.ops.photo_files import live_folder, require_files
from db.store import Actor
from db.store.roles import ADMINS, require_role
from db.tables.consent import ConsentRow, ConsentTemplateRow, ConsentTemplateVersionRow
from db.tables.formulations import CourseRow, FormulationRow, FormulationVersionRow
from db.tables.installation import InstallationRow
from db.tables.outcomes import OutcomeRow
from db.tables.people import PatientRow, PatientWeightRow, UserRow
from db.tables.photos import PhotoRow
from db.tables.sessions import AddendumRow, SessionLotRow, SessionRow
from db.tables.stock import ClinicLimitRow, IngredientRow, LotRow, ProductRow
from db.types import UTCDateTime
from db.workstation import workstation_name
from formulary import limits, session_fields
from formulary.photos import PhotoView
from formulary.records import (
    GradeScale,
    LotStatus,
    Presentation,
    Role,
    ScalpZone,
    SessionStatus,
    Sex,
    Technique,
)
from formulary.session_fields import INJECTION_POINTS
from formulary.signed_content import VERSIONS as SIGNED_CONTENT_VERSIONS
from formulary.text import problem as text_problem
from formulary.text import same_key

FORMAT = "formulary-export"
VERSION = 1

#: Password a user created by an import carries: no password ever matches it.
NO_PASSWORD = "!imported-without-password"  # noqa: S105 - never a valid argon2 hash


class TransferError(StoreError):
    """A file that cannot be imported (the message names the record and the field)."""


@dataclass(frozen=True)
class Section:
    """One list of ``records``: which table, what is left out, what refers to what."""

    name: str
    table: sa.Table
    exclude: frozenset[str] = frozenset()
    refs: Mapping[str, str] = field(default_factory=dict)  # column -> section
    json_refs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # col -> key -> sec
    enums: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    #: Fields added after version 1 files were written: null when a file lacks them.
    optional: frozenset[str] = frozenset()
    #: What an optional field that may not be null reads as when a file lacks it.
    defaults: Mapping[str, Any] = field(default_factory=dict)


def _t(model: Any) -> sa.Table:
    table: sa.Table = model.__table__
    return table


SECTIONS: tuple[Section, ...] = (
    Section("users", _t(UserRow), frozenset({"password_hash", "username_key", "failed_logins",
                                             "locked"}), enums={"role": Role}),
    Section("ingredients", _t(IngredientRow)),
    Section(
        "products", _t(ProductRow), json_refs={"ingredients": {"ingredient_id": "ingredients"}},
        enums={"presentation": Presentation},
        optional=frozenset({"presentation", "gtin", "retired_reason"}),
        defaults={"retired_reason": ""},
    ),
    Section("lots", _t(LotRow), refs={"product_id": "products"}, enums={"status": LotStatus},
            optional=frozenset({"supplier", "units_received"}), defaults={"supplier": ""}),
    Section("clinic_limits", _t(ClinicLimitRow), refs={"ingredient_id": "ingredients"}),
    Section(
        "patients", _t(PatientRow), frozenset({"family_key", "given_key", "search_key"}),
        json_refs={"allergies": {"ingredient_id": "ingredients"}},
        enums={"sex": Sex, "grade_scale": GradeScale},
        optional=frozenset({"height"}),
    ),
    Section("patient_weights", _t(PatientWeightRow), refs={"patient_id": "patients"}),
    Section("formulations", _t(FormulationRow), refs={"patient_id": "patients"}),
    Section(
        "formulation_versions", _t(FormulationVersionRow),
        refs={"formulation_id": "formulations", "created_by_id": "users"},
        json_refs={"components": {"product_id": "products", "ingredient_id": "ingredients"}},
        optional=frozenset({"overrides"}),
    ),
    Section("courses", _t(CourseRow),
            refs={"patient_id": "patients", "formulation_id": "formulations"}),
    Section(
        "sessions", _t(SessionRow),
        refs={"patient_id": "patients", "formulation_version_id": "formulation_versions",
              "course_id": "courses", "created_by_id": "users", "signed_by_id": "users"},
        json_refs={"lots": {"lot_id": "lots"}},
        enums={"status": SessionStatus, "technique": Technique},
        # Session fields added after the first release (formulary.session_fields), and
        # the signed-content version (revision 0005): older files lack them.
        optional=frozenset(
            {name for f in session_fields.added_after("0001") for name in f.transfer}
            | {"signed_content_version"}
        ),
    ),
    Section("session_lots", _t(SessionLotRow), refs={"session_id": "sessions", "lot_id": "lots"}),
    Section("addenda", _t(AddendumRow), refs={"session_id": "sessions", "signed_by_id": "users"},
            optional=frozenset({"signed_content_version"})),
    Section("outcomes", _t(OutcomeRow),
            refs={"patient_id": "patients", "session_id": "sessions", "created_by_id": "users"},
            enums={"zone": ScalpZone}),
    # Each photo record names its file by SHA-256 and size: the files' manifest
    # (db/ops/photo_files.py carries the files beside the export).
    Section("photos", _t(PhotoRow),
            refs={"patient_id": "patients", "session_id": "sessions", "outcome_id": "outcomes",
                  "created_by_id": "users", "retired_by_id": "users"},
            enums={"view": PhotoView}),
    # Consent (revision 0009); files written before it have none of these lists.
    Section("consent_templates", _t(ConsentTemplateRow)),
    Section("consent_template_versions", _t(ConsentTemplateVersionRow),
            refs={"template_id": "consent_templates", "created_by_id": "users"}),
    Section("consents", _t(ConsentRow),
            refs={"patient_id": "patients", "course_id": "courses",
                  "template_version_id": "consent_template_versions", "witness_id": "users",
                  "withdrawn_by_id": "users"}),
)
BY_NAME = {s.name: s for s in SECTIONS}

#: Sections that must be empty in the database an import goes into.
CLINICAL = tuple(s for s in SECTIONS if s.name not in (
    "users", "ingredients", "consent_templates", "consent_template_versions"))


# -- columns <-> JSON fields -------------------------------------------------------------


def _amount_pairs(table: sa.Table) -> dict[str, str]:
    """``{"weight_value": "weight", …}`` for every value/unit column pair."""
    keys = {c.key for c in table.columns}
    return {
        k: k[: -len("_value")]
        for k in keys
        if k.endswith("_value") and k[: -len("_value")] + "_unit" in keys
    }


def fields_of(section: Section) -> list[str]:
    """The JSON field names of a section's records, in column order."""
    pairs = _amount_pairs(section.table)
    out = []
    for column in section.table.columns:
        key = column.key
        if key in section.exclude or (key.endswith("_unit") and key[:-5] + "_value" in pairs):
            continue
        out.append(pairs.get(key, key))
    return out


def _to_json(section: Section, row: Mapping[str, Any]) -> dict[str, Any]:
    pairs = _amount_pairs(section.table)
    out: dict[str, Any] = {}
    for column in section.table.columns:
        key = column.key
        if key in section.exclude or (key.endswith("_unit") and key[:-5] + "_value" in pairs):
            continue
        value = row[key]
        if key in pairs:
            unit = row[pairs[key] + "_unit"]
            out[pairs[key]] = (
                None if value is None or unit is None
                else {"value": format_decimal(value), "unit": unit}
            )
        elif isinstance(value, datetime):
            out[key] = format_utc(value)
        elif isinstance(value, date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


# -- export ------------------------------------------------------------------------------


def export_document(
    database: Database, actor: Actor, *, key_dir: Path | str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The whole clinic as a JSON-ready document (audited; carries a fresh checkpoint)."""
    require_role(actor, ADMINS, "export the whole database")
    moment = now or datetime.now(UTC)
    # The key and the chain are checked first: a refusal leaves no audit entry behind.
    key = writable_key(database, key_dir)
    with database.engine.begin() as connection:
        append_event(
            connection, db_id=database.db_id, user=actor.username, workstation=_host(),
            action="database.export", entity="database", entity_id=database.db_id,
            before=None, after={"format": FORMAT, "version": VERSION}, reason=None, now=moment,
        )
    with database.engine.connect() as connection:
        checkpoint = make_checkpoint(connection, database.db_id, key, now=moment)
    reader = database.engine.execution_options(**{READ_ONLY: True})
    with reader.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        from db.migrate import current_revision

        revision = current_revision(connection)
        clinic = connection.execute(
            sa.select(_t(InstallationRow)).order_by(_t(InstallationRow).c.id).limit(1)
        ).mappings().one()
        records = {
            s.name: [
                _to_json(s, dict(row))
                for row in connection.execute(
                    sa.select(s.table).order_by(s.table.c.id)
                ).mappings()
            ]
            for s in SECTIONS
        }
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": format_utc(moment),
        "exported_by": actor.username,
        "source": {
            "db_id": database.db_id,
            "schema_revision": revision,
            "checkpoint": checkpoint.line,
        },
        "clinic": _clinic_header(dict(clinic), database.db_id),
        "records": records,
    }


def write_document(
    database: Database, actor: Actor, handle: TextIO, *, key_dir: Path | str | None = None,
    now: datetime | None = None,
    deliver: Callable[[], None] | None = None,
) -> dict[str, int | str]:
    """Write the whole clinic to ``handle``, streamed: the text of :func:`dumps_document`.

    The same document as :func:`export_document` (audited, a fresh checkpoint, one
    snapshot), but each record is read, converted and written in turn, so memory does
    not grow with the clinic. Returns the record count per section and the checkpoint.

    The ``database.export`` entry is appended only once the document is delivered:
    after ``deliver()`` (the caller's flush, fsync and rename into place) returns, so
    a full disk or a missing folder never leaves an export recorded that does not
    exist. The checkpoint in the document is of the chain just before that entry.
    """
    require_role(actor, ADMINS, "export the whole database")
    moment = now or datetime.now(UTC)
    # The key and the chain are checked first: a refusal leaves no audit entry behind.
    key = writable_key(database, key_dir)
    with database.engine.connect() as connection:
        checkpoint = make_checkpoint(connection, database.db_id, key, now=moment)
    counts: dict[str, int | str] = {}
    reader = database.engine.execution_options(**{READ_ONLY: True})
    with reader.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        from db.migrate import current_revision

        revision = current_revision(connection)
        clinic = connection.execute(
            sa.select(_t(InstallationRow)).order_by(_t(InstallationRow).c.id).limit(1)
        ).mappings().one()
        head = {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": format_utc(moment),
            "exported_by": actor.username,
            "source": {
                "db_id": database.db_id,
                "schema_revision": revision,
                "checkpoint": checkpoint.line,
            },
            "clinic": _clinic_header(dict(clinic), database.db_id),
        }
        # json.dumps(document, indent=1), written piece by piece: the header as it
        # would print, then each record indented three levels.
        text = json.dumps(head, indent=1, ensure_ascii=False)
        handle.write(text[:-2] + ',\n "records": {')
        for n, section in enumerate(SECTIONS):
            handle.write(("," if n else "") + f"\n  {json.dumps(section.name)}: [")
            rows = connection.execution_options(stream_results=True, yield_per=500).execute(
                sa.select(section.table).order_by(section.table.c.id)
            ).mappings()
            count = 0
            for row in rows:
                record = json.dumps(_to_json(section, dict(row)), indent=1, ensure_ascii=False)
                handle.write(("," if count else "") + "\n   "
                             + record.replace("\n", "\n   "))
                count += 1
            handle.write("\n  ]" if count else "]")
            counts[section.name] = count
        handle.write("\n }\n}\n")
    if deliver is not None:
        deliver()
    with database.engine.begin() as connection:
        append_event(
            connection, db_id=database.db_id, user=actor.username, workstation=_host(),
            action="database.export", entity="database", entity_id=database.db_id,
            before=None,
            after={"format": FORMAT, "version": VERSION, "checkpoint": checkpoint.line,
                   "records": dict(counts)},
            reason=None, now=moment,
        )
    counts["checkpoint"] = checkpoint.line
    return counts


def _clinic_header(row: Mapping[str, Any], db_id: str) -> dict[str, Any]:
    # The identifier in force (the stored one, else the database id it defaults to)
    # travels with the records, so the clinic's FHIR ids survive a move to a new
    # database.
    return {
        "name": row["clinic_name"],
        "address": row["clinic_address"],
        "identifier": row["clinic_identifier"] or db_id,
        "beyond_use_minutes": row["beyond_use_minutes"],
    }


def dumps_document(document: Mapping[str, Any]) -> str:
    """The file's text: indented, UTF-8, stable key order, newline at the end."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _host() -> str:
    return workstation_name()


# -- import: parsing and validation ----------------------------------------------------


@dataclass
class ImportReport:
    """What an import wrote (or, for a dry run, would write)."""

    counts: dict[str, int]
    source_db_id: str
    sha256: str
    users_without_password: list[str]
    dry_run: bool
    audit_entries: int = 0


class _Problems:
    def fail(self, where: str, message: str) -> TransferError:
        return TransferError(f"{where}: {message}; nothing was imported")


_P = _Problems()


def _units() -> frozenset[str]:
    from formulary.units.catalog import BY_CANONICAL

    return frozenset(BY_CANONICAL)


def _decimal(text: Any, where: str) -> Decimal:
    if not isinstance(text, str):
        raise _P.fail(where, "a decimal must be written as a string such as \"0.5\"")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise _P.fail(where, f"{text!r} is not a decimal number") from exc
    if not value.is_finite() or text.strip() != text or "e" in text.lower():
        raise _P.fail(where, f"{text!r} is not a plain finite decimal such as \"12.5\"")
    return value


def _amount(data: Any, where: str, units: frozenset[str]) -> tuple[Decimal, str]:
    if not isinstance(data, dict) or set(data) != {"value", "unit"}:
        raise _P.fail(where, 'a quantity is {"value": "<decimal>", "unit": "<unit>"}')
    unit = data["unit"]
    if not isinstance(unit, str) or unit not in units:
        raise _P.fail(where, f"unknown unit {unit!r}; use one of Formulary's unit names")
    value = _decimal(data["value"], where + ".value")
    # Magnitude bounds (formulary.limits) are about syringes and labels; a body weight
    # or a stock quantity may be larger, but no quantity in a record is negative.
    if value < 0:
        raise _P.fail(where + ".value", f"{value} is negative; quantities are 0 or more")
    field = where.rsplit(".", 1)[-1]
    if field not in _NOT_SYRINGE:
        from formulary import limits
        from formulary.units.amount import Amount

        try:
            limits.check_amount(Amount(value, unit), "the amount")
        except limits.OutOfRange as exc:
            raise _P.fail(where + ".value", str(exc)) from None
        except (ValueError, TypeError):
            pass  # a unit the bounds do not know: the syntax checks above decide
    return value, unit


def _typed_units() -> frozenset[str]:
    from formulary.body import TYPED_UNITS

    return TYPED_UNITS


#: Quantities kept as the user typed them, in :data:`formulary.body.TYPED_UNITS`.
_TYPED_FIELDS = frozenset({"entered"})

#: Quantities not bounded by what a syringe, vial or label holds (the Store's
#: ``physical=False`` fields): body measures and stock on hand.
_NOT_SYRINGE = frozenset({"weight", "height", "entered", "quantity"})


def _in_range(value: date | datetime, where: str) -> None:
    try:
        limits.check_date(value, "the date")
    except limits.OutOfRange as exc:
        raise _P.fail(where, str(exc)) from exc


def _column_value(column: sa.Column[Any], value: Any, where: str) -> Any:
    kind = column.type
    if value is None:
        if not column.nullable:
            raise _P.fail(where, "is required and may not be null")
        return None
    if isinstance(kind, UTCDateTime):
        if not isinstance(value, str) or not value.endswith("Z"):
            raise _P.fail(where, "a time is written as UTC ISO-8601 ending in Z")
        try:
            moment = datetime.fromisoformat(value[:-1] + "+00:00")
        except ValueError as exc:
            raise _P.fail(where, f"{value!r} is not a valid time") from exc
        _in_range(moment, where)
        return moment
    if isinstance(kind, sa.Date):
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError(value)
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise _P.fail(where, f"{value!r} is not a date YYYY-MM-DD") from exc
        _in_range(day, where)
        return day
    if isinstance(kind, sa.Boolean):
        if not isinstance(value, bool):
            raise _P.fail(where, "must be true or false")
        return value
    if isinstance(kind, sa.Integer):
        if not isinstance(value, int) or isinstance(value, bool):
            raise _P.fail(where, "must be a whole number")
        if not -(2**63) <= value < 2**63:
            raise _P.fail(where, "is out of range")
        return value
    if isinstance(kind, sa.JSON):
        if not isinstance(value, list | dict):
            raise _P.fail(where, "must be a JSON list or object")
        return value
    if isinstance(kind, sa.types.TypeDecorator):  # sqlmodel's AutoString wraps String
        kind = kind.impl_instance
    if isinstance(kind, sa.String):
        if not isinstance(value, str):
            raise _P.fail(where, "must be text")
        if "\x00" in value:
            raise _P.fail(where, "contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _P.fail(where, "is not valid Unicode text") from exc
        if kind.length is not None and len(value) > kind.length:
            raise _P.fail(where, f"is longer than {kind.length} characters")
        return value
    raise _P.fail(where, f"has an unsupported column type {kind!r}")  # pragma: no cover


def _row_from_json(
    section: Section, record: Any, where: str, units: frozenset[str]
) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise _P.fail(where, "each record is a JSON object")
    expected = fields_of(section)
    unknown = sorted(set(record) - set(expected))
    if unknown:
        raise _P.fail(where, f"unknown field {unknown[0]!r}")
    missing = [name for name in expected if name not in record and name not in section.optional]
    if missing:
        raise _P.fail(where, f"field {missing[0]!r} is missing")
    record = {**dict.fromkeys(section.optional), **section.defaults, **record}
    pairs = _amount_pairs(section.table)
    row: dict[str, Any] = {}
    for column in section.table.columns:
        key = column.key
        if key in section.exclude:
            continue
        if key in pairs:
            name = pairs[key]
            data = record[name]
            if data is None:
                if not column.nullable:
                    raise _P.fail(f"{where}.{name}", "is required and may not be null")
                row[key], row[name + "_unit"] = None, None
            else:
                # A weight as typed may be in pounds, which no other quantity is.
                allowed = units | _typed_units() if name in _TYPED_FIELDS else units
                row[key], row[name + "_unit"] = _amount(data, f"{where}.{name}", allowed)
            continue
        if key.endswith("_unit") and key[:-5] + "_value" in pairs:
            continue
        value = _column_value(column, record.get(key), f"{where}.{key}")
        if key in section.enums and value is not None:
            try:
                section.enums[key](value)
            except ValueError as exc:
                raise _P.fail(f"{where}.{key}", f"{value!r} is not a known value") from exc
        row[key] = value
    if row.get("id") is None or row["id"] < 1:
        raise _P.fail(f"{where}.id", "every record needs a positive id")
    return row


def _check_json_columns(section: Section, row: dict[str, Any], where: str,
                        units: frozenset[str]) -> None:
    """Shapes of the JSON columns whose items carry quantities, enumerations or ids."""
    name = section.name

    def items(col: str) -> list[dict[str, Any]]:
        value = row[col]
        if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
            raise _P.fail(f"{where}.{col}", "must be a list of objects")
        return value

    if name == "products":
        for i, item in enumerate(items("ingredients")):
            _amount(item.get("strength"), f"{where}.ingredients[{i}].strength", units)
    elif name == "formulation_versions":
        for i, item in enumerate(items("components")):
            _amount(item.get("amount"), f"{where}.components[{i}].amount", units)
            if not isinstance(item.get("position"), int):
                raise _P.fail(f"{where}.components[{i}].position", "must be a whole number")
    elif name == "sessions":
        for i, item in enumerate(items("zones")):
            try:
                ScalpZone(str(item.get("zone")))
            except ValueError as exc:
                raise _P.fail(f"{where}.zones[{i}].zone", "is not a scalp zone") from exc
            _amount(item.get("volume"), f"{where}.zones[{i}].volume", units)
        zones = {str(item.get("zone")) for item in row["zones"]}
        if row.get("injection_points") is not None:
            for i, item in enumerate(items("injection_points")):
                at = f"{where}.injection_points[{i}]"
                if not isinstance(item.get("zone"), str) or item["zone"] not in zones:
                    raise _P.fail(f"{at}.zone", "names a zone the session gives no volume in")
                problem = INJECTION_POINTS.problem(item.get("points"))
                if problem is not None or item.get("points") is None:
                    raise _P.fail(f"{at}.points", problem or "is missing")
        for declared in session_fields.simple_fields():
            # The declared ranges and lengths, as the Store checks them when charting.
            if declared.kind is not session_fields.Kind.AMOUNT:
                problem = declared.problem(row.get(declared.columns[0]))
                if problem is not None:
                    raise _P.fail(f"{where}.{declared.columns[0]}", problem)
        version = row.get("signed_content_version")
        if version is not None and version not in SIGNED_CONTENT_VERSIONS:
            raise _P.fail(f"{where}.signed_content_version",
                          f"{version} is not a signed-content version this Formulary knows")
        for i, item in enumerate(items("lots")):
            at = f"{where}.lots[{i}]"
            position = item.get("component_position")
            if not isinstance(position, int) or isinstance(position, bool) or position < 1:
                raise _P.fail(f"{at}.component_position", "must be a whole number from 1")
            lot_id = item.get("lot_id")
            # A draft may plan a draw without a lot yet; a signed session names each lot.
            needs_lot = row.get("status") == "signed" or lot_id is not None
            if needs_lot and (
                not isinstance(lot_id, int) or isinstance(lot_id, bool) or lot_id < 1
            ):
                raise _P.fail(f"{at}.lot_id", "must be the id of a lot in this file")
            if item.get("drawn") is not None:
                _amount(item["drawn"], f"{at}.drawn", units)
        items("adverse_events")
        items("overrides")
    elif name == "patients":
        items("allergies")
        items("conditions")


_UNIQUE: dict[str, tuple[tuple[str, ...], ...]] = {
    "users": (("username_key",),),
    "ingredients": (("key",),),
    "patients": (("chart_number",),),
    "lots": (("product_id", "lot_number"),),
    "formulation_versions": (("formulation_id", "version"),),
}


#: Names no two records may share whatever their case or spacing
#: (:func:`formulary.text.same_key`), as the Store refuses them when typed: the column,
#: whether only live records (``deleted_at`` null) count, and the column within whose
#: value they must differ (None: across the whole section).
_SAME_KEY: dict[str, tuple[str, bool, str | None]] = {
    "patients": ("chart_number", False, None),  # chart numbers are never reused
    "products": ("name", True, None),  # a retired product's name may be taken again
    "consent_templates": ("name", False, None),
    # A1 and a1 of one product are one lot (`formulary lot correct` renumbers one of two
    # received before that rule, in the database the file came from).
    "lots": ("lot_number", False, "product_id"),
}


def _multiline_columns() -> dict[str, frozenset[str]]:
    """The free-text columns, which keep line breaks and tabs (the Store's
    ``multiline=True`` fields); every other text column is one line."""
    session_text = frozenset(
        f.columns[0] for f in session_fields.simple_fields()
        if f.kind is session_fields.Kind.TEXT
    )
    return {
        "ingredients": frozenset({"notes"}),
        "products": frozenset({"retired_reason"}),
        "clinic_limits": frozenset({"source", "note", "retired_reason"}),
        "formulation_versions": frozenset({"note"}),
        "sessions": session_text,
        "addenda": frozenset({"text", "reason"}),
        "outcomes": frozenset({"notes"}),
        "photos": frozenset({"note", "retired_reason"}),
        "consent_templates": frozenset({"retired_reason"}),
        "consent_template_versions": frozenset({"text"}),
        "consents": frozenset({"text", "withdrawn_reason"}),
    }


_MULTILINE = _multiline_columns()

#: Text inside JSON columns that is one line (the Store's single-line fields of an
#: allergy, a condition, a component); any other text there is free text.
_ONE_LINE_ITEMS: dict[tuple[str, str], frozenset[str]] = {
    ("patients", "allergies"): frozenset({"substance", "reaction"}),
    ("patients", "conditions"): frozenset({"code", "text"}),
    ("formulation_versions", "components"): frozenset({"name"}),
}


def _check_text(section: Section, row: Mapping[str, Any], where: str) -> None:
    """Every text of a record as the Store takes it typed (:func:`formulary.text.problem`):
    no control characters, and no line break in a one-line field."""
    multiline = _MULTILINE.get(section.name, frozenset())
    for column in section.table.columns:
        key = column.key
        value = row.get(key)
        if isinstance(value, str):
            if (wrong := text_problem(value, multiline=key in multiline)) is not None:
                raise _P.fail(f"{where}.{key}", wrong)
        elif isinstance(value, list | dict):
            one_line = _ONE_LINE_ITEMS.get((section.name, key), frozenset())
            _check_nested_text(value, f"{where}.{key}", one_line)


def _check_nested_text(value: Any, where: str, one_line: frozenset[str], name: str = "") -> None:
    if isinstance(value, str):
        if (wrong := text_problem(value, multiline=name not in one_line)) is not None:
            raise _P.fail(where, wrong)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_nested_text(item, f"{where}[{i}]", one_line, name)
    elif isinstance(value, dict):
        for key, item in value.items():
            if (wrong := text_problem(str(key))) is not None:
                raise _P.fail(where, f"a field name {wrong}")
            _check_nested_text(item, f"{where}.{key}", one_line, str(key))


#: Rows validated before they are written (and signatures checked) as one batch.
BATCH = 2_000


class _Ids:
    """The ids seen in one list: ascending ids in an array (8 bytes each), others in a set.

    Export files list records by id, so almost every id goes to the array; a Python set
    of the million ids of a large clinic would need ten times the memory.
    """

    def __init__(self) -> None:
        self._ascending = array("q")
        self._others: set[int] = set()

    def add(self, value: int) -> bool:
        """Remember ``value``; False when it was already there."""
        if not self._ascending or value > self._ascending[-1]:
            self._ascending.append(value)  # also above every id in _others
            return True
        if value in self:
            return False
        self._others.add(value)
        return True

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        at = bisect_left(self._ascending, value)
        return (at < len(self._ascending) and self._ascending[at] == value) or (
            value in self._others)


class _Sink(Protocol):
    """Where validated rows go: into the database, or into lists (:func:`parse_document`)."""

    def add(self, section: Section, row: dict[str, Any]) -> None:
        """Take one validated row."""
        ...

    def end_section(self, section: Section) -> None:
        """Every row of ``section`` has been given."""
        ...

    def versions(self, ids: set[int]) -> Mapping[int, FormulationVersionRow]:
        """The formulation versions with these ids (all given before)."""
        ...

    def session_hashes(self, ids: set[int]) -> Mapping[int, str | None]:
        """The content hashes of the sessions with these ids (all given before)."""
        ...


class _Checker:
    """Validates the records of a file as they stream past, in the order of SECTIONS.

    Each record is checked on its own (fields, types, units, enumerations), against
    what came before it (ids, uniqueness, references: every list refers only to lists
    before it), and signed sessions and addenda in batches against what they signed.
    What the later checks need is kept compactly (ids, unique keys), never the records.
    """

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.units = _units()
        self.ids = {s.name: _Ids() for s in SECTIONS}
        self.unique: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = {
            (name, columns): set() for name, groups in _UNIQUE.items() for columns in groups
        }
        self.counts = {s.name: 0 for s in SECTIONS}
        self.pending: list[tuple[int, dict[str, Any]]] = []
        # (scope, formulary.text.same_key of each name in _SAME_KEY) -> (index, as written)
        self.same_keys: dict[str, dict[tuple[Any, str], tuple[int, str]]] = {
            n: {} for n in _SAME_KEY
        }

    def record(self, section: Section, index: int, record: Any) -> None:
        from db.auth import username_key
        from db.store.validate import search_key

        where = f"records.{section.name}[{index}]"
        row = _row_from_json(section, record, where, self.units)
        _check_json_columns(section, row, where, self.units)
        _check_text(section, row, where)
        if section.name == "users":
            row["username_key"] = username_key(row["username"])
        elif section.name == "patients":
            row["family_key"] = search_key(row["family_name"])
            row["given_key"] = search_key(row["given_name"])
            row["search_key"] = search_key(row["family_name"], row["given_name"],
                                           row["chart_number"])
        if not self.ids[section.name].add(row["id"]):
            raise _P.fail(f"{where}.id", f"id {row['id']} appears twice")
        for columns in _UNIQUE.get(section.name, ()):
            keys = self.unique[(section.name, columns)]
            key = tuple(row[c] for c in columns)
            if key in keys:
                raise _P.fail(where, f"{' and '.join(columns)} "
                              f"{', '.join(map(str, key))} appears twice")
            keys.add(key)
        if section.name in _SAME_KEY:
            self._check_same_key(section, index, row, where)
        self._check_refs(section, row, where)
        if section.name in ("consent_template_versions", "consents"):
            _check_consent_hashes(section.name, row, where)
        self.counts[section.name] += 1
        if section.name in ("sessions", "addenda"):
            self.pending.append((index, row))
            if len(self.pending) >= BATCH:
                self._signed_batch(section)
        else:
            self.sink.add(section, row)

    def _check_same_key(self, section: Section, index: int, row: Mapping[str, Any],
                        where: str) -> None:
        column, live_only, scope = _SAME_KEY[section.name]
        if live_only and row.get("deleted_at") is not None:
            return
        seen = self.same_keys[section.name]
        name = row[column]
        first = seen.setdefault(
            (row[scope] if scope is not None else None, same_key(name)), (index, name)
        )
        if first[0] != index:
            what = column.replace("_", " ")
            raise _P.fail(
                f"{where}.{column}",
                f"{name!r} is the {what} of records.{section.name}[{first[0]}] "
                f"({first[1]!r}): {what}s differing only in case or spacing are the same; "
                "correct one of them in the file"
                + (" (or renumber it with `formulary lot correct` in the clinic the file "
                   "came from, and export again)" if section.name == "lots" else ""),
            )

    def end_section(self, section: Section) -> None:
        if self.pending:
            self._signed_batch(section)
        self.sink.end_section(section)

    def _check_refs(self, section: Section, row: dict[str, Any], where: str) -> None:
        for column, target in section.refs.items():
            value = row[column]
            if value is not None and value not in self.ids[target]:
                raise _P.fail(f"{where}.{column}", f"refers to {target} id {value}, "
                              "which the file does not contain")
        for column, nested in section.json_refs.items():
            for j, item in enumerate(row[column]):
                for name, target in nested.items():
                    value = item.get(name)
                    if value is not None and (
                        not isinstance(value, int)
                        or isinstance(value, bool)
                        or value not in self.ids[target]
                    ):
                        raise _P.fail(f"{where}.{column}[{j}].{name}",
                                      f"refers to {target} id {value}, which the file "
                                      "does not contain")

    def _signed_batch(self, section: Section) -> None:
        """Every signed session and addendum of the batch must still hash to what was signed."""
        batch, self.pending = self.pending, []
        if section.name == "sessions":
            _check_session_signatures(batch, self.sink.versions(
                {r["formulation_version_id"] for _, r in batch
                 if r["status"] == SessionStatus.SIGNED.value}))
        else:
            _check_addendum_signatures(batch, self.sink.session_hashes(
                {r["session_id"] for _, r in batch}))
        for _, row in batch:
            self.sink.add(section, row)


def _check_consent_hashes(name: str, row: dict[str, Any], where: str) -> None:
    """A consent text still hashes to its recorded SHA-256; a consent's record hash holds."""
    from db.consent_rows import record_hash
    from formulary.consent import text_sha256

    if name == "consent_template_versions":
        if text_sha256(row["text"]) != row["sha256"]:
            raise _P.fail(f"{where}.text", "does not match its sha256: the text was changed")
        return
    if text_sha256(row["text"]) != row["text_sha256"]:
        raise _P.fail(f"{where}.text",
                      "does not match its text_sha256: the signed text was changed")
    if record_hash(row) != row["record_hash"]:
        raise _P.fail(f"{where}.record_hash",
                      "does not match what was signed (name, witness, time or text)")


def _check_session_signatures(batch: list[tuple[int, dict[str, Any]]],
                              versions: Mapping[int, FormulationVersionRow]) -> None:
    from db.store.signing import signature_hash, signed_content

    for i, row in batch:
        if row["status"] != SessionStatus.SIGNED.value:
            continue
        where = f"records.sessions[{i}] (session {row['id']})"
        if not (row["signer_name"] and row["signed_at"] and row["signature_meaning"]):
            raise _P.fail(where, "is signed but its signer, time or meaning is missing")
        expected = signature_hash(
            signed_content(SessionRow(**row), versions[row["formulation_version_id"]]),
            row["signer_name"], row["signed_at"], row["signature_meaning"],
        )
        if expected != row["content_hash"]:
            raise _P.fail(where, "its content differs from what was signed (the file was "
                          "altered after export)")


def _check_addendum_signatures(batch: list[tuple[int, dict[str, Any]]],
                               hashes: Mapping[int, str | None]) -> None:
    from db.store.signing import signature_hash, signed_content_definition
    from formulary.signed_content import addendum_content

    for i, row in batch:
        try:
            definition = signed_content_definition(row.get("signed_content_version"))
        except ValueError as exc:
            raise _P.fail(f"records.addenda[{i}].signed_content_version", str(exc)) from exc
        content = addendum_content(row["session_id"], hashes[row["session_id"]], row["text"],
                                   row["reason"], definition)
        if signature_hash(content, row["signer_name"], row["signed_at"],
                          row["signature_meaning"]) != row["content_hash"]:
            raise _P.fail(f"records.addenda[{i}] (addendum {row['id']})",
                          "its content differs from what was signed")


def _check_header(header: Mapping[str, Any]) -> None:
    if header.get("format") != FORMAT:
        raise TransferError(
            f"the file is not a Formulary export (its \"format\" is not {FORMAT!r}); "
            "nothing was imported"
        )
    if header.get("version") != VERSION:
        raise TransferError(
            f"the file is export format version {header.get('version')!r}; this Formulary "
            f"reads version {VERSION}; nothing was imported"
        )
    source = header.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("db_id", ""), str):
        raise _P.fail("source", 'must be an object such as {"db_id": "...", ...}')
    clinic = header.get("clinic")
    if not isinstance(clinic, dict) or not all(
        isinstance(clinic.get(k), str) for k in ("name", "address")
    ):
        raise _P.fail("clinic", 'must be {"name": "...", "address": "..."}')
    _check_clinic_settings(clinic)


def _read_document(handle: BinaryIO, begin: Callable[[dict[str, Any]], _Sink]
                   ) -> tuple[dict[str, Any], dict[str, int], str]:
    """Read and check an export file as it streams; ``(header, counts, sha256)``.

    The header members come before ``records`` (as ``export json`` writes them): once
    they are checked, ``begin(header)`` gives the sink the validated rows go to. The
    lists of ``records`` come in the order of SECTIONS (each refers only to earlier
    ones); a list left out is empty.
    """
    stream = JsonStream(handle)
    header: dict[str, Any] = {}
    checker: _Checker | None = None
    try:
        if stream.peek() != "{":
            stream.value()  # a JSON error is reported as such
            raise TransferError(
                f"the file is not a Formulary export (its \"format\" is not {FORMAT!r}); "
                "nothing was imported"
            )
        for key in stream.members():
            if key != "records":
                header[key] = stream.value()
                continue
            if checker is not None:
                raise TransferError('the file has "records" twice; nothing was imported')
            _check_header(header)
            checker = _Checker(begin(header))
            _read_records(stream, checker)
        stream.finish()
    except JsonStreamError as exc:
        raise TransferError(f"the file is not valid JSON ({exc}); nothing was imported"
                            ) from exc
    except RecursionError as exc:
        raise TransferError(
            "the file is nested too deeply to be an export; nothing was imported"
        ) from exc
    if checker is None:
        _check_header(header)
        raise _P.fail("records", "must be an object with one list per kind of record")
    return header, checker.counts, stream.sha256


def _read_records(stream: JsonStream, checker: _Checker) -> None:
    if stream.peek() != "{":
        raise _P.fail("records", "must be an object with one list per kind of record")
    done = -1
    for name in stream.members():
        section = BY_NAME.get(name)
        if section is None:
            raise _P.fail("records", f"unknown kind of record {name!r}")
        position = SECTIONS.index(section)
        if position <= done:
            raise _P.fail(f"records.{name}",
                          "comes after a list that follows it (the lists are read in the "
                          "order export json writes them: "
                          + ", ".join(s.name for s in SECTIONS) + ")")
        for skipped in SECTIONS[done + 1:position]:
            checker.end_section(skipped)  # left out: empty
        done = position
        if stream.peek() != "[":
            raise _P.fail(f"records.{name}", "must be a list")
        for index in stream.items():
            checker.record(section, index, stream.value())
        checker.end_section(section)
    for skipped in SECTIONS[done + 1:]:
        checker.end_section(skipped)


class _Collected:
    """The rows of a file, kept in lists (:func:`parse_document`)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {s.name: [] for s in SECTIONS}

    def add(self, section: Section, row: dict[str, Any]) -> None:
        self.rows[section.name].append(row)

    def end_section(self, section: Section) -> None:
        pass

    def versions(self, ids: set[int]) -> Mapping[int, FormulationVersionRow]:
        return {r["id"]: FormulationVersionRow(**r)
                for r in self.rows["formulation_versions"] if r["id"] in ids}

    def session_hashes(self, ids: set[int]) -> Mapping[int, str | None]:
        return {r["id"]: r["content_hash"] for r in self.rows["sessions"] if r["id"] in ids}


def parse_document(text: str | bytes) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Validate a whole export file held in memory; ``(header, rows by section)``.

    The same checks as an import (:class:`TransferError` naming the record and field),
    for files small enough to hold; :func:`import_file` streams.
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    collected = _Collected()
    header, _, _ = _read_document(io.BytesIO(raw), lambda _: collected)
    return {**header, "records": collected.rows}, collected.rows


# -- import: writing ---------------------------------------------------------------------


class _Database:
    """Validated rows into the database, inside the import's one transaction."""

    def __init__(self, connection: sa.Connection, writer: BulkWriter, actor: Actor,
                 report: ImportReport) -> None:
        self.connection = connection
        self.writer = writer
        self.actor = actor
        self.report = report
        self.queued = 0
        self.users = _existing(connection, _t(UserRow))
        self.users_by_key = {r["username_key"]: r for r in self.users.values()}
        self.ingredients = _existing(connection, _t(IngredientRow))
        self.ingredient_keys = {r["key"] for r in self.ingredients.values()}
        # A new database holds the default consent template: the file's are merged.
        self.templates = _existing(connection, _t(ConsentTemplateRow))
        self.template_names = {same_key(r["name"]) for r in self.templates.values()}
        self.template_versions = _existing(connection, _t(ConsentTemplateVersionRow))
        self.order = [s.table.name for s in SECTIONS]

    def add(self, section: Section, row: dict[str, Any]) -> None:
        if section.name == "users":
            self._merge_user(row)
        elif section.name == "ingredients":
            self._merge_ingredient(row)
        elif section.name == "consent_templates":
            self._merge_consent_template(row)
        elif section.name == "consent_template_versions":
            self._merge_consent_version(row)
        else:
            self.writer.insert(section.table, row, f"{section.table.name}.import")
        self.queued += 1
        if self.queued >= BATCH:
            self.flush()

    def end_section(self, section: Section) -> None:
        self.flush()

    def flush(self) -> None:
        self.writer.flush(self.order)
        self.queued = 0

    def versions(self, ids: set[int]) -> Mapping[int, FormulationVersionRow]:
        table = _t(FormulationVersionRow)
        found: dict[int, FormulationVersionRow] = {}
        for part in _chunks(sorted(ids)):
            for row in self.connection.execute(
                sa.select(table).where(table.c.id.in_(part))
            ).mappings():
                found[row["id"]] = FormulationVersionRow(**row)
        return found

    def session_hashes(self, ids: set[int]) -> Mapping[int, str | None]:
        table = _t(SessionRow)
        found: dict[int, str | None] = {}
        for part in _chunks(sorted(ids)):
            found.update(
                (row.id, row.content_hash)
                for row in self.connection.execute(
                    sa.select(table.c.id, table.c.content_hash).where(table.c.id.in_(part)))
            )
        return found

    def _merge_user(self, row: dict[str, Any]) -> None:
        table = _t(UserRow)
        here = self.users.get(row["id"])
        other = self.users_by_key.get(row["username_key"])
        if here is not None and here["username_key"] != row["username_key"]:
            raise TransferError(
                f"user id {row['id']} is {here['username']!r} here but {row['username']!r} in "
                "the file; import into a new database whose first administrator has the "
                "file's first username; nothing was imported"
            )
        if here is None and other is not None:
            raise TransferError(
                f"the username {row['username']!r} exists here with another id; import into a "
                "new database; nothing was imported"
            )
        if here is not None:
            if here["id"] == self.actor.id and (
                row["role"] != Role.ADMIN.value or not row["active"]
            ):
                raise TransferError(
                    "the file would take away your own administrator account; "
                    "nothing was imported"
                )
            self.writer.update(table, here, {**here, **row}, "app_user.import")
        else:
            self.writer.insert(table, {**row, "password_hash": NO_PASSWORD, "failed_logins": 0,
                                       "locked": True}, "app_user.import")
            self.report.users_without_password.append(row["username"])

    def _merge_ingredient(self, row: dict[str, Any]) -> None:
        table = _t(IngredientRow)
        here = self.ingredients.get(row["id"])
        if here is not None and here["key"] != row["key"]:
            raise TransferError(
                f"ingredient id {row['id']} is {here['key']!r} here but {row['key']!r} in the "
                "file (the two databases have different libraries); nothing was imported"
            )
        if here is None and row["key"] in self.ingredient_keys:
            raise TransferError(
                f"the ingredient {row['key']!r} exists here with another id; nothing was imported"
            )
        if here is not None:
            self.writer.update(table, here, {**here, **row}, "ingredient.import")
        else:
            self.writer.insert(table, row, "ingredient.import")


    def _merge_consent_template(self, row: dict[str, Any]) -> None:
        """Same id and name: the file's state (version, retirement); else new, or refused."""
        table = _t(ConsentTemplateRow)
        here = self.templates.get(row["id"])
        if here is not None and here["name"] != row["name"]:
            raise TransferError(
                f"consent template id {row['id']} is {here['name']!r} here but "
                f"{row['name']!r} in the file; import into a new database; nothing was imported"
            )
        if here is None and same_key(row["name"]) in self.template_names:
            raise TransferError(
                f"the consent template {row['name']!r} exists here with another id; import "
                "into a new database; nothing was imported"
            )
        if here is not None:
            self.writer.update(table, here, {**here, **row}, "consent_template.import")
        else:
            self.writer.insert(table, row, "consent_template.import")

    def _merge_consent_version(self, row: dict[str, Any]) -> None:
        """A version present here must be the same text (versions never change)."""
        here = self.template_versions.get(row["id"])
        if here is None:
            self.writer.insert(_t(ConsentTemplateVersionRow), row,
                               "consent_template_version.import")
        elif (here["template_id"], here["version"], here["sha256"]) != (
                row["template_id"], row["version"], row["sha256"]):
            raise TransferError(
                f"consent template version id {row['id']} differs here from the file's (the "
                "two databases have different consent texts); import into a new database; "
                "nothing was imported"
            )


def _chunks(values: list[int], size: int = 500) -> Iterator[list[int]]:
    # IN lists of bounded length (SQLite's host-parameter limit).
    for start in range(0, len(values), size):
        yield values[start:start + size]


def import_file(
    database: Database,
    actor: Actor,
    handle: BinaryIO,
    *,
    source_name: str,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """Import an export file read from ``handle``, streamed, in one transaction or not at all.

    Each record is validated as it is read (fields, references, signatures; see
    :class:`_Checker`) and written with its audit entry inside the one transaction,
    a batch at a time, so memory does not grow with the clinic. Any problem, found on
    the first record or the last, rolls everything back: nothing is imported. A dry
    run does all of it and rolls back at the end.
    """
    require_role(actor, ADMINS, "import a clinic's records")
    moment = now or datetime.now(UTC)
    report = ImportReport({}, "unknown", "", [], dry_run)
    try:
        with database.engine.begin() as connection:
            take_append_lock(connection)
            _check_target_empty(connection)
            writers: list[BulkWriter] = []

            def begin(header: dict[str, Any]) -> _Sink:
                report.source_db_id = str(header["source"].get("db_id", "unknown"))[:100]
                reason = (f"imported from {source_name[:200]} "
                          f"(export of database {report.source_db_id})")
                writer = BulkWriter(connection, db_id=database.db_id, user=actor.username,
                                    workstation=_host(), now=moment, reason=reason)
                writers.append(writer)
                _merge_clinic(connection, writer, header["clinic"])
                return _Database(connection, writer, actor, report)

            _, counts, digest = _read_document(handle, begin)
            (writer,) = writers
            report.counts, report.sha256 = counts, digest
            writer.audit("database.import", "database", database.db_id,
                         {"file": source_name[:500], "sha256": digest,
                          "source_db_id": report.source_db_id, "counts": counts})
            writer.flush([s.table.name for s in SECTIONS])
            report.audit_entries = writer.entries_written
            if dry_run:
                raise _DryRun
            # No photo row may commit without its file (copied in beforehand).
            require_files(connection, live_folder(database))
            bump_sequences(connection, [s.table for s in SECTIONS])
    except _DryRun:
        return report
    except sa.exc.IntegrityError as exc:
        raise TransferError(
            f"the database refused a record ({str(exc.orig).splitlines()[0]}); nothing was "
            "imported"
        ) from exc
    return report


def import_document(
    database: Database,
    actor: Actor,
    text: str | bytes,
    *,
    source_name: str,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """:func:`import_file` of an export file held in memory."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return import_file(database, actor, io.BytesIO(raw), source_name=source_name,
                       dry_run=dry_run, now=now)


class _DryRun(Exception):
    """Raised inside the import transaction to roll it back after a full check."""


def _check_target_empty(connection: sa.Connection) -> None:
    for section in CLINICAL:
        if connection.execute(sa.select(section.table.c.id).limit(1)).first() is not None:
            raise TransferError(
                f"this database already holds {section.name.replace('_', ' ')}; import into a "
                "new database (formulary init --db NEW.db --admin NAME); nothing was imported"
            )


def _existing(connection: sa.Connection, table: sa.Table) -> dict[int, dict[str, Any]]:
    return {r["id"]: dict(r) for r in connection.execute(sa.select(table)).mappings()}


def _check_clinic_settings(clinic: Mapping[str, Any]) -> None:
    """The optional clinic identifier and beyond-use time (files before them have none)."""
    from formulary.clinic import (
        IDENTIFIER,
        IDENTIFIER_RULE,
        MAX_BEYOND_USE_MINUTES,
        MIN_BEYOND_USE_MINUTES,
    )

    for key, multiline in (("name", False), ("address", True)):
        if (wrong := text_problem(clinic[key], multiline=multiline)) is not None:
            raise _P.fail(f"clinic.{key}", wrong)
    identifier = clinic.get("identifier")
    if identifier is not None and not (
        isinstance(identifier, str) and (identifier == "" or IDENTIFIER.fullmatch(identifier))
    ):
        raise _P.fail("clinic.identifier", f"must be {IDENTIFIER_RULE}")
    minutes = clinic.get("beyond_use_minutes")
    if minutes is not None and not (
        isinstance(minutes, int) and not isinstance(minutes, bool)
        and MIN_BEYOND_USE_MINUTES <= minutes <= MAX_BEYOND_USE_MINUTES
    ):
        raise _P.fail("clinic.beyond_use_minutes",
                      f"must be a whole number of minutes from {MIN_BEYOND_USE_MINUTES} to "
                      f"{MAX_BEYOND_USE_MINUTES}")


def _merge_clinic(connection: sa.Connection, writer: BulkWriter, clinic: dict[str, Any]) -> None:
    table = _t(InstallationRow)
    here = dict(connection.execute(sa.select(table).order_by(table.c.id).limit(1)).mappings().one())
    name, address = clinic["name"], clinic["address"]
    for value, limit in ((name, 200), (address, 500)):
        if len(value) > limit:
            raise _P.fail("clinic", f"a clinic field is longer than {limit} characters")
    changed = {**here, "clinic_name": name, "clinic_address": address}
    if clinic.get("identifier") is not None:
        changed["clinic_identifier"] = clinic["identifier"]
    if clinic.get("beyond_use_minutes") is not None:
        changed["beyond_use_minutes"] = clinic["beyond_use_minutes"]
    writer.update(table, here, changed, "installation.import")
