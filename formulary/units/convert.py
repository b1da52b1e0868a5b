"""Substance-aware conversion between canonical units.

Plain scaling within one kind (mg → mcg, mL → L, % w/v → mg/mL, U-100 marks → mL) uses
factors from the Pint registry. Everything that crosses kinds needs a fact about the
substance, taken from a :class:`~formulary.units.substance.Substance`:

- mass ↔ amount of substance: the molar mass of the stated form;
- one form ↔ another (zinc sulfate → zinc, lidocaine HCl → lidocaine base): molar masses
  and the count of basis units per formula unit;
- mmol ↔ mEq: the valence;
- International Units ↔ mass: the IU basis of the named form, refusing an ambiguous one;
- product-specific units (botulinum toxins): never;
- mass ↔ volume: never here, only through a concentration (see ``formulary.mixing``).

Concentrations convert numerator and denominator separately, so mg/mL of a salt becomes
mmol/L or mg/mL of the element by the same rules. Arithmetic is exact Decimal; results
keep :data:`RESULT_SIGNIFICANT` significant figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import lru_cache

from formulary.units.amount import Amount
from formulary.units.catalog import (
    AMOUNT,
    BY_CANONICAL,
    EQUIVALENTS,
    IU_KIND,
    KIND_NAMES,
    MASS,
    MASS_CONCENTRATION,
    MASS_FRACTION,
    RATIO,
    SUBSTANCE_KINDS,
    UNITS_KIND,
    VOLUME,
    VOLUME_FRACTION,
)
from formulary.units.errors import (
    AmbiguousFormError,
    IncompatibleUnitsError,
    MissingFactError,
    NotConvertibleError,
    SubstanceRequiredError,
    UnitsError,
)
from formulary.units.parse import parse_unit, strip_decimal
from formulary.units.registry import scale_factor
from formulary.units.substance import IUBasis, Substance

#: Significant figures kept in a converted value (display rounds further).
RESULT_SIGNIFICANT = 15
#: Decimal precision while computing (results are then tidied to RESULT_SIGNIFICANT).
WORK_PRECISION = 40
_THOUSAND = Decimal(1000)


@dataclass(frozen=True, slots=True)
class _Form:
    """One form an amount of a substance can be stated in."""

    name: str
    molar_mass: Decimal | None
    count: int | None  # formula units of this form per formula unit of the substance's form


def convert(
    amount: Amount,
    target_unit: str,
    substance: Substance | None = None,
    *,
    form: str | None = None,
    to_form: str | None = None,
) -> Amount:
    """``amount`` expressed in ``target_unit`` (a canonical unit or an accepted alias).

    ``substance`` supplies the facts for conversions across kinds. ``form`` names the
    form the given amount is stated in (default: the substance's own form; for an amount
    in IU it picks the IU basis); ``to_form`` names the form of the result (default: the
    same). Raises a :class:`~formulary.units.errors.UnitsError` subclass saying why a
    conversion is refused.
    """
    target = target_unit if target_unit in BY_CANONICAL else parse_unit(target_unit)
    if amount.unit not in BY_CANONICAL:
        raise UnitsError(f"{amount.unit!r} is not a canonical unit")
    with localcontext() as ctx:
        ctx.prec = WORK_PRECISION
        value = _convert_value(amount.value, amount.unit, target, substance, form, to_form)
    return Amount(tidy(value), target)


def tidy(value: Decimal) -> Decimal:
    """``value`` kept to :data:`RESULT_SIGNIFICANT` figures, without exponent or trailing zeros."""
    with localcontext() as ctx:
        ctx.prec = RESULT_SIGNIFICANT
        rounded = +value
    return strip_decimal(rounded)


def _convert_value(
    value: Decimal,
    source: str,
    target: str,
    substance: Substance | None,
    form: str | None,
    to_form: str | None,
) -> Decimal:
    if source == RATIO:
        if value <= 0:
            raise UnitsError("a ratio strength 1:N needs N above zero")
        # 1:N w/v is 1 g in N mL, i.e. 1000/N mg/mL.
        return _convert_value(_THOUSAND / value, "mg/mL", target, substance, form, to_form)
    if target == RATIO:
        per_ml = _convert_value(value, source, "mg/mL", substance, form, to_form)
        if per_ml <= 0:
            raise UnitsError("a ratio strength needs a concentration above zero")
        return _THOUSAND / per_ml
    return value * _factor(source, target, substance, form, to_form)


def _factor(
    source: str,
    target: str,
    substance: Substance | None,
    form: str | None,
    to_form: str | None,
) -> Decimal:
    src_kind = BY_CANONICAL[source].kind
    dst_kind = BY_CANONICAL[target].kind
    if src_kind in SUBSTANCE_KINDS and dst_kind in SUBSTANCE_KINDS:
        return _quantity_factor(source, target, substance, form, to_form)
    src_parts = _concentration_parts(source)
    dst_parts = _concentration_parts(target)
    if src_parts is not None and dst_parts is not None:
        src_num, src_den, src_pre = src_parts
        dst_num, dst_den, dst_pre = dst_parts
        numerator = _quantity_factor(src_num, dst_num, substance, form, to_form)
        denominator = scale_factor(src_den, dst_den)
        return src_pre * numerator / denominator / dst_pre
    if src_kind == dst_kind and src_kind not in {MASS_FRACTION, VOLUME_FRACTION}:
        return scale_factor(source, target)
    if source == target:
        return Decimal(1)
    raise _refusal(source, target, src_kind, dst_kind)


def _concentration_parts(unit: str) -> tuple[str, str, Decimal] | None:
    """(numerator, denominator, factor to numerator/denominator) of a concentration unit."""
    spec = BY_CANONICAL[unit]
    if spec.per_volume is not None:
        return spec.per_volume[0], spec.per_volume[1], Decimal(1)
    if spec.kind == MASS_CONCENTRATION:  # % w/v: scale to mg/mL through the registry
        return "mg", "mL", scale_factor(unit, "mg/mL")
    return None


def _refusal(source: str, target: str, src_kind: str, dst_kind: str) -> UnitsError:
    kinds = {src_kind, dst_kind}
    if kinds & {MASS_FRACTION, VOLUME_FRACTION}:
        if src_kind in {MASS_FRACTION, VOLUME_FRACTION}:
            fraction, other = source, target
        else:
            fraction, other = target, source
        return NotConvertibleError(
            f"{fraction} is not mass per volume and does not convert to {other} "
            "(only % w/v means g per 100 mL)"
        )
    if VOLUME in kinds and kinds & SUBSTANCE_KINDS:
        return IncompatibleUnitsError(
            f"{source} and {target} relate only through a concentration: work out the "
            "amount in a volume, or the volume that holds an amount, from the concentration"
        )
    if (src_kind in SUBSTANCE_KINDS) != (dst_kind in SUBSTANCE_KINDS) and (
        _concentration_parts(source) or _concentration_parts(target)
    ):
        return IncompatibleUnitsError(
            f"{source} is {KIND_NAMES[src_kind]} and {target} is {KIND_NAMES[dst_kind]}: "
            "a concentration becomes an amount only with a volume"
        )
    return IncompatibleUnitsError(
        f"cannot convert {source} ({KIND_NAMES[src_kind]}) to {target} ({KIND_NAMES[dst_kind]})"
    )


# --- amounts of a substance: mass, moles, equivalents, International Units -------------


def _quantity_factor(
    source: str,
    target: str,
    substance: Substance | None,
    form: str | None,
    to_form: str | None,
) -> Decimal:
    src_kind = BY_CANONICAL[source].kind
    dst_kind = BY_CANONICAL[target].kind
    if UNITS_KIND in (src_kind, dst_kind):
        if src_kind == dst_kind:
            return Decimal(1)
        raise NotConvertibleError(
            "product-specific units (such as botulinum toxin units) never convert "
            f"to {target if src_kind == UNITS_KIND else source} or to another product's units"
        )
    involves_iu = IU_KIND in (src_kind, dst_kind)
    if substance is not None and substance.product_specific_units and involves_iu:
        raise NotConvertibleError(
            f"{substance.name} is dosed in product-specific units, not International Units"
        )
    if src_kind == dst_kind and (src_kind in {IU_KIND, EQUIVALENTS} or not to_form):
        return scale_factor(source, target)
    if substance is None:
        raise SubstanceRequiredError(
            f"converting {source} to {target} depends on the substance, and none is named"
        )
    given = _resolve_form(substance, form)
    if src_kind == dst_kind and _same_form(given, _resolve_form(substance, to_form)):
        return scale_factor(source, target)

    # Walk to grams or moles of a named form, change form if asked, walk out again.
    if src_kind == MASS:
        quantity, node, current = scale_factor(source, "g"), "g", given
    elif src_kind == AMOUNT:
        quantity, node, current = scale_factor(source, "mol"), "mol", given
    elif src_kind == EQUIVALENTS:
        valence = _valence(substance)
        quantity = scale_factor(source, "mEq") / valence / _THOUSAND
        node, current = "mol", _own_form(substance)
    else:  # International Units
        basis = _iu_basis(substance, form if form is not None else to_form)
        quantity = scale_factor(source, "IU") * basis.mass_per_iu_mg / _THOUSAND
        node, current = "g", _resolve_form(substance, basis.form)

    if dst_kind == IU_KIND:
        basis = _iu_basis(substance, to_form if to_form is not None else form)
        grams = _to_grams(substance, quantity, node, current, _resolve_form(substance, basis.form))
        return grams * _THOUSAND / basis.mass_per_iu_mg * scale_factor("IU", target)
    if dst_kind == EQUIVALENTS:
        moles = _to_moles(substance, quantity, node, current, _own_form(substance))
        return moles * _valence(substance) * _THOUSAND * scale_factor("mEq", target)
    if to_form is not None:
        wanted = _resolve_form(substance, to_form)
    elif form is not None:
        wanted = given
    else:
        wanted = current
    if dst_kind == MASS:
        return _to_grams(substance, quantity, node, current, wanted) * scale_factor("g", target)
    if dst_kind == AMOUNT:
        return _to_moles(substance, quantity, node, current, wanted) * scale_factor("mol", target)
    raise IncompatibleUnitsError(f"cannot convert {source} to {target}")  # pragma: no cover


def _to_grams(
    substance: Substance, quantity: Decimal, node: str, current: _Form, wanted: _Form
) -> Decimal:
    if node == "g" and _same_form(current, wanted):
        return quantity
    moles = _to_moles(substance, quantity, node, current, wanted)
    return moles * _molar_mass(substance, wanted)


def _to_moles(
    substance: Substance, quantity: Decimal, node: str, current: _Form, wanted: _Form
) -> Decimal:
    moles = quantity if node == "mol" else quantity / _molar_mass(substance, current)
    if _same_form(current, wanted):
        return moles
    return moles / _count(substance, current) * _count(substance, wanted)


def _valence(substance: Substance) -> Decimal:
    if not substance.valence:
        raise MissingFactError(
            f"no valence is recorded for {substance.name}: milliequivalents need one"
        )
    return Decimal(abs(substance.valence))


def _molar_mass(substance: Substance, form: _Form) -> Decimal:
    if form.molar_mass is None or form.molar_mass <= 0:
        raise MissingFactError(
            f"no molar mass is recorded for {form.name} ({substance.name}): "
            "this conversion needs one; take it from the product label"
        )
    return form.molar_mass


def _count(substance: Substance, form: _Form) -> Decimal:
    if form.count is None or form.count <= 0:
        raise MissingFactError(
            f"{substance.name}: {form.name} is not related to {_own_form(substance).name} "
            "by a recorded formula, so amounts cannot be converted between them"
        )
    return Decimal(form.count)


# --- forms -------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def _same_form(a: _Form, b: _Form) -> bool:
    return _norm(a.name) == _norm(b.name)


def _own_form(substance: Substance) -> _Form:
    return _Form(substance.form or substance.name, substance.molar_mass, 1)


def _known_forms(substance: Substance) -> list[str]:
    names = [_own_form(substance).name]
    names += [basis.label for basis in substance.bases]
    names += [iu.form for iu in substance.iu_bases]
    unique: list[str] = []
    for name in names:
        if _norm(name) not in {_norm(n) for n in unique}:
            unique.append(name)
    return unique


def _resolve_form(substance: Substance, name: str | None) -> _Form:
    own = _own_form(substance)
    if name is None or not name.strip():
        return own
    wanted = _norm(name)
    if wanted == _norm(own.name):
        return own
    # A basis may share the substance's key ("copper" the element of "copper" the entry).
    for basis in substance.bases:
        if wanted in {_norm(basis.key), _norm(basis.label)}:
            return _Form(basis.label, basis.molar_mass, basis.count)
    if wanted in {_norm(substance.name), _norm(substance.key)}:
        return own
    for iu in substance.iu_bases:
        if wanted == _norm(iu.form):
            return _Form(iu.form, None, None)
    known = ", ".join(repr(n) for n in _known_forms(substance))
    raise MissingFactError(f"{substance.name} has no form {name!r}; known forms: {known}")


def _iu_basis(substance: Substance, hint: str | None) -> IUBasis:
    if not substance.iu_bases:
        raise MissingFactError(
            f"{substance.name} has no International Unit: state its amount by mass "
            "(an IU of one substance never applies to another)"
        )
    for basis in substance.iu_bases:
        if basis.mass_per_iu_mg <= 0:
            raise MissingFactError(
                f"the IU basis of {basis.form} ({substance.name}) has no positive mass per IU"
            )
    if hint is not None:
        direct = substance.iu_basis(" ".join(hint.split()))
        if direct is not None:
            return direct
        resolved = _resolve_form(substance, hint)
        for basis in substance.iu_bases:
            if _norm(basis.form) == _norm(resolved.name):
                return basis
        if len(substance.iu_bases) == 1:
            return substance.iu_bases[0]  # reached from the hinted form through molar masses
    elif len(substance.iu_bases) == 1:
        return substance.iu_bases[0]
    forms = ", ".join(repr(basis.form) for basis in substance.iu_bases)
    raise AmbiguousFormError(
        f"International Units of {substance.name} depend on the form: name one of {forms}"
    )


def names_form(substance: Substance, name: str) -> bool:
    """Whether ``name`` is the substance's own form, one of its bases or an IU form."""
    try:
        _resolve_form(substance, name)
    except MissingFactError:
        return False
    return True
