"""Hand-built facts for the safety rule tests: no library, no database.

Molar masses are the reference figures (shared/reference/ingredients.csv); zinc
gluconate is a clinic-added salt (C12H22O14Zn, 455.68 g/mol) so that zinc can come
from two different salts.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from formulary.records import (
    Allergy,
    Component,
    Condition,
    Course,
    Lot,
    LotStatus,
    Patient,
    Sex,
)
from formulary.safety import (
    Contribution,
    IngredientFacts,
    IngredientStatus,
    Limit,
    LimitPer,
    SafetyContext,
)
from formulary.units.amount import Amount
from formulary.units.substance import Basis, IUBasis, Substance


def amt(text: str) -> Amount:
    """``"5 mg"`` → Amount(5, "mg") (tests only: the unit must already be canonical)."""
    value, unit = text.split(" ", 1)
    return Amount(Decimal(value), unit)


ZINC = Basis("zinc", "zinc (element)", Decimal("65.38"))
LIDO_BASE = Basis("lidocaine-base", "lidocaine base", Decimal("234.34"))

ZINC_SULFATE_7H2O = Substance(
    "zinc-sulfate",
    "Zinc sulfate",
    "zinc sulfate heptahydrate",
    Decimal("287.54"),
    (ZINC,),
    valence=2,
)
ZINC_GLUCONATE = Substance(
    "zinc-gluconate", "Zinc gluconate", "zinc gluconate", Decimal("455.68"), (ZINC,)
)
ZINC_NO_MASS = Substance("zinc-mystery", "Zinc salt (unlabelled)", "zinc salt", None, (ZINC,))
BIOTIN = Substance("biotin", "Biotin", "biotin", Decimal("244.31"))
LIDO_ANHYDROUS = Substance(
    "lidocaine",
    "Lidocaine hydrochloride",
    "lidocaine hydrochloride anhydrous",
    Decimal("270.80"),
    (LIDO_BASE,),
)
LIDO_MONOHYDRATE = Substance(
    "lidocaine",
    "Lidocaine hydrochloride",
    "lidocaine hydrochloride monohydrate",
    Decimal("288.82"),
    (LIDO_BASE,),
)
LIDO_BASE_FORM = Substance(
    "lidocaine", "Lidocaine hydrochloride", "lidocaine base", Decimal("234.34")
)
VITAMIN_E_ANY = Substance(
    "vitamin-e",
    "Vitamin E",
    "",
    None,
    (),
    (
        IUBasis("RRR-alpha-tocopherol", Decimal("0.67")),
        IUBasis("all-rac-alpha-tocopheryl acetate", Decimal("1")),
    ),
)
RETINOL = Substance(
    "vitamin-a-retinol",
    "Vitamin A - retinol",
    "all-trans-retinol",
    Decimal("286.46"),
    (),
    (IUBasis("all-trans-retinol", Decimal("0.0003")),),
)
BOTOX = Substance("botulinum-toxin-a", "Botulinum toxin type A", product_specific_units=True)

FACTS = {
    f.key: f
    for f in (
        IngredientFacts(
            "zinc-sulfate",
            "Zinc sulfate",
            ZINC_SULFATE_7H2O,
            ("zinc", "Zn", "zinc sulphate"),
            ("trace element", "zinc"),
            16,
        ),
        IngredientFacts(
            "zinc-gluconate", "Zinc gluconate", ZINC_GLUCONATE, (), ("trace element", "zinc"), 160
        ),
        IngredientFacts(
            "zinc-mystery",
            "Zinc salt (unlabelled)",
            ZINC_NO_MASS,
            (),
            ("trace element", "zinc"),
            161,
        ),
        IngredientFacts(
            "biotin",
            "Biotin",
            BIOTIN,
            ("vitamin B7", "vitamin H", "D-biotin"),
            ("vitamin B", "biotin"),
            1,
        ),
        IngredientFacts(
            "lidocaine",
            "Lidocaine hydrochloride",
            LIDO_ANHYDROUS,
            ("lignocaine", "Xylocaine"),
            ("local anaesthetic", "amide anaesthetic"),
            57,
        ),
        IngredientFacts(
            "vitamin-e", "Vitamin E", VITAMIN_E_ANY, ("tocopherol",), ("vitamin E",), 11
        ),
        IngredientFacts(
            "vitamin-a-retinol", "Vitamin A - retinol", RETINOL, ("retinol",), ("vitamin A",), 13
        ),
        IngredientFacts(
            "botulinum-toxin-a",
            "Botulinum toxin type A",
            BOTOX,
            ("Botox",),
            ("botulinum toxin",),
            54,
        ),
        IngredientFacts(
            "cysteine",
            "L-Cysteine hydrochloride",
            Substance(
                "cysteine",
                "L-Cysteine hydrochloride",
                "L-cysteine hydrochloride monohydrate",
                Decimal("175.63"),
            ),
            ("cysteine",),
            ("amino acid", "sulfur amino acid"),
            22,
        ),
        IngredientFacts(
            "glycine",
            "Glycine",
            Substance("glycine", "Glycine", "glycine", Decimal("75.07")),
            ("Gly",),
            ("amino acid",),
            25,
        ),
        IngredientFacts(
            "metabisulfite",
            "Sodium metabisulfite",
            Substance(
                "metabisulfite", "Sodium metabisulfite", "sodium metabisulfite", Decimal("190.11")
            ),
            (),
            ("sulfite", "excipient"),
            90,
        ),
        IngredientFacts(
            "copper-chloride",
            "Copper (cupric chloride)",
            Substance(
                "copper-chloride",
                "Copper (cupric chloride)",
                "cupric chloride dihydrate",
                Decimal("170.48"),
                (Basis("copper", "copper (element)", Decimal("63.55")),),
            ),
            ("copper", "Cu"),
            ("trace element", "copper"),
            17,
        ),
        IngredientFacts(
            "ghk-cu",
            "Copper tripeptide-1 (GHK-Cu)",
            Substance("ghk-cu", "Copper tripeptide-1 (GHK-Cu)", "GHK-Cu", Decimal("401.91")),
            ("prezatide copper",),
            ("peptide", "copper"),
            39,
        ),
        IngredientFacts(
            "cyanocobalamin",
            "Cyanocobalamin",
            Substance(
                "cyanocobalamin", "Cyanocobalamin", "cyanocobalamin (anhydrous)", Decimal("1355.39")
            ),
            ("vitamin B12", "cobalamin"),
            ("vitamin B", "cobalt"),
            8,
        ),
        IngredientFacts(
            "dutasteride",
            "Dutasteride",
            Substance("dutasteride", "Dutasteride", "dutasteride", Decimal("528.54")),
            ("Avodart",),
            ("5-alpha-reductase inhibitor",),
            51,
        ),
        IngredientFacts(
            "finasteride",
            "Finasteride",
            Substance("finasteride", "Finasteride", "finasteride", Decimal("372.55")),
            ("Propecia",),
            ("5-alpha-reductase inhibitor",),
            52,
        ),
        IngredientFacts(
            "minoxidil",
            "Minoxidil",
            Substance("minoxidil", "Minoxidil", "minoxidil base", Decimal("209.25")),
            (),
            ("vasodilator",),
            50,
        ),
        IngredientFacts(
            "buflomedil",
            "Buflomedil hydrochloride",
            Substance(
                "buflomedil",
                "Buflomedil hydrochloride",
                "buflomedil hydrochloride",
                Decimal("343.85"),
            ),
            ("Loftyl",),
            ("vasoactive",),
            53,
            IngredientStatus.WITHDRAWN,
            "EU marketing authorisations suspended in 2012 for serious neurological "
            "and cardiac adverse reactions",
            "https://www.ema.europa.eu/en/medicines/human/referrals/buflomedil",
        ),
        IngredientFacts(
            "saline",
            "Sodium chloride 0.9%",
            Substance("saline", "Sodium chloride 0.9%", "sodium chloride", Decimal("58.44")),
            ("normal saline",),
            ("diluent",),
            58,
        ),
    )
}

SESSION_DAY = date(2026, 11, 24)


def patient(**changes: object) -> Patient:
    """A patient with no allergies, no conditions and a recorded weight of 70 kg."""
    base: dict[str, object] = {
        "id": 1,
        "chart_number": "C-001",
        "family_name": "Doe",
        "given_name": "Alex",
        "date_of_birth": date(1980, 5, 17),
        "sex": Sex.MALE,
        "weight_kg": amt("70 kg"),
    }
    base.update(changes)
    return Patient(**base)  # type: ignore[arg-type]


def product(
    cid: int, name: str = "", volume: str = "1 mL", product_id: int | None = None
) -> Component:
    """A product component drawn by volume."""
    return Component(
        cid,
        cid,
        name or f"Product {cid}",
        amt(volume),
        product_id=product_id if product_id is not None else 100 + cid,
    )


def give(
    cid: int, key: str, amount: str, form: str = "", substance: Substance | None = None
) -> Contribution:
    """Component ``cid`` puts ``amount`` of ingredient ``key`` into the mix."""
    return Contribution(cid, key, amt(amount), form, substance)


def context(**changes: object) -> SafetyContext:
    """A context over the test library; every field can be replaced."""
    base: dict[str, object] = {"patient": patient(), "ingredients": FACTS}
    base.update(changes)
    return SafetyContext(**base)  # type: ignore[arg-type]


def limit(
    subject: str,
    amount: str,
    per: LimitPer = LimitPer.SESSION,
    basis: str = "",
    source: str = "test label",
    target: Substance | None = None,
) -> Limit:
    return Limit(subject, amt(amount), per, source, basis, target=target)


def lot(
    lot_id: int = 1,
    *,
    product_id: int = 101,
    expiry: date = date(2027, 6, 30),
    on_hand: str = "10 mL",
    status: LotStatus = LotStatus.AVAILABLE,
    number: str | None = None,
) -> Lot:
    return Lot(lot_id, product_id, number or f"L{lot_id:04d}", expiry, amt(on_hand), status)


def course(**changes: object) -> Course:
    base: dict[str, object] = {
        "id": 7,
        "patient_id": 1,
        "name": "Autumn course",
        "planned_sessions": 4,
        "interval_days": 14,
        "start_date": date(2026, 10, 1),
    }
    base.update(changes)
    return Course(**base)  # type: ignore[arg-type]


__all__ = [
    "SESSION_DAY",
    "Allergy",
    "Condition",
    "amt",
    "context",
    "course",
    "give",
    "limit",
    "lot",
    "patient",
    "product",
]
