"""Converting amounts of a library ingredient: pick the form, then convert.

The units engine converts with one :class:`~formulary.units.substance.Substance` (one
form with its bases and IU definitions). A library entry has several forms (zinc sulfate
anhydrous and heptahydrate; lidocaine HCl and its base; vitamin E as the alcohol or the
acetate). This module turns what a person names (the entry, a form or a basis for the
amount given, a form or a basis for the result) into the right substance, refusing an
International Unit whose form was not named when the entry defines IU for several forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from formulary.library import ActivityBasis, Form, Ingredient, LibraryError
from formulary.library.names import normalize
from formulary.units.amount import Amount
from formulary.units.catalog import BY_CANONICAL, IU_CONCENTRATION, IU_KIND, MASS
from formulary.units.convert import convert, names_form, tidy
from formulary.units.errors import AmbiguousFormError, IncompatibleUnitsError, MissingFactError
from formulary.units.parse import parse_unit
from formulary.units.substance import Substance


@dataclass(frozen=True, slots=True)
class Choice:
    """The substance to convert with and the basis the given amount is stated in."""

    substance: Substance
    basis: str | None  # e.g. "zinc" when the amount is elemental zinc; None: the form itself


@dataclass(frozen=True, slots=True)
class IngredientConversion:
    """A converted amount and the forms it was read and written in."""

    result: Amount
    from_form: str
    to_form: str


def _library_form(ingredient: Ingredient, name: str | None) -> Form | None:
    if name is None:
        return None
    try:
        return ingredient.form(name)
    except LibraryError:
        return None


def _involves_iu(*units: str) -> bool:
    return any(BY_CANONICAL[unit].kind in {IU_KIND, IU_CONCENTRATION} for unit in units)


def choose(
    ingredient: Ingredient,
    *,
    form: str | None = None,
    named_form: Form | None = None,
    result_form: Form | None = None,
    involves_iu: bool = False,
    amount_iu: bool = False,
) -> Choice:
    """The substance for an amount of ``ingredient`` stated in ``form``.

    ``form`` may name one of the entry's forms (salt, hydrate, ester) or a basis of it
    (an element or base, e.g. "zinc"); ``named_form`` is the form the person typed as the
    ingredient's name (``Library.resolve``); ``result_form`` a form asked for the result,
    used as the substance when the amount is a basis or in International Units
    (``amount_iu``). With International Units involved
    and no form named, an entry that defines IU for several forms is refused.
    """
    from_form = _library_form(ingredient, form)
    basis = form if form is not None and from_form is None else None
    # The result's form decides when the amount itself has none: International Units
    # (10000 IU → mg of retinyl acetate) or a basis (5 mg zinc → mg of the heptahydrate).
    if amount_iu:
        chosen = from_form or result_form or named_form
    else:
        chosen = from_form or named_form or (result_form if basis is not None else None)
    if involves_iu and chosen is None:
        iu_forms = [f.label for f in ingredient.forms if f.iu_facts]
        if len(iu_forms) > 1:
            listed = ", ".join(repr(label) for label in iu_forms)
            raise AmbiguousFormError(
                f"International Units of {ingredient.name} depend on the form: "
                f"name one of {listed}"
            )
    substance = ingredient.substance(None if chosen is None else chosen.key)
    if basis is not None and not names_form(substance, basis):
        known = ", ".join(repr(f.label) for f in ingredient.forms)
        bases = ", ".join(repr(b.label) for b in substance.bases)
        raise MissingFactError(
            f"{ingredient.name} has no form or basis {basis!r}; forms: {known}"
            + (f"; bases of {substance.form}: {bases}" if bases else "")
        )
    return Choice(substance=substance, basis=basis)


def convert_ingredient(
    amount: Amount,
    target_unit: str,
    ingredient: Ingredient,
    *,
    form: str | None = None,
    to_form: str | None = None,
    named_form: Form | None = None,
) -> IngredientConversion:
    """``amount`` of ``ingredient`` in ``target_unit``, read in ``form``, written in ``to_form``.

    Both forms may be one of the entry's forms or a basis (element, base). Two of the
    entry's forms are related through a basis they share (zinc sulfate anhydrous →
    zinc → heptahydrate). Raises a :class:`~formulary.units.errors.UnitsError` or a
    :class:`~formulary.library.LibraryError` saying what is missing.
    """
    target = parse_unit(target_unit)
    if _activity_named(ingredient, form) or _activity_named(ingredient, to_form):
        return _convert_activity(amount, target, ingredient, form, to_form, named_form)
    result_form = _library_form(ingredient, to_form)
    choice = choose(
        ingredient,
        form=form,
        named_form=named_form,
        result_form=result_form,
        involves_iu=_involves_iu(amount.unit, target),
        amount_iu=_involves_iu(amount.unit),
    )
    substance = choice.substance
    from_label = choice.basis or substance.form or substance.name
    wanted = result_form.label if result_form is not None else to_form
    if wanted is None or names_form(substance, wanted):
        result = convert(amount, target, substance, form=choice.basis, to_form=wanted)
        return IngredientConversion(result, from_label, wanted or from_label)
    if result_form is None:
        raise MissingFactError(
            f"{ingredient.name} has no form or basis {to_form!r}; forms: "
            + ", ".join(repr(f.label) for f in ingredient.forms)
        )
    # Another of the entry's forms: go through a basis the two forms share.
    other = ingredient.substance(result_form.key)
    shared = [b for b in substance.bases if any(b.key == o.key for o in other.bases)]
    if not shared or _involves_iu(amount.unit, target):
        raise MissingFactError(
            f"{ingredient.name}: {substance.form} and {other.form} share no recorded basis, "
            "so amounts cannot be converted between them"
        )
    middle = convert(amount, target, substance, form=choice.basis, to_form=shared[0].label)
    result = convert(middle, target, other, form=shared[0].label, to_form=other.form)
    return IngredientConversion(result, from_label, other.form)


# --- activity bases (vitamin E: mg alpha-tocopherol, IOM 2000) -----------------------------
#
# An activity basis is never reached by default: only a form or result form that names
# it ("alpha-tocopherol-iom", "mg alpha-tocopherol (IOM 2000)") converts through it. The
# way is always amount → International Units of a named compound form (USP) → activity.


def _activity_named(ingredient: Ingredient, name: str | None) -> ActivityBasis | None:
    """The activity basis ``name`` names on some form of ``ingredient``, or None."""
    if name is None:
        return None
    wanted = normalize(name)
    for form in ingredient.forms:
        for basis in form.activity_bases:
            if wanted in {normalize(basis.key), normalize(basis.label)}:
                return basis
    return None


def _activity_factor(
    ingredient: Ingredient, basis: ActivityBasis, compound: Form | None, involves_mass: bool
) -> tuple[Decimal, Form | None]:
    """mg of the activity basis per IU, and the compound form it was taken from."""
    holders = [f for f in ingredient.forms if any(b.key == basis.key for b in f.activity_bases)]
    if compound is not None:
        for candidate in compound.activity_bases:
            if candidate.key == basis.key:
                return candidate.mass_per_iu_mg, compound
        raise MissingFactError(f"{ingredient.name}: {compound.label} has no {basis.label}")
    factors = {b.mass_per_iu_mg for f in holders for b in f.activity_bases if b.key == basis.key}
    if involves_mass and len(holders) > 1:
        listed = ", ".join(repr(f.label) for f in holders)
        raise AmbiguousFormError(
            f"a mass of {ingredient.name} becomes {basis.label} through the International "
            f"Units of its form: name one of {listed}"
        )
    if len(factors) != 1:  # pragma: no cover - the data file gives one factor per entry
        raise AmbiguousFormError(f"{basis.label} of {ingredient.name} depends on the form")
    return factors.pop(), holders[0] if len(holders) == 1 else None


def _convert_activity(
    amount: Amount,
    target: str,
    ingredient: Ingredient,
    form: str | None,
    to_form: str | None,
    named_form: Form | None,
) -> IngredientConversion:
    source_basis = _activity_named(ingredient, form)
    target_basis = _activity_named(ingredient, to_form)
    named = source_basis or target_basis
    assert named is not None
    for unit in (amount.unit, target):
        if BY_CANONICAL[unit].kind not in {MASS, IU_KIND}:
            raise IncompatibleUnitsError(
                f"{named.label} is a mass: convert amounts in mass or International Units, "
                f"not {unit}"
            )
    compound = (
        (None if source_basis else _library_form(ingredient, form))
        or (None if target_basis else _library_form(ingredient, to_form))
        or named_form
    )
    if source_basis is not None and target_basis is not None:
        if BY_CANONICAL[amount.unit].kind != MASS or BY_CANONICAL[target].kind != MASS:
            raise IncompatibleUnitsError(
                f"{source_basis.label} to {target_basis.label}: give and ask for a mass"
            )
        result = convert(amount, target)
        return IngredientConversion(result, source_basis.label, target_basis.label)
    if target_basis is not None:
        if BY_CANONICAL[target].kind != MASS:
            raise IncompatibleUnitsError(f"{target_basis.label} is a mass: ask for mg or mcg")
        is_mass = BY_CANONICAL[amount.unit].kind == MASS
        factor, held = _activity_factor(ingredient, target_basis, compound, is_mass)
        if is_mass:
            assert held is not None
            units = convert(amount, "IU", ingredient.substance(held.key)).value
        else:
            units = convert(amount, "IU").value
        mg = Amount(tidy(units * factor), "mg")
        label = held.label if held is not None else "International Units"
        return IngredientConversion(convert(mg, target), label, target_basis.label)
    assert source_basis is not None
    if BY_CANONICAL[amount.unit].kind != MASS:
        raise IncompatibleUnitsError(f"{source_basis.label} is a mass: give it in mg or mcg")
    wants_mass = BY_CANONICAL[target].kind == MASS
    factor, held = _activity_factor(ingredient, source_basis, compound, wants_mass)
    given = Amount(tidy(convert(amount, "mg").value / factor), "IU")
    if wants_mass:
        assert held is not None
        result = convert(given, target, ingredient.substance(held.key))
        return IngredientConversion(result, source_basis.label, held.label)
    return IngredientConversion(convert(given, target), source_basis.label, "International Units")
