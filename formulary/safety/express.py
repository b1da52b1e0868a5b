"""Expressing one contribution in the basis a limit counts.

A limit counts one thing: lidocaine hydrochloride (anhydrous) in mg, zinc as the
element in mg, vitamin A retinol in IU. A contribution may be stated in another
unit, another form of the same ingredient (lidocaine HCl monohydrate), or another
salt of the same element (zinc gluconate when the limit is on zinc). The units
engine converts within one substance (its forms, bases and IU definitions); this
module chains it across two forms that share a basis. When no recorded fact links
the two, it raises: a contribution that cannot be counted is never skipped.
"""

from __future__ import annotations

from functools import lru_cache

from formulary.units import convert
from formulary.units.amount import Amount
from formulary.units.errors import MissingFactError, UnitsError
from formulary.units.substance import Substance


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def _form_name(substance: Substance) -> str:
    return _norm(substance.form or substance.name)


def _basis_keys(substance: Substance) -> dict[str, str]:
    """Basis key → label of every basis the substance can be expressed as."""
    return {_norm(b.key): b.label for b in substance.bases}


def known_forms(substance: Substance) -> tuple[str, ...]:
    """Every form an amount of ``substance`` may be stated in: its own, its bases, IU forms."""
    names = [substance.form or substance.name]
    names += [b.label for b in substance.bases]
    names += [iu.form for iu in substance.iu_bases]
    unique: list[str] = []
    for name in names:
        if name and _norm(name) not in {_norm(n) for n in unique}:
            unique.append(name)
    return tuple(unique)


def is_known_form(substance: Substance, form: str) -> bool:
    """True when ``form`` names the substance itself, one of its bases or IU forms."""
    wanted = _norm(form)
    if not wanted:
        return True
    aliases = {_norm(substance.key), _norm(substance.name)}
    aliases |= {_norm(b.key) for b in substance.bases}
    aliases |= {_norm(n) for n in known_forms(substance)}
    return wanted in aliases


@lru_cache(maxsize=4096)
def carries_basis(substance: Substance | None, basis_key: str) -> bool:
    """True when ``substance`` can be expressed as the basis ``basis_key`` (e.g. zinc)."""
    if substance is None:
        return False
    wanted = _norm(basis_key)
    return any(wanted in (_norm(b.key), _norm(b.label)) for b in substance.bases)


def express(
    amount: Amount,
    unit: str,
    substance: Substance | None,
    *,
    form: str = "",
    to_form: str = "",
    target: Substance | None = None,
) -> Amount:
    """``amount`` (of ``substance``, stated in ``form``) in ``unit`` of ``to_form``.

    ``target`` is the substance the limit is stated for, when it differs from the
    contribution's (another form of the same ingredient): the amount then travels
    through a basis both share. Raises a
    :class:`~formulary.units.errors.UnitsError` saying why it cannot be expressed.
    """
    try:
        return convert(amount, unit, substance, form=form or None, to_form=to_form or None)
    except MissingFactError:
        if substance is None or target is None or _form_name(target) == _form_name(substance):
            raise
        return _through_shared_basis(amount, unit, substance, target, form, to_form)


def _through_shared_basis(
    amount: Amount,
    unit: str,
    substance: Substance,
    target: Substance,
    form: str,
    to_form: str,
) -> Amount:
    # The contribution's own form may be a basis of the target (lidocaine base
    # towards a limit on lidocaine HCl), or both may share one (two hydrates of one salt).
    if _form_name(substance) in {_norm(b.label) for b in target.bases} | set(_basis_keys(target)):
        own = convert(amount, "mg", substance, form=form or None)
        return convert(own, unit, target, form=substance.form or None, to_form=to_form or None)
    shared = sorted(set(_basis_keys(substance)) & set(_basis_keys(target)))
    if not shared:
        raise UnitsError(
            f"{substance.form or substance.name} and {target.form or target.name} share no "
            "recorded basis, so one cannot be counted as the other"
        )
    key = shared[0]
    middle = convert(amount, "mg", substance, form=form or None, to_form=key)
    return convert(middle, unit, target, form=key, to_form=to_form or None)
