"""GS1 barcodes on boxes: GTIN check digits and what a scanner types (GTIN, lot, expiry).

A USB barcode scanner is a keyboard: it types the decoded GS1 DataMatrix or GS1-128
string into whatever field has focus. The element strings are read by ``biip`` (a
maintained GS1 library); this module only tidies what scanners and terminals do to
the text before it gets there:

- the FNC1 group separator may arrive as the ASCII GS character (``\\x1d``), as a
  visible placeholder that scanners are configured to send (``<GS>``, ``{GS}``,
  ``[GS]``, ``^]``, ``␝``, ``<FNC1>``) or as nothing at all after the last field;
- a symbology identifier may lead (``]d2`` DataMatrix, ``]C1`` GS1-128, ``]Q3`` QR);
- the human-readable form printed under the code may be typed or pasted instead:
  ``(01)05012345678900(17)281231(10)AB12``.

Every failure is a :class:`ScanError` whose message is one sentence a person can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

#: The ASCII group separator a scanner sends for FNC1.
GS = "\x1d"

#: Visible stand-ins for FNC1/GS that scanners are set to send, or that arrive when
#: a terminal cannot pass the control character (longest first).
GS_PLACEHOLDERS: tuple[str, ...] = (
    "<FNC1>",
    "{FNC1}",
    "[FNC1]",
    "<GS>",
    "{GS}",
    "[GS]",
    "^]",
    "\u241d",  # SYMBOL FOR GROUP SEPARATOR, what some terminals show
)

_SYMBOLOGY = re.compile(r"^\][A-Za-z][0-9A-Za-z]")

#: Application identifiers Formulary reads from a box.
AI_GTIN = "01"
AI_EXPIRY = "17"
AI_LOT = "10"


class ScanError(ValueError):
    """A scan or GTIN that cannot be used; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Scan:
    """What a scan of a box gave. Fields the code did not carry are empty/None."""

    gtin: str  # GTIN-14 digits ("" when the code had none)
    lot_number: str
    expiry: date | None
    text: str  # the scan as normalised (GS as ``\\x1d``), for the record

    @property
    def missing(self) -> tuple[str, ...]:
        """What a complete box label has and this scan did not: GTIN, lot, expiry."""
        out = []
        if not self.gtin:
            out.append("GTIN (01)")
        if not self.lot_number:
            out.append("lot number (10)")
        if self.expiry is None:
            out.append("expiry date (17)")
        return tuple(out)


def gtin_check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit of ``payload`` (every digit but the last)."""
    total = 0
    for position, digit in enumerate(reversed(payload)):
        total += int(digit) * (3 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10


def normalize_gtin(text: str) -> str:
    """``text`` as GTIN-14 digits, its check digit verified; ``""`` for blank input.

    GTIN-8, -12 (UPC-A), -13 (EAN) and -14 are accepted, spaces and hyphens ignored.
    Raises :class:`ScanError` naming what is wrong.
    """
    digits = "".join(text.split()).replace("-", "")
    if not digits:
        return ""
    if not digits.isascii() or not digits.isdigit():
        raise ScanError(f"a GTIN has digits only, not {text.strip()!r}")
    if len(digits) not in (8, 12, 13, 14):
        raise ScanError(f"a GTIN has 8, 12, 13 or 14 digits; {text.strip()!r} has {len(digits)}")
    expected = gtin_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise ScanError(
            f"GTIN {digits} has a wrong check digit (the last digit should be {expected}): "
            "check it against the box"
        )
    return digits.zfill(14)


def normalize_scan(text: str) -> str:
    """The scan with its separators as ``\\x1d``, without symbology prefix or spaces
    at the ends."""
    cleaned = text.strip().replace("\r", "").replace("\n", "")
    cleaned = _SYMBOLOGY.sub("", cleaned)
    for placeholder in GS_PLACEHOLDERS:
        cleaned = cleaned.replace(placeholder, GS)
    return cleaned.strip(GS + " ")


def looks_like_scan(text: str) -> bool:
    """True when ``text`` is more than a typed lot number: a GS1 element string
    (``01`` + 14 digits first, or the ``(01)`` human-readable form) or has a separator."""
    cleaned = normalize_scan(text)
    if cleaned.startswith("("):
        return True
    if GS in cleaned:
        return True
    return bool(re.match(r"^(01|02)\d{14}", cleaned)) and len(cleaned) > 16


def parse_scan(text: str) -> Scan:
    """Read a scanned (or typed human-readable) GS1 string into GTIN, lot and expiry.

    Raises :class:`ScanError` when the text is not a GS1 element string, a GTIN's
    check digit is wrong, a date is impossible, or the code carries none of the three.
    A scan that carries some but not all of them is returned; :attr:`Scan.missing`
    says what the person still has to type.
    """
    from biip import ParseConfig, ParseError
    from biip.gs1_messages import GS1Message

    cleaned = normalize_scan(text)
    if not cleaned:
        raise ScanError("the scan is empty: scan the 2D code (DataMatrix) on the box again")
    config = ParseConfig(separator_chars=(GS,))
    try:
        if cleaned.startswith("("):
            message = GS1Message.parse_hri(cleaned.replace(GS, ""), config=config)
        else:
            message = GS1Message.parse(cleaned, config=config)
    except ParseError as exc:
        raise ScanError(_scan_problem(cleaned, str(exc))) from None
    values: dict[str, str] = {}
    expiry: date | None = None
    for element in message.element_strings:
        ai = element.ai.ai
        if ai in values:
            continue
        if ai in (AI_GTIN, "02"):
            if element.gtin is None:
                raise ScanError(
                    f"the GTIN in the scan ({element.value}) has a wrong check digit: "
                    "scan again, or type the lot and expiry by hand"
                )
            values[AI_GTIN] = element.gtin.as_gtin_14()
        elif ai == AI_EXPIRY:
            expiry = element.date
            values[ai] = element.value
        elif ai == AI_LOT:
            values[ai] = element.value.strip()
    scan = Scan(
        gtin=values.get(AI_GTIN, ""),
        lot_number=values.get(AI_LOT, ""),
        expiry=expiry,
        text=cleaned,
    )
    if len(scan.missing) == 3:
        raise ScanError(
            "the scan holds no GTIN, lot or expiry: scan the 2D code (DataMatrix) on the "
            "box, not another barcode"
        )
    return scan


def _scan_problem(cleaned: str, detail: str) -> str:
    """One sentence for a scan biip could not read (its own detail kept at the end)."""
    if "date" in detail.casefold() or "AI (17)" in detail:
        return (
            "the expiry date in the scan is not a real date: scan again or type the "
            f"expiry by hand ({detail.rstrip('.')})"
        )
    if len(cleaned) < 16:
        return (
            f"{cleaned!r} is not a complete GS1 code: scan the 2D code (DataMatrix) "
            "on the box again"
        )
    return (
        "the scan is not a GS1 code Formulary can read: scan the 2D code (DataMatrix) "
        f"on the box again ({detail.rstrip('.')})"
    )
