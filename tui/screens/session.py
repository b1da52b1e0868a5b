"""Record a session: lots, scalp zones, procedure, then review and sign with the password.

A new session starts from the current formulation version with a lot proposed for
every component. Every change is saved as a draft through the Store (so a crash or a
lock loses nothing); a signed session is read-only and only takes signed addenda.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, Header, Input, Select, Static

from formulary import session_fields
from formulary.export.display import show_local_time
from formulary.preparation import (
    DrawnLot,
    Syringe,
    ZoneCheck,
    check_zones,
    lot_refusal,
    lot_state,
    prepared_volume,
    propose_lot,
    syringe,
)
from formulary.records import (
    AdverseEvent,
    FormulationVersion,
    Lot,
    PatientChart,
    ScalpZone,
    Session,
    SessionStatus,
    SimpleValue,
    Technique,
    ZoneVolume,
)
from formulary.schedule import summarize
from formulary.session_fields import INJECTION_POINTS, NEEDLE_GAUGE, PAIN_SCORE, Kind
from formulary.units import UnitsError, format_amount, parse_quantity
from formulary.units.amount import Amount
from tui.messages import Loaded, WorkerFailed
from tui.screens.base import AppScreen, defer_until_typed
from tui.screens.form_guard import DiscardChangesScreen
from tui.styles import STYLES
from tui.widgets.field_row import FieldRow
from tui.widgets.key_footer import KeyFooter
from tui.widgets.lot_picker import LotPicker
from tui.widgets.patient_header import PatientHeader
from tui.widgets.syringe_table import SyringeTable
from tui.widgets.text_input import TextInput
from tui.widgets.zone_map import LABELS, ZoneMap

if TYPE_CHECKING:
    from db.store import SessionDraft
    from formulary.safety import Findings

#: Seconds of calm after the last change before the draft is saved.
AUTOSAVE_DELAY = 0.8


@dataclass
class SessionData:
    """What the screen was opened with (read through the Store)."""

    chart: PatientChart
    version: FormulationVersion
    session: Session | None
    lots: dict[int, list[Lot]] = field(default_factory=dict)  # by component position


def _text(value: Any) -> str:
    return "" if value is None else str(value)


#: Simple session fields declared with nothing but their declaration: each gets an
#: input made from it (below the notes), read and range-checked by its kind.
_DECLARED_ONLY = session_fields.others_of(Session)


def _hint(declared: session_fields.SessionField) -> str:
    if declared.range is not None:
        return f"{declared.range.low} to {declared.range.high}"
    if declared.kind is Kind.AMOUNT:
        return "a quantity with its unit"
    return ""


def _capital(label: str) -> str:
    return label[:1].upper() + label[1:]


class SessionScreen(AppScreen):
    """A session of ``patient_id``: a new draft, a draft resumed, or a signed record."""

    CSS_PATH = STYLES / "session.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="session.back"),
        Binding("ctrl+s", "save_draft", "Save draft", id="session.save", priority=True),
        Binding("ctrl+g", "sign", "Review and sign", id="session.sign"),
        Binding("ctrl+d", "addendum", "Addendum", id="session.addendum"),
        Binding("f9", "print_label", "Label", id="session.label"),
        Binding("f10", "discard_draft", "Discard draft", id="session.discard"),
    ]

    class Saved(Message):
        """The Store holds the draft (or the signed session)."""

        def __init__(self, session: Session, signed: bool = False) -> None:
            self.session = session
            self.signed = signed
            super().__init__()

    class ReadyToSign(Message):
        """The draft is saved and the safety rules have spoken."""

        def __init__(self, draft: SessionDraft, review: str, findings: Findings) -> None:
            self.draft = draft
            self.review = review
            self.findings = findings
            super().__init__()

    class Discarded(Message):
        """The draft was discarded (or had never been saved)."""

    def __init__(self, patient_id: int, session_id: int | None = None) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.session_id = session_id
        self.data: SessionData | None = None
        self.read_only = False
        self._performed_at: datetime | None = None
        self._save_lock = threading.Lock()
        self._autosave_timer: Timer | None = None
        self._zone_check: ZoneCheck | None = None
        self._ready = False
        #: Discarded: nothing more is saved, whatever is typed or pressed.
        self._discarded = False
        #: The signed-in user's role may sign (an assistant prepares, never signs).
        self.can_sign = True
        #: What the last saved draft could not keep (fields that cannot be read).
        self._not_saved: list[str] = []

    # -- building the form ------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield PatientHeader("Loading…", id="session-patient")
        with VerticalScroll(id="session-body"):
            yield Static("", id="session-title", classes="section-title")
            yield Static("", id="session-status")
            yield Static("", id="session-role-note", classes="-empty")
            # Shown once they have something to say (a signed session): an empty line
            # each would push the form down, which counts at 80x24.
            yield Static("", id="session-signature", classes="-empty")
            yield Static("", id="session-addenda", classes="-empty")
            yield Static("In the syringe: components, amounts and lots", classes="section-title")
            yield SyringeTable(id="session-syringe")
            yield Static("Lot drawn for each product", id="lots-title", classes="section-title")
            yield VerticalScroll(id="session-lots")
            yield Static("Scalp zones (volume injected per zone)", classes="section-title")
            yield ZoneMap(id="session-zones")
            yield Static("Procedure", classes="section-title")
            yield FieldRow(
                "Technique",
                Select([(t.value.replace("_", "-"), t) for t in Technique], id="s-technique"),
                id="row-technique",
            )
            yield FieldRow(
                "Needle gauge", TextInput(id="s-gauge", placeholder="e.g. 32"), id="row-gauge"
            )
            yield FieldRow(
                "Needle length", TextInput(id="s-length", placeholder="e.g. 4 mm"), id="row-length"
            )
            yield FieldRow(
                "Depth", TextInput(id="s-depth", placeholder="e.g. 1 mm"), id="row-depth"
            )
            yield FieldRow(
                "Anaesthesia",
                TextInput(id="s-anaesthesia", placeholder="e.g. none"),
                id="row-anaesthesia",
            )
            yield FieldRow(
                "Pain score", TextInput(id="s-pain", placeholder="0 to 10"), id="row-pain"
            )
            yield FieldRow(
                "Adverse events",
                TextInput(id="s-adverse", placeholder="e.g. bruising: mild; none if none"),
                id="row-adverse",
            )
            yield FieldRow("Post-care given", TextInput(id="s-postcare"), id="row-postcare")
            yield FieldRow("Notes", TextInput(id="s-notes"), id="row-notes")
            for declared in _DECLARED_ONLY:
                yield FieldRow(
                    _capital(declared.label),
                    TextInput(id=f"s-field-{declared.name}", placeholder=_hint(declared)),
                    id=f"row-field-{declared.name}",
                )
            with Horizontal(id="session-buttons"):
                yield Button("Save draft (ctrl+s)", id="save-draft")
                yield Button("Review and sign (ctrl+g)", id="sign", variant="primary")
                yield Button("Addendum (ctrl+d)", id="addendum")
        yield KeyFooter()

    def on_mount(self) -> None:
        from db.store.roles import SIGNERS

        self.can_sign = self.user.role in SIGNERS
        self._load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Show only the keys that apply: drafts save and sign, signed sessions take addenda.
        # A role that cannot sign sees the signing keys greyed out (None), not hidden:
        # the note at the top of the screen says who signs.
        if action in {"save_draft", "discard_draft"}:
            return not self.read_only
        if action == "sign":
            return (None if not self.can_sign else True) if not self.read_only else False
        if action == "addendum":
            return (None if not self.can_sign else True) if self.read_only else False
        return True

    def on_key(self, event: events.Key) -> None:
        # A greyed-out signing key still answers when pressed: it says who signs, instead
        # of doing nothing (Textual drops the press of a disabled binding silently).
        active = self.app.active_bindings.get(event.key)
        if (
            active is not None
            and active.node is self
            and not active.enabled
            and active.binding.action in {"sign", "addendum"}
            and not self.can_sign
        ):
            event.stop()
            self.notify(self._cannot_sign(), title="Who signs", severity="warning", timeout=10)

    def _cannot_sign(self) -> str:
        """Who signs, said to a user whose role cannot (before any password is typed)."""
        role = self.user.role.value
        who = f"You are signed in as {'an' if role[0] in 'aeiou' else 'a'} {role}"
        if self.read_only:
            return f"{who}: only a practitioner or an administrator adds a signed addendum."
        return (
            f"{who}: you can prepare and save this draft (ctrl+s); a practitioner or an "
            "administrator reviews and signs it."
        )

    def _show_role_note(self) -> None:
        note = self.query_one("#session-role-note", Static)
        note.set_class(self.can_sign, "-empty")
        if not self.can_sign:
            note.update(Text(self._cannot_sign()))
        sign = self.query_one("#sign", Button)
        sign.disabled = not self.can_sign
        if not self.can_sign:
            sign.label = "Review and sign (practitioner)"
        self.query_one("#addendum", Button).disabled = not self.can_sign

    @work(thread=True, exclusive=True, group="session-load")
    def _load(self) -> None:
        try:
            chart = self.store.load_chart(self.user, self.patient_id)
            session = None
            if self.session_id is not None:
                session = next((s for s in chart.sessions if s.id == self.session_id), None)
                if session is None:
                    session = self.store.get_session(self.user, self.session_id)
                version = next(
                    (
                        v
                        for v in chart.formulation_versions
                        if v.id == session.formulation_version_id
                    ),
                    None,
                ) or self.store.get_formulation_version(self.user, session.formulation_version_id)
            else:
                versions = sorted(chart.formulation_versions, key=lambda v: (v.created_at, v.id))
                if not versions:
                    raise LookupError("this patient has no formulation yet: write one first")
                version = versions[-1]
            data = SessionData(chart, version, session)
            for component in version.components:
                if component.product_id is not None:
                    data.lots[component.position] = self.store.list_lots(
                        self.user, component.product_id
                    )
        except Exception as exc:
            self.post_message(WorkerFailed(str(exc), title="Cannot open the session"))
            return
        self.post_message(Loaded(data))

    @on(Loaded)
    def _loaded(self, message: Loaded[SessionData]) -> None:
        data = self.data = message.data
        session = data.session
        self.read_only = session is not None and session.status is SessionStatus.SIGNED
        self._performed_at = session.performed_at if session else self.formulary_app.now()
        self.query_one(PatientHeader).show(
            data.chart.patient, self.formulary_app.today(), data.chart.consents
        )
        self._show_title()
        lots_box = self.query_one("#session-lots", VerticalScroll)
        chosen = {use.component_id: use.lot_id for use in (session.lots if session else ())}
        day = self._performed_at.date()
        pickers = []
        for component in sorted(data.version.components, key=lambda c: c.position):
            if component.product_id is None:
                continue  # an ingredient added by amount has no lot of its own here
            lots = data.lots.get(component.position, [])
            pick = chosen.get(component.position)
            if pick is None and not self.read_only:
                proposed = propose_lot(lots, day)
                pick = proposed.id if proposed else None
            pickers.append(
                LotPicker(
                    component,
                    lots,
                    pick,
                    day,
                    read_only=self.read_only,
                )
            )
        lots_box.mount_all(pickers)
        # A signed session's lots are in the table; a version of ingredients alone has
        # no lot to choose.
        lots_box.display = not self.read_only and bool(pickers)
        self.query_one("#lots-title").display = lots_box.display
        self._show_syringe()
        if session is not None:
            self._fill(session)
        if self.read_only:
            self._lock_fields(session)
        self.query_one("#addendum", Button).display = self.read_only
        self.query_one("#save-draft", Button).display = not self.read_only
        self.query_one("#sign", Button).display = not self.read_only
        self._show_role_note()
        self._ready = True
        self.refresh_bindings()
        self.call_after_refresh(self._check_zones)
        if not self.read_only and session is None:
            self._schedule_save()  # a new draft exists from the first moment

    def syringe(self) -> Syringe:
        """Every component with its amounts and the lot chosen (or recorded)."""
        assert self.data is not None
        drawn: dict[int, DrawnLot] = {}
        session = self.data.session
        known = {lot.id: lot for lots in self.data.lots.values() for lot in lots}
        day = (self._performed_at or self.formulary_app.now()).date()
        if self.read_only and session is not None:
            for use in session.lots:
                # A signed session keeps its lot; one recalled since is flagged (the
                # expiry was checked when it was signed).
                stored = known.get(use.lot_id)
                state = lot_state(stored, day) if stored is not None else ""
                drawn[use.component_id] = DrawnLot(
                    use.lot_number,
                    use.expiry,
                    state if state in {"recalled", "quarantined"} else "",
                )
        else:
            for picker in self.query(LotPicker):
                lot = known.get(picker.lot_id) if picker.lot_id is not None else None
                if lot is not None:
                    refused = lot_refusal(lot, day) is not None
                    drawn[picker.component.position] = DrawnLot(
                        lot.lot_number, lot.expiry, lot_state(lot, day) if refused else ""
                    )
        products = {p.id: p for p in self.data.chart.products}
        return syringe(self.data.version, products, drawn)

    def _show_syringe(self) -> None:
        self.query_one(SyringeTable).show(self.syringe())

    def _show_title(self) -> None:
        assert self.data is not None and self._performed_at is not None
        version = self.data.version
        when = show_local_time(self._performed_at)
        summary = summarize(
            self.data.chart.patient, self.data.chart.courses, self.data.chart.sessions
        )
        number = ""
        session = self.data.session
        if session is not None and session.session_number:
            # The same words before and after the draft is first saved (a second later).
            planned = next(
                (c.planned_sessions for c in self.data.chart.courses if c.id == session.course_id),
                None,
            )
            of = f" of {planned}" if planned else ""
            number = f"session {session.session_number}{of} · "
        elif summary.course is not None:
            number = f"session {summary.sessions_done + 1} of {summary.course.planned_sessions} · "
        volume = prepared_volume(version)
        prepared = f", {format_amount(volume)} prepared" if volume else ""
        self.query_one("#session-title", Static).update(
            Text(f"{number}{when} · {version.formulation_name} v{version.version}{prepared}")
        )
        status = "SIGNED (read-only)" if self.read_only else "Draft"
        if self.data.session is not None and not self.read_only:
            status = f"Draft {self.data.session.id} (saved)"
        self.query_one("#session-status", Static).update(status)

    def _fill(self, session: Session) -> None:
        zone_map = self.query_one(ZoneMap)
        zone_map.set_volumes(
            {z.zone: format_amount(z.volume) for z in session.zones},
            {z.zone: str(z.points) for z in session.zones if z.points is not None},
        )
        values = {
            "s-gauge": _text(session.needle_gauge),
            "s-length": format_amount(session.needle_length) if session.needle_length else "",
            "s-depth": format_amount(session.depth) if session.depth else "",
            "s-anaesthesia": session.anaesthesia,
            "s-pain": _text(session.pain_score),
            "s-adverse": "; ".join(
                a.kind + (f": {a.severity}" if a.severity else "") for a in session.adverse_events
            ),
            "s-postcare": session.post_care,
            "s-notes": session.notes,
        }
        for declared in _DECLARED_ONLY:
            shown = declared.of(session)
            values[f"s-field-{declared.name}"] = (
                format_amount(shown) if isinstance(shown, Amount) else _text(shown)
            )
        for field_id, value in values.items():
            widget = self.query_one(f"#{field_id}", Input)
            with widget.prevent(Input.Changed):
                widget.value = value
        if session.technique is not None:
            technique = self.query_one("#s-technique", Select)
            with technique.prevent(Select.Changed):
                technique.value = session.technique

    def _lock_fields(self, session: Session | None) -> None:
        for widget in self.query("#session-body Input, #session-body Select"):
            widget.disabled = True
            if isinstance(widget, Input):
                # An example in a closed record reads as data: "e.g. bruising: mild"
                # under the adverse events of a session that had none.
                widget.placeholder = ""
        if session is not None and session.signature is not None:
            sig = session.signature
            self.query_one("#session-signature", Static).remove_class("-empty")
            signed = Text(
                f"Signed by {sig.signer.full_name} ({sig.meaning}) on "
                f"{show_local_time(sig.signed_at)}",
                style="bold",
            )
            preparer = session.prepared_by
            if preparer is not None:
                # An assistant's draft is signed by a practitioner: both are on record.
                signed.append(f"\nPrepared by {preparer.full_name} ({preparer.username})")
            self.query_one("#session-signature", Static).update(signed)
        if session is not None and session.addenda:
            text = Text("Addenda\n", style="bold")
            for a in session.addenda:
                text.append(
                    f"{show_local_time(a.signature.signed_at)} "
                    f"{a.signature.signer.full_name}: {a.text}  (reason: {a.reason})\n",
                    style="",
                )
            self.query_one("#session-addenda", Static).remove_class("-empty")
            self.query_one("#session-addenda", Static).update(text)

    # -- reading the form -------------------------------------------------------------

    def _zones(self, errors: dict[str, str]) -> dict[ScalpZone, Amount]:
        zones: dict[ScalpZone, Amount] = {}
        for zone, text in self.query_one(ZoneMap).volumes().items():
            try:
                zones[zone] = parse_quantity(text, kind="volume")
            except UnitsError as exc:
                errors[f"zone-{zone.value}"] = f"{zone.value.replace('_', ' ')}: {exc}"
        return zones

    def _points(self, errors: dict[str, str]) -> dict[ScalpZone, int]:
        points: dict[ScalpZone, int] = {}
        for zone, text in self.query_one(ZoneMap).points().items():
            where = f" in the {zone.value.replace('_', ' ')} zone"
            number = int(text) if text.isdigit() else None
            problem = INJECTION_POINTS.problem(number, where) if number is not None else (
                f"the {INJECTION_POINTS.label}{where} must be a whole number such as 20"
            )
            if problem is not None:
                errors[f"points-{zone.value}"] = problem[0].upper() + problem[1:] + "."
            elif number is not None:
                points[zone] = number
        return points

    def _draft(self) -> tuple[SessionDraft, dict[str, str]]:
        """The draft as typed so far, and a message per field that could not be read."""
        from db.store import LotChoice, SessionDraft

        assert self.data is not None and self._performed_at is not None
        errors: dict[str, str] = {}
        zones = self._zones(errors)
        points = self._points(errors)
        total: Amount | None = None
        if zones and not any(k.startswith("zone-") for k in errors):
            total = check_zones(zones, prepared_volume(self.data.version)).total

        def value(field_id: str) -> str:
            return self.query_one(f"#{field_id}", Input).value.strip()

        def amount(field_id: str, row: str, kind: str) -> Amount | None:
            text = value(field_id)
            if not text:
                return None
            try:
                return parse_quantity(text, kind=kind)
            except UnitsError as exc:
                errors[row] = str(exc)
                return None

        # The ranges are the Store's own (formulary.session_fields), checked as typed.
        gauge: int | None = None
        if value("s-gauge"):
            if value("s-gauge").isdigit() and NEEDLE_GAUGE.problem(int(value("s-gauge"))) is None:
                gauge = int(value("s-gauge"))
            else:
                errors["row-gauge"] = (
                    f"A gauge from {NEEDLE_GAUGE.low} to {NEEDLE_GAUGE.high} (e.g. 32)."
                )
        pain: int | None = None
        if value("s-pain"):
            if value("s-pain").isdigit() and PAIN_SCORE.problem(int(value("s-pain"))) is None:
                pain = int(value("s-pain"))
            else:
                errors["row-pain"] = (
                    f"A whole number from {PAIN_SCORE.low} to {PAIN_SCORE.high}."
                )
        others = self._declared_only(value, amount, errors)
        adverse = tuple(
            AdverseEvent(kind.strip(), severity.strip())
            for kind, _, severity in (
                part.partition(":") for part in value("s-adverse").split(";") if part.strip()
            )
            if kind.strip().lower() not in {"none", "nil", "no"}
        )
        technique = self.query_one("#s-technique", Select).value
        course = summarize(
            self.data.chart.patient, self.data.chart.courses, self.data.chart.sessions
        )
        session = self.data.session
        lots = tuple(
            LotChoice(picker.component.position, picker.lot_id)
            for picker in self.query(LotPicker)
            if picker.lot_id is not None
        )
        draft = SessionDraft(
            patient_id=self.patient_id,
            formulation_version_id=self.data.version.id,
            performed_at=self._performed_at,
            course_id=session.course_id
            if session
            else (course.course.id if course.course else None),
            session_number=(
                session.session_number
                if session
                else (course.sessions_done + 1 if course.course else None)
            ),
            technique=technique if isinstance(technique, Technique) else None,
            needle_gauge=gauge,
            needle_length=amount("s-length", "row-length", "length"),
            depth=amount("s-depth", "row-depth", "length"),
            total_volume=total,
            zones=tuple(ZoneVolume(z, a, points.get(z)) for z, a in zones.items()),
            lots=lots,
            anaesthesia=value("s-anaesthesia"),
            pain_score=pain,
            adverse_events=adverse,
            post_care=value("s-postcare"),
            notes=value("s-notes"),
            others=others,
        )
        return draft, errors

    @staticmethod
    def _declared_only(
        value: Callable[[str], str],
        amount: Callable[[str, str, str], Amount | None],
        errors: dict[str, str],
    ) -> dict[str, SimpleValue]:
        """The inputs made from the declaration, read by kind and checked by its range."""
        out: dict[str, SimpleValue] = {}
        for declared in _DECLARED_ONLY:
            field_id, row = f"s-field-{declared.name}", f"row-field-{declared.name}"
            text = value(field_id)
            if declared.kind is Kind.AMOUNT:
                out[declared.name] = amount(field_id, row, declared.dimension)
                continue
            if declared.kind is Kind.INT:
                number = int(text) if text.isdigit() else None
                out[declared.name] = number
                if not text:
                    continue
                problem = (
                    declared.problem(number) if number is not None
                    else f"the {declared.label} must be a whole number"
                )
            else:
                out[declared.name] = text
                problem = declared.problem(text)
            if problem is not None:
                out[declared.name] = declared.empty
                errors[row] = _capital(problem) + "."
        return out

    def _show_errors(self, errors: dict[str, str]) -> None:
        for row in self.query(FieldRow):
            row.set_error(errors.get(row.id or "", ""))

    def _unreadable(self, errors: dict[str, str]) -> list[tuple[str, str, str]]:
        """(field name, text typed, what is wrong) of each field the draft cannot keep."""
        found = []
        zone_map = self.query_one(ZoneMap)
        for key, message in errors.items():
            kind, _, rest = key.partition("-")
            if kind in {"zone", "points"}:
                zone = ScalpZone(rest)
                name = f"{LABELS[zone]} {'volume' if kind == 'zone' else 'points'}"
                typed = (zone_map.volumes() if kind == "zone" else zone_map.points()).get(zone, "")
            else:
                row = self.query_one(f"#{key}", FieldRow)
                name = row.label
                typed = str(row.query_one(".field", Input).value)
            found.append((name, typed, message))
        return found

    # -- reacting to changes ----------------------------------------------------------

    @on(Input.Changed)
    @on(Select.Changed)
    @on(ZoneMap.Changed)
    @on(LotPicker.Changed)
    def _changed(self, event: Message) -> None:
        if not self._ready or self.read_only:
            return
        if isinstance(event, ZoneMap.Changed):
            self._check_zones()
        if isinstance(event, LotPicker.Changed):
            self._show_syringe()
        self._schedule_save()

    def _check_zones(self) -> None:
        if self.data is None:
            return
        errors: dict[str, str] = {}
        zones = self._zones(errors)
        points = self._points(errors)
        zone_map = self.query_one(ZoneMap)
        zone_map.show_per_point(
            {
                zone: f"{format_amount(each, significant=3)} each"
                for zone, volume in zones.items()
                if (each := ZoneVolume(zone, volume, points.get(zone)).volume_per_point)
            }
        )
        if errors:
            self._zone_check = None
            zone_map.show_check(next(iter(errors.values())), ok=False)
            return
        # Without a final volume the syringe holds what was drawn: more than that
        # cannot have been injected either.
        self._zone_check = check_zones(zones, prepared_volume(self.data.version))
        zone_map.show_check(self._zone_check.message, self._zone_check.ok)

    def on_screen_suspend(self) -> None:
        # Covered by the lock screen or a dialog: what was typed is saved now rather
        # than when the autosave timer fires behind the cover.
        if self._autosave_timer is not None:
            self.action_save_draft()

    def _schedule_save(self) -> None:
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
        self._autosave_timer = self.set_timer(AUTOSAVE_DELAY, self.action_save_draft)

    def action_save_draft(self) -> None:
        """Save what is typed as a draft now (it is also saved as you type)."""
        if defer_until_typed(self, self.action_save_draft):
            return
        if self.read_only or self.data is None or self._discarded:
            return
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
            self._autosave_timer = None
        draft, errors = self._draft()
        self._show_errors(errors)
        self._not_saved = [name for name, _, _ in self._unreadable(errors)]
        self._save(draft)

    def _store_draft(self, draft: SessionDraft) -> Session:
        # One save at a time, so that the first save's new id is used by the next.
        with self._save_lock:
            saved: Session = self.store.save_session_draft(self.user, draft, self.session_id)
            self.session_id = saved.id
            return saved

    @work(thread=True, group="session-save")
    def _save(self, draft: SessionDraft) -> None:
        try:
            saved = self._store_draft(draft)
        except Exception as exc:
            self.post_message(
                WorkerFailed(f"{exc}. What you typed is kept.", title="Draft not saved")
            )
            return
        self.post_message(self.Saved(saved))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        if self.data is None:
            return
        self.data.session = message.session
        if message.signed:
            self.notify(
                "Session signed. It is now read-only; corrections are addenda.", title="Signed"
            )
            self.read_only = True
            self._lock_fields(message.session)
            self.query_one("#addendum", Button).display = True
            self.query_one("#save-draft", Button).display = False
            self.query_one("#sign", Button).display = False
            for picker in self.query(LotPicker):
                picker.query_one(Select).disabled = True
            self.query_one("#session-lots").display = False
            self.query_one("#lots-title").display = False
            self._show_syringe()
            self.refresh_bindings()
        at = self.formulary_app.now().strftime("%H:%M:%S")
        self._show_title()
        if not self.read_only:
            status = Text(f"Draft {message.session.id} saved at {at}")
            if self._not_saved:
                # Never silently: what cannot be read is on screen, not in the draft.
                status.append(
                    f"; NOT saved until corrected: {', '.join(self._not_saved)} "
                    "(correct them to keep them)",
                    style=f"bold {self.app.current_theme.error}",
                )
            self.query_one("#session-status", Static).update(status)

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        self.notify(message.reason, title=message.title, severity="error", timeout=12)

    # -- signing ----------------------------------------------------------------------

    def _sign_problems(self, draft: SessionDraft, errors: dict[str, str]) -> list[str]:
        problems = list(errors.values())
        if draft.technique is None:
            problems.append("Choose the technique.")
        if self._zone_check is None or not self._zone_check.ok:
            problems.append(
                self._zone_check.message if self._zone_check else "Correct the zone volumes."
            )
        for picker in self.query(LotPicker):
            if picker.lot_id is None:
                problems.append(f"No usable lot for {picker.component.name}.")
        return problems

    @on(Button.Pressed, "#sign")
    def action_sign(self) -> None:
        """Review the session and sign it with your password."""
        if defer_until_typed(self, self.action_sign):
            return
        if self.read_only or self.data is None:
            return
        if not self.can_sign:
            self.notify(self._cannot_sign(), title="Who signs", severity="warning", timeout=10)
            return
        draft, errors = self._draft()
        self._show_errors(errors)
        problems = self._sign_problems(draft, errors)
        if problems:
            self.notify(
                "\n".join(problems), title="Not ready to sign", severity="warning", timeout=12
            )
            return
        self._prepare_signing(draft, self._review(draft))

    @work(thread=True, exclusive=True, group="session-sign")
    def _prepare_signing(self, draft: SessionDraft, review: str) -> None:
        # Save what is on screen, then ask the safety rules what signing it would raise.
        try:
            saved = self._store_draft(draft)
            findings = self.store.check_session(self.user, saved.id)
        except Exception as exc:
            self.post_message(WorkerFailed(f"{exc}. The draft is kept.", title="Cannot sign yet"))
            return
        self.post_message(self.ReadyToSign(draft, review, findings))

    @on(ReadyToSign)
    def _ready_to_sign(self, message: ReadyToSign) -> None:
        from tui.screens.sign_session import SignSessionScreen

        def signed(session: Session | None) -> None:
            if session is not None:
                self.post_message(self.Saved(session, signed=True))

        self.app.push_screen(
            SignSessionScreen(
                message.review,
                message.findings,
                sign=partial(self._sign_now, message.draft),
                syringe=self.syringe(),
            ),
            signed,
        )

    def _review(self, draft: SessionDraft) -> str:
        assert self.data is not None
        # What is in the syringe is the table above this text (SignSessionScreen).
        lines = [f"{self.data.chart.patient.display_name} ({self.data.chart.patient.chart_number})"]
        # Who prepared it (an assistant's draft is signed by a practitioner): the saved
        # draft's author, or whoever saves it first now.
        saved = self.data.session
        preparer = saved.prepared_by if saved is not None else None
        if preparer is None:
            preparer = self.user.practitioner
        lines.append(f"Prepared by {preparer.full_name} ({preparer.username})")
        zones = ", ".join(
            f"{z.zone.value.replace('_', ' ')} {format_amount(z.volume)}"
            + (f" in {z.points} points" if z.points is not None else "")
            for z in draft.zones
        )
        lines.append(f"Zones: {zones}")
        if self._zone_check is not None:
            lines.append(self._zone_check.message)
        lines.append(
            "Technique "
            + (draft.technique.value.replace("_", "-") if draft.technique else "not chosen")
            + (f", {draft.needle_gauge}G" if draft.needle_gauge else "")
            + (f", needle {format_amount(draft.needle_length)}" if draft.needle_length else "")
            + (f", depth {format_amount(draft.depth)}" if draft.depth else "")
        )
        if draft.pain_score is not None:
            lines.append(f"Pain {draft.pain_score}/10")
        lines.append(
            "Adverse events: "
            + ("; ".join(a.kind for a in draft.adverse_events) if draft.adverse_events else "none")
        )
        return "\n".join(lines)

    def _sign_now(
        self, draft: SessionDraft, password: str, acknowledge: bool, override_reason: str
    ) -> Session:
        """Save ``draft`` and sign it (called in the signing dialog's worker thread)."""
        saved = self._store_draft(draft)
        return self.store.sign_session(
            self.user,
            saved.id,
            password,
            acknowledge=acknowledge,
            override_reason=override_reason or None,
        )

    # -- after signing ----------------------------------------------------------------

    @on(Button.Pressed, "#addendum")
    def action_addendum(self) -> None:
        """Add a signed correction to this signed session (with a reason)."""
        from tui.screens.addendum import AddendumScreen

        if not self.read_only or self.session_id is None:
            self.notify(
                "Only a signed session takes addenda; a draft is edited directly.",
                severity="warning",
            )
            return
        if not self.can_sign:
            self.notify(self._cannot_sign(), title="Who signs", severity="warning", timeout=10)
            return

        def added(session: Session | None) -> None:
            if session is not None and self.data is not None:
                self.data.session = session
                self._lock_fields(session)
                self.notify("Addendum signed and added.", title="Addendum")

        self.app.push_screen(AddendumScreen(self.session_id), added)

    @on(Button.Pressed, "#save-draft")
    def _save_pressed(self) -> None:
        self.action_save_draft()

    def action_print_label(self) -> None:
        """Print the syringe label of this session (it must be saved first)."""
        from tui.screens.label_dialog import LabelDialog

        if self.session_id is None:
            self.notify("Save the draft first (ctrl+s): the label carries its session number.",
                        title="Label")
            return
        self.app.push_screen(LabelDialog(self.session_id))

    def action_discard_draft(self) -> None:
        """Throw this draft away (asks first; the reason is kept in the audit trail)."""
        from tui.screens.confirm import ConfirmScreen

        if self.read_only or self.data is None:
            return

        def answered(reason: str | None) -> None:
            if reason:
                self._discarded = True
                if self._autosave_timer is not None:
                    self._autosave_timer.stop()
                    self._autosave_timer = None
                self._discard(reason)

        self.app.push_screen(
            ConfirmScreen(
                "Discard this draft?",
                "Everything typed in this session is discarded and it leaves the chart. "
                "It was never signed; the audit trail keeps the draft and your reason.",
                action="Discard draft",
            ),
            answered,
        )

    @work(thread=True, group="session-save")
    def _discard(self, reason: str) -> None:
        try:
            # After any save under way, so that the draft it creates is the one discarded.
            with self._save_lock:
                if self.session_id is not None:
                    self.store.discard_draft(self.user, self.session_id, reason)
        except Exception as exc:
            self._discarded = False
            self.post_message(
                WorkerFailed(f"{exc}. The draft is kept.", title="Draft not discarded")
            )
            return
        self.post_message(self.Discarded())

    @on(Discarded)
    def _was_discarded(self) -> None:
        self.notify("The draft was discarded.", title="Discarded")
        if self.is_current:
            self.app.pop_screen()

    def action_back(self) -> None:
        """Back to the chart (the draft is saved first; asks before losing what it cannot keep)."""
        if self._discarded:
            return
        if self.read_only or self.data is None:
            self.app.pop_screen()
            return
        draft, errors = self._draft()
        self._show_errors(errors)
        unreadable = self._unreadable(errors)
        if not unreadable:
            self._close(draft)
            return
        lines = "\n".join(f"  {name} \u201c{typed}\u201d: {why}" for name, typed, why in unreadable)
        detail = (
            "The draft is saved, but it cannot keep what these fields hold:\n"
            f"{lines}\n"
            "Keep editing to correct them, or discard them and close the session."
        )

        def answered(discard: bool | None) -> None:
            if discard:
                self._close(draft)

        self.app.push_screen(DiscardChangesScreen("the session", detail), answered)

    def _close(self, draft: Any) -> None:
        if self._autosave_timer is not None:
            self._autosave_timer.stop()
            self._autosave_timer = None
        # The app owns this save: it must finish even though this screen closes, and a
        # refusal must reach the user as a notice, not end the app.
        app = self.app

        def save_on_close() -> None:
            try:
                self._store_draft(draft)
            except Exception as exc:
                app.call_from_thread(
                    app.notify,
                    f"{exc}. The session was closed; open it again from the chart and "
                    "re-enter what was not saved.",
                    title="Draft not saved",
                    severity="error",
                    timeout=30,
                )

        app.run_worker(save_on_close, thread=True, group="session-save-on-close")
        app.pop_screen()
