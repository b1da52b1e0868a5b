"""The ingredient library's records: plain frozen dataclasses, exact Decimals.

An :class:`Ingredient` is one library entry. Its :class:`Form` records say which salt,
hydrate, ester or free form each molar mass applies to, which element or base the
form can be expressed as (zinc in zinc sulfate, lidocaine base in lidocaine HCl), and
how many milligrams of that form make one International Unit, where an IU exists.
:meth:`Ingredient.substance` hands those facts to the units engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from formulary.library.errors import UnknownForm
from formulary.library.names import normalize
from formulary.units.amount import Amount
from formulary.units.substance import Basis, IUBasis, Substance

#: The categories of the reference facts, in the order the library lists them.
CATEGORIES: tuple[str, ...] = (
    "vitamin",
    "mineral",
    "amino_acid",
    "antioxidant",
    "hyaluronic_acid",
    "peptide",
    "growth_factor",
    "drug",
    "anaesthetic",
    "other",
)

#: What a dose figure is counted per.
#: ``session``: one treatment session; ``injection``: one administration episode (a
#: session's total given at once); ``wheal``: one intracutaneous wheal or papule;
#: ``kg``: per kilogram of body weight (multiply by the patient's weight).
DosePer = Literal["session", "injection", "wheal", "kg"]
DOSE_PERS: tuple[str, ...] = ("session", "injection", "wheal", "kg")

Status = Literal["available", "withdrawn"]

#: Kinds of caution an entry can carry (what a safety rule can match on).
CAUTION_CODES: tuple[str, ...] = (
    "pregnancy",  # avoid in pregnancy / breastfeeding, or in women who may become pregnant
    "incompatible",  # do not mix with the ingredients in ``with_keys``
    "no_mixing",  # a label advises against mixing with any other injectable
    "irritant",  # irritates tissue (acidic, hypertonic …)
    "hypertonic",  # high osmolality as supplied
    "sensitivity",  # contraindicated with a named sensitivity
    "adverse_effect",  # a published adverse effect of scalp use
    "off_label",  # intradermal/mesotherapy use is off-label
    "stability",  # a published in-use stability limit
    "withdrawn",  # authorisations withdrawn or suspended
    "note",  # anything else worth showing beside the ingredient
)


@dataclass(frozen=True, slots=True)
class IUFact:
    """One IU definition of one form, with where it comes from."""

    form: str  # the form label the IU is defined for
    mass_per_iu: Amount  # as published, e.g. 0.3 mcg or 0.67 mg
    mass_per_iu_mg: Decimal  # the same in mg, exact
    source: str
    note: str = ""

    def as_basis(self) -> IUBasis:
        """The units engine's view of this fact."""
        return IUBasis(form=self.form, mass_per_iu_mg=self.mass_per_iu_mg)


@dataclass(frozen=True, slots=True)
class Form:
    """One chemical form of an ingredient (salt, hydrate, ester, free acid or base)."""

    key: str  # stable within the ingredient, e.g. "heptahydrate"
    label: str  # shown to people and used as Substance.form
    formula: str = ""  # empty when the reference does not state it
    molar_mass: Decimal | None = None  # g/mol; None when not published
    molar_mass_note: str = ""
    convert_moles: bool = True  # False for polymers: a repeat-unit mass gives no useful mole
    bases: tuple[Basis, ...] = ()
    iu_facts: tuple[IUFact, ...] = ()
    valence: int | None = None  # charge per formula unit, only where an mEq is certain
    valence_note: str = ""
    note: str = ""

    @property
    def iu_bases(self) -> tuple[IUBasis, ...]:
        """The IU definitions of this form as the units engine takes them."""
        return tuple(fact.as_basis() for fact in self.iu_facts)

    def basis(self, key: str) -> Basis | None:
        """The basis named ``key`` (e.g. ``"zinc"``), or None."""
        for basis in self.bases:
            if basis.key == key:
                return basis
        return None

    def mass_fraction(self, basis_key: str) -> Decimal | None:
        """Mass of ``basis_key`` per mass of this form (zinc in ZnSO4·7H2O: 65.38/287.54).

        None when the form has no molar mass or no such basis.
        """
        basis = self.basis(basis_key)
        if basis is None or self.molar_mass is None:
            return None
        return basis.count * basis.molar_mass / self.molar_mass


@dataclass(frozen=True, slots=True)
class StockStrength:
    """A published stock strength of the ingredient, ready to prefill a product."""

    amount: Amount  # e.g. 10 mg/mL, 0.5 % w/v, 50000 IU/mL
    basis: str  # the form or basis the strength is stated in, e.g. "zinc (element)"
    note: str = ""


@dataclass(frozen=True, slots=True)
class DoseFigure:
    """A published dose: a typical amount or a maximum, per session/injection/wheal/kg."""

    amount: Amount  # e.g. 500 mg; with per="kg" read it as mg per kg
    per: DosePer
    basis: str  # the form the amount is stated in
    source: str
    note: str = ""
    condition: str = ""  # when the figure applies, e.g. "without adrenaline"
    region: str = ""  # body region it is limited to, e.g. "head and neck"
    within_hours: Decimal | None = None  # time window the amount may be given in


@dataclass(frozen=True, slots=True)
class Caution:
    """A published caution about an ingredient, for safety rules and display."""

    code: str  # one of CAUTION_CODES
    text: str
    with_keys: tuple[str, ...] = ()  # other entries involved (e.g. incompatible with)
    source: str = ""  # empty: the entry's sources


@dataclass(frozen=True, slots=True)
class Reference:
    """The reference facts' own wording for this entry, kept verbatim for traceability."""

    molar_mass: str
    stock: str
    per_session: str
    iu: str


@dataclass(frozen=True, slots=True)
class Ingredient:
    """One library entry."""

    key: str  # stable slug, e.g. "zinc-sulfate"; what other records link to
    name: str  # canonical display name
    synonyms: tuple[str, ...]
    category: str  # one of CATEGORIES
    classes: tuple[str, ...]  # factual groups for allergy matching: "amino acid", "copper" …
    forms: tuple[Form, ...]
    default_form_key: str  # the form the reference molar mass applies to
    stock_strengths: tuple[StockStrength, ...]
    typical_doses: tuple[DoseFigure, ...]
    limits: tuple[DoseFigure, ...]  # published maxima
    cautions: tuple[Caution, ...]
    product_specific_units: bool  # botulinum toxins: units never convert
    status: Status
    status_reason: str
    status_source: str
    notes: str
    curation_notes: tuple[str, ...]  # what the library added beyond the reference, and why
    sources: tuple[str, ...]
    reference: Reference

    @property
    def default_form(self) -> Form:
        """The form used when none is stated (the one the reference molar mass is for)."""
        return self.form(self.default_form_key)

    @property
    def molar_mass(self) -> Decimal | None:
        """Molar mass of the default form in g/mol, or None when not published."""
        return self.default_form.molar_mass

    @property
    def withdrawn(self) -> bool:
        """True when the ingredient's authorisations are withdrawn or suspended."""
        return self.status == "withdrawn"

    @property
    def has_iu(self) -> bool:
        """True when some form of this ingredient has an International Unit."""
        return any(form.iu_facts for form in self.forms)

    def cautions_of(self, code: str) -> tuple[Caution, ...]:
        """This entry's cautions of one kind (e.g. ``"pregnancy"``)."""
        return tuple(caution for caution in self.cautions if caution.code == code)

    def form(self, key_or_label: str) -> Form:
        """The form with this key or label (case-, accent- and punctuation-insensitive).

        Raises :class:`~formulary.library.errors.UnknownForm` listing the known forms.
        """
        wanted = normalize(key_or_label)
        for form in self.forms:
            if wanted in (normalize(form.key), normalize(form.label)):
                return form
        raise UnknownForm(self.name, key_or_label, tuple(form.label for form in self.forms))

    def substance(self, form: str | None = None) -> Substance:
        """The facts the units engine converts with, for ``form`` (default form if None)."""
        chosen = self.default_form if form is None else self.form(form)
        return Substance(
            key=self.key,
            name=self.name,
            form=chosen.label,
            molar_mass=chosen.molar_mass if chosen.convert_moles else None,
            bases=chosen.bases,
            iu_bases=chosen.iu_bases,
            valence=chosen.valence,
            product_specific_units=self.product_specific_units,
        )
