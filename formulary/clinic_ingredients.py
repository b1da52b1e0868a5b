"""An ingredient the library lacks, as the clinic states it: forms, molar masses, IUs.

The clinic's ingredient row keeps the same document shape as a library entry (see
:mod:`formulary.safety.documents`), so the safety rules and the unit conversions
read a clinic ingredient exactly as they read a library one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from formulary.library.model import CATEGORIES

#: Molar masses outside this range (g/mol) are typing slips, not substances.
MOLAR_MASS_RANGE = (Decimal("1"), Decimal("1000000"))


@dataclass(frozen=True, slots=True)
class ClinicForm:
    """One form of a clinic ingredient: its label, molar mass and IU factor if any."""

    label: str
    molar_mass: Decimal | None = None  # g/mol
    mg_per_iu: Decimal | None = None  # how many mg of this form make one IU
    iu_source: str = ""


def slug(text: str) -> str:
    """``"GHK-Cu (copper peptide)"`` → ``"ghk-cu-copper-peptide"``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9.]+", "-", plain.casefold()).strip("-")[:60]


def ingredient_key(name: str) -> str:
    """The key a clinic ingredient is stored under: ``clinic-`` and the name's slug."""
    base = slug(name)
    if not base:
        raise ValueError("the ingredient needs a name with letters or digits")
    return f"clinic-{base}"


def parse_category(text: str) -> str:
    """A library category (``amino acid`` → ``amino_acid``), or ValueError naming them."""
    wanted = "_".join(text.strip().casefold().replace("-", " ").split())
    if not wanted:
        return "other"
    if wanted not in CATEGORIES:
        shown = ", ".join(c.replace("_", " ") for c in CATEGORIES)
        raise ValueError(f"{text.strip()!r} is not a category: use one of {shown}")
    return wanted


def parse_positive(
    text: str, what: str, *, limits: tuple[Decimal, Decimal] | None = None
) -> Decimal:
    """A plain positive decimal number typed for ``what`` (``"340.4"``)."""
    stripped = text.strip()
    if not re.fullmatch(r"\d+(\.\d+)?", stripped):
        raise ValueError(f"write the {what} as a plain number such as 340.4, not {stripped!r}")
    try:
        value = Decimal(stripped)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValueError(f"{stripped!r} is not a number") from None
    if value <= 0:
        raise ValueError(f"the {what} must be more than zero")
    if limits is not None and not limits[0] <= value <= limits[1]:
        raise ValueError(f"a {what} of {stripped} is implausible; check it")
    return value


def ingredient_document(
    forms: Sequence[ClinicForm], *, classes: Sequence[str] = ()
) -> dict[str, Any]:
    """The ``facts`` document of a clinic ingredient (the library's JSON shape)."""
    seen: set[str] = set()
    documents: list[dict[str, Any]] = []
    for form in forms:
        label = " ".join(form.label.split())
        if not label:
            raise ValueError("every form needs a name, such as 'zinc gluconate'")
        key = slug(label) or "form"
        if key in seen:
            raise ValueError(f"the form {label!r} is listed twice")
        seen.add(key)
        document: dict[str, Any] = {
            "key": key,
            "label": label,
            "molar_mass": None if form.molar_mass is None else str(form.molar_mass),
            "bases": [],
            "iu_bases": [],
        }
        if form.mg_per_iu is not None:
            if not form.iu_source.strip():
                raise ValueError(
                    f"the IU factor of {label} needs its source (a pharmacopoeia, the label)"
                )
            document["iu_bases"] = [
                {
                    "form": label,
                    "mass_per_iu_mg": str(form.mg_per_iu),
                    "source": form.iu_source,
                }
            ]
        documents.append(document)
    facts: dict[str, Any] = {
        "forms": documents,
        "classes": [c.strip() for c in classes if c.strip()],
        "limits": [],
    }
    if documents:
        facts["default_form"] = documents[0]["key"]
    return facts
