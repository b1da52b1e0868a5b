"""``formulary calc``: the units engine and mixing math from the command line.

    formulary calc convert "0.5% w/v" mg/mL
    formulary calc convert "400 IU" mg --substance "vitamin E synthetic"
    formulary calc dose "250 mg/mL" "2 mL"
    formulary calc volume "500 mg" "250 mg/mL"
    formulary calc dilute --stock "0.05% w/v" --target "0.01% w/v" --final "5 mL"

Amounts may be quoted as one argument ("0.5 mL") or typed as words (0.5 mL). Output is
ISMP-safe text, or JSON with ``--json`` (``value`` is the exact decimal string, ``unit``
the canonical unit). Bad input: one line on stderr and exit status 2. Only the units
package is imported at start; Pint and the ingredient library load when needed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui.cli.errors import fail
from tui.cli.options import JsonOption

if TYPE_CHECKING:
    from formulary.library import Form, Ingredient
    from formulary.units import Amount, Substance

app = typer.Typer(
    name="calc",
    help="Convert amounts, work out doses, volumes and dilutions.",
    no_args_is_help=True,
    add_completion=False,
)

#: Significant figures shown in human output (JSON carries the full value).
SHOWN_SIGNIFICANT = 4


def _words(metavar: str, help_: str) -> Any:
    return typer.Argument(show_default=False, metavar=metavar, help=help_)


ConvertWords = Annotated[
    list[str] | None,
    _words("QTY TARGET", 'Amount and target unit, e.g. "0.5% w/v" mg/mL (quote each).'),
]
DoseWords = Annotated[
    list[str] | None, _words("CONC VOLUME", 'Concentration and volume, e.g. "250 mg/mL" "2 mL".')
]
VolumeWords = Annotated[
    list[str] | None, _words("AMOUNT CONC", 'Amount and concentration, e.g. "500 mg" "250 mg/mL".')
]
SubstanceOption = Annotated[
    str | None,
    typer.Option("--substance", "-s", help="Ingredient name or synonym from the library."),
]
FormOption = Annotated[
    str | None,
    typer.Option("--form", help="Form the amount is stated in (salt, ester, hydrate)."),
]
ToFormOption = Annotated[
    str | None,
    typer.Option(
        "--to-form",
        help="Form or basis of the result (e.g. zinc, lidocaine base, or for vitamin E "
        "'mg alpha-tocopherol (IOM 2000)'; an activity basis is used only when named).",
    ),
]


# --- shared helpers ------------------------------------------------------------------------


def _hint(error: ValueError) -> str:
    """How to act on a domain refusal with this command's options.

    The domain's messages are neutral (the app shows them too, and a practitioner in
    the app has no flags); only the command line knows its own options.
    """
    from formulary.units import (
        AmbiguousFormError,
        IncompatibleUnitsError,
        SubstanceRequiredError,
    )

    if isinstance(error, AmbiguousFormError):
        return " (name the form with --form or --to-form, or type it as --substance)"
    if isinstance(error, SubstanceRequiredError):
        return " (name it with --substance, for example --substance 'zinc sulfate')"
    if isinstance(error, IncompatibleUnitsError) and "concentration" in str(error):
        return " (use 'formulary calc dose' or 'formulary calc volume')"
    return ""


def _guard(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``func``; any refusal from the domain becomes one line on stderr, exit 2."""
    try:
        return func(*args, **kwargs)
    except ValueError as error:  # UnitsError, LibraryError, MixingError all derive from it
        fail(str(error) + _hint(error))


def _parse(text: str, what: str, kind: str | None = None) -> Amount:
    from formulary.limits import OutOfRange, check_amount
    from formulary.units import UnitsError, parse_quantity

    try:
        amount = parse_quantity(text, kind=kind)
        check_amount(amount, f"the {what}")
    except (UnitsError, OutOfRange) as error:
        fail(f"{what}: {error}" if isinstance(error, UnitsError) else str(error))
    return amount


def _split_two(
    words: list[str] | None, first: str, second: str, *, unit_last: bool
) -> tuple[str, str]:
    """Split the words of two values (two quantities, or a quantity and a unit).

    Quoted arguments arrive as one word each; unquoted ones are re-joined at the one split
    point where both halves read correctly.
    """
    from formulary.units import UnitsError, parse_quantity, parse_unit

    tokens = [word for word in (words or []) if word.strip()]
    for token in tokens:
        # Unknown options reach here because negative amounts ("-5 mg") must be let through.
        if token.startswith("-") and not token[1:2].isdigit():
            fail(f"unknown option {token.split('=')[0]!r}: see --help")
    if len(tokens) < 2:
        fail(f"give {first} and {second}, for example " + _example(unit_last))
    if len(tokens) == 2:
        return tokens[0], tokens[1]
    readable: list[tuple[str, str]] = []
    for cut in range(1, len(tokens)):
        left, right = " ".join(tokens[:cut]), " ".join(tokens[cut:])
        try:
            parse_quantity(left)
            if unit_last:
                parse_unit(right)
            else:
                parse_quantity(right)
        except UnitsError:
            continue
        readable.append((left, right))
    if len(readable) == 1:
        return readable[0]
    fail(f"cannot tell {first} from {second} in {' '.join(tokens)!r}: quote each one")


def _example(unit_last: bool) -> str:
    return '"0.5% w/v" mg/mL' if unit_last else '"250 mg/mL" "2 mL"'


def _ingredient(name: str | None, *forms: str | None) -> tuple[Ingredient, Form | None] | None:
    """The library entry ``--substance`` names (and the form, if the name is a form)."""
    if name is None:
        if any(form is not None for form in forms):
            fail("--form and --to-form need --substance: name the ingredient they belong to")
        return None
    from formulary.library import load_library

    found: tuple[Ingredient, Form | None] = _guard(load_library().resolve, name)
    return found


def _choice(
    name: str | None, form: str | None, to_form: str | None, *, involves_iu: bool
) -> tuple[Substance | None, str | None, str | None]:
    """(substance, basis of the given amount, label of the result's form) for dose/volume."""
    found = _ingredient(name, form, to_form)
    if found is None:
        return None, None, None
    from formulary.ingredient_units import choose

    ingredient, named = found
    choice = _guard(choose, ingredient, form=form, named_form=named, involves_iu=involves_iu)
    label = to_form
    if to_form is not None:
        try:
            label = ingredient.form(to_form).label
        except ValueError:
            label = to_form  # a basis such as "zinc": the engine checks it
    return choice.substance, choice.basis, label


def _amount_json(amount: Amount) -> dict[str, str]:
    from formulary.units import format_amount, format_value

    return {
        "value": format_value(amount.value),
        "unit": amount.unit,
        "display": format_amount(amount, significant=SHOWN_SIGNIFICANT),
    }


def _shown(amount: Amount) -> tuple[str, str]:
    """(relation sign, text): ``=`` when shown exactly, ``≈`` when rounded for display."""
    from formulary.units import format_amount

    exact = format_amount(amount)
    rounded = format_amount(amount, significant=SHOWN_SIGNIFICANT)
    return ("=" if exact == rounded else "≈"), rounded


def _emit(as_json: bool, payload: dict[str, Any], human: str) -> None:
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        typer.echo(human)


def _syringe_note(volume: Amount) -> str:
    """`` (25 U-100 marks)`` for volumes a U-100 syringe measures (1 mL or less)."""
    from formulary.units import convert, format_amount

    if volume.unit != "mL" or volume.value > 1:
        return ""
    marks = convert(volume, "U-100 marks")
    return f" ({format_amount(marks, significant=SHOWN_SIGNIFICANT)})"


def _about(substance: Substance | None, source: str | None, target: str | None) -> str:
    """`` (Zinc sulfate: zinc → zinc sulfate anhydrous)``: whose facts and forms were used.

    ``source`` and ``target`` default to the substance's own form.
    """
    if substance is None:
        return ""
    own = substance.form or substance.name
    source, target = source or own, target or own
    forms = source if source == target else f"{source} → {target}"
    return f" ({substance.name}: {forms})"


def _is_iu(*amounts_or_units: str) -> bool:
    return any(text.startswith("IU") for text in amounts_or_units)


# --- commands ------------------------------------------------------------------------------


#: Let "-5 mg" reach the parser (which explains the refusal) instead of Click's option error.
_AMOUNT_WORDS = {"ignore_unknown_options": True}


@app.command(context_settings=_AMOUNT_WORDS)
def convert(
    words: ConvertWords = None,
    substance: SubstanceOption = None,
    form: FormOption = None,
    to_form: ToFormOption = None,
    as_json: JsonOption = False,
) -> None:
    """Convert QTY to TARGET unit, e.g. convert "0.5% w/v" mg/mL.

    With --substance, mass, mmol, mEq and International Units convert through the
    library's facts; --form names the salt, ester or basis the amount is stated in and
    --to-form the one wanted (e.g. -s zinc --form heptahydrate --to-form zinc).
    """
    from formulary.units import convert as convert_amount
    from formulary.units import format_amount, parse_unit

    qty_text, target_text = _split_two(words, "an amount", "a target unit", unit_last=True)
    amount = _parse(qty_text, "amount")
    target = _guard(parse_unit, target_text)
    found = _ingredient(substance, form, to_form)
    payload: dict[str, Any]
    if found is None:
        result = _guard(convert_amount, amount, target)
        about = ""
        payload = {"substance": None, "form": None, "to_form": None}
    else:
        from formulary.ingredient_units import convert_ingredient

        ingredient, named = found
        done = _guard(
            convert_ingredient,
            amount,
            target,
            ingredient,
            form=form,
            to_form=to_form,
            named_form=named,
        )
        result = done.result
        forms = (
            done.from_form
            if done.from_form == done.to_form
            else (f"{done.from_form} → {done.to_form}")
        )
        about = f" ({ingredient.name}: {forms})"
        payload = {"substance": ingredient.key, "form": done.from_form, "to_form": done.to_form}
    sign, shown = _shown(result)
    payload = {**_amount_json(result), "from": _amount_json(amount), **payload}
    human = f"{format_amount(amount)} {sign} {shown}{about}"
    _emit(as_json, payload, human)


@app.command(context_settings=_AMOUNT_WORDS)
def dose(
    words: DoseWords = None,
    substance: SubstanceOption = None,
    form: FormOption = None,
    to_form: ToFormOption = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Express the amount in this unit (e.g. mmol).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Amount in VOLUME of a solution at CONC, e.g. dose "250 mg/mL" "2 mL"."""
    from formulary.mixing import amount_in
    from formulary.units import format_amount, parse_unit

    conc_text, volume_text = _split_two(words, "a concentration", "a volume", unit_last=False)
    concentration = _parse(conc_text, "concentration", "concentration")
    volume = _parse(volume_text, "volume", "volume")
    target = None if unit is None else _guard(parse_unit, unit)
    facts, basis, result_form = _choice(
        substance, form, to_form, involves_iu=_is_iu(concentration.unit, target or "")
    )
    result = _guard(
        amount_in, concentration, volume, facts, unit=target, form=basis, to_form=result_form
    )
    sign, shown = _shown(result)
    payload = {
        **_amount_json(result),
        "concentration": _amount_json(concentration),
        "volume": _amount_json(volume),
        "substance": facts.key if facts else None,
    }
    human = (
        f"{format_amount(volume)} of {format_amount(concentration)} {sign} {shown}"
        f"{_about(facts, basis, result_form or basis)}"
    )
    _emit(as_json, payload, human)


@app.command(context_settings=_AMOUNT_WORDS)
def volume(
    words: VolumeWords = None,
    substance: SubstanceOption = None,
    form: FormOption = None,
    to_form: ToFormOption = None,
    as_json: JsonOption = False,
) -> None:
    """Volume of a solution at CONC that holds AMOUNT, e.g. volume "500 mg" "250 mg/mL"."""
    from formulary.mixing import volume_for
    from formulary.units import format_amount

    amount_text, conc_text = _split_two(words, "an amount", "a concentration", unit_last=False)
    amount = _parse(amount_text, "amount")
    concentration = _parse(conc_text, "concentration", "concentration")
    facts, basis, result_form = _choice(
        substance, form, to_form, involves_iu=_is_iu(amount.unit, concentration.unit)
    )
    result = _guard(volume_for, amount, concentration, facts, form=basis, to_form=result_form)
    sign, shown = _shown(result)
    payload = {
        **_amount_json(result),
        "amount": _amount_json(amount),
        "concentration": _amount_json(concentration),
        "substance": facts.key if facts else None,
    }
    human = (
        f"{format_amount(amount)} {sign} {shown}{_syringe_note(result)} "
        f"of {format_amount(concentration)}{_about(facts, basis, result_form)}"
    )
    _emit(as_json, payload, human)


@app.command()
def dilute(
    stock: Annotated[str | None, typer.Option("--stock", help="Stock strength C1.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="Wanted strength C2.")] = None,
    final: Annotated[str | None, typer.Option("--final", help="Final volume V2.")] = None,
    substance: SubstanceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stock and diluent volumes for C1·V1 = C2·V2.

    Example: --stock "2% w/v" --target "5 mg/mL" --final "10 mL".
    """
    from formulary.mixing import dilute as dilute_amounts
    from formulary.units import format_amount

    missing = [
        name
        for name, value in (("--stock", stock), ("--target", target), ("--final", final))
        if value is None
    ]
    if missing:
        fail(
            "give " + ", ".join(missing) + ', for example --stock "0.05% w/v" '
            '--target "0.01% w/v" --final "5 mL"'
        )
    assert stock is not None and target is not None and final is not None
    c1 = _parse(stock, "stock", "concentration")
    c2 = _parse(target, "target", "concentration")
    v2 = _parse(final, "final volume", "volume")
    facts, _, _ = _choice(substance, None, None, involves_iu=_is_iu(c1.unit, c2.unit))
    result = _guard(dilute_amounts, c1, c2, v2, facts)
    sign1, v1_shown = _shown(result.stock_volume)
    sign2, diluent_shown = _shown(result.diluent_volume)
    payload = {
        **_amount_json(result.stock_volume),
        "stock_volume": _amount_json(result.stock_volume),
        "diluent_volume": _amount_json(result.diluent_volume),
        "final_volume": _amount_json(v2),
        "stock": _amount_json(c1),
        "target": _amount_json(c2),
    }
    approx = " (rounded)" if "≈" in (sign1, sign2) else ""
    human = (
        f"draw {v1_shown}{_syringe_note(result.stock_volume)} of {format_amount(c1)} "
        f"and make up to {format_amount(v2)} with {diluent_shown} of diluent "
        f"for {format_amount(c2)}{approx}"
    )
    _emit(as_json, payload, human)
