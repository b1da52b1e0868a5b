"""``formulary session list|addendum|discard|outcome|outcomes|retire-outcome``.

What the chart holds around a recorded session, headless: the sessions of a patient
(to find an id), a signed addendum correcting a signed session, discarding a draft
left in the app, and the measured outcomes (density, shaft diameter, grade) with
their withdrawal. Every write goes through the Store and is audited.

Exit status: 0 done; 2 bad input or a refusal (unknown chart, session or outcome, a
signed session to discard, a draft to amend, a missing ``--reason``, a wrong
password), one line on stderr and nothing saved; 5 the addendum WAS signed and saved
but its checkpoint could not be written (do not add it again; fix the key folder).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui.cli.errors import fail
from tui.cli.login import (
    PasswordStdinOption,
    UserOption,
    signed_in,
    signed_in_with_password,
    store_errors,
)
from tui.cli.options import DbOption, JsonOption, ReasonOption, db_location

if TYPE_CHECKING:
    from formulary.records import Outcome, Session

ChartArgument = Annotated[str, typer.Argument(help="The patient's chart number.")]
SessionArgument = Annotated[int, typer.Argument(help="The session's id (see 'session list').")]

#: How far ahead of this computer's clock a measurement time may be (the Store allows
#: the same drift for a session time between workstations).
FUTURE_TOLERANCE = timedelta(minutes=10)


def parse_moment(text: str, now: datetime) -> datetime:
    """The time ``--at`` names: a date (at ``now``'s time of day) or an ISO 8601 time.

    ``now`` is aware. A time needs its offset (a bare time is ambiguous across
    workstations); a time in the future is refused, as the app refuses a future date.
    Raises ValueError with the message to print.
    """
    given = text.strip()
    try:
        if len(given) == 10:
            moment = datetime.combine(datetime.fromisoformat(given).date(), now.timetz())
        else:
            moment = datetime.fromisoformat(given)
    except ValueError:
        raise ValueError(
            f"--at {text!r} is not a date or time; write YYYY-MM-DD or "
            "2026-11-24T10:30:00+01:00"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"--at {text!r} needs a time zone offset, such as +01:00 or Z")
    if moment > now + FUTURE_TOLERANCE:
        raise ValueError(f"--at {text!r} is in the future; give when it was measured")
    return moment


def _amount_text(amount: Any) -> str | None:
    from formulary.units import format_amount

    return None if amount is None else format_amount(amount)


def outcome_json(o: Outcome) -> dict[str, Any]:
    """An outcome as ``--json`` prints it (amounts as text with their unit, time in UTC
    as stored, whatever offset it was given with)."""
    return {
        "id": o.id,
        "patient_id": o.patient_id,
        "session_id": o.session_id,
        "measured_at": o.measured_at.astimezone(UTC).isoformat(),
        "zone": o.zone.value if o.zone else None,
        "density": _amount_text(o.density),
        "shaft_diameter": _amount_text(o.shaft_diameter),
        "scale_grade": o.scale_grade,
        "photo_refs": list(o.photo_refs),
        "notes": o.notes,
    }


def _outcome_line(o: Outcome, *, with_id: bool = True) -> str:
    when = f"{o.measured_at.astimezone():%Y-%m-%d %H:%M}"
    parts = [
        f"{o.id:>5}  {when}" if with_id else when,
        (o.zone.value if o.zone else "-").ljust(14),
    ]
    for label, value in (("density", _amount_text(o.density)),
                         ("diameter", _amount_text(o.shaft_diameter))):
        if value:
            parts.append(f"{label} {value}")
    if o.scale_grade:
        parts.append(f"grade {o.scale_grade}")
    if o.session_id is not None:
        parts.append(f"(session {o.session_id})")
    if o.notes:
        parts.append(f"- {o.notes}")
    return "  ".join(parts)


def session_json(s: Session) -> dict[str, Any]:
    """A session's header as ``session list --json`` prints it."""
    signature = s.signature
    return {
        "id": s.id,
        "patient_id": s.patient_id,
        "performed_at": s.performed_at.isoformat(),
        "status": s.status.value,
        "formulation_version_id": s.formulation_version_id,
        "course_id": s.course_id,
        "session_number": s.session_number,
        "signed_by": signature.signer.full_name if signature else None,
        "signed_at": signature.signed_at.isoformat() if signature else None,
        "addenda": [
            {
                "id": a.id,
                "text": a.text,
                "reason": a.reason,
                "signed_by": a.signature.signer.full_name,
                "signed_at": a.signature.signed_at.isoformat(),
                "meaning": a.signature.meaning,
            }
            for a in s.addenda
        ],
    }


def _session_line(s: Session) -> str:
    signed = (
        f"signed by {s.signature.signer.full_name}" if s.signature else "DRAFT (not signed)"
    )
    addenda = f", {len(s.addenda)} addendum(a)" if s.addenda else ""
    return f"{s.id:>5}  {s.performed_at.astimezone():%Y-%m-%d %H:%M}  {signed}{addenda}"


def _required(value: str | None, flag: str, why: str) -> str:
    """The text of a flag the command needs, or one line naming it."""
    if not (value or "").strip():
        fail(f"{flag} is required: {why}")
    return value or ""


def list_sessions(
    ctx: typer.Context,
    chart: ChartArgument,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List a patient's sessions, drafts and signed, oldest first, with their ids."""
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        patient = store.find_patient(actor, chart)
        found = store.list_sessions(actor, patient.id)
    if as_json:
        typer.echo(json.dumps([session_json(s) for s in found]))
        return
    if not found:
        typer.echo(f"no sessions for {chart}")
    for s in found:
        typer.echo(_session_line(s))


def addendum(
    ctx: typer.Context,
    session_id: SessionArgument,
    text: Annotated[
        str | None, typer.Option("--text", help="The correction, as it will read. Required.")
    ] = None,
    reason: ReasonOption = None,
    meaning: Annotated[
        str | None,
        typer.Option("--meaning", help="The meaning of the signature (default: amended by)."),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Sign an addendum correcting a signed session (the session itself never changes).

    The password signs it: it is asked for (or read with --password-stdin) and checked
    again, as the app's addendum form does.
    """
    from db.store import AMENDED_BY

    body = _required(text, "--text", "write the correction the addendum records")
    why = _required(reason, "--reason", "say why the signed record is corrected")
    location = db_location(ctx, db)
    with (
        signed_in_with_password(location, user, password_stdin) as (store, actor, password),
        store_errors(),
    ):
        session = store.add_addendum(
            actor, session_id, body, why, password, meaning or AMENDED_BY
        )
    added = max(session.addenda, key=lambda a: a.id)
    if as_json:
        typer.echo(json.dumps(session_json(session)))
        return
    typer.echo(
        f"added addendum {added.id} to session {session.id}, signed by "
        f"{added.signature.signer.full_name} ({added.signature.meaning}) at "
        f"{added.signature.signed_at.astimezone():%Y-%m-%d %H:%M}"
    )


def discard(
    ctx: typer.Context,
    session_id: SessionArgument,
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Discard a draft session (kept in the audit trail with the reason); never a signed one."""
    why = _required(reason, "--reason", "say why the draft is discarded (kept in the audit trail)")
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        store.discard_draft(actor, session_id, why)
    typer.echo(f"discarded draft session {session_id}")


def outcome(
    ctx: typer.Context,
    chart: ChartArgument,
    density: Annotated[
        str | None, typer.Option("--density", help='Hair density, e.g. "150 hairs/cm2".')
    ] = None,
    diameter: Annotated[
        str | None, typer.Option("--diameter", help='Shaft diameter, e.g. "60 micrometre".')
    ] = None,
    zone: Annotated[
        str | None, typer.Option("--zone", help="The scalp zone measured, e.g. vertex.")
    ] = None,
    grade: Annotated[
        str, typer.Option("--grade", help="The scale grade, e.g. III-vertex.")
    ] = "",
    session_id: Annotated[
        int | None, typer.Option("--session", help="The session it follows up (its id).")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="When measured: YYYY-MM-DD or an ISO time (default: now)."),
    ] = None,
    notes: Annotated[str, typer.Option("--notes", help="Notes.")] = "",
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Record a measured outcome for a patient: a density, a diameter and/or a grade."""
    from formulary.records import ScalpZone
    from formulary.units import UnitsError, parse_quantity

    values: dict[str, Any] = {}
    for flag, key, given, kind in (
        ("--density", "density", density, "density"),
        ("--diameter", "shaft_diameter", diameter, "length"),
    ):
        if given is not None:
            try:
                values[key] = parse_quantity(given, kind=kind)
            except UnitsError as exc:
                fail(f"{flag}: {exc}")
    if not values and not grade.strip():
        fail('give at least --density "150 hairs/cm2", --diameter "60 micrometre" or --grade')
    where = None
    if zone is not None:
        try:
            where = ScalpZone(zone.strip().lower().replace(" ", "_"))
        except ValueError:
            known = ", ".join(z.value for z in ScalpZone)
            fail(f"--zone: unknown zone {zone!r}; the zones are {known}")
    now = datetime.now().astimezone()
    try:
        when = now if at is None else parse_moment(at, now)
    except ValueError as exc:
        fail(str(exc))
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        patient = store.find_patient(actor, chart)
        made = store.record_outcome(
            actor,
            patient_id=patient.id,
            measured_at=when,
            zone=where,
            scale_grade=grade,
            notes=notes,
            session_id=session_id,
            **values,
        )
    if as_json:
        typer.echo(json.dumps(outcome_json(made)))
        return
    typer.echo(f"recorded outcome {made.id} for {chart}: {_outcome_line(made, with_id=False)}")


def outcomes(
    ctx: typer.Context,
    chart: ChartArgument,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List a patient's outcomes, oldest first (withdrawn ones are left out)."""
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        patient = store.find_patient(actor, chart)
        found = store.list_outcomes(actor, patient.id)
    if as_json:
        typer.echo(json.dumps([outcome_json(o) for o in found]))
        return
    if not found:
        typer.echo(f"no outcomes for {chart}")
    for o in found:
        typer.echo(_outcome_line(o))


def retire_outcome(
    ctx: typer.Context,
    outcome_id: Annotated[int, typer.Argument(help="The outcome's id (see 'session outcomes').")],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Withdraw an outcome recorded in error (kept in the audit trail with the reason)."""
    why = _required(
        reason, "--reason", "say why the outcome is withdrawn (kept in the audit trail)"
    )
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        store.delete_outcome(actor, outcome_id, why)
    typer.echo(f"withdrew outcome {outcome_id}")


def register(app: typer.Typer) -> None:
    """Add these commands to the ``session`` group."""
    app.command("list")(list_sessions)
    app.command("addendum")(addendum)
    app.command("discard")(discard)
    app.command("outcome")(outcome)
    app.command("outcomes")(outcomes)
    app.command("retire-outcome")(retire_outcome)
