"""The consent PDF for the patient: the text they read, their typed name, the witness.

Laid out with the chart note's primitives (fonts, header and footer naming the patient
and the export, the audit checkpoint). The template's Markdown is printed plainly:
``#`` headings in bold, ``-`` items as bullets, ``**`` marks dropped. Below the text:
the template version and the SHA-256 of the exact text, the name as typed, the witness,
the UTC time (and the clinic's local time), the scanned form's hash if one is attached,
and the withdrawal if there is one.
"""

from __future__ import annotations

from datetime import tzinfo

from formulary.consent import Consent
from formulary.export.display import show_local_time
from formulary.export.pdf_note import _GREY, _RED, _Note
from formulary.records import PatientChart


def _plain(line: str) -> str:
    return line.replace("**", "").replace("__", "")


def consent_rows(consent: Consent, course_name: str, zone: tzinfo | None) -> list[tuple[str, str]]:
    """What the signature block lists, as label and value pairs (shared with the chart PDF)."""
    rows = [
        ("Template", f"{consent.template_name}, version {consent.template_version}"),
        ("Text SHA-256", consent.text_sha256),
        ("For", f"course: {course_name}" if consent.course_id is not None
         else "sessions outside a course"),
        ("Typed name", consent.typed_name),
        ("Witness", f"{consent.witness_name} ({consent.witness_username})"),
        ("Signed", show_local_time(consent.signed_at, zone)),
    ]
    if consent.form_sha256:
        rows.append(("Scanned form", f"{consent.form_name} SHA-256 {consent.form_sha256}"))
    if consent.withdrawn_at is not None:
        rows.append(("WITHDRAWN", f"{show_local_time(consent.withdrawn_at, zone)} by "
                     f"{consent.withdrawn_by}: {consent.withdrawn_reason}"))
    rows.append(("Record hash", consent.record_hash))
    return rows


def render_consent_pdf(
    chart: PatientChart, consent: Consent, *, course_name: str = "", zone: tzinfo | None = None
) -> bytes:
    """The consent as PDF bytes. ``chart`` gives the clinic, the patient and the export
    stamp (its sessions are not printed)."""
    note = _Note(chart, "Consent to treatment", zone)
    pdf = note.pdf
    pdf.add_page()
    note.identity_line()
    if consent.withdrawn_at is not None:
        note.paragraph(
            f"This consent was WITHDRAWN on {show_local_time(consent.withdrawn_at, zone)}: "
            f"{consent.withdrawn_reason}", size=10, bold=True, colour=_RED)
    for raw in consent.text.split("\n"):
        line = raw.rstrip()
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            note.heading(_plain(line.lstrip("#").strip()), 13 if level == 1 else 11,
                         space=3 if level == 1 else 2)
        elif line.lstrip().startswith(("- ", "* ")):
            note.paragraph("  \u2022 " + _plain(line.lstrip()[2:]), size=9.5)
        elif not line:
            pdf.ln(1.5)
        else:
            note.paragraph(_plain(line), size=9.5)
    note.heading("Signature", 11, space=5)
    note.key_values(consent_rows(consent, course_name, zone))
    if not consent.text_intact():
        note.paragraph("The text above does not match the recorded SHA-256: it was changed "
                       "after signing.", bold=True, colour=_RED)
    note.paragraph(
        "The patient signed by typing their full name; the witness confirmed it with their "
        "own password. The SHA-256 identifies the exact text shown to the patient.",
        size=8, colour=_GREY)
    return bytes(pdf.output())
