"""``formulary label SESSION_ID``: the syringe label of a session as a PDF.

Sizes: a 62×29 mm roll label (default), a 4×6 in label, or an A4 sheet of 24. Times
print in this computer's local time zone. The file is written 0600 through a
temporary name and never over an existing file without ``--force`` (or a yes at the
terminal); the printing is recorded in the audit trail.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from tui.cli.errors import EXIT_IO, fail
from tui.cli.login import PasswordStdinOption, UserOption, signed_in, store_errors
from tui.cli.options import DbOption, JsonOption


def label(
    ctx: typer.Context,
    session_id: Annotated[int, typer.Argument(help="The session's number (its id).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="PDF file to write, or an existing folder "
                     "(default: session-<id>-label.pdf in the current folder)."),
    ] = None,
    size: Annotated[
        str, typer.Option("--size", help="62x29 (mm roll label), 4x6 (inches) or a4-24 "
                          "(A4 sheet of 24).")
    ] = "62x29",
    copies: Annotated[int, typer.Option("--copies", help="How many labels to print.")] = 1,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the file if it exists, without asking.")
    ] = False,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Print the syringe label of a session (patient, ingredients, lots, beyond-use time)."""
    import json

    from db.ops.label import print_label
    from formulary.export.syringe_label import SIZES, label_file_name
    from tui.export_files import ExportPathError, to_file

    if size not in SIZES:
        fail(f"unknown label size {size!r}; choose one of {', '.join(SIZES)}")
    if not 1 <= copies <= 240:
        fail(f"--copies {copies} is out of range; print 1 to 240")
    target = output if output is not None else Path.cwd()
    if target.is_dir():
        target = target / label_file_name(session_id)
    if target.exists() and not force:
        if not (sys.stdin.isatty() and sys.stdout.isatty()
                and typer.confirm(f"{target} already exists. Replace?", default=False)):
            fail(f"{target} already exists; pass --force to replace it")
        force = True
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    where = db or (ctx.find_root().obj or {}).get("db")
    with signed_in(where, user, password_stdin) as (store, actor):
        try:
            with store_errors():
                result = print_label(store, actor, session_id, to_file(target, force=force),
                                     size=size, zone=zone, copies=copies)
        except ExportPathError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write the label: {exc.strerror or exc}", EXIT_IO)
    if as_json:
        typer.echo(json.dumps({"file": str(target), "session_id": session_id, "size": size,
                               "copies": copies, "audit_seq": result.audit_seq,
                               "code": result.label.code}))
        return
    typer.echo(f"wrote {target} ({size}, {copies} label(s))")
    typer.echo(f"barcode {result.label.code}; use before "
               f"{result.label.beyond_use:%Y-%m-%d %H:%M %Z}")
    typer.echo(f"audited as entry {result.audit_seq}")
