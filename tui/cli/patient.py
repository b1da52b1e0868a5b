"""``formulary patient add|update|list|retire|restore``: patients headless, with the app's
rules and audit.

``retire`` takes a chart out of the patient list and searches (``--reason`` required);
the chart, its sessions and its audit entries stay on record, and its chart number is
never given to anyone else. ``list --retired`` lists the retired charts with when, by
whom and why; ``restore`` brings one retired by mistake back (``--reason`` required).

``update`` changes only what its options name; it needs ``--reason`` (kept in the
audit trail). An update whose values are those already on the chart says so and saves
nothing (exit status 0, no audit entry). A weight is typed with its unit (``70 kg`` or
``154 lb``; pounds are stored as exact kilograms) and goes into the weight history
dated ``--weighed-on`` (default: today); its unit is spelled as in the app's weight
field (``kg``, ``lb``, ``kilograms``, ``pounds`` …; not ``kgs`` or ``lbs``). Bad input
is one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui.cli.errors import fail
from tui.cli.login import PasswordStdinOption, UserOption, signed_in, store_errors
from tui.cli.options import DbOption, JsonOption, ReasonOption, db_location

if TYPE_CHECKING:
    from collections.abc import Sequence

    from db.store import PatientFields
    from formulary.records import Patient, WeightEntry

patient_app = typer.Typer(
    help="Add, update, list, retire and restore patients.", no_args_is_help=True
)

WeightOption = Annotated[
    str | None, typer.Option("--weight", help="With its unit: '70 kg' or '154 lb'.")
]
WeighedOnOption = Annotated[
    str | None, typer.Option("--weighed-on", help="YYYY-MM-DD the weight was measured (today).")
]
HeightOption = Annotated[str | None, typer.Option("--height", help="e.g. '168 cm'.")]
DiagnosisOption = Annotated[str | None, typer.Option("--diagnosis", help="e.g. 'AGA'.")]
ScaleOption = Annotated[
    str | None, typer.Option("--grade-scale", help="norwood, ludwig or other.")
]
GradeOption = Annotated[str | None, typer.Option("--grade", help="e.g. 'III vertex'.")]
ConsentDateOption = Annotated[
    str | None,
    typer.Option(
        "--consent-date", help="YYYY-MM-DD the signed consent is dated (marks it on file)."
    ),
]



def _date(text: str, flag: str) -> date:
    from formulary.patient_csv import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        fail(f"{flag}: {exc}")


def _sex(text: str) -> Any:
    from formulary.records import Sex

    folded = text.strip().casefold()
    for sex in Sex:
        if folded in (sex.value, sex.value[0]):
            return sex
    fail(f"--sex: {text!r}: write female, male, other or unknown")


def _scale(text: str | None) -> Any:
    from formulary.records import GradeScale

    if not text:
        return None
    for scale in GradeScale:
        if text.strip().casefold() == scale.value:
            return scale
    fail(f"--grade-scale: {text!r}: write norwood, ludwig or other")


def _weight(text: str | None) -> Any:
    from formulary.body import BodyMeasureError, parse_weight

    if text is None:
        return None
    try:
        return parse_weight(text).entered
    except BodyMeasureError as exc:
        fail(f"--weight: {exc}")


def _height(text: str | None) -> Any:
    from formulary.body import BodyMeasureError, parse_height

    if not text:
        return None
    try:
        return parse_height(text)
    except BodyMeasureError as exc:
        fail(f"--height: {exc}")


def _allergies(values: list[str], flag: str) -> tuple[Any, ...]:
    from formulary.patient_csv import parse_allergy_list

    try:
        return tuple(a for v in values for a in parse_allergy_list(v))
    except ValueError as exc:
        fail(f"{flag}: {exc}")


def patient_json(p: Patient) -> dict[str, Any]:
    """A patient as ``--json`` prints it."""
    return {
        "id": p.id,
        "chart_number": p.chart_number,
        "family_name": p.family_name,
        "given_name": p.given_name,
        "date_of_birth": p.date_of_birth.isoformat(),
        "sex": p.sex.value,
        "diagnosis": p.diagnosis,
        "grade_scale": p.grade_scale.value if p.grade_scale else None,
        "grade": p.grade,
        "weight_kg": format(p.weight_kg.value, "f") if p.weight_kg else None,
        "height_cm": format(p.height_cm.value, "f") if p.height_cm else None,
        "allergies": [{"substance": a.substance, "reaction": a.reaction} for a in p.allergies],
        "conditions": [c.code for c in p.conditions],
        "consent_on_file": p.consent_on_file,
        "consent_date": p.consent_date.isoformat() if p.consent_date else None,
    }


def _line(p: Patient) -> str:
    from formulary.body import show_kg

    weight = show_kg(p.weight_kg) if p.weight_kg else "no weight"
    allergies = "; ".join(a.substance for a in p.allergies) or "no allergies recorded"
    return (
        f"{p.chart_number:<10} {p.display_name:<30} {p.date_of_birth.isoformat()}  "
        f"{weight:<10} {allergies}"
    )


@patient_app.command("add")
def add(
    ctx: typer.Context,
    chart: Annotated[str, typer.Option("--chart", help="Chart number (unique).")],
    family: Annotated[str, typer.Option("--family", help="Family name.")],
    given: Annotated[str, typer.Option("--given", help="Given name.")],
    born: Annotated[str, typer.Option("--born", help="Date of birth, YYYY-MM-DD.")],
    sex: Annotated[str, typer.Option("--sex", help="female, male, other or unknown.")],
    diagnosis: DiagnosisOption = None,
    grade_scale: ScaleOption = None,
    grade: GradeOption = None,
    weight: WeightOption = None,
    weighed_on: WeighedOnOption = None,
    height: HeightOption = None,
    allergy: Annotated[
        list[str] | None,
        typer.Option("--allergy", help="'substance (reaction)'; repeat for each."),
    ] = None,
    condition: Annotated[
        list[str] | None, typer.Option("--condition", help="e.g. pregnancy; repeat for each.")
    ] = None,
    consent_date: ConsentDateOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add a patient (administrators, practitioners and assistants)."""
    from db.store import PatientFields
    from formulary.patient_csv import parse_condition_list

    if weighed_on and weight is None:
        fail("--weighed-on needs --weight: the weight measured that day")
    fields = PatientFields(
        chart_number=chart.strip(),
        family_name=family.strip(),
        given_name=given.strip(),
        date_of_birth=_date(born, "--born"),
        sex=_sex(sex),
        diagnosis=(diagnosis or "").strip(),
        grade_scale=_scale(grade_scale),
        grade=(grade or "").strip(),
        weight=_weight(weight),
        weight_measured_on=_date(weighed_on, "--weighed-on") if weighed_on else None,
        height=_height(height),
        allergies=_allergies(allergy or [], "--allergy"),
        conditions=tuple(c for v in condition or [] for c in parse_condition_list(v)),
        consent_on_file=consent_date is not None,
        consent_date=_date(consent_date, "--consent-date") if consent_date else None,
    )
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        saved = store.create_patient(actor, fields)
    typer.echo(json.dumps(patient_json(saved)) if as_json else f"Added {_line(saved)}")


@patient_app.command("update")
def update(
    ctx: typer.Context,
    chart: Annotated[str, typer.Argument(help="The patient's chart number.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept in the audit trail); required.")
    ] = None,
    family: Annotated[str | None, typer.Option("--family", help="Family name.")] = None,
    given: Annotated[str | None, typer.Option("--given", help="Given name.")] = None,
    born: Annotated[str | None, typer.Option("--born", help="YYYY-MM-DD.")] = None,
    sex: Annotated[str | None, typer.Option("--sex", help="female, male, other, unknown.")] = None,
    diagnosis: DiagnosisOption = None,
    grade_scale: ScaleOption = None,
    grade: GradeOption = None,
    weight: WeightOption = None,
    weighed_on: WeighedOnOption = None,
    height: HeightOption = None,
    add_allergy: Annotated[
        list[str] | None,
        typer.Option("--add-allergy", help="'substance (reaction)'; repeat for each."),
    ] = None,
    remove_allergy: Annotated[
        list[str] | None, typer.Option("--remove-allergy", help="Substance; repeat for each.")
    ] = None,
    add_condition: Annotated[
        list[str] | None, typer.Option("--add-condition", help="e.g. pregnancy.")
    ] = None,
    remove_condition: Annotated[
        list[str] | None, typer.Option("--remove-condition", help="e.g. pregnancy.")
    ] = None,
    consent_date: ConsentDateOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Change a patient's chart: only what the options name; --reason is required."""
    from dataclasses import replace

    from db.store import PatientFields
    from formulary.patient_csv import parse_condition_list

    if not (reason or "").strip():
        fail("give a reason with --reason: changes to a chart are explained in the audit trail")
    if weighed_on and weight is None:
        fail("--weighed-on needs --weight: the weight measured that day")
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor):
        with store_errors():
            current = store.find_patient(actor, chart)
        allergies = list(current.allergies)
        for substance in remove_allergy or []:
            kept = [a for a in allergies if a.substance.casefold() != substance.strip().casefold()]
            if len(kept) == len(allergies):
                fail(f"--remove-allergy: no allergy to {substance!r} is recorded for {chart}")
            allergies = kept
        for allergy in _allergies(add_allergy or [], "--add-allergy"):
            if any(a.substance.casefold() == allergy.substance.casefold() for a in allergies):
                fail(f"--add-allergy: {allergy.substance} is already recorded for {chart}")
            allergies.append(allergy)
        conditions = list(current.conditions)
        for code in remove_condition or []:
            kept_c = [c for c in conditions if c.code.casefold() != code.strip().casefold()]
            if len(kept_c) == len(conditions):
                fail(f"--remove-condition: no condition {code!r} is recorded for {chart}")
            conditions = kept_c
        for value in add_condition or []:
            for condition in parse_condition_list(value):
                same = [c for c in conditions if c.code.casefold() == condition.code.casefold()]
                if same:
                    fail(f"--add-condition: {same[0].code} is already recorded for {chart}")
                conditions.append(condition)
        fields = PatientFields(
            chart_number=current.chart_number,
            family_name=family.strip() if family is not None else current.family_name,
            given_name=given.strip() if given is not None else current.given_name,
            date_of_birth=_date(born, "--born") if born else current.date_of_birth,
            sex=_sex(sex) if sex else current.sex,
            diagnosis=diagnosis.strip() if diagnosis is not None else current.diagnosis,
            grade_scale=_scale(grade_scale) if grade_scale else current.grade_scale,
            grade=grade.strip() if grade is not None else current.grade,
            weight=None,
            height=_height(height) if height else current.height_cm,
            allergies=tuple(allergies),
            conditions=tuple(conditions),
            consent_on_file=current.consent_on_file or consent_date is not None,
            consent_date=_date(consent_date, "--consent-date")
            if consent_date
            else current.consent_date,
        )
        if weight is not None:
            fields = replace(
                fields,
                weight=_weight(weight),
                weight_measured_on=_date(weighed_on, "--weighed-on") if weighed_on else None,
            )
            with store_errors():
                history = store.weight_history(actor, current.id)
            new_weight = _is_new_weight(fields, current, history)
        else:
            new_weight = False
        if not new_weight and replace(fields, weight=None, weight_measured_on=None) == _as_fields(
            current
        ):
            # Nothing to save: no transaction, no audit entry, and the user is told so.
            _unchanged(current, as_json)
            return
        if not new_weight:
            fields = replace(fields, weight=None, weight_measured_on=None)
        with store_errors():
            saved = store.update_patient(actor, current.id, fields, reason or "")
    if not new_weight and saved == current:  # the Store found nothing to change either
        _unchanged(saved, as_json)
        return
    if as_json:
        typer.echo(json.dumps({**patient_json(saved), "changed": True}))
    else:
        typer.echo(f"Updated {_line(saved)}")


def _as_fields(p: Patient) -> PatientFields:
    """The chart header ``p`` as the fields an update would save unchanged."""
    from db.store import PatientFields

    return PatientFields(
        chart_number=p.chart_number,
        family_name=p.family_name,
        given_name=p.given_name,
        date_of_birth=p.date_of_birth,
        sex=p.sex,
        diagnosis=p.diagnosis,
        grade_scale=p.grade_scale,
        grade=p.grade,
        height=p.height_cm,
        allergies=p.allergies,
        conditions=p.conditions,
        consent_on_file=p.consent_on_file,
        consent_date=p.consent_date,
    )


def _is_new_weight(fields: PatientFields, p: Patient, history: Sequence[WeightEntry]) -> bool:
    """False when ``--weight`` repeats what is on file, so saving it would add nothing.

    Without ``--weighed-on``: the chart's latest weight, as the app's form treats an
    untouched weight field. With it: a measurement already in the history on that day.
    """
    from formulary.body import BodyMeasureError, weight_of

    assert fields.weight is not None
    try:
        kg = weight_of(fields.weight.value, fields.weight.unit).kg
    except BodyMeasureError:  # pragma: no cover - _weight has checked it
        return True
    if fields.weight_measured_on is None:
        return p.weight_kg is None or p.weight_kg.value != kg.value
    return not any(
        e.measured_on == fields.weight_measured_on and e.weight_kg.value == kg.value
        for e in history
    )


def _unchanged(p: Patient, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({**patient_json(p), "changed": False}))
    else:
        typer.echo(f"Nothing changed: {p.chart_number} already has these values; nothing saved.")


@patient_app.command("list")
def list_patients(
    ctx: typer.Context,
    search: Annotated[
        str, typer.Argument(help="Name, chart number or YYYY-MM-DD (empty: everyone).")
    ] = "",
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="At most.")] = 50,
    retired: Annotated[
        bool,
        typer.Option(
            "--retired",
            help="List the retired patients instead, the latest retired first, with when, "
            "by whom and why.",
        ),
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List patients (sorted by family name), with their latest weight and allergies.

    Retired patients are listed with --retired only (their charts stay on record).
    """
    if retired:
        _list_retired(ctx, search, limit, db, user, password_stdin, as_json)
        return
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        found = store.list_patients(actor, search, limit=limit)
    if as_json:
        typer.echo(json.dumps([patient_json(p) for p in found], ensure_ascii=False, indent=2))
        return
    if not found:
        typer.echo(
            "No patient matches."
            if search
            else "No patients on the list (retired ones are not listed)."
        )
    for p in found:
        typer.echo(_line(p))


def _list_retired(ctx: typer.Context, search: str, limit: int, db: str | None,
                  user: str | None, password_stdin: bool, as_json: bool) -> None:
    from db.audit.canonical import format_utc

    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        found = store.retired_patients(actor, search, limit=limit)
    if as_json:
        typer.echo(json.dumps(
            [{**patient_json(r.patient), "retired_at": format_utc(r.retired_at),
              "retired_by": r.retired_by, "retired_reason": r.reason} for r in found],
            ensure_ascii=False, indent=2))
        return
    if not found:
        typer.echo("No retired patient matches." if search else "No patient is retired.")
    for r in found:
        by = f" by {r.retired_by}" if r.retired_by else ""
        why = f": {r.reason}" if r.reason else ""
        typer.echo(f"{_line(r.patient)}\n           retired "
                   f"{r.retired_at:%Y-%m-%d %H:%M} UTC{by}{why}")


@patient_app.command("restore")
def restore(
    ctx: typer.Context,
    chart: Annotated[str, typer.Argument(help="The retired patient's chart number.")],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Bring back a patient retired by mistake (administrators, practitioners)."""
    if not (reason or "").strip():
        fail("give a reason with --reason: restoring a chart is explained in the audit trail")
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        found = store.find_patient(actor, chart, retired=True)
        back = store.restore_patient(actor, found.id, (reason or "").strip())
    if as_json:
        typer.echo(json.dumps({**patient_json(back), "retired": False}, ensure_ascii=False))
        return
    typer.echo(
        f"Restored {back.chart_number} {back.display_name}: back on the patient list and in "
        "searches, with the chart and its sessions as they were."
    )


@patient_app.command("retire")
def retire(
    ctx: typer.Context,
    chart: Annotated[str, typer.Argument(help="The patient's chart number.")],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Retire a patient (administrators, practitioners): gone from the lists, kept on record."""
    if not (reason or "").strip():
        fail("give a reason with --reason: retiring a chart is explained in the audit trail")
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        found = store.find_patient(actor, chart)
        store.delete_patient(actor, found.id, (reason or "").strip())
    if as_json:
        typer.echo(json.dumps({**patient_json(found), "retired": True}, ensure_ascii=False))
        return
    typer.echo(
        f"Retired {found.chart_number} {found.display_name}: gone from the patient list and "
        "searches; the chart and its sessions stay on record "
        f"(`formulary patient restore {found.chart_number}` brings it back)."
    )
