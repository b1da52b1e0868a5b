"""What the units engine needs to know about a substance to convert its amounts.

The ingredient library (``formulary.library``) builds these from its data file; the
conversion functions take them as arguments. Keeping the facts in plain frozen
dataclasses lets the engine refuse what it cannot know: no molar mass, no mole; no IU
basis for the stated form, no IU; product-specific units, no conversion at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Basis:
    """Another basis an amount of this substance can be expressed on.

    ``count`` formula units of the basis are contained in one formula unit of the
    substance's own form: zinc sulfate heptahydrate → zinc (element), count 1;
    lidocaine hydrochloride → lidocaine (base), count 1; calcium pantothenate →
    pantothenic acid, count 2. The mass fraction is ``count * molar_mass / form molar mass``.
    """

    key: str  # e.g. "zinc" or "lidocaine base"
    label: str  # shown to people, e.g. "zinc (element)"
    molar_mass: Decimal  # g/mol of the basis
    count: int = 1


@dataclass(frozen=True, slots=True)
class IUBasis:
    """How much mass of one named form equals one International Unit."""

    form: str  # e.g. "RRR-alpha-tocopherol", "all-rac-alpha-tocopheryl acetate", "retinol"
    mass_per_iu_mg: Decimal  # mg of that form per IU


@dataclass(frozen=True, slots=True)
class Substance:
    """The conversion facts of one ingredient in one stated form."""

    key: str  # stable identifier, e.g. "zinc-sulfate"
    name: str  # canonical display name
    form: str = ""  # the salt, hydrate or ester the molar mass applies to
    molar_mass: Decimal | None = None  # g/mol of ``form``; None when not published
    bases: tuple[Basis, ...] = ()
    iu_bases: tuple[IUBasis, ...] = ()
    valence: int | None = None  # charge per formula unit, for mEq
    product_specific_units: bool = False  # botulinum toxins: "units" never convert

    def iu_basis(self, form: str) -> IUBasis | None:
        """The IU basis for ``form`` (case-insensitive), or None."""
        wanted = form.casefold()
        for basis in self.iu_bases:
            if basis.form.casefold() == wanted:
                return basis
        return None
