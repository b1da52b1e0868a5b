"""Recording a session: lots (an expired one refused), zones, signing, the addendum."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from formulary.records import ScalpZone, SessionStatus, Technique
from formulary.safety import OVERRIDE_MEANING
from tests.consent_helpers import sign_consent
from tests.tui.demo_data import PRACTITIONER, Demo
from tests.tui.fixture_types import MakeApp, screen_of, user_of
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.app import FormularyApp
from tui.screens.addendum import AddendumScreen
from tui.screens.lock import LockScreen
from tui.screens.session import SessionScreen
from tui.screens.sign_session import SignSessionScreen
from tui.widgets.field_row import FieldRow
from tui.widgets.lot_picker import LotPicker


async def _open_new_session(app: FormularyApp, pilot: Pilot[None], demo: Demo) -> SessionScreen:
    await sign_in(pilot)
    app.open_patient(demo.patients["dubois"])
    await settle(pilot)
    await pilot.press("ctrl+n")
    await settle(pilot, rounds=4)
    screen = app.screen
    assert isinstance(screen, SessionScreen)
    return screen


def _zone_check(screen: SessionScreen) -> str:
    return str(screen.query_one("#zone-check", Static).render())


async def _type(pilot: Pilot[None], selector: str, text: str) -> None:
    pilot.app.screen.query_one(selector, Input).value = text
    await pilot.pause()


async def test_record_refuse_expired_lot_sign_and_addendum(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_new_session(app, pilot, demo)
        pickers = {p.component.position: p for p in screen.query(LotPicker)}
        # The first lot to expire among the usable ones is proposed (not the expired one).
        assert pickers[1].lot_id == demo.lots["biotin"]
        assert pickers[2].lot_id == demo.lots["ha"]  # HA-7702 is quarantined
        # Choosing the expired lot is refused, and the proposal stays.
        screen.query_one("#lot-1", Select).value = demo.lots["biotin-old"]
        await settle(pilot)
        assert "Refused: lot BT-2301 expired on 2025-12-31" in pickers[1].message
        assert pickers[1].lot_id == demo.lots["biotin"]
        screen.query_one("#lot-2", Select).value = demo.lots["ha-q"]
        await settle(pilot)
        assert "quarantined" in pickers[2].message and pickers[2].lot_id == demo.lots["ha"]
        # A later, usable lot may be chosen.
        screen.query_one("#lot-1", Select).value = demo.lots["biotin-late"]
        await settle(pilot)
        assert pickers[1].lot_id == demo.lots["biotin-late"] and pickers[1].message == ""

        # Zones: more than prepared is refused; bad text is explained.
        await _type(pilot, "#zone-vertex", "2 mL")
        await _type(pilot, "#zone-frontal", "1.5 mL")
        assert "MORE than the 3 mL prepared" in _zone_check(screen)
        await _type(pilot, "#zone-frontal", "half a mL")
        assert "does not start with a number" in _zone_check(screen)
        await _type(pilot, "#zone-frontal", "0.5 mL")
        await _type(pilot, "#zone-mid_scalp", "0.5 mL")
        assert "Total 3 mL = the 3 mL prepared" in _zone_check(screen)
        # Injection points: the volume each receives is shown; out of range is explained.
        await _type(pilot, "#points-vertex", "40")
        assert str(screen.query_one("#each-vertex", Static).render()) == "0.05 mL each"
        await _type(pilot, "#points-frontal", "0")
        assert "between 1 and 500" in _zone_check(screen)
        await _type(pilot, "#points-frontal", "")
        assert "Total 3 mL = the 3 mL prepared" in _zone_check(screen)

        # Signing before the technique is chosen says what is missing.
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert not isinstance(app.screen, SignSessionScreen)
        screen.query_one("#s-technique", Select).value = Technique.NAPPAGE
        await _type(pilot, "#s-gauge", "99")
        await _type(pilot, "#s-pain", "ten")
        await _type(pilot, "#s-length", "4 kg")
        await pilot.press("ctrl+g")
        await settle(pilot)
        errors = {row.id: row.error for row in screen.query(FieldRow)}
        assert errors["row-gauge"].startswith("A gauge from 18 to 34")
        assert errors["row-pain"] == "A whole number from 0 to 10."
        assert errors["row-length"] != ""
        await _type(pilot, "#s-gauge", "32")
        await _type(pilot, "#s-pain", "2")
        await _type(pilot, "#s-length", "4 mm")
        await _type(pilot, "#s-adverse", "bruising: mild")
        await pilot.press("ctrl+g")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, SignSessionScreen)
        text = screen_text(pilot)
        assert "BT-2502" in text and "vertex 2 mL in 40 points" in text
        # A wrong password does not sign; the draft stays a draft, the dialog stays open.
        review.query_one("#sign-password", Input).value = "wrong-password"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is review and not screen.read_only
        assert "Wrong password" in str(review.query_one("#sign-error", Static).render())
        session_id = screen.session_id
        assert session_id is not None
        assert app.store.get_session(user_of(app), session_id).status is SessionStatus.DRAFT
        review.query_one("#sign-password", Input).value = PRACTITIONER[2]
        await pilot.press("enter")
        await settle(pilot, rounds=5)
        assert screen.read_only
        signed = app.store.get_session(user_of(app), session_id)
        assert signed.status is SessionStatus.SIGNED
        assert signed.signature is not None and signed.signature.signer.username == "drmartin"
        assert {z.zone: str(z.volume.value) for z in signed.zones} == {
            ScalpZone.VERTEX: "2",
            ScalpZone.FRONTAL: "0.5",
            ScalpZone.MID_SCALP: "0.5",
        }
        assert {u.component_id: u.lot_number for u in signed.lots}[1] == "BT-2502"
        assert {z.zone: z.points for z in signed.zones}[ScalpZone.VERTEX] == 40
        assert signed.pain_score == 2 and signed.needle_gauge == 32
        assert signed.adverse_events[0].kind == "bruising"
        # Signed: read-only, and the only change is an addendum with a reason.
        assert screen.query_one("#zone-vertex", Input).disabled
        assert "Signed by Dr Claire Martin" in screen_text(pilot)
        assert "Prepared by Dr Claire Martin (drmartin)" in screen_text(pilot)
        await pilot.press("ctrl+d")
        await pilot.pause()
        addendum = app.screen
        assert isinstance(addendum, AddendumScreen)
        addendum.query_one("#addendum-text", Input).value = "Pain score was 3, not 2."
        await pilot.click("#addendum-ok")
        await pilot.pause()
        errors = {row.id: row.error for row in addendum.query(FieldRow)}
        assert errors["row-addendum-reason"] == "Say why the record is corrected."
        addendum.query_one("#addendum-reason", Input).value = "patient corrected the score"
        password = addendum.query_one("#addendum-password", Input)
        password.value = PRACTITIONER[2]
        password.focus()
        await pilot.press(
            "enter"
        )  # a second click within 0.2 s would hit the button's press effect
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen), screen_text(pilot)
        assert "Pain score was 3, not 2." in screen_text(pilot)
        after = app.store.get_session(user_of(app), session_id)
        assert after.pain_score == 2  # the signed record itself never changes
        assert after.addenda[0].reason == "patient corrected the score"


async def test_draft_survives_the_lock_and_a_restart(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_new_session(app, pilot, demo)
        await _type(pilot, "#zone-occipital", "0.25 mL")
        await _type(pilot, "#s-notes", "patient anxious")
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        assert "patient anxious" not in screen_text(pilot)
        app.screen.query_one("#unlock-password", Input).value = PRACTITIONER[2]
        await pilot.press("enter")
        await settle(pilot)
        assert screen_of(app) is screen  # (app.screen is still narrowed to LockScreen)
        assert screen.query_one("#s-notes", Input).value == "patient anxious"
        draft_id = screen.session_id
        assert draft_id is not None
    # "Crash": a new app on the same database resumes the saved draft.
    again = make_app(demo.path)
    async with again.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        again.open_patient(demo.patients["dubois"])
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot, rounds=4)
        resumed = again.screen
        assert isinstance(resumed, SessionScreen) and resumed.session_id == draft_id
        assert resumed.query_one("#s-notes", Input).value == "patient anxious"
        assert resumed.query_one("#zone-occipital", Input).value == "0.25 mL"


async def test_safety_findings_need_an_override_reason_to_sign(
    demo: Demo, make_app: MakeApp
) -> None:
    from decimal import Decimal

    from db.store import ComponentSpec
    from formulary.units.amount import Amount

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        store, user = app.store, user_of(app)
        lidocaine = next(i for i in store.list_ingredients(user) if i.key == "lidocaine")
        store.save_formulation(
            user,
            patient_id=demo.patients["moreau"],
            name="Moreau cocktail",
            components=[
                ComponentSpec(
                    "Biotin 5 mg/mL ampoule",
                    Amount(Decimal(1), "mL"),
                    product_id=demo.products["biotin"],
                ),
                ComponentSpec("Lidocaine", Amount(Decimal(10), "mg"), ingredient_id=lidocaine.id),
            ],
            final_volume=Amount(Decimal(1), "mL"),
            acknowledge=True,
            override_reason="prescribed knowingly: allergy to the gel, not the drug",
            override_password=PRACTITIONER[2],
        )
        app.open_patient(demo.patients["moreau"])
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        await _type(pilot, "#zone-vertex", "1 mL")
        screen.query_one("#s-technique", Select).value = Technique.PAPULE
        await pilot.press("ctrl+g")
        await settle(pilot, rounds=4)
        review = app.screen
        assert isinstance(review, SignSessionScreen)
        findings = str(review.query_one("#sign-findings", Static).render())
        assert "BLOCK" in findings and "lidocaine" in findings.lower()
        signer = str(review.query_one("#sign-override-meaning", Static).render())
        assert user.full_name in signer and "signs the override" in signer
        review.query_one("#sign-password", Input).value = PRACTITIONER[2]
        if review.query("#sign-acknowledge"):
            await pilot.click("#sign-acknowledge")
        await pilot.click("#sign-ok")
        await pilot.pause()
        assert "override reason" in str(review.query_one("#sign-error", Static).render())
        review.query_one("#sign-override", Input).value = "allergy is to the gel, not the drug"
        await pilot.pause(0.3)
        await pilot.click("#sign-ok")
        await settle(pilot, rounds=5)
        assert screen.read_only
        assert screen.session_id is not None
        signed = app.store.get_session(user_of(app), screen.session_id)
        assert signed.status is SessionStatus.SIGNED
        blocks = [o for o in signed.overrides if o.severity == "block"]
        assert blocks and all(
            (o.reason, o.signer_name, o.meaning)
            == ("allergy is to the gel, not the drug", user.full_name, OVERRIDE_MEANING)
            for o in blocks
        )


async def test_the_syringe_shows_ingredients_and_a_missing_lot_is_acknowledged(
    demo: Demo, make_app: MakeApp
) -> None:
    from decimal import Decimal

    from db.store import ComponentSpec
    from formulary.export.pdf_note import render_pdf
    from formulary.units.amount import Amount
    from tests.export.test_pdf_note import Note
    from tui.widgets.syringe_table import SyringeTable

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        store, user = app.store, user_of(app)
        biotin = next(i for i in store.list_ingredients(user) if i.key == "biotin")
        store.save_formulation(
            user,
            patient_id=demo.patients["okafor"],
            name="Okafor cocktail",
            components=[
                ComponentSpec(
                    "Biotin 5 mg/mL ampoule",
                    Amount(Decimal(1), "mL"),
                    product_id=demo.products["biotin"],
                ),
                ComponentSpec("Biotin powder", Amount(Decimal(2), "mg"), ingredient_id=biotin.id),
            ],
            final_volume=Amount(Decimal(2), "mL"),
            acknowledge=True,
        )
        # Her consent is signed (this test is about the lot warning, not the consent rule).
        sign_consent(store, user, PRACTITIONER[2], demo.patients["okafor"])
        app.open_patient(demo.patients["okafor"])
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot, rounds=4)
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        # Both components are in the syringe, with this session's amounts and the lot.
        shown = screen.query_one(SyringeTable).syringe
        assert shown is not None
        product, powder = shown.lines
        (picker,) = screen.query(LotPicker)
        assert product.lot is not None and picker.lot_id is not None
        proposed = product.lot.lot_number
        assert picker.lot_id == demo.lots["biotin"] and proposed == "BT-2412"
        assert powder.lot is None and powder.ingredients[0].final_concentration == Amount(
            Decimal(1), "mg/mL"
        )
        await until(pilot, lambda: "traceability lost" in screen_text(pilot))
        text = screen_text(pilot)
        assert "Biotin powder (ingredient)" in text and "2 mg" in text
        assert "no lot recorded: traceability lost" in text and proposed in text
        await _type(pilot, "#zone-vertex", "2 mL")
        screen.query_one("#s-technique", Select).value = Technique.NAPPAGE
        await pilot.press("ctrl+g")
        await settle(pilot, rounds=4)
        review = app.screen
        assert isinstance(review, SignSessionScreen)
        # The review shows the same table before the password, and the warning.
        assert review.query_one(SyringeTable).syringe == screen.syringe()
        findings = str(review.query_one("#sign-findings", Static).render())
        assert "WARNING: Biotin powder: no lot recorded: traceability lost" in findings
        review.query_one("#sign-password", Input).value = PRACTITIONER[2]
        await pilot.click("#sign-ok")
        await pilot.pause()
        assert "Tick that you have read" in str(review.query_one("#sign-error", Static).render())
        await pilot.click("#sign-acknowledge")
        await pilot.pause(0.3)
        await pilot.click("#sign-ok")
        await settle(pilot, rounds=5)
        assert screen.read_only
        assert screen.session_id is not None
        signed = app.store.get_session(user_of(app), screen.session_id)
        (ack,) = [o for o in signed.overrides if o.rule == "lot.missing"]
        assert ack.severity == "warning" and ack.by == PRACTITIONER[0]
        # The signed session still lists every component; the PDF names who acknowledged.
        assert "no lot recorded: traceability lost" in screen_text(pilot)
        chart = app.store.load_chart(user_of(app), demo.patients["okafor"])
        note = Note(render_pdf(chart))
        note.has(
            "Biotin powder no lot recorded (acknowledged by Dr Claire Martin)",
            "Safety warning acknowledged: Biotin powder: no lot recorded: traceability lost",
        )
        assert "not recorded" not in note.text.replace("no lot recorded", "")


async def test_hints_name_a_unit_of_the_fields_own_dimension(demo: Demo, make_app: MakeApp) -> None:
    """A bare number in depth, needle length or a zone gets an example in mm or mL."""
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_new_session(app, pilot, demo)
        await _type(pilot, "#s-depth", "2")
        await _type(pilot, "#s-length", "4")
        screen.action_save_draft()
        await settle(pilot)
        assert screen.query_one("#row-depth", FieldRow).error.endswith("such as 2 mm")
        assert screen.query_one("#row-length", FieldRow).error.endswith("such as 4 mm")
        await _type(pilot, "#zone-vertex", "30")
        assert _zone_check(screen).endswith("such as 30 mL")
        # Filled in properly, the message goes.
        await _type(pilot, "#s-depth", "2 mm")
        assert screen.query_one("#row-depth", FieldRow).error == ""


async def test_zones_are_checked_against_the_volume_drawn_without_a_final_volume(
    demo: Demo, make_app: MakeApp
) -> None:
    from db.store import ComponentSpec
    from tests.tui.demo_data import ml

    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        # The editor's final volume left blank: the syringe holds what was drawn.
        app.store.save_formulation(
            user_of(app),
            patient_id=demo.patients["moreau"],
            name="Moreau cocktail",
            components=[
                ComponentSpec("Biotin 5 mg/mL ampoule", ml("1"), product_id=demo.products["biotin"])
            ],
        )
        app.open_patient(demo.patients["moreau"])
        await settle(pilot)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, SessionScreen))
        screen = screen_of(app)
        assert isinstance(screen, SessionScreen)
        assert "1 mL prepared" in screen_text(pilot)
        await _type(pilot, "#zone-vertex", "2 mL")
        assert "MORE than the 1 mL prepared" in _zone_check(screen)
        await _type(pilot, "#zone-vertex", "0.75 mL")
        assert "Total 0.75 mL of 1 mL prepared" in _zone_check(screen)


async def test_a_signed_session_shows_no_example_values(demo: Demo, make_app: MakeApp) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        chart = app.store.load_chart(user_of(app), demo.patients["dubois"])
        signed = max(
            (s for s in chart.sessions if s.signature is not None),
            key=lambda s: (s.performed_at, s.id),
        )
        app.push_screen(SessionScreen(demo.patients["dubois"], session_id=signed.id))
        await until(pilot, lambda: getattr(app.screen, "_ready", False))
        screen = screen_of(app)
        assert isinstance(screen, SessionScreen) and screen.read_only
        # What was not recorded is empty: an example in a closed record reads as data
        # ("e.g. bruising: mild" under adverse events of a session that had none).
        for field in screen.query("#session-body Input").results(Input):
            assert field.disabled and field.placeholder == "", field.id
        assert "e.g." not in screen_text(pilot)


async def test_the_title_keeps_the_course_count_once_the_draft_is_saved(
    demo: Demo, make_app: MakeApp
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_new_session(app, pilot, demo)
        await until(pilot, lambda: screen.session_id is not None)
        await until(pilot, lambda: "saved at" in screen_text(pilot))
        title = str(screen.query_one("#session-title", Static).render())
        assert title.startswith("session 3 of 8 · "), title
