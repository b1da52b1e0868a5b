"""Code 128 (ISO/IEC 15417) barcodes, encoded in pure Python for the syringe label.

fpdf2 draws no Code 128, and the symbology is small: 107 symbols of three bars and
three spaces (the stop symbol has a fourth bar), a start symbol choosing code set B
(printable ASCII) or C (digit pairs), a modulo-103 check symbol and the stop.
:func:`encode` chooses the sets so that runs of digits are packed two per symbol,
:func:`modules` turns symbols into the bar/space pattern (``1`` a dark module), and
:func:`decode_modules` reads such a pattern back (the tests use it to read the label's
bars out of the PDF).

The session id is carried as ``SESSION-<id>`` (:func:`session_code`): letters, digits
and a hyphen, which every keyboard-wedge scanner types the same way on common
layouts; :func:`parse_session_code` is how the app recognises a scan.
"""

from __future__ import annotations

import itertools
import re

#: Bar and space widths of symbol values 0..106 (106 is the stop, with a final bar).
WIDTHS: tuple[str, ...] = (
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312",
    "132212", "221213", "221312", "231212", "112232", "122132", "122231", "113222",
    "123122", "123221", "223211", "221132", "221231", "213212", "223112", "312131",
    "311222", "321122", "321221", "312212", "322112", "322211", "212123", "212321",
    "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
    "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121",
    "313121", "211331", "231131", "213113", "213311", "213131", "311123", "311321",
    "331121", "312113", "312311", "332111", "314111", "221411", "431111", "111224",
    "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
    "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112",
    "421211", "212141", "214121", "412121", "111143", "111341", "131141", "114113",
    "114311", "411113", "411311", "113141", "114131", "311141", "411131", "211412",
    "211214", "211232", "2331112",
)

START_B = 104
START_C = 105
CODE_B = 100  # in set C: switch to B
CODE_C = 99  # in set B: switch to C
STOP = 106
#: Quiet zone each side, in modules (the standard asks for at least 10).
QUIET = 10

_SESSION = re.compile(r"SESSION-([0-9]{1,12})")


class Code128Error(ValueError):
    """Text that Code 128 set B/C cannot carry (only printable ASCII can be encoded)."""


def _digits_ahead(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end].isdigit() and text[end].isascii():
        end += 1
    return end - start


def encode(text: str) -> list[int]:
    """The symbol values of ``text``: start, data, check symbol, stop.

    Set C packs digit pairs; it is used for a text of digits only (even length) and
    for runs of four or more digits (an odd run's first digit stays in set B).
    """
    if not text:
        raise Code128Error("nothing to encode")
    for ch in text:
        if not " " <= ch <= "~":
            raise Code128Error(f"{ch!r} cannot be carried by Code 128 set B or C")
    values: list[int] = []
    i = 0
    run = _digits_ahead(text, 0)
    if run == len(text) and run % 2 == 0:
        values.append(START_C)
        current = "C"
    else:
        values.append(START_B)
        current = "B"
    while i < len(text):
        run = _digits_ahead(text, i)
        if current == "C":
            if run >= 2:
                values.append(int(text[i:i + 2]))
                i += 2
                continue
            values.append(CODE_B)
            current = "B"
        if run >= 4:
            if run % 2:  # odd run: one digit in B, the rest in pairs
                values.append(ord(text[i]) - 32)
                i += 1
            values.append(CODE_C)
            current = "C"
            continue
        values.append(ord(text[i]) - 32)
        i += 1
    check = (values[0] + sum(n * v for n, v in enumerate(values[1:], 1))) % 103
    return [*values, check, STOP]


def modules(values: list[int], *, quiet: int = QUIET) -> str:
    """The bars of ``values`` as a string of modules, ``1`` dark and ``0`` light."""
    out = ["0" * quiet]
    for value in values:
        for n, width in enumerate(WIDTHS[value]):
            out.append(("1" if n % 2 == 0 else "0") * int(width))
    out.append("0" * quiet)
    return "".join(out)


def pattern(text: str) -> str:
    """The full module pattern of ``text`` with quiet zones."""
    return modules(encode(text))


def decode_modules(bits: str) -> str:
    """Read a module pattern back to its text; raises Code128Error when it is not valid."""
    bits = bits.strip("0")
    by_widths = {w: v for v, w in enumerate(WIDTHS)}
    runs: list[int] = []
    count = 1
    for a, b in itertools.pairwise(bits):
        if a == b:
            count += 1
        else:
            runs.append(count)
            count = 1
    runs.append(count)
    if len(runs) < 6 + 6 + 7 or (len(runs) - 7) % 6:
        raise Code128Error("not a Code 128 pattern")
    values = [by_widths.get("".join(map(str, runs[i:i + 6])), -1)
              for i in range(0, len(runs) - 7, 6)]
    if by_widths.get("".join(map(str, runs[-7:]))) != STOP or -1 in values:
        raise Code128Error("not a Code 128 pattern")
    *body, check = values
    if (body[0] + sum(n * v for n, v in enumerate(body[1:], 1))) % 103 != check:
        raise Code128Error("check symbol does not match")
    current = {START_B: "B", START_C: "C"}.get(body[0])
    if current is None:
        raise Code128Error("only start B and C are read")
    text = []
    for value in body[1:]:
        if current == "C":
            if value == CODE_B:
                current = "B"
            else:
                text.append(f"{value:02d}")
        elif value == CODE_C:
            current = "C"
        else:
            text.append(chr(value + 32))
    return "".join(text)


def session_code(session_id: int) -> str:
    """The text a session's barcode carries (and a person may type): ``SESSION-1234``."""
    return f"SESSION-{session_id}"


def parse_session_code(text: str) -> int | None:
    """The session id of a scanned or typed ``SESSION-<id>`` (case and spaces forgiven)."""
    match = _SESSION.fullmatch(text.strip().upper())
    return int(match.group(1)) if match else None
