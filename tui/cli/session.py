"""``formulary session record FILE.json``: record and sign a session headless.

The file's format is documented in docs/session-record.md. The same safety rules
run as in the app: every finding is printed on its own line (``BLOCK``/``WARNING``,
rule, where, what, what to do). Warnings need ``--acknowledge``; blocks need
``--override "reason"`` from a practitioner or admin. ``--check`` only reports and
writes nothing.

Exit status: 0 recorded, or already recorded under the same idempotency key (or,
with ``--check``, nothing blocks); 3 something blocks or a warning was not
acknowledged, and nothing was recorded; 2 the file, the sign-in or the database
refused (one line on stderr), including a session no option can get signed (a time in
the future, zone volumes that do not add up, a lot holding less than drawn), which
``--check`` reports the same way, findings included; 5 the session WAS recorded and signed but its
checkpoint could not be written (do not retry; fix the key folder).
"""

from __future__ import annotations

import json
import shlex
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from formulary import session_fields
from tui.cli.errors import fail
from tui.cli.login import PasswordStdinOption, UserOption, read_password, store_errors
from tui.cli.options import DbOption, JsonOption

if TYPE_CHECKING:
    from db.store import Actor, SessionDraft, Store
    from formulary.safety import Finding, Findings

app = typer.Typer(help="Record treatment sessions headless.", no_args_is_help=True)

#: Exit status when the safety findings stop the recording.
EXIT_BLOCKED = 3

#: Largest session file accepted (a session is a few kilobytes).
MAX_FILE_BYTES = 1_000_000

#: Keys a session file may hold: the declared session fields (formulary.session_fields)
#: and those that are not fields (the formulation by id, the signature's meaning, the
#: idempotency key of a retry).
_FIELDS = session_fields.cli_keys() | {"formulation_id", "meaning", "idempotency_key"}


def _file_key(file: Path) -> str:
    """The default idempotency key: the SHA-256 of the session file's bytes."""
    import hashlib

    try:
        return "file-sha256:" + hashlib.sha256(file.read_bytes()).hexdigest()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")


class FileError(ValueError):
    """The session file cannot be read as a session; the message says where and why."""


def _amount(data: dict[str, Any], name: str, kind: str) -> Any:
    from formulary.units import UnitsError, parse_quantity

    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FileError(f'{name} must be text such as "2 mL", not {json.dumps(value)}')
    try:
        return parse_quantity(value, kind=kind)
    except UnitsError as exc:
        raise FileError(f"{name}: {exc}") from None


def _int(data: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            raise FileError(f"{name} is missing")
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise FileError(f"{name} must be a whole number, not {json.dumps(value)}")
    return value


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise FileError(f"{name} must be text, not {json.dumps(value)}")
    return value


def read_file(path: Path) -> dict[str, Any]:
    """The JSON object in ``path`` (FileError when it is not one)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise FileError(f"{path} is larger than {MAX_FILE_BYTES} bytes; is it a session file?")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise FileError(f"{path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise FileError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise FileError(f"{path} must hold one JSON object describing the session")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise FileError(
            f"unknown field {unknown[0]!r}; the fields are listed in docs/session-record.md"
        )
    return data


def _version_id(store: Store, actor: Actor, data: dict[str, Any], patient_id: int) -> int:
    version_id = _int(data, "formulation_version_id")
    formulation_id = _int(data, "formulation_id")
    if (version_id is None) == (formulation_id is None):
        raise FileError(
            "give either formulation_version_id or formulation_id (its current version)"
        )
    if version_id is not None:
        return version_id
    for version in store.list_formulations(actor, patient_id):
        if version.formulation_id == formulation_id:
            return version.id
    raise FileError(f"the patient has no formulation {formulation_id}")


def _lots(store: Store, actor: Actor, data: dict[str, Any], version_id: int) -> tuple[Any, ...]:
    from db.store import LotChoice

    items = data.get("lots", [])
    if not isinstance(items, list):
        raise FileError('lots must be a list of {"component": 1, "lot": "A123"} objects')
    components = {
        c.position: c for c in store.get_formulation_version(actor, version_id).components
    }
    choices = []
    for index, item in enumerate(items, start=1):
        where = f"lots[{index}]"
        if not isinstance(item, dict):
            raise FileError(f"{where} must be an object with component and lot")
        position = _int(item, "component", required=True)
        assert position is not None
        component = components.get(position)
        if component is None or component.product_id is None:
            raise FileError(
                f"{where}: component {position} is not a stock product of the formulation"
            )
        lot_id = _int(item, "lot_id")
        number = item.get("lot")
        if lot_id is None:
            if not isinstance(number, str) or not number.strip():
                raise FileError(f'{where}: give the lot number ("lot") or its id ("lot_id")')
            matches = [
                lot
                for lot in store.list_lots(actor, component.product_id, include_empty=True)
                if lot.lot_number == number.strip()
            ]
            if not matches:
                raise FileError(f"{where}: {component.name} has no lot {number.strip()!r}")
            lot_id = matches[0].id
        choices.append(LotChoice(position, lot_id, _amount(item, "drawn", "volume")))
    return tuple(choices)


def _zones(data: dict[str, Any]) -> tuple[Any, ...]:
    from formulary.records import ScalpZone, ZoneVolume

    zones = data.get("zones", {})
    if not isinstance(zones, dict):
        raise FileError(
            'zones must be an object such as {"vertex": "1 mL"} or '
            '{"vertex": {"volume": "1 mL", "points": 20}}'
        )
    out = []
    for name, given in zones.items():
        try:
            zone = ScalpZone(name)
        except ValueError:
            known = ", ".join(z.value for z in ScalpZone)
            raise FileError(f"zones: unknown zone {name!r}; the zones are {known}") from None
        points = None
        if isinstance(given, dict):
            unknown = sorted(set(given) - {"volume", "points"})
            if unknown:
                raise FileError(
                    f"zones.{name}: unknown field {unknown[0]!r}; give volume and points"
                )
            points = given.get("points")
            if points is not None and (isinstance(points, bool) or not isinstance(points, int)):
                raise FileError(f"zones.{name}.points must be a whole number such as 20")
            given = given.get("volume")
        amount = _amount({f"zones.{name}": given}, f"zones.{name}", "volume")
        if amount is None:
            raise FileError(f'zones.{name} needs a volume such as "1 mL"')
        out.append(ZoneVolume(zone, amount, points))
    return tuple(out)


def _events(data: dict[str, Any]) -> tuple[Any, ...]:
    from formulary.records import AdverseEvent

    items = data.get("adverse_events", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise FileError('adverse_events must be a list of {"kind": ...} objects')
    return tuple(
        AdverseEvent(_text(i, "kind"), _text(i, "severity"), _text(i, "description")) for i in items
    )


def _simple(data: dict[str, Any]) -> dict[str, Any]:
    """The numbers, quantities and texts of the file, read as the declaration says."""
    out: dict[str, Any] = {}
    for declared in session_fields.simple_fields():
        if not declared.cli:
            continue
        if declared.kind is session_fields.Kind.INT:
            out[declared.attr] = _int(data, declared.cli)
        elif declared.kind is session_fields.Kind.AMOUNT:
            out[declared.attr] = _amount(data, declared.cli, declared.dimension)
        else:
            out[declared.attr] = _text(data, declared.cli)
    return out


def build_draft(store: Store, actor: Actor, data: dict[str, Any]) -> SessionDraft:
    """The session the file describes (FileError naming the field when it cannot be)."""
    from db.store import SessionDraft
    from formulary.records import Technique

    chart = data.get("patient")
    if not isinstance(chart, str) or not chart.strip():
        raise FileError("patient must be the patient's chart number")
    patient = store.find_patient(actor, chart)
    when_text = data.get("performed_at")
    if not isinstance(when_text, str):
        raise FileError("performed_at must be a date and time such as 2026-11-24T10:30:00+01:00")
    try:
        when = datetime.fromisoformat(when_text)
    except ValueError:
        raise FileError(f"performed_at {when_text!r} is not an ISO 8601 date and time") from None
    if when.tzinfo is None:
        raise FileError("performed_at needs a time zone offset, such as +01:00 or Z")
    technique = data.get("technique")
    if technique is not None:
        try:
            technique = Technique(technique)
        except ValueError:
            known = ", ".join(t.value for t in Technique)
            raise FileError(f"technique {technique!r} is not one of {known}") from None
    version_id = _version_id(store, actor, data, patient.id)
    simple, others = session_fields.split(_simple(data), SessionDraft)
    return SessionDraft(
        patient_id=patient.id,
        formulation_version_id=version_id,
        performed_at=when,
        course_id=_int(data, "course_id"),
        technique=technique,
        zones=_zones(data),
        **simple,
        lots=_lots(store, actor, data, version_id),
        adverse_events=_events(data),
        others=others,
    )


def _print(findings: Findings, as_json: bool, extra: dict[str, Any]) -> None:
    if as_json:
        out = {"findings": [f.as_dict() for f in findings], **extra}
        typer.echo(json.dumps(out, indent=2, sort_keys=True))
        return
    for finding in findings:
        typer.echo(finding.line() + _command_for(finding))


def _command_for(finding: Finding) -> str:
    """The command that carries out a finding's remedy, when one exists, for the line.

    The remedies are worded for the app and the command line alike ("correct the stock
    count"); here, on the command line, they can name the command.
    """
    from formulary.safety.lots import RULE_QUARANTINED, RULE_STOCK

    lot = shlex.quote(finding.subject) if finding.subject else "LOT"
    if finding.rule == RULE_STOCK:
        return f" (`formulary lot adjust {lot} --by '+N mL' --reason ...` after counting it)"
    if finding.rule == RULE_QUARANTINED:
        return f" (`formulary lot release {lot} --reason ...` once it is checked)"
    return ""


@app.command()
def record(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The session as JSON (see docs/session-record.md).")],
    check: Annotated[
        bool, typer.Option("--check", help="Only report the findings; record nothing.")
    ] = False,
    acknowledge: Annotated[
        bool, typer.Option("--acknowledge", help="Acknowledge every warning found.")
    ] = False,
    override: Annotated[
        str | None,
        typer.Option(
            "--override",
            help="Override what blocks (practitioner or admin), or say why a warning that "
            "needs a reason is acknowledged, with this written reason.",
        ),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option(
            "--idempotency-key",
            help="Record at most once under this key (default: the file's idempotency_key, "
            "else a hash of the file's bytes): a retry never records twice.",
        ),
    ] = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record and sign a session from FILE.json, with the app's safety checks."""
    from db.database import open_database
    from db.errors import AlreadyRecorded, ValidationError
    from db.store import ADMINISTERED_BY, Store
    from db.store.safety import SafetyBlocked

    if not user:
        fail("who is this? give --user NAME (or set FORMULARY_USER)")
    try:
        data = read_file(file)
        key = idempotency_key or _text(data, "idempotency_key") or _file_key(file)
    except FileError as exc:
        fail(str(exc))
    password = read_password(password_stdin, prompt=f"Password for {user}")
    with store_errors():
        database = open_database(db or (ctx.obj or {}).get("db"), create=False)
    try:
        store = Store(database)
        with store_errors():
            actor = store.authenticate(user, password)
            try:
                draft = build_draft(store, actor, data)
            except FileError as exc:
                fail(f"{file}: {exc}")
            if check:
                checked = store.check_signing(actor, draft)
                refused = {"error": checked.refusal} if checked.refusal else {}
                _print(checked.findings, as_json, {"recorded": False, **refused})
                if checked.refusal:
                    # What no option gets past is exit 2, as the recording itself says.
                    fail(f"would not be recorded: {checked.refusal}")
                raise typer.Exit(EXIT_BLOCKED if checked.findings.requires_override else 0)
            findings = store.check_session_draft(actor, draft)
            meaning = _text(data, "meaning") or ADMINISTERED_BY
            try:
                session = store.record_session(
                    actor,
                    draft,
                    password,
                    meaning,
                    acknowledge=acknowledge,
                    override_reason=override,
                    idempotency_key=key,
                )
            except AlreadyRecorded as exc:
                if as_json:
                    typer.echo(json.dumps({"recorded": False, "already_recorded": True,
                                           "session_id": exc.record_id}))
                else:
                    typer.echo(str(exc))
                raise typer.Exit(0) from None
            except SafetyBlocked as exc:
                _print(exc.findings, as_json, {"recorded": False, "error": str(exc)})
                needs_reason = any(w.needs_reason for w in exc.findings.warnings)
                hint = (
                    'add --override "reason"'
                    if exc.findings.requires_override or needs_reason
                    else ("add --acknowledge")
                )
                fail(f"not recorded: {exc}; {hint}", EXIT_BLOCKED)
            except ValidationError as exc:
                # (SafetyBlocked is one, caught above.) Refused before the safety rules
                # decide (a time in the future, zones that do not add up, a lot holding
                # less than drawn): no option gets past it, so exit 2, with the
                # findings a --check prints.
                _print(findings, as_json, {"recorded": False, "error": str(exc)})
                fail(f"not recorded: {exc}")
    finally:
        database.dispose()
    _print(
        findings,
        as_json,
        {"recorded": True, "session_id": session.id, "overrides": len(session.overrides)},
    )
    if not as_json:
        overridden = (
            f", {len(session.overrides)} finding(s) overridden or acknowledged"
            if (session.overrides)
            else ""
        )
        typer.echo(f"recorded and signed session {session.id}{overridden}")
