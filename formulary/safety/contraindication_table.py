"""Conditions recorded on a patient and what they mean for a mesotherapy session.

This is data, not logic: the vocabulary of condition codes the patient form offers
(:data:`CONDITIONS`) and, for each code, the rules (:data:`RULES`) that either
concern the procedure itself (any intradermal injection of the scalp) or the
ingredients a rule names (by name, synonym or class, matched as whole words).

Every rule carries its source and evidence grade from the project's reference facts
(``protocol-facts.md`` section 9 and ``ingredients.csv``): [P] peer-reviewed, [L] a
label, [C] clinic pages only. Most scalp-mesotherapy contraindications are
clinic-level evidence, so most rules warn; a rule blocks where a label or a clear
teratogenic risk stands behind it, or where injecting is plainly unsafe (an active
infection at the site).
"""

from __future__ import annotations

from dataclasses import dataclass

from formulary.safety.findings import Severity


@dataclass(frozen=True, slots=True)
class ConditionCode:
    """One entry of the condition vocabulary the patient form offers."""

    code: str
    label: str
    description: str


@dataclass(frozen=True, slots=True)
class ContraindicationRule:
    """What one recorded condition means for the procedure or some ingredients.

    An empty ``ingredients`` means the rule concerns the procedure itself.
    """

    condition: str
    severity: Severity
    reason: str
    remedy: str
    source: str
    ingredients: tuple[str, ...] = ()

    @property
    def concerns_procedure(self) -> bool:
        """True when the rule is about injecting at all, not about an ingredient."""
        return not self.ingredients


CONDITIONS: tuple[ConditionCode, ...] = (
    ConditionCode("pregnancy", "Pregnancy", "Currently pregnant."),
    ConditionCode("breastfeeding", "Breastfeeding", "Currently breastfeeding."),
    ConditionCode(
        "planning_pregnancy",
        "Planning pregnancy",
        "The patient (or, for a male patient, his partner) plans a pregnancy.",
    ),
    ConditionCode(
        "anticoagulant_therapy",
        "Anticoagulant or antiplatelet therapy",
        "Takes an anticoagulant or antiplatelet medicine.",
    ),
    ConditionCode(
        "coagulation_disorder",
        "Coagulation or platelet disorder",
        "A bleeding, clotting or platelet disorder.",
    ),
    ConditionCode(
        "active_scalp_infection",
        "Active scalp infection or inflammation",
        "Infection, inflammation or herpes at the injection site.",
    ),
    ConditionCode(
        "scalp_skin_lesions",
        "Skin lesions at the site",
        "Other skin lesions on the scalp to be treated.",
    ),
    ConditionCode(
        "autoimmune_disease",
        "Autoimmune disease",
        "An immunological (autoimmune) disease.",
    ),
    ConditionCode(
        "immunosuppression", "Immunosuppression", "Immunosuppressed by disease or drugs."
    ),
    ConditionCode("diabetes", "Diabetes", "Diabetes mellitus."),
    ConditionCode("cancer_treatment", "Cancer or chemotherapy", "Active cancer or chemotherapy."),
    ConditionCode("severe_heart_disease", "Severe heart disease", "Severe heart disease."),
    ConditionCode("severe_kidney_disease", "Severe kidney disease", "Severe kidney disease."),
    ConditionCode("severe_liver_disease", "Severe liver disease", "Severe liver disease."),
    ConditionCode("keloid_tendency", "Keloid tendency", "Tends to form keloids or raised scars."),
    ConditionCode("wilsons_disease", "Wilson's disease", "Wilson's disease (copper storage)."),
    ConditionCode(
        "lebers_disease", "Leber's disease", "Leber's hereditary optic neuropathy (early)."
    ),
)

_FIVE_ARI = ("dutasteride", "finasteride", "5-alpha-reductase inhibitor")
_PROCEDURE_PAUSE = "Postpone the session or record why it is safe to proceed."

RULES: tuple[ContraindicationRule, ...] = (
    ContraindicationRule(
        "pregnancy",
        Severity.BLOCK,
        "5-alpha-reductase inhibitors can harm a male foetus (finasteride is pregnancy "
        "category X; dutasteride has a 4-5 week half-life)",
        "Remove the 5-alpha-reductase inhibitor from the mix.",
        "[P/registry] NCT01655108 exclusion; [C] ferbosmedic.com; finasteride label "
        "(fact-archive.com); ingredients.csv",
        _FIVE_ARI,
    ),
    ContraindicationRule(
        "pregnancy",
        Severity.WARNING,
        "pregnancy is an exclusion in trials and clinic leaflets",
        _PROCEDURE_PAUSE,
        "[P/registry] NCT01655108; [C] Nadia Medical Centre; [C] vnnow.net",
    ),
    ContraindicationRule(
        "breastfeeding",
        Severity.BLOCK,
        "5-alpha-reductase inhibitors must not reach a breastfed infant",
        "Remove the 5-alpha-reductase inhibitor from the mix.",
        "[P/registry] NCT01655108 exclusion; [C] Nadia Medical Centre; [C] vnnow.net "
        "(wait 3-6 months after weaning)",
        _FIVE_ARI,
    ),
    ContraindicationRule(
        "breastfeeding",
        Severity.WARNING,
        "breastfeeding is an exclusion in trials and clinic leaflets",
        _PROCEDURE_PAUSE,
        "[P/registry] NCT01655108; [C] Nadia Medical Centre; [C] vnnow.net",
    ),
    ContraindicationRule(
        "planning_pregnancy",
        Severity.BLOCK,
        "conception should be avoided for about 6 months after dutasteride (half-life "
        "4-5 weeks); possible effects on semen were reported in men",
        "Remove the 5-alpha-reductase inhibitor, or record the counselling given.",
        "[C] ferbosmedic.com; [C] omeedahadiatmd.com; [P] Sobhy, Our Dermatol Online 2013",
        _FIVE_ARI,
    ),
    ContraindicationRule(
        "anticoagulant_therapy",
        Severity.WARNING,
        "anticoagulants raise the risk of bleeding and bruising at the injection points",
        "Check the medication and INR, press the points longer, or postpone.",
        "[C] healthfan.biz; [C] drecesurgun.com; [C] drserangocer.com",
    ),
    ContraindicationRule(
        "coagulation_disorder",
        Severity.WARNING,
        "a coagulation or platelet disorder raises the risk of bleeding and haematoma",
        "Confirm with the treating physician before injecting, or postpone.",
        "[C] healthfan.biz; [C] drecesurgun.com; [C] drserangocer.com",
    ),
    ContraindicationRule(
        "active_scalp_infection",
        Severity.BLOCK,
        "injecting through an active infection, inflammation or herpes spreads it",
        "Treat the infection first and reschedule the session.",
        "[C] ferbosmedic.com; [C] drecesurgun.com; [C] healthfan.biz",
    ),
    ContraindicationRule(
        "scalp_skin_lesions",
        Severity.WARNING,
        "skin lesions at the site are listed as a contraindication",
        "Avoid the lesions or postpone until they have healed.",
        "[C] ferbosmedic.com; [C] drecesurgun.com; [C] healthfan.biz",
    ),
    ContraindicationRule(
        "autoimmune_disease",
        Severity.WARNING,
        "autoimmune disease is listed as a contraindication by clinics",
        "Confirm with the treating physician and record it.",
        "[C] drserkanaygin.com; [C] drecesurgun.com",
    ),
    ContraindicationRule(
        "immunosuppression",
        Severity.WARNING,
        "immunosuppression raises the risk of infection at the injection points",
        "Confirm with the treating physician and record it.",
        "[C] drserkanaygin.com; [C] drecesurgun.com",
    ),
    ContraindicationRule(
        "diabetes",
        Severity.WARNING,
        "diabetes is listed as a contraindication by some clinics",
        "Check glycaemic control and healing, and record it.",
        "[C] drserkanaygin.com; [C] drserangocer.com",
    ),
    ContraindicationRule(
        "cancer_treatment",
        Severity.WARNING,
        "cancer or chemotherapy is listed as a contraindication",
        "Confirm with the oncologist before injecting.",
        "[C] drecesurgun.com; [C] healthfan.biz",
    ),
    ContraindicationRule(
        "severe_heart_disease",
        Severity.WARNING,
        "severe heart disease is listed as a contraindication",
        "Confirm with the treating physician before injecting.",
        "[C] drecesurgun.com; [C] healthfan.biz",
    ),
    ContraindicationRule(
        "severe_kidney_disease",
        Severity.WARNING,
        "severe kidney disease is listed as a contraindication",
        "Confirm with the treating physician before injecting.",
        "[C] drecesurgun.com; [C] healthfan.biz",
    ),
    ContraindicationRule(
        "severe_liver_disease",
        Severity.WARNING,
        "severe liver disease is listed as a contraindication",
        "Confirm with the treating physician before injecting.",
        "[C] drecesurgun.com; [C] healthfan.biz",
    ),
    ContraindicationRule(
        "keloid_tendency",
        Severity.WARNING,
        "scars and keloids are reported after needling (not verified as a formal contraindication)",
        "Discuss the scarring risk with the patient and record it.",
        "[C] agf39.com (not verified)",
    ),
    ContraindicationRule(
        "wilsons_disease",
        Severity.BLOCK,
        "copper is contraindicated in Wilson's disease",
        "Remove every copper-containing ingredient from the mix.",
        "[L] copper (cupric chloride) label",
        ("copper",),
    ),
    ContraindicationRule(
        "lebers_disease",
        Severity.BLOCK,
        "cyanocobalamin is contraindicated in early Leber's disease",
        "Remove cyanocobalamin from the mix.",
        "[L] cyanocobalamin label",
        ("cyanocobalamin",),
    ),
)


@dataclass(frozen=True, slots=True)
class CautionRule:
    """A recorded condition that makes an ingredient's published caution apply.

    The library carries cautions per ingredient (minoxidil: pregnancy was a trial
    exclusion). Where the table above has no stronger rule for that ingredient, the
    caution is shown as a finding of this severity, citing the caution's own source.
    """

    condition: str
    caution_code: str
    severity: Severity
    remedy: str


CAUTION_RULES: tuple[CautionRule, ...] = tuple(
    CautionRule(
        code,
        "pregnancy",
        Severity.WARNING,
        "Check the caution with the patient's situation; remove the ingredient if in doubt.",
    )
    for code in ("pregnancy", "breastfeeding", "planning_pregnancy")
)

_CODES = frozenset(c.code for c in CONDITIONS)


def normalise_code(code: str) -> str:
    """A condition code as the table spells it: lower case, words joined by ``_``."""
    # "Wilson's disease" and "wilsons-disease" are the same code.
    bare = code.casefold().replace("'", "").replace("\u2019", "")
    cleaned = "".join(ch if ch.isalnum() else " " for ch in bare)
    return "_".join(cleaned.split())


def is_known_condition(code: str) -> bool:
    """True when ``code`` is in the vocabulary."""
    return normalise_code(code) in _CODES


def caution_rules_for(code: str) -> tuple[CautionRule, ...]:
    """The caution rules that apply to a recorded condition."""
    wanted = normalise_code(code)
    return tuple(rule for rule in CAUTION_RULES if rule.condition == wanted)


def rules_for(code: str) -> tuple[ContraindicationRule, ...]:
    """The rules that apply to a recorded condition (none for an unknown code)."""
    wanted = normalise_code(code)
    return tuple(rule for rule in RULES if rule.condition == wanted)


def condition_label(code: str) -> str:
    """How the vocabulary names ``code``; the code itself when it is not listed."""
    wanted = normalise_code(code)
    for entry in CONDITIONS:
        if entry.code == wanted:
            return entry.label
    return code
