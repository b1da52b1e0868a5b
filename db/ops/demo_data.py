"""The demo clinic's cast and stock: plain data, no database.

A small hair-mesotherapy practice: a medical director, a second physician and a
nurse; the ampoules such a practice keeps (real library ingredients at strengths
printed on real labels); twelve patients with the diagnoses, grades, allergies and
conditions a practitioner sees every week. Names, chart numbers, manufacturers and
lot numbers are invented. Nobody is pregnant: the demo shows ordinary care.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from formulary.records import GradeScale, Role, ScalpZone, Sex, Technique

if TYPE_CHECKING:
    from db.auth_ahead import Step

#: Printed with the demo logins: these passwords are public, the database is a demo.
DEMO_PASSWORD_NOTE = (
    "demo passwords are public; never put real patients in this database"  # noqa: S105
)


@dataclass(frozen=True, slots=True)
class DemoUser:
    """An account of the demo clinic."""

    username: str
    full_name: str
    role: Role
    password: str


USERS = (
    DemoUser("admin", "Dr. Elena Marsh", Role.ADMIN, "marsh-demo-2026"),
    DemoUser("dr.okafor", "Dr. Samuel Okafor", Role.PRACTITIONER, "okafor-demo-2026"),
    DemoUser("nurse.lind", "Maja Lind, RN", Role.ASSISTANT, "lind-demo-2026"),
)

#: Who signs the demo's sessions (and witnesses its consents), each in one signing run,
#: in the order of their first signature.
SIGNERS = ("dr.okafor", "admin")


def password_steps() -> list[Step]:
    """The argon2 work of building the demo, in the order the build asks for it.

    Each account's password is hashed when it is created (the first account first);
    every account but the first then signs in, and each of :data:`SIGNERS` checks
    their password in full to begin a signing run (db.auth_ahead starts this work
    ahead of the build; anything this list gets wrong is simply done when asked).
    """
    others = USERS[1:]
    password = {u.username: u.password for u in USERS}
    return [
        *(("hash", u.password) for u in USERS),
        *(("check", u.password) for u in others),
        *(("check", password[name]) for name in SIGNERS),
    ]


@dataclass(frozen=True, slots=True)
class DemoStrength:
    """One ingredient of a product, as its label states it."""

    ingredient_key: str
    value: str
    unit: str
    form: str


@dataclass(frozen=True, slots=True)
class DemoLot:
    """A received lot: number, expiry in days from today, units received."""

    number: str
    expires_in_days: int
    units: int
    quarantine_reason: str = ""


@dataclass(frozen=True, slots=True)
class DemoProduct:
    """A stock product with its lots (oldest first; the first is used up first)."""

    key: str
    name: str
    manufacturer: str
    volume_ml: str
    strengths: tuple[DemoStrength, ...]
    lots: tuple[DemoLot, ...]


PRODUCTS = (
    DemoProduct(
        "dexpanthenol", "Dexpanthenol 250 mg/mL ampoule 2 mL", "Aubrac Pharma", "2",
        (DemoStrength("dexpanthenol", "250", "mg/mL", "dexpanthenol"),),
        # The old lot expires within the month: the stock screen flags it.
        (DemoLot("DXP24-0815", 21, 25), DemoLot("DXP25-0307", 540, 30)),
    ),
    DemoProduct(
        "pyridoxine", "Pyridoxine HCl 100 mg/mL ampoule 1 mL", "Nordvik Labs", "1",
        (DemoStrength("pyridoxine", "100", "mg/mL", "hydrochloride"),),
        (DemoLot("PY2405A", 160, 25), DemoLot("PY2502C", 610, 25)),
    ),
    DemoProduct(
        "biotin", "Biotin 5 mg/mL ampoule 1 mL", "Aubrac Pharma", "1",
        (DemoStrength("biotin", "5", "mg/mL", "biotin"),),
        (DemoLot("BT-24-1120", 190, 25), DemoLot("BT-25-0418", 700, 25)),
    ),
    DemoProduct(
        "dutasteride", "Dutasteride 0.01 % w/v 1 mL", "Meridian Compounding", "1",
        (DemoStrength("dutasteride", "0.01", "% w/v", "dutasteride"),),
        (DemoLot("DUT250311", 120, 30), DemoLot("DUT250902", 300, 30)),
    ),
    DemoProduct(
        "minoxidil", "Minoxidil 0.5 % w/v 2 mL", "Meridian Compounding", "2",
        (DemoStrength("minoxidil", "0.5", "% w/v", "base"),),
        (
            DemoLot("MNX-0425-B", 150, 20),
            DemoLot("MNX-0825-A", 420, 20),
            # Visible particles reported by the supplier: never drawn from.
            DemoLot("MNX-0925-C", 450, 20, "supplier notice: visible particles in some ampoules"),
        ),
    ),
    DemoProduct(
        "lidocaine", "Lidocaine HCl 2 % 5 mL", "Nordvik Labs", "5",
        (DemoStrength("lidocaine", "2", "% w/v", "anhydrous"),),
        (DemoLot("LID-3391", 260, 10), DemoLot("LID-3520", 650, 10)),
    ),
    DemoProduct(
        "hyaluronate", "Sodium hyaluronate 10 mg/mL (non-crosslinked) 2 mL", "Helix Aesthetics",
        "2",
        (DemoStrength("sodium-hyaluronate", "10", "mg/mL", "sodium-salt"),),
        (DemoLot("HA24K07", 200, 15), DemoLot("HA25C19", 560, 15)),
    ),
    DemoProduct(
        "saline", "Sodium chloride 0.9 % 10 mL", "Nordvik Labs", "10",
        (DemoStrength("sodium-chloride", "9", "mg/mL", "nacl"),),
        (DemoLot("NS240912", 330, 20), DemoLot("NS250603", 720, 20)),
    ),
    DemoProduct(
        # A multi-ingredient vial: a recall of its lot reaches every cocktail it went into.
        "bcomplex", "Hair B-complex 5 mL vial", "Helix Aesthetics", "5",
        (
            DemoStrength("dexpanthenol", "50", "mg/mL", "dexpanthenol"),
            DemoStrength("pyridoxine", "10", "mg/mL", "hydrochloride"),
            DemoStrength("biotin", "0.5", "mg/mL", "biotin"),
            DemoStrength("niacinamide", "20", "mg/mL", "nicotinamide"),
        ),
        (DemoLot("BCX-1187", 180, 12), DemoLot("BCX-1242", 590, 12)),
    ),
)


@dataclass(frozen=True, slots=True)
class DemoRecipe:
    """A cocktail: (product key, mL per session) in the order it is drawn up."""

    name: str
    components: tuple[tuple[str, str], ...]


RECIPES = {
    "dut": DemoRecipe(
        "Dutasteride cocktail",
        (("dutasteride", "1"), ("dexpanthenol", "0.5"), ("pyridoxine", "0.25"), ("biotin", "0.25")),
    ),
    "dut_lido": DemoRecipe(
        "Dutasteride cocktail with lidocaine",
        (
            ("dutasteride", "1"),
            ("dexpanthenol", "1"),
            ("pyridoxine", "0.4"),
            ("biotin", "0.4"),
            ("lidocaine", "0.2"),
        ),
    ),
    "mnx_b": DemoRecipe("Minoxidil and B-complex", (("minoxidil", "1"), ("bcomplex", "1"))),
    "mnx_f": DemoRecipe(
        "Minoxidil cocktail",
        (("minoxidil", "1.5"), ("biotin", "0.25"), ("dexpanthenol", "0.25")),
    ),
    "te": DemoRecipe(
        "Revitalising cocktail",
        (("bcomplex", "1"), ("hyaluronate", "1"), ("saline", "0.5")),
    ),
}

#: What a second version changes (dose step-up after the first reassessment).
STEP_UP = {
    "dut": DemoRecipe(
        "Dutasteride cocktail",
        (
            ("dutasteride", "1.5"),
            ("dexpanthenol", "0.5"),
            ("pyridoxine", "0.25"),
            ("biotin", "0.25"),
        ),
    ),
    "mnx_f": DemoRecipe(
        "Minoxidil cocktail",
        (("minoxidil", "2"), ("biotin", "0.25"), ("dexpanthenol", "0.25")),
    ),
}


@dataclass(frozen=True, slots=True)
class DemoPatient:
    """A patient of the demo clinic and the care planned for them."""

    chart: str
    family: str
    given: str
    born: date
    sex: Sex
    diagnosis: str
    scale: GradeScale | None
    grade: str
    weight_kg: str
    allergies: tuple[tuple[str, str | None, str], ...]  # substance, ingredient key, reaction
    conditions: tuple[tuple[str, str], ...]
    recipe: str
    sessions: int  # signed so far
    planned: int
    interval_days: int
    technique: Technique
    zones: tuple[tuple[ScalpZone, int], ...]  # zone and its share of the volume
    step_up_after: int = 0  # sessions on version 1 before version 2 (0: never)


_MALE_FRONT = (
    (ScalpZone.FRONTAL, 3),
    (ScalpZone.LEFT_TEMPORAL, 1),
    (ScalpZone.RIGHT_TEMPORAL, 1),
    (ScalpZone.MID_SCALP, 2),
    (ScalpZone.VERTEX, 3),
)
_MALE_VERTEX = ((ScalpZone.MID_SCALP, 2), (ScalpZone.VERTEX, 3))
_MALE_EARLY = ((ScalpZone.FRONTAL, 2), (ScalpZone.LEFT_TEMPORAL, 1), (ScalpZone.RIGHT_TEMPORAL, 1))
_FEMALE = ((ScalpZone.FRONTAL, 1), (ScalpZone.MID_SCALP, 3), (ScalpZone.VERTEX, 2),
           (ScalpZone.PARIETAL, 2))
_DIFFUSE = (
    (ScalpZone.FRONTAL, 1),
    (ScalpZone.MID_SCALP, 1),
    (ScalpZone.VERTEX, 1),
    (ScalpZone.PARIETAL, 1),
    (ScalpZone.OCCIPITAL, 1),
)

_AGA_M = "androgenetic alopecia (male pattern)"
_AGA_F = "androgenetic alopecia (female pattern hair loss)"
_PROCAINE = ("procaine", "procaine", "urticaria after a dental block")
_COBALT = ("cobalt", None, "contact dermatitis (patch test positive)")

PATIENTS = (
    DemoPatient("MC-1001", "Haddad", "Karim", date(1988, 3, 14), Sex.MALE, _AGA_M,
                GradeScale.NORWOOD, "III vertex", "78", (), (), "dut", 8, 8, 14,
                Technique.NAPPAGE, _MALE_VERTEX, step_up_after=4),
    DemoPatient("MC-1002", "Brennan", "Thomas", date(1979, 11, 2), Sex.MALE, _AGA_M,
                GradeScale.NORWOOD, "IV", "84", (_PROCAINE,), (), "dut", 8, 8, 14,
                Technique.NAPPAGE, _MALE_FRONT),
    DemoPatient("MC-1003", "Fischer", "Anna", date(1984, 2, 11), Sex.FEMALE, _AGA_F,
                GradeScale.LUDWIG, "II", "61", (), (), "mnx_f", 7, 8, 14,
                Technique.PAPULE, _FEMALE, step_up_after=4),
    DemoPatient("MC-1004", "Lindqvist", "Erik", date(1971, 1, 30), Sex.MALE, _AGA_M,
                GradeScale.NORWOOD, "VI", "91", (),
                (("hypertension", "treated with amlodipine 5 mg daily"),), "dut_lido", 6, 8, 14,
                Technique.NAPPAGE, _MALE_FRONT),
    DemoPatient("MC-1005", "Kowalska", "Marta", date(1976, 10, 23), Sex.FEMALE, _AGA_F,
                GradeScale.LUDWIG, "III", "67", (),
                (("hypothyroidism", "on levothyroxine, TSH in range"),), "mnx_f", 6, 8, 14,
                Technique.NAPPAGE, _FEMALE),
    DemoPatient("MC-1006", "Moreau", "Julien", date(1985, 9, 9), Sex.MALE, _AGA_M,
                GradeScale.NORWOOD, "V", "80", (_COBALT,), (), "dut", 5, 8, 14,
                Technique.NAPPAGE, _MALE_FRONT),
    DemoPatient("MC-1007", "Santos", "Beatriz", date(1993, 5, 30), Sex.FEMALE,
                "telogen effluvium (postpartum, 7 months; not breastfeeding)", None, "", "58",
                (), (), "te", 5, 6, 21, Technique.POINT_BY_POINT, _DIFFUSE),
    DemoPatient("MC-1008", "Nakamura", "Kenji", date(1992, 6, 21), Sex.MALE, _AGA_M,
                GradeScale.NORWOOD, "II", "70", (), (), "mnx_b", 4, 8, 14,
                Technique.NAPPAGE, _MALE_EARLY),
    DemoPatient("MC-1009", "Dubois", "Camille", date(1990, 7, 8), Sex.FEMALE, _AGA_F,
                GradeScale.LUDWIG, "I", "55", (),
                (("iron deficiency", "ferritin 18 mcg/L, on oral iron"),), "mnx_f", 4, 8, 14,
                Technique.PAPULE, _FEMALE),
    DemoPatient("MC-1010", "Rossi", "Marco", date(1982, 12, 5), Sex.MALE,
                "telogen effluvium (post-febrile)", None, "", "82", (_PROCAINE,), (), "te",
                3, 6, 21, Technique.POINT_BY_POINT, _DIFFUSE),
    DemoPatient("MC-1011", "Ahmed", "Leila", date(1987, 8, 12), Sex.FEMALE, _AGA_F,
                GradeScale.LUDWIG, "II", "63", (_COBALT,), (), "mnx_f", 2, 8, 14,
                Technique.NAPPAGE, _FEMALE),
    DemoPatient("MC-1012", "Okoye", "Daniel", date(1995, 4, 17), Sex.MALE, _AGA_M,
                GradeScale.NORWOOD, "III", "75", (), (), "mnx_b", 2, 8, 14,
                Technique.NAPPAGE, _MALE_EARLY),
)

POST_CARE = (
    "No washing, hair products or hats for 12 h; avoid sun, sauna, swimming and hard "
    "exercise for 24 h; paracetamol if tender."
)

ANAESTHESIA = (
    "none",
    "none",
    "topical lidocaine/prilocaine 2.5 %/2.5 % cream, 30 min before",
    "cold air during injection",
)

NOTES = (
    "Tolerated well.",
    "Tolerated well; scalp clean, no signs of infection.",
    "Patient reports less shedding since the last visit.",
    "Slight tenderness over the vertex at the end; settled within minutes.",
    "Photographs taken in the standard positions.",
    "Reviewed home care; continues topical minoxidil at night.",
)

ADVERSE = (
    ("pinpoint bleeding", "mild", "stopped with gentle pressure"),
    ("erythema", "mild", "resolved within 24 h"),
    ("headache", "mild", "settled with paracetamol the same evening"),
    ("bruising", "mild", "small bruise at the right temple, faded in 4 days"),
)
