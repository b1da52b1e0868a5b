"""``formulary course start|list CHART``: plan a patient's course; where each stands.

The course's id is what ``formulary session record`` takes as ``course_id``, and the
next session's number its ``session_number``. Sessions done are the signed sessions
recorded in the course (drafts do not count); the next one is due ``interval`` days
after the last of them, or on the start date before the first, as in the app. ``list``
writes nothing; ``start`` plans a course through the Store (audited). An unknown chart
number or formulation, or input that cannot be read, is one line on stderr and exit
status 2.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui.cli.errors import fail
from tui.cli.login import PasswordStdinOption, UserOption, signed_in, store_errors
from tui.cli.options import DbOption, JsonOption, db_location

if TYPE_CHECKING:
    from formulary.schedule import CourseProgress

course_app = typer.Typer(
    help="A patient's courses: start one; ids, planned sessions, sessions done, next due.",
    no_args_is_help=True,
)



def course_json(progress: CourseProgress, *, current: bool, today: date) -> dict[str, Any]:
    """A course and its progress as ``--json`` prints it (``course_id`` as the session file)."""
    course = progress.course
    return {
        "course_id": course.id,
        "name": course.name,
        "planned_sessions": course.planned_sessions,
        "interval_days": course.interval_days,
        "start_date": course.start_date.isoformat(),
        "sessions_done": progress.sessions_done,
        "next_session_number": progress.next_session_number,
        "next_due": progress.next_due.isoformat() if progress.next_due else None,
        "overdue": progress.next_due is not None and progress.next_due < today,
        "last_session": progress.last_session.isoformat() if progress.last_session else None,
        "complete": progress.complete,
        "current": current,
    }


def _line(progress: CourseProgress, *, current: bool, today: date) -> str:
    """``    7* Spring 2026   2 of 8 done  every 14 days from …  next: session 3 of 8, due …``."""
    from formulary.schedule import progress_text

    course = progress.course
    where = progress_text(course, progress.sessions_done)
    if progress.next_due is not None:
        late = " (OVERDUE)" if progress.next_due < today else ""
        where = f"next: {where}, due {progress.next_due.isoformat()}{late}"
    return (
        f"{course.id:>5}{'*' if current else ' '} {course.name:<24} "
        f"{progress.sessions_done} of {course.planned_sessions} done  "
        f"every {course.interval_days} days from {course.start_date.isoformat()}  {where}"
    )


@course_app.command("list")
def list_courses(
    ctx: typer.Context,
    chart: Annotated[str, typer.Argument(help="The patient's chart number.")],
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List a patient's courses: id, name, sessions done of planned, next due date."""
    from formulary.schedule import course_progress, current_course

    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        patient = store.find_patient(actor, chart)
        loaded = store.load_chart(actor, patient.id)
    today = date.today()
    on = current_course(loaded.courses)
    progress = [course_progress(c, loaded.sessions) for c in loaded.courses]
    if as_json:
        listed = [course_json(p, current=p.course == on, today=today) for p in progress]
        typer.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    if not progress:
        typer.echo(f"{patient.chart_number} has no course planned.")
        return
    for p in progress:
        typer.echo(_line(p, current=p.course == on, today=today))
    typer.echo("* the current course (the one started last)")


@course_app.command("start")
def start(
    ctx: typer.Context,
    chart: Annotated[str, typer.Argument(help="The patient's chart number.")],
    name: Annotated[str | None, typer.Option("--name", help="The course's name.")] = None,
    sessions: Annotated[
        int | None, typer.Option("--sessions", help="Sessions planned (1-100).")
    ] = None,
    interval: Annotated[
        int | None, typer.Option("--interval", help="Days between sessions (1-365).")
    ] = None,
    start_date: Annotated[
        str | None,
        typer.Option("--start", help="The first session's date, YYYY-MM-DD (default: today)."),
    ] = None,
    formulation: Annotated[
        int | None,
        typer.Option("--formulation", help="The formulation's id (formulary formulation list).",
                     min=1),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Plan a course of sessions for a patient; prints its id (the session file's course_id)."""
    from formulary.schedule import course_progress

    if not name or not name.strip():
        fail("give the course a name with --name")
    if sessions is None:
        fail("give the number of sessions planned with --sessions N")
    if interval is None:
        fail("give the days between sessions with --interval DAYS")
    first = date.today()
    if start_date is not None:
        try:
            first = date.fromisoformat(start_date.strip())
        except ValueError:
            fail(f"--start {start_date!r} is not a date: write YYYY-MM-DD, such as 2026-11-24")
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        patient = store.find_patient(actor, chart)
        if formulation is not None and formulation not in {
            v.formulation_id for v in store.list_formulations(actor, patient.id)
        }:
            # A retired formulation, or another patient's, is no plan for this one.
            fail(f"{patient.chart_number} has no current formulation {formulation}: "
                 f"`formulary formulation list {patient.chart_number}` shows its formulations")
        course = store.start_course(
            actor,
            patient_id=patient.id,
            name=name,
            planned_sessions=sessions,
            interval_days=interval,
            start_date=first,
            formulation_id=formulation,
        )
    progress = course_progress(course, [])
    today = date.today()
    if as_json:
        out = course_json(progress, current=True, today=today)
        out["formulation_id"] = formulation
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    typer.echo(f"started course {course.id} for {patient.chart_number} "
               f"(course_id {course.id} in a session file)")
    typer.echo(_line(progress, current=True, today=today))
