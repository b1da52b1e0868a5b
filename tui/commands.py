"""The app's commands in the command palette (ctrl+p)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import FormularyApp

#: (name, help, action on the active screen or app)
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("New session", "Record a session for the open or highlighted patient", "new_session"),
    ("Plan a course", "Plan the open patient's course of sessions", "plan_course"),
    ("Photos", "The open patient's photographs: attach, compare, open", "photos"),
    ("Attach a photo", "Attach a photo to a session or outcome (photo list)", "attach_photo"),
    ("Compare photos", "One view on two dates side by side (photo list)", "compare_photos"),
    ("Photo size limit", "The largest photo file accepted (users screen, administrators)",
     "photo_limit"),
    ("Consent", "The open patient's consents: sign, withdraw, print", "consent"),
    ("Sign consent", "Sign a consent with the patient (consent screen)", "sign_consent"),
    ("Withdraw consent", "Record the highlighted consent's withdrawal (consent screen)",
     "withdraw_consent"),
    ("Export chart", "Export the open patient's chart (PDF, CSV, FHIR)", "export_chart"),
    ("Retire this patient", "Take the open chart off the patient list (kept on record)",
     "retire_patient"),
    ("Restore a patient", "Bring back a chart retired by mistake (patient list)",
     "restore_patient"),
    ("Print syringe label", "The open session's syringe label as a PDF", "print_label"),
    ("Verify audit trail", "Recompute the audit chain and report the result", "verify_audit"),
    ("Patients", "Go to the patient list", "patients"),
    ("Formulary and stock", "Ingredients, products and lots", "stock"),
    ("New product", "Add a product as its box describes it (stock screen)", "new_product"),
    ("Receive a lot", "Scan or type a delivery: lot, expiry, count (stock screen)", "receive_lot"),
    ("New clinic ingredient", "An ingredient the library lacks (stock screen)", "new_ingredient"),
    ("Clinic limit", "A clinic limit on the highlighted ingredient (stock screen)", "clinic_limit"),
    ("Lift a recall", "Lift the highlighted lot's recall, recorded by mistake; it stays "
     "quarantined until released (stock screen, administrators)", "lift_recall"),
    ("Correct lot", "Correct the highlighted lot's number, expiry or supplier as typed at "
     "receipt (stock screen, administrators and practitioners)", "correct_lot"),
    ("Audit trail", "Browse the audit trail", "audit"),
    ("Users", "Add, deactivate, unlock users; reset a password (administrators)", "users"),
    ("Consent templates", "The clinic's consent texts: add, new version, retire "
     "(administrators)", "consent_templates"),
    ("Clinic details", "The clinic's name, address, export identifier, syringe beyond-use "
     "time and photo limit (changes: administrators)", "clinic_details"),
    ("Lock", "Lock the screen now", "lock"),
    ("Sign out", "Sign out of Formulary", "sign_out"),
)


class FormularyCommands(Provider):
    """Open a patient by name or chart number, and run the app's commands."""

    @property
    def _app(self) -> FormularyApp:
        return self.app  # type: ignore[return-value]

    def _run(self, action: str) -> None:
        self._app.run_command(action)

    def _available(self) -> list[tuple[str, str, str]]:
        if self._app.user is None or self._app.locked:
            return []
        return [c for c in COMMANDS if self._app.command_available(c[2], self.screen)]

    async def discover(self) -> Hits:
        for name, help_text, action in self._available():
            yield DiscoveryHit(name, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in self._available():
            score = matcher.match(name)
            if score > 0:
                run = partial(self._run, action)
                yield Hit(score, matcher.highlight(name), run, help=help_text)
        if (
            self._app.user is None
            or self._app.locked
            or not self._app.store_is_open
            or len(query.strip()) < 2
        ):
            return
        found = await asyncio.to_thread(
            self._app.store.list_patients, self._app.user, query.strip(), limit=10
        )
        for item in found:
            patient = getattr(item, "patient", item)
            label = f"Open patient {patient.display_name} ({patient.chart_number})"
            opener: Callable[[], None] = partial(self._app.open_patient, patient.id)
            yield Hit(max(matcher.match(label), 0.5), label, opener, help="Open the chart")
