"""The ingredient library's records: plain frozen dataclasses, exact Decimals.

An :class:`Ingredient` is one library entry. Its :class:`Form` records say which salt,
hydrate, ester or free form each molar mass applies to, which element or base the
form can be expressed as (zinc in zinc sulfate, lidocaine base in lidocaine HCl), and
how many milligrams of that form make one International Unit, where an IU exists.
:meth:`Ingredient.substance` hands those facts to the units engine.
"""

from __future__ import annotations

from collections.abc import Sequence
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


#: Kinds of source, in the order a reviewer trusts them. Every source text in the data
#: file starts with its kind and a colon: "label: Hospira lidocaine injection label …".
SOURCE_KINDS: dict[str, str] = {
    "label": "product label",  # US label / prescribing information, national label
    "SmPC": "summary of product characteristics",  # EU SmPC, German Fachinformation
    "monograph": "pharmacopoeia monograph",
    "paper": "peer-reviewed paper",  # journal article, review, book chapter
    "report": "official or expert-body report",  # IOM DRI, IVACG, FDA guidance, EMA referral
    "registry": "regulatory or trial registry entry",  # openFDA NDC listing, ClinicalTrials.gov
    "manufacturer": "manufacturer's product page",
    "secondary": "secondary web page",  # shops, clinic pages, copies, encyclopedias
}
#: What a limit (a published maximum) must cite: a label, an SmPC, a monograph or a paper.
LIMIT_SOURCE_KINDS: frozenset[str] = frozenset({"label", "SmPC", "monograph", "paper"})
#: The mark of an entry whose facts rest only on secondary web pages.
SECONDARY_ONLY = "secondary sources only"


@dataclass(frozen=True, slots=True)
class Source:
    """One cited source: its kind (a key of :data:`SOURCE_KINDS`) and its text."""

    kind: str
    text: str

    @property
    def primary(self) -> bool:
        """True unless the source is a secondary web page."""
        return self.kind != "secondary"

    @property
    def kind_label(self) -> str:
        """The kind for people ("product label", "secondary web page")."""
        return SOURCE_KINDS.get(self.kind, "source of unstated kind")


def parse_source(text: str) -> Source:
    """A source text ("label: …") as its kind and text; kind "" when it states none.

    A clinic's own sources are free text: they parse with kind "".
    """
    head, sep, rest = text.partition(":")
    if sep and head.strip() in SOURCE_KINDS:
        return Source(head.strip(), rest.strip())
    return Source("", text.strip())


def secondary_only(sources: Sequence[str]) -> bool:
    """True when ``sources`` are all secondary web pages (a library entry's mark)."""
    return bool(sources) and all(parse_source(text).kind == "secondary" for text in sources)


def sources_summary(sources: Sequence[str]) -> str:
    """The kinds of ``sources`` in one line, for a table: "label, SmPC, paper".

    Entries on secondary web pages only say so ("secondary web pages only"); a
    clinic's own sources, which state no kind, are "clinic's sources".
    """
    if not sources:
        return ""
    if secondary_only(sources):
        return "secondary web pages only"
    kinds = [parse_source(text).kind for text in sources]
    order = list(SOURCE_KINDS)
    named = sorted({k for k in kinds if k}, key=order.index)
    if not named:
        return "clinic's sources"
    return ", ".join(named)


@dataclass(frozen=True, slots=True)
class ActivityBasis:
    """Mass of an activity-adjusted basis per International Unit of one form.

    Vitamin E: nutrition references (IOM 2000) state mg of alpha-tocopherol, 0.67 mg per
    IU of RRR forms and 0.45 mg per IU of all-rac forms. That is not a mass of the
    compound, so it is used only when asked for by name, never in place of the USP mass.
    """

    key: str  # e.g. "alpha-tocopherol-iom"
    label: str  # e.g. "mg alpha-tocopherol (IOM 2000)"
    mass_per_iu_mg: Decimal
    source: str
    note: str = ""


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
    #: Other names of this very form ("vitamin D2" for ergocalciferol): typing one as
    #: the ingredient's name picks the entry *and* this form.
    synonyms: tuple[str, ...] = ()
    #: Activity-adjusted bases per IU (vitamin E: mg alpha-tocopherol, IOM 2000).
    activity_bases: tuple[ActivityBasis, ...] = ()

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
    source: str  # "<kind>: <text>", see SOURCE_KINDS
    note: str = ""
    condition: str = ""  # when the figure applies, e.g. "without adrenaline"
    region: str = ""  # body region it is limited to, e.g. "head and neck"
    within_hours: Decimal | None = None  # time window the amount may be given in

    @property
    def cited(self) -> Source:
        """The figure's source with its kind."""
        return parse_source(self.source)


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
    name: str = ""  # the reference row's name, when the entry is named otherwise


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
    sources: tuple[str, ...]  # each "<kind>: <text>", primary sources first
    reference: Reference
    sourcing: str = ""  # SECONDARY_ONLY when no source is primary

    @property
    def cited(self) -> tuple[Source, ...]:
        """The entry's sources with their kinds."""
        return tuple(parse_source(text) for text in self.sources)

    @property
    def secondary_only(self) -> bool:
        """True when the entry's facts rest only on secondary web pages."""
        return not any(source.primary for source in self.cited)

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
            if wanted in (normalize(form.key), normalize(form.label)) or any(
                wanted == normalize(name) for name in form.synonyms
            ):
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
