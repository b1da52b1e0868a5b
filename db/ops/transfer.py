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
still verify. It validates the whole file first (shape, types, units, enumerations,
references, uniqueness, every session and addendum signature), then writes
everything in one transaction with an audit entry per record, or nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa

from db.audit.canonical import format_decimal, format_utc
from db.audit.chain import append_event
from db.audit.checkpoint import make_checkpoint
from db.audit.service import writable_key
from db.database import Database
from db.engine import READ_ONLY
from db.errors import StoreError
from db.ops.bulk import BulkWriter, bump_sequences, take_append_lock
from db.store import Actor
from db.store.roles import ADMINS, require_role
from db.tables.formulations import CourseRow, FormulationRow, FormulationVersionRow
from db.tables.installation import InstallationRow
from db.tables.outcomes import OutcomeRow
from db.tables.people import PatientRow, PatientWeightRow, UserRow
from db.tables.sessions import AddendumRow, SessionLotRow, SessionRow
from db.tables.stock import ClinicLimitRow, IngredientRow, LotRow, ProductRow
from db.types import UTCDateTime
from db.workstation import workstation_name
from formulary import limits, session_fields
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
)
BY_NAME = {s.name: s for s in SECTIONS}

#: Sections that must be empty in the database an import goes into.
CLINICAL = tuple(s for s in SECTIONS if s.name not in ("users", "ingredients"))


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
    return value, unit


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
                row[key], row[name + "_unit"] = _amount(data, f"{where}.{name}", units)
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


def parse_document(text: str | bytes) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Validate a whole export file; ``(header, rows by section)`` or :class:`TransferError`."""
    from db.auth import username_key
    from db.store.validate import search_key

    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TransferError(f"the file is not valid JSON ({exc}); nothing was imported") from exc
    except RecursionError as exc:
        raise TransferError(
            "the file is nested too deeply to be an export; nothing was imported"
        ) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise TransferError(
            f"the file is not a Formulary export (its \"format\" is not {FORMAT!r}); "
            "nothing was imported"
        )
    if document.get("version") != VERSION:
        raise TransferError(
            f"the file is export format version {document.get('version')!r}; this Formulary "
            f"reads version {VERSION}; nothing was imported"
        )
    source = document.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("db_id", ""), str):
        raise _P.fail("source", 'must be an object such as {"db_id": "...", ...}')
    records = document.get("records")
    if not isinstance(records, dict):
        raise _P.fail("records", "must be an object with one list per kind of record")
    unknown = sorted(set(records) - set(BY_NAME))
    if unknown:
        raise _P.fail("records", f"unknown kind of record {unknown[0]!r}")
    clinic = document.get("clinic")
    if not isinstance(clinic, dict) or not all(
        isinstance(clinic.get(k), str) for k in ("name", "address")
    ):
        raise _P.fail("clinic", 'must be {"name": "...", "address": "..."}')
    _check_clinic_settings(clinic)
    units = _units()
    rows: dict[str, list[dict[str, Any]]] = {}
    for section in SECTIONS:
        listed = records.get(section.name, [])
        if not isinstance(listed, list):
            raise _P.fail(f"records.{section.name}", "must be a list")
        out = []
        for i, record in enumerate(listed):
            where = f"records.{section.name}[{i}]"
            row = _row_from_json(section, record, where, units)
            _check_json_columns(section, row, where, units)
            out.append(row)
        rows[section.name] = out
    for row in rows["users"]:
        row["username_key"] = username_key(row["username"])
    for row in rows["patients"]:
        row["family_key"] = search_key(row["family_name"])
        row["given_key"] = search_key(row["given_name"])
        row["search_key"] = search_key(row["family_name"], row["given_name"], row["chart_number"])
    _check_ids_and_refs(rows)
    _check_signatures(rows)
    return document, rows


def _check_ids_and_refs(rows: dict[str, list[dict[str, Any]]]) -> None:
    ids = {}
    for section in SECTIONS:
        seen: set[int] = set()
        for i, row in enumerate(rows[section.name]):
            if row["id"] in seen:
                raise _P.fail(f"records.{section.name}[{i}].id", f"id {row['id']} appears twice")
            seen.add(row["id"])
        ids[section.name] = seen
        for columns in _UNIQUE.get(section.name, ()):
            keys: set[tuple[Any, ...]] = set()
            for i, row in enumerate(rows[section.name]):
                key = tuple(row[c] for c in columns)
                if key in keys:
                    raise _P.fail(
                        f"records.{section.name}[{i}]",
                        f"{' and '.join(columns)} {', '.join(map(str, key))} appears twice",
                    )
                keys.add(key)
    for section in SECTIONS:
        for i, row in enumerate(rows[section.name]):
            where = f"records.{section.name}[{i}]"
            for column, target in section.refs.items():
                value = row[column]
                if value is not None and value not in ids[target]:
                    raise _P.fail(f"{where}.{column}", f"refers to {target} id {value}, "
                                  "which the file does not contain")
            for column, nested in section.json_refs.items():
                for j, item in enumerate(row[column]):
                    for name, target in nested.items():
                        value = item.get(name)
                        if value is not None and (
                            not isinstance(value, int)
                            or isinstance(value, bool)
                            or value not in ids[target]
                        ):
                            raise _P.fail(f"{where}.{column}[{j}].{name}",
                                          f"refers to {target} id {value}, which the file "
                                          "does not contain")


def _check_signatures(rows: dict[str, list[dict[str, Any]]]) -> None:
    """Every signed session and addendum must still hash to what was signed."""
    from db.store.signing import signature_hash, signed_content, signed_content_definition
    from formulary.signed_content import addendum_content

    versions = {r["id"]: FormulationVersionRow(**r) for r in rows["formulation_versions"]}
    sessions: dict[int, dict[str, Any]] = {}
    for i, row in enumerate(rows["sessions"]):
        sessions[row["id"]] = row
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
    for i, row in enumerate(rows["addenda"]):
        session = sessions[row["session_id"]]
        try:
            definition = signed_content_definition(row.get("signed_content_version"))
        except ValueError as exc:
            raise _P.fail(f"records.addenda[{i}].signed_content_version", str(exc)) from exc
        content = addendum_content(session["id"], session["content_hash"], row["text"],
                                   row["reason"], definition)
        if signature_hash(content, row["signer_name"], row["signed_at"],
                          row["signature_meaning"]) != row["content_hash"]:
            raise _P.fail(f"records.addenda[{i}] (addendum {row['id']})",
                          "its content differs from what was signed")


# -- import: writing ---------------------------------------------------------------------


def import_document(
    database: Database,
    actor: Actor,
    text: str | bytes,
    *,
    source_name: str,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """Validate ``text`` (an export file) and write it in one transaction, or nothing."""
    require_role(actor, ADMINS, "import a clinic's records")
    raw = text.encode("utf-8") if isinstance(text, str) else text
    digest = hashlib.sha256(raw).hexdigest()
    document, rows = parse_document(raw)
    source_db = str(document.get("source", {}).get("db_id", "unknown"))[:100]
    moment = now or datetime.now(UTC)
    counts = {name: len(listed) for name, listed in rows.items()}
    report = ImportReport(counts, source_db, digest, [], dry_run)
    reason = f"imported from {source_name[:200]} (export of database {source_db})"
    try:
        with database.engine.begin() as connection:
            take_append_lock(connection)
            writer = BulkWriter(connection, db_id=database.db_id, user=actor.username,
                                workstation=_host(), now=moment, reason=reason)
            _check_target_empty(connection)
            _merge_users(connection, writer, rows["users"], actor, report)
            _merge_ingredients(connection, writer, rows["ingredients"])
            _merge_clinic(connection, writer, document["clinic"])
            for section in CLINICAL:
                for row in rows[section.name]:
                    writer.insert(section.table, row, f"{section.table.name}.import")
            writer.audit("database.import", "database", database.db_id,
                         {"file": source_name[:500], "sha256": digest,
                          "source_db_id": source_db, "counts": counts})
            if dry_run:
                report.audit_entries = writer.pending_entries
                raise _DryRun
            writer.flush([s.table.name for s in SECTIONS])
            bump_sequences(connection, [s.table for s in SECTIONS])
            report.audit_entries = writer.entries_written
    except _DryRun:
        return report
    except sa.exc.IntegrityError as exc:
        raise TransferError(
            f"the database refused a record ({str(exc.orig).splitlines()[0]}); nothing was "
            "imported"
        ) from exc
    return report


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


def _merge_users(connection: sa.Connection, writer: BulkWriter,
                 users: list[dict[str, Any]], actor: Actor, report: ImportReport) -> None:
    table = _t(UserRow)
    current = _existing(connection, table)
    by_key = {r["username_key"]: r for r in current.values()}
    for row in users:
        here = current.get(row["id"])
        other = by_key.get(row["username_key"])
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
            if here["id"] == actor.id and (row["role"] != Role.ADMIN.value or not row["active"]):
                raise TransferError(
                    "the file would take away your own administrator account; "
                    "nothing was imported"
                )
            writer.update(table, here, {**here, **row}, "app_user.import")
        else:
            writer.insert(table, {**row, "password_hash": NO_PASSWORD, "failed_logins": 0,
                                  "locked": True}, "app_user.import")
            report.users_without_password.append(row["username"])


def _merge_ingredients(connection: sa.Connection, writer: BulkWriter,
                       ingredients: list[dict[str, Any]]) -> None:
    table = _t(IngredientRow)
    current = _existing(connection, table)
    by_key = {r["key"]: r for r in current.values()}
    for row in ingredients:
        here = current.get(row["id"])
        if here is not None and here["key"] != row["key"]:
            raise TransferError(
                f"ingredient id {row['id']} is {here['key']!r} here but {row['key']!r} in the "
                "file (the two databases have different libraries); nothing was imported"
            )
        if here is None and row["key"] in by_key:
            raise TransferError(
                f"the ingredient {row['key']!r} exists here with another id; nothing was imported"
            )
        if here is not None:
            writer.update(table, here, {**here, **row}, "ingredient.import")
        else:
            writer.insert(table, row, "ingredient.import")


def _check_clinic_settings(clinic: Mapping[str, Any]) -> None:
    """The optional clinic identifier and beyond-use time (files before them have none)."""
    from db.store.users import CLINIC_ID, MAX_BEYOND_USE_MINUTES

    identifier = clinic.get("identifier")
    if identifier is not None and not (
        isinstance(identifier, str) and (identifier == "" or CLINIC_ID.fullmatch(identifier))
    ):
        raise _P.fail("clinic.identifier",
                      "must be 1 to 64 letters, digits, '.', '_' or '-'")
    minutes = clinic.get("beyond_use_minutes")
    if minutes is not None and not (
        isinstance(minutes, int) and not isinstance(minutes, bool)
        and 1 <= minutes <= MAX_BEYOND_USE_MINUTES
    ):
        raise _P.fail("clinic.beyond_use_minutes",
                      f"must be a whole number of minutes from 1 to {MAX_BEYOND_USE_MINUTES}")


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
