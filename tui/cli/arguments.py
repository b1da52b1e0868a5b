"""The command line as a whole: every option and argument must be UTF-8 text."""

from __future__ import annotations

import os

import typer
import typer.core

from formulary import text as plain_text
from tui.cli.errors import fail


def _not_utf8(value: object) -> bool:
    values = value if isinstance(value, list | tuple) else [value]
    return any(isinstance(v, str) and not plain_text.is_utf8(v) for v in values)


def _bad_parameter(ctx: typer.Context) -> str | None:
    for param in ctx.command.params:
        if param.name and _not_utf8(ctx.params.get(param.name)):
            if param.param_type_name == "option":
                return param.opts[0]
            return param.name.upper()
    return None


def non_utf8_parameter(ctx: typer.Context) -> str | None:
    """The option or argument of this command line that is not UTF-8 text, or None.

    The shell hands over bytes; Python turns those that are not UTF-8 into lone
    surrogates, which no record, audit entry or terminal can hold. Checking here,
    before any command runs, turns them into one line naming the option instead of
    an unexpected error wherever the text first meets an encoder. The sub-commands'
    arguments are parsed again (resiliently: no callbacks, no errors) only to name it.
    """
    args = [*getattr(ctx, "_protected_args", []), *ctx.args]
    on_the_line = _not_utf8(args) or _not_utf8(list(ctx.params.values()))
    # An option may come from an environment variable (FORMULARY_USER): only then is
    # an environment that is not UTF-8 worth parsing the line again for.
    if not (on_the_line or _not_utf8(list(os.environ.values()))):
        return None
    if (found := _bad_parameter(ctx)) is not None:
        return found
    command, parent = ctx.command, ctx
    try:
        while args and hasattr(command, "resolve_command"):
            name, sub, rest = command.resolve_command(parent, args)
            if sub is None or name is None:
                break
            sub_ctx = sub.make_context(name, rest, parent=parent, resilient_parsing=True)
            if (found := _bad_parameter(sub_ctx)) is not None:
                return found
            command, parent = sub, sub_ctx
            args = [*getattr(sub_ctx, "_protected_args", []), *sub_ctx.args]
    except Exception:  # noqa: S110 - another mistake on the line: Click reports it
        pass
    return "an argument" if on_the_line else None


class Utf8Group(typer.core.TyperGroup):
    """The root command: refuses a command line that is not UTF-8 before any command runs."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        """Parse as Typer does, then stop at an option or argument that is not UTF-8."""
        rest = super().parse_args(ctx, args)
        if (where := non_utf8_parameter(ctx)) is not None:
            fail(f"{where} is not UTF-8 text; retype it (or set the terminal to UTF-8)")
        return rest
