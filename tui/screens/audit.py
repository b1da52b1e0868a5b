"""The audit trail: filter by patient, user, action and date; see before and after;
verify the whole chain in a worker with a progress bar."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from datetime import time as day_time
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, ProgressBar, Static

from tui.screens.base import AppScreen
from tui.screens.patient_form import parse_date
from tui.styles import STYLES

#: Entries read per query (newest first); filters narrow them.
PAGE = 500


def mentions_patient(entry: Any, patient_id: int) -> bool:
    """True when an audit entry is about the patient or one of the patient's records."""
    if entry.entity == "patient" and str(entry.entity_id) == str(patient_id):
        return True
    return any(
        isinstance(image, dict) and image.get("patient_id") == patient_id
        for image in (entry.before, entry.after)
    )


def _image(image: dict[str, Any] | None) -> str:
    if image is None:
        return "—"
    return json.dumps(image, indent=1, sort_keys=True, ensure_ascii=False, default=str)


class AuditScreen(AppScreen):
    """Read-only view of the audit trail, and its verification."""

    CSS_PATH = STYLES / "audit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="audit.back"),
        Binding("f8", "verify_audit", "Verify chain", id="audit.verify"),
        Binding("ctrl+f", "focus_filters", "Filter", id="audit.filter"),
    ]

    class Loaded(Message):
        """Entries matching the filters."""

        def __init__(self, entries: Sequence[Any], note: str) -> None:
            self.entries = entries
            self.note = note
            super().__init__()

    class Progress(Message):
        """Verification progress."""

        def __init__(self, done: int, total: int) -> None:
            self.done = done
            self.total = total
            super().__init__()

    class Verified(Message):
        """Verification finished; ``summary`` is for people, ``ok`` says which colour."""

        def __init__(self, ok: bool, summary: str) -> None:
            self.ok = ok
            self.summary = summary
            super().__init__()

    class Failed(Message):
        """Reading or verifying failed."""

        def __init__(self, reason: str) -> None:
            self.reason = reason
            super().__init__()

    def __init__(self, verify_now: bool = False) -> None:
        super().__init__()
        self._verify_now = verify_now
        self._entries: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="audit-filters"):
            yield Input(id="filter-patient", placeholder="patient chart no.")
            yield Input(id="filter-user", placeholder="user")
            yield Input(id="filter-action", placeholder="action, e.g. session.")
            yield Input(id="filter-from", placeholder="from YYYY-MM-DD")
            yield Input(id="filter-to", placeholder="to YYYY-MM-DD")
        yield Static("", id="audit-note")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="audit-detail"):
            with VerticalScroll(id="audit-before-box"):
                yield Static("Before", classes="section-title")
                yield Static("", id="audit-before")
            with VerticalScroll(id="audit-after-box"):
                yield Static("After", classes="section-title")
                yield Static("", id="audit-after")
        with Horizontal(id="audit-verify"):
            yield ProgressBar(id="verify-progress", show_eta=False)
            yield Static("Verify the chain: f8", id="verify-result")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Audit trail"
        self.query_one(DataTable).add_columns(
            "Seq", "When (UTC)", "User", "Action", "Entity", "Reason"
        )
        self.query_one("#verify-progress", ProgressBar).display = False
        self._reload()
        if self._verify_now:
            self.action_verify_audit()

    # -- reading ----------------------------------------------------------------------

    def _filters(self) -> tuple[dict[str, Any], str | None, list[str]]:
        def value(field_id: str) -> str:
            return self.query_one(f"#{field_id}", Input).value.strip()

        problems: list[str] = []
        query: dict[str, Any] = {"limit": PAGE}
        if value("filter-user"):
            query["user"] = value("filter-user")
        if value("filter-action"):
            query["action_prefix"] = value("filter-action")
        for field_id, key, at in (
            ("filter-from", "since", day_time.min),
            ("filter-to", "until", day_time.max),
        ):
            day, message = parse_date(value(field_id), required=False)
            if message:
                problems.append(f"{key}: {message}")
            elif day is not None:
                query[key] = datetime.combine(day, at, tzinfo=UTC)
        return query, value("filter-patient") or None, problems

    @on(Input.Changed)
    def _filter_changed(self) -> None:
        self._reload()

    def _reload(self) -> None:
        query, chart, problems = self._filters()
        if problems:
            self.query_one("#audit-note", Static).update(Text("; ".join(problems), style="bold"))
            return
        self._load(query, chart)

    @work(thread=True, exclusive=True, group="audit-read")
    def _load(self, query: dict[str, Any], chart: str | None) -> None:
        try:
            note = ""
            patient_id: int | None = None
            if chart:
                patient_id = self.store.find_patient(self.user, chart).id
            entries = self.store.audit_events(self.user, **query)
            if patient_id is not None:
                entries = [e for e in entries if mentions_patient(e, patient_id)]
                note = f"patient {chart}: "
            note += f"{len(entries)} entries shown (newest first, up to {PAGE} read)"
        except Exception as exc:
            self.post_message(self.Failed(str(exc) or type(exc).__name__))
            return
        self.post_message(self.Loaded(entries, note))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self._entries = list(message.entries)
        table = self.query_one(DataTable)
        table.clear()
        for e in self._entries:
            entity = e.entity + (f" {e.entity_id}" if e.entity_id is not None else "")
            table.add_row(
                str(e.seq),
                e.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                Text(e.user),
                Text(e.action),
                Text(entity),
                Text(e.reason or ""),
                key=str(e.seq),
            )
        self.query_one("#audit-note", Static).update(message.note)
        self._show_detail(0)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self.query_one("#audit-note", Static).update(Text(message.reason))
        self.notify(message.reason, title="Audit", severity="error")

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail(event.cursor_row)

    def _show_detail(self, row: int) -> None:
        entry = self._entries[row] if 0 <= row < len(self._entries) else None
        self.query_one("#audit-before", Static).update(Text(_image(entry.before) if entry else ""))
        self.query_one("#audit-after", Static).update(Text(_image(entry.after) if entry else ""))

    # -- verifying ----------------------------------------------------------------------

    def action_verify_audit(self) -> None:
        """Recompute every hash of the chain and compare with the checkpoints."""
        bar = self.query_one("#verify-progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.query_one("#verify-result", Static).update("Verifying…")
        self._verify()

    @work(thread=True, exclusive=True, group="audit-verify")
    def _verify(self) -> None:
        from db.audit.service import verify_database

        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] > 0.05 or done >= total:
                last[0] = now
                self.post_message(self.Progress(done, total))

        try:
            result = verify_database(
                self.store.database, user=self.user.username, progress=progress
            )
        except Exception as exc:
            self.post_message(self.Failed(f"Verification could not run: {exc}"))
            return
        self.post_message(self.Verified(result.report.ok, result.report.summary()))

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        self.query_one("#verify-progress", ProgressBar).update(
            total=max(message.total, 1), progress=message.done
        )

    @on(Verified)
    def _verified(self, message: Verified) -> None:
        result = self.query_one("#verify-result", Static)
        theme = self.app.current_theme
        result.update(
            Text(message.summary, style=f"bold {theme.success if message.ok else theme.error}")
        )
        self.query_one("#verify-progress", ProgressBar).display = False
        self.notify(
            message.summary.splitlines()[0],
            title="Audit chain verified" if message.ok else "AUDIT CHAIN PROBLEM",
            severity="information" if message.ok else "error",
            timeout=15,
        )
        self._reload()  # the verification itself is now an entry

    def action_focus_filters(self) -> None:
        """Put the cursor in the first filter."""
        self.query_one("#filter-patient", Input).focus()

    def action_back(self) -> None:
        """Back to where you came from."""
        self.app.pop_screen()
