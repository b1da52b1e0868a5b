"""Consent in the app, from an empty database (``formulary init``, no demo).

The administrator adds a patient, signs the consent with them (a wrong typed name is
refused beside the field and says why), sees it on the chart, then withdraws it with
the patient's reason; a session signed after that meets the consent BLOCK, whose
message says to sign the consent. The clinic's template gets a new version from the
template screen; the consent already signed keeps its version.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, TextArea

from formulary.consent import CONSENT_RULE
from tests.tui.clinic_helpers import ADMIN, add_patient, init_clinic, type_into
from tests.tui.consent_helpers import sign_consent_in_app
from tests.tui.fixture_types import MakeApp, user_of
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until


async def test_sign_and_withdraw_a_consent_from_an_empty_database(
    tmp_path: Path, make_app: MakeApp
) -> None:
    from tui.screens.consent import ConsentScreen, ConsentSignScreen, ConsentWithdrawScreen
    from tui.screens.patient import PatientScreen

    db = init_clinic(tmp_path / "clinic.db")
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        await add_patient(pilot, "C-1", "Dubois", "Zoé", "1985-05-06")
        chart = app.screen
        assert isinstance(chart, PatientScreen)
        await until(pilot, lambda: "NO CONSENT ON FILE" in screen_text(pilot))

        # A wrong name is refused beside the field; nothing is recorded.
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, ConsentScreen)
                    and app.screen.data is not None)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, ConsentSignScreen))
        await until(pilot, lambda: "The procedure" in screen_text(pilot))
        await type_into(pilot, "#c-typed-name", "Zoe Duboiss")
        app.screen.query_one("#c-password", Input).value = ADMIN[2]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "does not match the patient's name Zoé Dubois" in
                    screen_text(pilot))
        assert "Does not match Zoé" in screen_text(pilot)  # beside the field
        assert "case, accents, spaces, hyphens" in screen_text(pilot)
        # A name misspelt on the record is fixed there, not by typing the misspelling.
        assert "correct the record first (ctrl+e on the chart)" in screen_text(pilot)
        store, user = app.store, user_of(app)
        patient = store.find_patient(user, "C-1")
        assert store.consents(user, patient.id) == []
        app.screen.query_one("#c-typed-name", Input).value = ""
        await pilot.press("escape")  # typed data: the form asks before discarding
        await settle(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConsentScreen))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is chart)

        await sign_consent_in_app(pilot, "zoe DUBOIS", ADMIN[2])
        await until(pilot, lambda: "NO CONSENT ON FILE" not in screen_text(pilot))
        (signed,) = store.consents(user, patient.id)
        assert signed.course_id is None and signed.typed_name == "zoe DUBOIS"

        # Withdrawal, with the patient's reason.
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, ConsentScreen)
                    and "Signed and in force" in screen_text(pilot))
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ConsentWithdrawScreen))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Say why" in screen_text(pilot))
        await type_into(pilot, "#w-reason", "prefers to stop")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConsentScreen)
                    and "NO CONSENT ON FILE" in screen_text(pilot)
                    and "WITHDRAWN 20" in screen_text(pilot))  # whole, with its date
        (withdrawn,) = store.consents(user, patient.id)
        assert withdrawn.withdrawn_reason == "prefers to stop"

        # The rule at signing: a session now meets the BLOCK that says what to do.
        from tests.consent_helpers import sign_consent
        from tests.storage.helpers import World

        world = World(store, user, chart="C-2", consent=False, password=ADMIN[2])
        draft = store.save_session_draft(user, world.draft())
        (block,) = store.check_session(user, draft.id).blocks
        assert block.rule == CONSENT_RULE and "sign the consent" in block.remedy
        sign_consent(store, user, ADMIN[2], world.patient)
        assert store.check_session(user, draft.id).blocks == ()


async def test_a_new_template_version_from_the_template_screen(
    tmp_path: Path, make_app: MakeApp
) -> None:
    from tui.screens.consent_templates import ConsentTemplateFormScreen, ConsentTemplatesScreen

    db = init_clinic(tmp_path / "clinic.db")
    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, ADMIN[0], ADMIN[2])
        app.run_command("consent_templates")
        await until(pilot, lambda: isinstance(app.screen, ConsentTemplatesScreen)
                    and "Scalp mesotherapy" in screen_text(pilot))
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, ConsentTemplateFormScreen))
        area = app.screen.query_one("#t-text", TextArea)
        original = area.text
        area.text = original.replace("Bruising", "Marks").replace("bruises", "marks")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "does not name these known effects: bruising" in
                    screen_text(pilot))
        area.text = original + "\nAsk us anything.\n"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConsentTemplatesScreen)
                    and "v2" in screen_text(pilot))
        (template,) = app.store.consent_templates(user_of(app))
        assert template.current.version == 2 and "Ask us anything." in template.current.text
