"""The strict parser: text typed by a person → an exact :class:`Amount`, or one clear error.

What it accepts, and nothing else: ASCII digits with at most one decimal point (and a
leading zero before it), then a unit from the allow-list in :mod:`catalog`; or a ratio
strength written ``1:N`` (optionally ``1:N w/v``). No signs, exponents, expressions,
thousands separators, decimal commas, ``nan``/``inf`` or overlong text. It works on
plain strings with fixed-size regular expressions and never calls Pint, so no input can
make it hang (Pint's own parser evaluates expressions such as ``9^9^9``).
"""

from __future__ import annotations

import re
from decimal import Decimal

from formulary.units.amount import Amount
from formulary.units.catalog import (
    AMOUNT,
    BY_CANONICAL,
    DENSITY,
    KIND_EXAMPLES,
    KIND_GROUPS,
    KIND_NAMES,
    LENGTH,
    LOOKUP,
    MASS,
    RATIO,
    REFUSED,
    UNITS,
    VOLUME,
    example_unit,
    unit_key,
)
from formulary.units.errors import InvalidQuantityError, UnknownUnitError, WrongKindError

#: Longest text the parser looks at; real amounts are far shorter.
MAX_LENGTH = 64
#: Digits allowed before and after the decimal point.
MAX_INTEGER_DIGITS = 12
MAX_FRACTION_DIGITS = 12

_NUMBER = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_RATIO = re.compile(r"1\s*:\s*([0-9]+(?:\.[0-9]+)?)\s*(?:\(?\s*w\s*/\s*v\s*\)?)?", re.IGNORECASE)
_SPECIAL_WORDS = ("nan", "inf", "infinity", "snan")


def strip_decimal(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and without an exponent (5.00 → 5, 500 stays 500)."""
    # Works on the digit tuple so no context precision can round the value.
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError("cannot tidy a value that is not finite")
    if not any(digits):
        return Decimal(0)
    if exponent >= 0:
        return Decimal((sign, (*digits, *(0,) * exponent), 0))
    kept = list(digits)
    while exponent < 0 and len(kept) > 1 and kept[-1] == 0:
        kept.pop()
        exponent += 1
    return Decimal((sign, tuple(kept), exponent))


def parse_unit(text: str) -> str:
    """The canonical unit string for a unit spelling (``"ml"`` → ``"mL"``), or an error."""
    if not isinstance(text, str):
        raise InvalidQuantityError("expected a unit as text")
    if len(text) > MAX_LENGTH:
        raise InvalidQuantityError(f"unit text is too long (more than {MAX_LENGTH} characters)")
    stripped = text.strip()
    if not stripped:
        raise InvalidQuantityError("no unit given: write one such as mg, mL or mg/mL")
    key = unit_key(stripped)
    canonical = LOOKUP.get(key)
    if canonical is not None:
        return canonical
    if key in {unit_key("ratio w/v"), unit_key("ratio"), unit_key("1:n")}:
        return RATIO
    reason = REFUSED.get(key)
    if reason is not None:
        raise UnknownUnitError(f"unit {stripped!r} is not accepted: {reason}")
    raise UnknownUnitError(_unknown_unit_message(stripped, key))


#: What the end of an unknown unit says it measures: a suggestion of another kind
#: ("micromol" for "ul") is worse than none, so suggestions keep to the kind named.
_FAMILY_ENDINGS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("/mm2", "/mm²", "/cm2", "/cm²"), DENSITY),
    (("mole", "moles", "mol"), AMOUNT),
    (("litre", "litres", "liter", "liters", "l"), VOLUME),
    (("gram", "grams", "g"), MASS),
    (("metre", "metres", "meter", "meters", "m"), LENGTH),
)


#: Word stems that name a kind wherever they appear ("microlitr" is a volume).
_FAMILY_STEMS: tuple[tuple[str, str], ...] = (
    ("mol", AMOUNT),
    ("lit", VOLUME),
    ("ltr", VOLUME),
    ("gram", MASS),
    ("metr", LENGTH),
    ("meter", LENGTH),
)


def _family(key: str) -> str | None:
    """The kind an unknown unit spelling most likely means, from how it ends."""
    if "/" in key and not key.startswith("hair"):
        return None  # a concentration: its numerator decides, difflib ranks well enough
    for stem, kind in _FAMILY_STEMS:
        if stem in key:
            return kind
    for endings, kind in _FAMILY_ENDINGS:
        if any(key.endswith(ending) for ending in endings):
            return kind
    return None


def _unknown_unit_message(shown: str, key: str) -> str:
    import difflib  # only when a unit is unknown: keeps the parser's import light

    close = difflib.get_close_matches(key, LOOKUP.keys(), n=12, cutoff=0.6)
    family = _family(key)
    suggestions: list[str] = []
    for match in close:
        canonical = LOOKUP[match]
        if family is not None and BY_CANONICAL[canonical].kind != family:
            continue
        if canonical not in suggestions:
            suggestions.append(canonical)
    message = f"unknown unit {shown!r}"
    if suggestions:
        quoted = " or ".join(repr(BY_CANONICAL[c].plural) for c in suggestions[:3])
        return f"{message} — did you mean {quoted}?"
    if family is not None:
        units = [spec.plural for spec in UNITS if spec.kind == family]
        return f"{message}: use one of " + ", ".join(units)
    return f"{message}: use one such as mg, mcg, mL, mg/mL, % w/v or international units"


def parse_quantity(text: str, *, kind: str | None = None, allow_zero: bool = False) -> Amount:
    """Read ``text`` such as ``"0.5 mL"``, ``"2.5 mcg/mL"``, ``"1:1000"`` into an Amount.

    ``kind`` restricts what is accepted to a group from ``catalog.KIND_GROUPS``
    (``"volume"``, ``"mass_or_iu"``, ``"concentration"``, …). Amounts must be greater
    than zero unless ``allow_zero``. Raises a :class:`~formulary.units.errors.UnitsError`
    subclass whose message says what was wrong.
    """
    allowed = _allowed_kinds(kind)
    if not isinstance(text, str):
        raise InvalidQuantityError("expected an amount as text, such as 0.5 mL")
    if len(text) > MAX_LENGTH:
        raise InvalidQuantityError(f"amount text is too long (more than {MAX_LENGTH} characters)")
    stripped = text.strip()
    if not stripped:
        raise InvalidQuantityError(
            "no amount given: write a number and a unit, such as "
            + (f"1 {example_unit(kind)}" if kind else "0.5 mL")
        )

    ratio = _RATIO.fullmatch(stripped)
    if ratio is not None:
        amount = Amount(_decimal(ratio.group(1), stripped), RATIO)
        if amount.value < 1:
            raise InvalidQuantityError(
                f"ratio strength {stripped!r} must be 1:N with N at least 1 (1:1000 = 1 mg/mL)"
            )
        _check_kind(amount, allowed, kind, stripped)
        return amount

    _refuse_malformed_number(stripped)
    number = _NUMBER.match(stripped)
    if number is None:
        raise InvalidQuantityError(
            f"{stripped!r} does not start with a number: write it like 0.5 mL"
        )
    rest = stripped[number.end() :]
    _refuse_after_number(stripped, rest)
    value = _decimal(number.group(0), stripped)
    unit_text = rest.strip()
    if not unit_text:
        raise InvalidQuantityError(
            f"{stripped!r} has no unit: write one, such as {stripped} {example_unit(kind)}"
        )
    unit = parse_unit(unit_text)
    if unit == RATIO:
        raise InvalidQuantityError(
            f"write a ratio strength as 1:N (for example 1:1000), not {stripped!r}"
        )
    amount = Amount(value, unit)
    if value == 0 and not allow_zero:
        raise InvalidQuantityError(f"amount must be greater than zero, not {stripped!r}")
    _check_kind(amount, allowed, kind, stripped)
    return amount


def _allowed_kinds(kind: str | None) -> frozenset[str] | None:
    if kind is None:
        return None
    try:
        return KIND_GROUPS[kind]
    except KeyError:
        raise ValueError(f"unknown quantity kind {kind!r}") from None


def _check_kind(
    amount: Amount, allowed: frozenset[str] | None, kind: str | None, text: str
) -> None:
    if allowed is None or kind is None:
        return
    got = BY_CANONICAL[amount.unit].kind
    if got not in allowed:
        expected = KIND_EXAMPLES.get(kind) or KIND_NAMES.get(kind, kind)
        raise WrongKindError(f"expected {expected}, but {text!r} is {KIND_NAMES[got]}")


def _decimal(digits: str, text: str) -> Decimal:
    whole, _, fraction = digits.partition(".")
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise InvalidQuantityError(
            f"number in {text!r} is too large (more than {MAX_INTEGER_DIGITS} digits)"
        )
    if len(fraction) > MAX_FRACTION_DIGITS:
        raise InvalidQuantityError(
            f"number in {text!r} has too many decimals (at most {MAX_FRACTION_DIGITS})"
        )
    return strip_decimal(Decimal(digits))


def _refuse_malformed_number(text: str) -> None:
    first = text[0]
    lowered = text.casefold()
    if first == "-" or first == "−":
        raise InvalidQuantityError(f"amount must be positive, not {text!r}")
    if first == "+":
        raise InvalidQuantityError(f"write the number without a sign, not {text!r}")
    if first == ".":
        raise InvalidQuantityError(
            f"write a leading zero before the decimal point (0.5, not .5): {text!r}"
        )
    if any(lowered.startswith(word) for word in _SPECIAL_WORDS):
        raise InvalidQuantityError(f"{text!r} is not a finite number")
    if first.isdigit() and not first.isascii():
        raise InvalidQuantityError(f"use the digits 0-9 only: {text!r}")


def _refuse_after_number(text: str, rest: str) -> None:
    if not rest:
        return
    head = rest[0]
    if head == ",":
        raise InvalidQuantityError(
            "no commas in numbers: write 1500 (no thousands separator) "
            f"or 1.5 (decimal point), not {text!r}"
        )
    if head == ".":
        raise InvalidQuantityError(
            f"write the number with one decimal point and digits after it: {text!r}"
        )
    if head in "eE" and len(rest) > 1 and (rest[1].isdigit() or rest[1] in "+-"):
        raise InvalidQuantityError(
            f"no scientific notation: write the number in full, not {text!r}"
        )
    stripped = rest.lstrip()
    if stripped.startswith(":"):
        raise InvalidQuantityError(
            f"write a ratio strength as 1:N (1:1000 means 1 g in 1000 mL), not {text!r}"
        )
    if stripped and (stripped[0] in "*/^+-()x×÷:" or stripped[0].isdigit()):
        raise InvalidQuantityError(f"write one number and a unit, not an expression: {text!r}")
    if head.isdigit():  # pragma: no cover - the number regex is greedy
        raise InvalidQuantityError(f"unexpected digits in {text!r}")


def unit_kind(unit: str) -> str:
    """The kind of a canonical unit string (``"mg/mL"`` → ``"mass_concentration"``)."""
    try:
        return BY_CANONICAL[unit].kind
    except KeyError:
        raise UnknownUnitError(f"{unit!r} is not a canonical unit") from None
