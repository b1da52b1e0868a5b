"""Substances built by hand from /work/shared/reference/ingredients.csv (molar masses,
element/base forms, valences and IU bases), so the engine is tested against the
reference facts independently of the ingredient library."""

from __future__ import annotations

from decimal import Decimal as D

from formulary.units.substance import Basis, IUBasis, Substance

ZINC_SULFATE = Substance(
    key="zinc-sulfate",
    name="Zinc sulfate",
    form="zinc sulfate anhydrous",
    molar_mass=D("161.44"),
    bases=(Basis("zinc", "zinc (element)", D("65.38")),),
    valence=2,
)
ZINC_SULFATE_HEPTAHYDRATE = Substance(
    key="zinc-sulfate-heptahydrate",
    name="Zinc sulfate heptahydrate",
    form="zinc sulfate heptahydrate",
    molar_mass=D("287.54"),
    bases=(Basis("zinc", "zinc (element)", D("65.38")),),
    valence=2,
)
CUPRIC_CHLORIDE = Substance(
    key="copper",
    name="Copper (cupric chloride)",
    form="cupric chloride dihydrate",
    molar_mass=D("170.48"),
    bases=(Basis("copper", "copper (element)", D("63.55")),),
    valence=2,
)
SELENIOUS_ACID = Substance(
    key="selenium",
    name="Selenium (selenious acid)",
    form="selenious acid",
    molar_mass=D("128.98"),
    bases=(Basis("selenium", "selenium (element)", D("78.97")),),
)
MAGNESIUM_SULFATE = Substance(
    key="magnesium-sulfate",
    name="Magnesium sulfate",
    form="magnesium sulfate heptahydrate",
    molar_mass=D("246.47"),
    valence=2,
)
LIDOCAINE_HCL = Substance(
    key="lidocaine-hcl",
    name="Lidocaine hydrochloride",
    form="lidocaine hydrochloride anhydrous",
    molar_mass=D("270.80"),
    bases=(Basis("lidocaine base", "lidocaine (base)", D("234.34")),),
)
PROCAINE_HCL = Substance(
    key="procaine-hcl",
    name="Procaine hydrochloride",
    form="procaine hydrochloride",
    molar_mass=D("272.77"),
    bases=(Basis("procaine base", "procaine (base)", D("236.31")),),
)
CALCIUM_PANTOTHENATE = Substance(
    key="calcium-pantothenate",
    name="Calcium D-pantothenate",
    form="calcium pantothenate",
    molar_mass=D("476.54"),
    bases=(Basis("pantothenic acid", "pantothenic acid", D("219.24"), count=2),),
    valence=2,
)
CYSTEINE_HCL = Substance(
    key="cysteine-hcl",
    name="L-Cysteine hydrochloride",
    form="L-cysteine hydrochloride monohydrate",
    molar_mass=D("175.63"),
    bases=(Basis("L-cysteine", "L-cysteine", D("121.15")),),
)
ARGININE_HCL = Substance(
    key="arginine-hcl",
    name="L-Arginine hydrochloride",
    form="L-arginine hydrochloride",
    molar_mass=D("210.66"),
    bases=(Basis("L-arginine", "L-arginine", D("174.20")),),
    valence=1,  # one chloride per formula unit
)
SODIUM_CHLORIDE = Substance(
    key="sodium-chloride",
    name="Sodium chloride",
    form="sodium chloride",
    molar_mass=D("58.44"),
    valence=1,
)
LIPOIC_ACID_TROMETAMOL = Substance(
    key="alpha-lipoic-acid",
    name="Alpha-lipoic acid",
    form="trometamol thioctate",
    molar_mass=D("327.45"),
    bases=(Basis("thioctic acid", "thioctic acid", D("206.32")),),
)
CYANOCOBALAMIN = Substance(
    key="cyanocobalamin",
    name="Cyanocobalamin",
    form="cyanocobalamin",
    molar_mass=D("1355.39"),
)
MINOXIDIL = Substance(key="minoxidil", name="Minoxidil", form="minoxidil", molar_mass=D("209.25"))
DEXPANTHENOL = Substance(
    key="dexpanthenol", name="Dexpanthenol", form="dexpanthenol", molar_mass=D("205.25")
)
BIOTIN = Substance(key="biotin", name="Biotin", form="biotin", molar_mass=D("244.31"))
ASCORBIC_ACID = Substance(
    key="ascorbic-acid", name="Ascorbic acid", form="L-ascorbic acid", molar_mass=D("176.12")
)
GINKGO = Substance(key="ginkgo", name="Ginkgo biloba extract", form="EGb 761")
BOTULINUM_A = Substance(
    key="botulinum-a", name="Botulinum toxin type A", product_specific_units=True
)

VITAMIN_E_NATURAL = Substance(
    key="vitamin-e-natural",
    name="Vitamin E (natural)",
    form="RRR-alpha-tocopherol",
    molar_mass=D("430.72"),
    iu_bases=(IUBasis("RRR-alpha-tocopherol", D("0.67")),),
)
#: The USP table gives natural vitamin E two IU bases: the alcohol and its acetate.
VITAMIN_E_NATURAL_USP = Substance(
    key="vitamin-e-natural-usp",
    name="Vitamin E (natural)",
    form="RRR-alpha-tocopherol",
    molar_mass=D("430.72"),
    iu_bases=(
        IUBasis("RRR-alpha-tocopherol", D("0.671")),
        IUBasis("RRR-alpha-tocopheryl acetate", D("0.735")),
    ),
)
VITAMIN_E_SYNTHETIC = Substance(
    key="vitamin-e-synthetic",
    name="Vitamin E (synthetic)",
    form="all-rac-alpha-tocopheryl acetate",
    molar_mass=D("472.75"),
    bases=(Basis("all-rac-alpha-tocopherol", "all-rac-alpha-tocopherol", D("430.72")),),
    iu_bases=(
        IUBasis("all-rac-alpha-tocopheryl acetate", D("1")),
        IUBasis("all-rac-alpha-tocopherol", D("0.91")),
    ),
)
RETINOL = Substance(
    key="retinol",
    name="Vitamin A - retinol",
    form="all-trans-retinol",
    molar_mass=D("286.46"),
    iu_bases=(IUBasis("all-trans-retinol", D("0.0003")),),
)
RETINYL_PALMITATE = Substance(
    key="retinyl-palmitate",
    name="Vitamin A - retinyl palmitate",
    form="retinyl palmitate",
    molar_mass=D("524.87"),
    iu_bases=(
        IUBasis("retinyl palmitate", D("0.00055")),
        IUBasis("retinyl acetate", D("0.000344")),
    ),
)
#: Retinyl palmitate whose IU is defined on retinol only: IU reaches the ester by molar mass.
RETINYL_PALMITATE_VIA_RETINOL = Substance(
    key="retinyl-palmitate-retinol-basis",
    name="Vitamin A - retinyl palmitate",
    form="retinyl palmitate",
    molar_mass=D("524.87"),
    bases=(Basis("retinol", "retinol", D("286.46")),),
    iu_bases=(IUBasis("retinol", D("0.0003")),),
)
CHOLECALCIFEROL = Substance(
    key="vitamin-d3",
    name="Vitamin D3 - cholecalciferol",
    form="cholecalciferol",
    molar_mass=D("384.65"),
    iu_bases=(IUBasis("cholecalciferol", D("0.000025")),),
)
ERGOCALCIFEROL = Substance(
    key="vitamin-d2",
    name="Vitamin D2 - ergocalciferol",
    form="ergocalciferol",
    molar_mass=D("396.66"),
    iu_bases=(IUBasis("ergocalciferol", D("0.000025")),),
)
