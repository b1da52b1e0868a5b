"""The audit trail: filter it, read each entry's before and after, verify the chain.

Entries are read newest first, a page at a time (more load when the cursor reaches the
last row, or on request), so a trail of millions of entries opens as fast as a short
one. Verification re-hashes the whole chain in a thread worker; its progress is shown
in a bar and its verdict in plain words, and the verification is itself recorded as an
``audit.verify`` entry (which then appears at the top of the list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Header, Input, ProgressBar, Static
from textual.worker import get_current_worker

from formulary.records import Role
from tui.audit_query import (
    AuditFilter,
    AuditPage,
    PatientScope,
    fetch_page,
    parse_filter,
    patient_scope,
)
from tui.messages import Loaded, WorkerFailed
from tui.screens.base import AppScreen
from tui.styles import STYLES
from tui.widgets.audit_diff import AuditEntryView
from tui.widgets.key_footer import KeyFooter
from tui.widgets.text_input import TextInput

#: The title of a verification that could not run at all (a key or checkpoint problem).
_VERIFY_FAILED = "Verification could not run"

if TYPE_CHECKING:
    from db.audit.service import Verification
    from db.store import AuditEntry

#: Who may read the audit trail and run a verification (the Store checks reads too).
AUDIT_ROLES = frozenset({Role.ADMIN, Role.PRACTITIONER, Role.AUDITOR})

#: Filter fields: (input id, placeholder, key of parse_filter's problems).
FILTER_FIELDS = (
    ("filter-patient", "Patient chart no.", "patient"),
    ("filter-user", "User", "user"),
    ("filter-action", "Action, e.g. session.", "action"),
    ("filter-from", "From YYYY-MM-DD", "from"),
    ("filter-to", "To YYYY-MM-DD", "to"),
)


def verdict(verification: Verification) -> tuple[str, bool]:
    """The result of a verification in plain words, and whether it is good news."""
    report = verification.report
    if report.newest_checkpoint_seq is None:
        tail = (
            f"{report.rows_after_checkpoint:,} after the newest checkpoint (there is none yet, "
            "so deleting entries from the end could not be noticed)"
        )
    else:
        tail = f"{report.rows_after_checkpoint:,} after the newest checkpoint"
    if report.status == "ok":
        return f"Audit trail intact: {report.rows:,} entries; {tail}.", True
    if report.status == "altered":
        return f"ALTERED at entry {report.first_bad_seq}: {report.problem}.", False
    return f"TRUNCATED or ROLLED BACK: {report.problem}.", False


@dataclass(frozen=True, slots=True)
class _PageRead:
    """A page of entries (``first``: it replaces what is shown)."""

    page: AuditPage
    first: bool


class AuditScreen(AppScreen):
    """Read-only view of the audit trail, with verification."""

    CSS_PATH = STYLES / "audit.tcss"
    AUTO_FOCUS = "#audit-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="audit.back"),
        Binding("f8", "verify_audit", "Verify", id="audit.verify"),
        Binding("ctrl+f", "focus_filters", "Filter", id="audit.filter"),
        Binding("ctrl+u", "clear_filters", "Clear filters", id="audit.clear"),
        Binding("ctrl+o", "older", "Older entries", id="audit.older"),
        Binding("ctrl+t", "toggle_changes", "Changes only", id="audit.changes_only"),
    ]

    class VerifyProgress(Message):
        """``done`` of ``total`` entries re-hashed."""

        def __init__(self, done: int, total: int) -> None:
            self.done = done
            self.total = total
            super().__init__()

    class Verified(Message):
        """Verification finished; ``verification`` is db.audit.service's result."""

        def __init__(self, verification: Verification) -> None:
            self.verification = verification
            super().__init__()

    def __init__(self, verify_now: bool = False) -> None:
        super().__init__()
        self._verify_now = verify_now
        self._filter = AuditFilter()
        self._scope: PatientScope | None = None
        self._entries: dict[int, AuditEntry] = {}
        self._order: list[int] = []
        self._more = False
        self._next_before: int | None = None
        self._loading = False
        self._generation = 0
        self._verifying = False
        self._only_changes = False
        self._last_verdict: tuple[str, bool] | None = None

    # -- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="audit-filters"):
            for field_id, placeholder, _ in FILTER_FIELDS:
                yield TextInput(id=field_id, placeholder=placeholder, compact=True)
        yield Static("", id="audit-filter-error")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="audit-note")
        yield AuditEntryView(id="audit-entry")
        with Vertical(id="audit-verify"):
            yield ProgressBar(id="verify-progress", show_eta=False)
            yield Static("", id="verify-result")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Audit trail"
        filters = self.query_one("#audit-filters", Horizontal)
        filters.border_title = "Filters (applied as you type; ctrl+u clears)"
        table = self.query_one("#audit-table", DataTable)
        table.add_columns("Seq", "Time (UTC)", "User", "Action", "Entity", "Reason")
        self.query_one("#verify-progress", ProgressBar).display = False
        if self.formulary_app.user is None or self.user.role not in AUDIT_ROLES:
            role = self.user.role.value if self.formulary_app.user is not None else "not signed in"
            self._set_status(
                f"The audit trail is open to administrators, practitioners and auditors; "
                f"you are {role}.",
                error=True,
            )
            return
        self._reload()
        if self._verify_now:
            self.action_verify_audit()

    # -- loading --------------------------------------------------------------------

    def _reload(self) -> None:
        self._generation += 1
        self._next_before = None
        self._more = False
        self._set_status("Reading the audit trail…")
        self._load(self._generation, self._filter, None, first=True)

    @work(thread=True, exclusive=True, group="audit-read")
    def _load(
        self, generation: int, flt: AuditFilter, before_seq: int | None, *, first: bool
    ) -> None:
        self._loading = True
        worker = get_current_worker()
        try:
            scope = self._scope
            if first:
                scope = (
                    patient_scope(self.store, self.user, flt.chart_number)
                    if (flt.chart_number)
                    else None
                )
                self._scope = scope
            page = fetch_page(self.store, self.user, flt, scope, before_seq)
        except Exception as exc:  # shown in the status line, never a traceback
            self.post_message(WorkerFailed.of(exc, generation=generation))
            return
        finally:
            self._loading = False
        if not worker.is_cancelled:
            self.post_message(Loaded(_PageRead(page, first), generation=generation))

    @on(Loaded)
    def _loaded(self, message: Loaded[_PageRead]) -> None:
        if message.generation != self._generation:
            return  # answer to filters that have since changed
        table = self.query_one("#audit-table", DataTable)
        if message.data.first:
            table.clear()
            self._entries.clear()
            self._order.clear()
        page = message.data.page
        for entry in page.entries:
            if entry.seq in self._entries:
                continue
            self._entries[entry.seq] = entry
            self._order.append(entry.seq)
            entity = entry.entity + (f" {entry.entity_id}" if entry.entity_id is not None else "")
            table.add_row(
                str(entry.seq),
                entry.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                Text(entry.user),
                Text(entry.action),
                Text(entity),
                Text(entry.reason or "", overflow="ellipsis", no_wrap=True),
                key=str(entry.seq),
            )
        self._more = page.more
        self._next_before = page.next_before_seq
        self._show_count()
        if message.data.first:
            self._show_entry(0 if self._order else None)

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        # The verification and the entry loads share the one failure message; the
        # verification's carries its own title and no generation.
        if message.title == _VERIFY_FAILED:
            self._verify_failed(message)
            return
        if message.generation != self._generation:
            return
        self._set_status(message.reason, error=True)

    def _show_count(self) -> None:
        shown = len(self._order)
        what = f" matching {self._filter.describe()}" if not self._filter.is_empty else ""
        if shown == 0:
            text = f"No entries{what}."
        elif self._more:
            text = (
                f"Showing the newest {shown:,} entries{what}; older ones load at the end "
                "of the list (ctrl+o)."
            )
        else:
            text = f"Showing all {shown:,} entries{what}."
        self._set_status(text)

    def _set_status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#audit-note", Static)
        status.update(Text(text))
        status.set_class(error, "danger")

    # -- the highlighted entry ------------------------------------------------------

    @on(DataTable.RowHighlighted, "#audit-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_entry(event.cursor_row)
        if event.cursor_row >= len(self._order) - 1 and self._more and not self._loading:
            self.action_older()

    def _show_entry(self, row: int | None) -> None:
        view = self.query_one(AuditEntryView)
        if row is None or not 0 <= row < len(self._order):
            view.show(None, only_changes=self._only_changes)
            return
        view.show(self._entries[self._order[row]], only_changes=self._only_changes)

    # -- filters --------------------------------------------------------------------

    @on(Input.Changed, "#audit-filters Input")
    def _filters_typed(self) -> None:
        self._apply_filters(to_table=False)

    @on(Input.Submitted, "#audit-filters Input")
    def _filters_submitted(self) -> None:
        self._apply_filters(to_table=True)

    def _apply_filters(self, *, to_table: bool) -> None:
        values = [self.query_one(f"#{fid}", Input).value for fid, _, _ in FILTER_FIELDS]
        flt, problems = parse_filter(*values)
        error = self.query_one("#audit-filter-error", Static)
        for field_id, _, key in FILTER_FIELDS:
            self.query_one(f"#{field_id}", Input).set_class(key in problems, "-invalid")
        if flt is None:
            error.update(Text(" ".join(problems.values())))
            return
        error.update("")
        if flt != self._filter:
            self._filter = flt
            self._reload()
        if to_table:
            self.query_one("#audit-table", DataTable).focus()

    # -- actions --------------------------------------------------------------------

    def action_back(self) -> None:
        """Back to where you came from."""
        self.app.pop_screen()

    def action_focus_filters(self) -> None:
        """Put the cursor in the first filter."""
        self.query_one(f"#{FILTER_FIELDS[0][0]}", Input).focus()

    def action_clear_filters(self) -> None:
        """Show the whole trail again."""
        for field_id, _, _ in FILTER_FIELDS:
            field = self.query_one(f"#{field_id}", Input)
            with field.prevent(Input.Changed):
                field.value = ""
            field.remove_class("-invalid")
        self.query_one("#audit-filter-error", Static).update("")
        self._filter = AuditFilter()
        self._reload()

    def action_older(self) -> None:
        """Load the next page of older entries."""
        if not self._more:
            self.notify("There are no older entries.", title="Audit trail")
            return
        if self._loading:
            return
        self._set_status("Reading older entries…")
        self._load(self._generation, self._filter, self._next_before, first=False)

    def action_toggle_changes(self) -> None:
        """Show every field of the images, or only the fields that changed."""
        self._only_changes = not self._only_changes
        self._show_entry(self.query_one("#audit-table", DataTable).cursor_row)

    # -- verification ---------------------------------------------------------------

    def action_verify_audit(self) -> None:
        """Recompute every hash of the chain and report the result."""
        if self.formulary_app.user is None or self.user.role not in AUDIT_ROLES:
            self.notify(
                "Only administrators, practitioners and auditors verify the trail.",
                severity="warning",
            )
            return
        if self._verifying:
            self.notify("Verification is already running.", title="Audit trail")
            return
        self._verifying = True
        bar = self.query_one("#verify-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        verdict_line = self.query_one("#verify-result", Static)
        verdict_line.update("Verifying the audit trail…")
        verdict_line.remove_class("danger", "good")
        self._verify(self.user.username)

    @work(thread=True, exclusive=True, group="audit-verify")
    def _verify(self, username: str) -> None:
        from db.audit.service import verify_database

        def progress(done: int, total: int) -> None:
            self.post_message(self.VerifyProgress(done, total))

        try:
            result = verify_database(
                self.store.database,
                user=username,
                progress=progress,
                workstation=self.store.workstation,
            )
        except Exception as exc:  # a key or checkpoint problem: said plainly
            self.post_message(WorkerFailed.of(exc, title=_VERIFY_FAILED))
            return
        self.post_message(self.Verified(result))

    @on(VerifyProgress)
    def _verify_progress(self, message: VerifyProgress) -> None:
        self.query_one("#verify-progress", ProgressBar).update(
            total=max(message.total, 1), progress=message.done
        )

    @on(Verified)
    def _verified(self, message: Verified) -> None:
        self._verifying = False
        text, good = verdict(message.verification)
        self._last_verdict = (text, good)
        report = message.verification.report
        bar = self.query_one("#verify-progress", ProgressBar)
        bar.update(total=max(report.head_seq, 1), progress=max(report.head_seq, 1))
        bar.display = False
        line = self.query_one("#verify-result", Static)
        line.update(Text(text))
        line.set_class(not good, "danger")
        line.set_class(good, "good")
        self.notify(
            text,
            title="Audit trail",
            severity="information" if good else "error",
            timeout=10 if good else 30,
        )
        self._reload()  # the verification's own entry is now the newest

    def _verify_failed(self, message: WorkerFailed) -> None:
        self._verifying = False
        self.query_one("#verify-progress", ProgressBar).display = False
        line = self.query_one("#verify-result", Static)
        line.update(Text(f"{_VERIFY_FAILED}: {message.reason}"))
        line.set_class(True, "danger")
        self.notify(message.reason, title=_VERIFY_FAILED, severity="error", timeout=30)
