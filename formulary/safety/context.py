"""The plain input of the safety rules.

Everything a rule looks at is in a :class:`SafetyContext`: the patient record, the
mix broken down into what each component contributes of each ingredient (with the
ingredient's substance facts, synonyms, classes and status), the components, the
lots drawn and how much, the course and the earlier sessions in it, the session date,
the zone volumes and the limits table. The Store builds one from its rows; tests
build them by hand. No rule reads anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from formulary.records import Component, Course, Lot, Patient, Technique, ZoneVolume
from formulary.safety.findings import Finding
from formulary.safety.terms import term_matches, words
from formulary.units.amount import Amount
from formulary.units.substance import Substance


class IngredientStatus(StrEnum):
    """Whether an ingredient may still be used without a second thought."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class IngredientCaution:
    """A published caution on an ingredient (the library's cautions), e.g. pregnancy."""

    code: str
    text: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class IngredientFacts:
    """What the rules need to know about one library ingredient.

    ``classes`` are the groups an allergy or a contraindication may name instead of
    the ingredient: its category (``"amino acid"``) and tags (``"sulfite"``,
    ``"copper"``, ``"5-alpha-reductase inhibitor"``).
    """

    key: str
    name: str
    substance: Substance | None = None
    synonyms: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    ingredient_id: int | None = None
    status: IngredientStatus = IngredientStatus.ACTIVE
    status_reason: str = ""
    status_source: str = ""
    forms: tuple[Substance, ...] = ()  # the facts of every form, the default one included
    cautions: tuple[IngredientCaution, ...] = ()
    form_keys: tuple[tuple[str, str], ...] = ()  # (library form key, form label)

    def substance_for(self, form: str) -> Substance | None:
        """The facts of the form ``form`` names; the default facts for ``""``.

        ``form`` is the form's label ("zinc sulfate heptahydrate"), its library key
        ("heptahydrate", "sodium-salt"), or words that pick out exactly one form's
        label; case and punctuation do not matter. None when it names no form or
        several.
        """
        wanted = words(form)
        if not wanted:
            return self.substance
        candidates = [c for c in (self.substance, *self.forms) if c is not None]
        for candidate in candidates:
            if words(candidate.form) == wanted:
                return candidate
        for key, label in self.form_keys:
            if words(key) == wanted:
                return next((c for c in candidates if words(c.form) == words(label)), None)
        partial = {c.form: c for c in candidates if term_matches(form, c.form)}
        return next(iter(partial.values())) if len(partial) == 1 else None

    def cautions_of(self, code: str) -> tuple[IngredientCaution, ...]:
        """This ingredient's cautions of one kind."""
        return tuple(c for c in self.cautions if c.code == code)

    def terms(self) -> tuple[str, ...]:
        """Every name this ingredient answers to (key, name, synonyms, substance)."""
        names = [self.key, self.name, *self.synonyms]
        if self.substance is not None:
            names.extend((self.substance.name, self.substance.form))
        return tuple(n for n in names if n)


@dataclass(frozen=True, slots=True)
class Contribution:
    """How much of one ingredient one component puts into the mix.

    ``amount`` is a mass, an amount in IU, product units or moles. ``substance`` is
    the ingredient's facts for the form the product label states (the library's
    ``Ingredient.substance(form)``); None means the ingredient's default facts.
    ``form`` names a basis or IU form the amount is stated in when it is not the
    substance's own form (``"zinc (element)"`` for a label in elemental zinc);
    ``""`` means the substance's own form. A product carrying three ingredients gives
    three contributions with the same ``component_id``.
    """

    component_id: int
    ingredient_key: str
    amount: Amount
    form: str = ""
    substance: Substance | None = None


class LimitPer(StrEnum):
    """What a limit is counted over."""

    SESSION = "session"  # the amount given in one session
    KG = "kg"  # per kilogram of the patient's recorded weight, in one session
    COURSE = "course"  # the total given over all the sessions of a course
    WHEAL = "wheal"  # the amount in one injection point (wheal) of a session


@dataclass(frozen=True, slots=True)
class Limit:
    """A maximum amount of one ingredient or basis, with where the figure comes from.

    ``subject`` is an ingredient key (the limit is on that ingredient, stated in
    ``basis``: one of its forms, a basis label, or ``""`` for its default form) or
    the key of a :class:`~formulary.units.substance.Basis` (an element or a base)
    shared by several ingredients: zinc from zinc sulfate and from zinc gluconate
    both count against a limit on ``"zinc"``. ``per`` says what the maximum is counted
    over; with :attr:`LimitPer.KG` the ``amount`` (e.g. 4.5 mg) is per kilogram of the
    patient's recorded weight. Where a per-kilogram and an absolute figure both
    exist they are two limits and the stricter one decides. ``target`` is the
    substance facts of ``basis`` when it is another form of the ingredient than the
    contributions' (the library resolves it); ``source`` says where the figure comes
    from (a label, or "clinic" for a figure the clinic set).
    """

    subject: str
    amount: Amount
    per: LimitPer
    source: str
    basis: str = ""
    note: str = ""
    target: Substance | None = None

    @property
    def identity(self) -> tuple[str, str, str]:
        """What a clinic figure replaces: the same subject, counting and basis."""
        return (self.subject.casefold(), self.per.value, " ".join(self.basis.split()).casefold())


@dataclass(frozen=True, slots=True)
class LotDraw:
    """A lot chosen for one component in a session and the amount drawn from it."""

    component_id: int
    lot: Lot
    drawn: Amount | None = None


@dataclass(frozen=True, slots=True)
class PreviousSession:
    """An earlier session of the same course: when, and what was administered."""

    performed_on: date
    doses: tuple[Contribution, ...] = ()


def _frozen_mapping(items: Mapping[str, IngredientFacts]) -> Mapping[str, IngredientFacts]:
    return MappingProxyType(dict(items))


@dataclass(frozen=True, slots=True)
class SafetyContext:
    """Everything the safety rules look at for one formulation or session.

    ``contributions`` describe the whole prepared mix (``final_volume``). For a
    session, ``total_volume`` is the volume actually given; when both volumes are
    known the amounts administered are the mix amounts scaled by
    ``total_volume / final_volume``. A formulation check leaves the session fields
    empty and assumes the whole mix is given.
    """

    patient: Patient
    components: tuple[Component, ...] = ()
    ingredients: Mapping[str, IngredientFacts] = field(default_factory=lambda: MappingProxyType({}))
    contributions: tuple[Contribution, ...] = ()
    limits: tuple[Limit, ...] = ()
    final_volume: Amount | None = None
    session_date: date | None = None
    total_volume: Amount | None = None
    zones: tuple[ZoneVolume, ...] = ()
    lots: tuple[LotDraw, ...] = ()
    course: Course | None = None
    previous_sessions: tuple[PreviousSession, ...] = ()
    technique: Technique | None = None
    problems: tuple[Finding, ...] = ()  # found while building the context (see build.py)

    def __post_init__(self) -> None:
        # A read-only copy, so that a context cannot change under the rules.
        object.__setattr__(self, "ingredients", _frozen_mapping(self.ingredients))

    def ingredient(self, key: str) -> IngredientFacts | None:
        """The facts of ingredient ``key``, or None when the library lacks it."""
        return self.ingredients.get(key)

    def component(self, component_id: int) -> Component | None:
        """The component with ``component_id``, or None."""
        for component in self.components:
            if component.id == component_id:
                return component
        return None
