"""``formulary consent sign|show|withdraw|pdf|form`` and ``formulary consent template ...``.

A consent is signed by the patient typing their full name (``--typed-name``) and
witnessed by the signed-in user, whose password (read as for any sign-in, never an
argument) is checked again as the witness's signature. Templates are the clinic's
(administrators add, edit and retire them; an edit makes a new version). Bad input is
one line on stderr and exit status 2; a file that cannot be read or written, 6.
See docs/consent.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui.cli.errors import EXIT_IO, fail
from tui.cli.login import (
    PasswordStdinOption,
    UserOption,
    signed_in,
    signed_in_with_password,
    store_errors,
)
from tui.cli.options import DbOption, JsonOption, ReasonOption, db_location

if TYPE_CHECKING:
    from db.store import Actor, Store
    from formulary.consent import Consent, ConsentTemplate

consent_app = typer.Typer(
    help="Patients' consents: sign, show, withdraw, print; the clinic's templates.",
    no_args_is_help=True,
)
template_app = typer.Typer(help="The clinic's consent templates.", no_args_is_help=True)
consent_app.add_typer(template_app, name="template")



def consent_json(c: Consent) -> dict[str, Any]:
    """A consent as ``--json`` prints it."""
    return {
        "id": c.id,
        "patient_id": c.patient_id,
        "course_id": c.course_id,
        "status": c.status(),
        "template": c.template_name,
        "template_version": c.template_version,
        "text_sha256": c.text_sha256,
        "typed_name": c.typed_name,
        "witness": c.witness_username,
        "witness_name": c.witness_name,
        "signed_at": c.signed_at.isoformat(),
        "form_sha256": c.form_sha256,
        "form_name": c.form_name,
        "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
        "withdrawn_by": c.withdrawn_by or None,
        "withdrawn_reason": c.withdrawn_reason or None,
        "record_hash": c.record_hash,
    }


def _consent_line(c: Consent) -> str:
    scope = f"course {c.course_id}" if c.course_id is not None else "no course"
    status = (f"WITHDRAWN {c.withdrawn_at:%Y-%m-%d %H:%M} UTC ({c.withdrawn_reason})"
              if c.withdrawn_at else "signed")
    return (f"consent {c.id}  {scope}  {c.template_name} v{c.template_version}  "
            f"typed {c.typed_name!r}  witness {c.witness_username}  "
            f"{c.signed_at:%Y-%m-%d %H:%M} UTC  {status}")


def template_json(t: ConsentTemplate) -> dict[str, Any]:
    """A template as ``--json`` prints it."""
    return {
        "id": t.id,
        "name": t.name,
        "version": t.current.version,
        "sha256": t.current.sha256,
        "retired": t.retired,
        "retired_reason": t.retired_reason or None,
        "text": t.current.text,
    }


def _template_line(t: ConsentTemplate) -> str:
    retired = f"  RETIRED ({t.retired_reason})" if t.retired else ""
    return f"template {t.id}  {t.name}  v{t.current.version}  {t.current.sha256[:12]}{retired}"


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        fail(f"{path} does not exist; give the Markdown file of the consent text")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}", EXIT_IO)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text; save the consent text as UTF-8 Markdown")


def _pick_template(store: Store, actor: Actor, template_id: int | None) -> int:
    if template_id is not None:
        return template_id
    with store_errors():
        found = store.consent_templates(actor)
    if not found:
        fail("the clinic has no consent template in force; an administrator adds one with "
             "'formulary consent template add NAME --file TEXT.md'")
    if len(found) > 1:
        listed = ", ".join(f"{t.id} ({t.name})" for t in found)
        fail(f"the clinic has several consent templates; choose one with --template ({listed})")
    return found[0].id


@consent_app.command("sign")
def sign(
    ctx: typer.Context,
    chart: Annotated[str, typer.Argument(help="The patient's chart number.")],
    typed_name: Annotated[
        str | None,
        typer.Option("--typed-name", help="The patient's full name, as the patient typed it."),
    ] = None,
    course: Annotated[
        int | None, typer.Option("--course", help="Course id (none: sessions outside a course).")
    ] = None,
    template: Annotated[
        int | None, typer.Option("--template", help="Template id (default: the only one).")
    ] = None,
    form: Annotated[
        Path | None,
        typer.Option("--form", help="The scanned paper form to attach (at most 25 MB)."),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Record a patient's consent; you (practitioner or admin) witness it with your password."""
    if not (typed_name or "").strip():
        fail("--typed-name: the patient types their full name; give it as typed")
    assert typed_name is not None
    # The witness signs with the password just given: asked for once.
    with signed_in_with_password(db_location(ctx, db), user, password_stdin) as (
        store, actor, password
    ):
        with store_errors():
            patient = store.find_patient(actor, chart)
        template_id = _pick_template(store, actor, template)
        with store_errors():
            signed = store.sign_consent(
                actor, patient_id=patient.id, template_id=template_id, typed_name=typed_name,
                password=password, course_id=course, form=form,
            )
    typer.echo(json.dumps(consent_json(signed), ensure_ascii=False) if as_json
               else f"Signed {_consent_line(signed)}")


@consent_app.command("show")
def show(
    ctx: typer.Context,
    chart: Annotated[str, typer.Argument(help="The patient's chart number.")],
    consent_id: Annotated[
        int | None, typer.Option("--id", help="Show this consent with its full text.")
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List a patient's consents (signed and withdrawn), or one with its text."""
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        patient = store.find_patient(actor, chart)
        found = store.consents(actor, patient.id)
    if consent_id is not None:
        chosen = [c for c in found if c.id == consent_id]
        if not chosen:
            fail(f"consent {consent_id} is not one of chart {chart}'s consents; "
                 f"run 'formulary consent show {chart}' to list them")
        one = chosen[0]
        if as_json:
            typer.echo(json.dumps({**consent_json(one), "text": one.text}, ensure_ascii=False,
                                  indent=2))
        else:
            typer.echo(_consent_line(one))
            typer.echo(f"text SHA-256 {one.text_sha256}"
                       + ("" if one.text_intact() else "  (DOES NOT MATCH THE TEXT)"))
            typer.echo("")
            typer.echo(one.text)
        return
    if as_json:
        typer.echo(json.dumps([consent_json(c) for c in found], ensure_ascii=False, indent=2))
        return
    if not found:
        typer.echo(f"No consent recorded for chart {chart}.")
    for c in found:
        typer.echo(_consent_line(c))


@consent_app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    consent_id: Annotated[int, typer.Argument(help="The consent's id (consent show).")],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Record that the patient withdrew a consent (once), with their reason."""
    if not (reason or "").strip():
        fail("--reason: say why the consent is withdrawn (kept with it and in the audit trail)")
    assert reason is not None
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        done = store.withdraw_consent(actor, consent_id, reason)
    typer.echo(json.dumps(consent_json(done), ensure_ascii=False) if as_json
               else f"Withdrawn {_consent_line(done)}")


@consent_app.command("pdf")
def pdf(
    ctx: typer.Context,
    consent_id: Annotated[int, typer.Argument(help="The consent's id (consent show).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The PDF file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Print a consent as a PDF for the patient (its text, hash, signature and witness)."""
    from db.ops.consent_pdf import consent_pdf
    from tui.export_files import ExportPathError, check_destination, write_file

    try:
        check_destination(out, force=force)  # before anything is read or audited
    except ExportPathError as exc:
        fail(str(exc))
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor):
        try:
            # Written before the print's audit entry commits: both, or neither.
            with store_errors():
                consent_pdf(store, actor, consent_id,
                            deliver=lambda data: write_file(out, data, force=force))
        except ExportPathError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_IO)
    typer.echo(f"Wrote {out}")


@consent_app.command("form")
def form_copy(
    ctx: typer.Context,
    consent_id: Annotated[int, typer.Argument(help="The consent's id (consent show).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the scan.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Copy a consent's scanned paper form out (checked against its SHA-256; audited)."""
    from tui.export_files import ExportPathError, check_destination, write_file

    try:
        check_destination(out, force=force)  # before anything is read or audited
    except ExportPathError as exc:
        fail(str(exc))
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor):
        try:
            # Written before the copy's audit entry commits: both, or neither.
            with store_errors():
                store.export_consent_form(
                    actor, consent_id, lambda data: write_file(out, data, force=force))
        except ExportPathError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_IO)
    typer.echo(f"Wrote {out}")


@template_app.command("list")
def template_list(
    ctx: typer.Context,
    include_retired: Annotated[
        bool, typer.Option("--all", help="Include retired templates.")
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """List the clinic's consent templates (current version of each)."""
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        found = store.consent_templates(actor, include_retired=include_retired)
    if as_json:
        typer.echo(json.dumps([template_json(t) for t in found], ensure_ascii=False, indent=2))
        return
    if not found:
        typer.echo("No consent template in force.")
    for t in found:
        typer.echo(_template_line(t))


@template_app.command("show")
def template_show(
    ctx: typer.Context,
    template_id: Annotated[int, typer.Argument(help="The template's id (template list).")],
    version: Annotated[int | None, typer.Option("--version", help="An older version.")] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Print a template's text (current version, or --version N)."""
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        versions = store.consent_template_versions(actor, template_id)
    chosen = versions[-1] if version is None else next(
        (v for v in versions if v.version == version), None)
    if chosen is None:
        fail(f"template {template_id} has versions 1 to {len(versions)}; no version {version}")
    typer.echo(f"template {chosen.template_id}  {chosen.name}  v{chosen.version}  "
               f"SHA-256 {chosen.sha256}")
    typer.echo("")
    typer.echo(chosen.text)


@template_app.command("add")
def template_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The template's name (unique).")],
    file: Annotated[
        Path | None,
        typer.Option("--file", help="UTF-8 Markdown text (default: the project's default text)."),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add a consent template (administrators)."""
    from formulary.consent import DEFAULT_TEMPLATE_TEXT

    text = _read_text(file) if file is not None else DEFAULT_TEMPLATE_TEXT
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        added = store.add_consent_template(actor, name, text)
    typer.echo(json.dumps(template_json(added), ensure_ascii=False) if as_json
               else f"Added {_template_line(added)}")


@template_app.command("edit")
def template_edit(
    ctx: typer.Context,
    template_id: Annotated[int, typer.Argument(help="The template's id (template list).")],
    file: Annotated[Path, typer.Option("--file", help="The new UTF-8 Markdown text.")],
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Save a new version of a template (administrators); signed consents keep theirs."""
    text = _read_text(file)
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        edited = store.edit_consent_template(actor, template_id, text, name=name)
    typer.echo(json.dumps(template_json(edited), ensure_ascii=False) if as_json
               else f"Saved {_template_line(edited)}")


@template_app.command("retire")
def template_retire(
    ctx: typer.Context,
    template_id: Annotated[int, typer.Argument(help="The template's id (template list).")],
    reason: ReasonOption = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Stop new signatures on a template (administrators); signed consents stay valid."""
    if not (reason or "").strip():
        fail("--reason: say why the template is retired (kept in the audit trail)")
    assert reason is not None
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        store.retire_consent_template(actor, template_id, reason)
    typer.echo(f"Retired template {template_id}")
