"""``formulary clinic show|set``: the clinic's name, identifier, label and photo settings.

Everyone signed in may look; only an administrator may change them, and every change
is an audited update of the installation row.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from formulary.clinic import BEYOND_USE_RANGE, DEFAULT_BEYOND_USE_MINUTES, IDENTIFIER_RULE
from formulary.photos import DEFAULT_MAX_BYTES, MAX_MAX_BYTES, MIN_MAX_BYTES
from tui.cli.errors import fail
from tui.cli.login import PasswordStdinOption, UserOption, signed_in, store_errors
from tui.cli.options import DbOption, JsonOption, db_location

clinic_app = typer.Typer(
    help="Show or change the clinic's name, identifier and label settings.",
    no_args_is_help=True,
)



@clinic_app.command("show")
def show(
    ctx: typer.Context,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Print the clinic's name, address, identifier and beyond-use time."""

    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        clinic = store.clinic(actor)
    fields = {
        "name": clinic.name,
        "address": clinic.address,
        "identifier": clinic.identifier,
        "beyond_use_minutes": clinic.beyond_use_minutes,
        "photo_limit_mb": round(clinic.photo_max_bytes / 2**20, 1),
    }
    if as_json:
        typer.echo(json.dumps(fields, ensure_ascii=False))
        return
    for key, value in fields.items():
        typer.echo(f"{key.replace('_', ' ')}: {value}")


@clinic_app.command("set")
def set_(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", help="The clinic's name.")] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="The clinic's address ('' clears it).")
    ] = None,
    identifier: Annotated[
        str | None,
        typer.Option(
            "--identifier",
            help="Names the clinic in every export's identifiers and resource ids "
            f"({IDENTIFIER_RULE}; '' for the default, the database id).",
        ),
    ] = None,
    beyond_use: Annotated[
        int | None,
        typer.Option("--beyond-use-minutes",
                     help="How long a prepared syringe may be used (its label prints it): "
                     f"{BEYOND_USE_RANGE}; default {DEFAULT_BEYOND_USE_MINUTES}."),
    ] = None,
    photo_limit_mb: Annotated[
        int | None,
        typer.Option("--photo-limit-mb",
                     help="The largest photo file accepted, in MB "
                     f"({MIN_MAX_BYTES // 2**20} to {MAX_MAX_BYTES // 2**20}; "
                     f"default {DEFAULT_MAX_BYTES // 2**20})."),
    ] = None,
    db: DbOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Change the clinic's details (administrators; audited; all or nothing)."""

    given = (name, address, identifier, beyond_use, photo_limit_mb)
    if all(value is None for value in given):
        fail("nothing to change: give --name, --address, --identifier, --beyond-use-minutes "
             "or --photo-limit-mb")
    with signed_in(db_location(ctx, db), user, password_stdin) as (store, actor), store_errors():
        # One transaction: a refused identifier does not leave a new name behind. A
        # detail not given is None, which the Store leaves as it is.
        store.update_clinic(
            actor,
            name=name,
            address=address,
            identifier=identifier,
            beyond_use_minutes=beyond_use,
            photo_limit_bytes=photo_limit_mb * 2**20 if photo_limit_mb is not None else None,
        )
        clinic = store.clinic(actor)
    typer.echo(f"clinic {clinic.name or '(no name)'}: identifier {clinic.identifier}, "
               f"beyond-use {clinic.beyond_use_minutes} min, "
               f"photo limit {clinic.photo_max_bytes / 2**20:.1f} MB")
