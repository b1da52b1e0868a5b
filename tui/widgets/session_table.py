"""Sessions of a chart, newest first; emits :class:`SessionTable.Selected`."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import DataTable

from formulary.export.display import show_local_time
from formulary.records import Session, SessionStatus
from formulary.units import format_amount


def session_row(session: Session) -> tuple[str | Text, ...]:
    """The cells of one session line."""
    status = (
        Text("signed", style="bold")
        if session.status is SessionStatus.SIGNED
        else Text("DRAFT", style="italic")
    )
    signer = session.signature.signer.full_name if session.signature else ""
    addenda = f" +{len(session.addenda)} addend." if session.addenda else ""
    return (
        show_local_time(session.performed_at),
        str(session.session_number or ""),
        status,
        session.technique.value.replace("_", "-") if session.technique else "",
        format_amount(session.total_volume) if session.total_volume else "",
        Text(signer + addenda),
    )


class SessionTable(DataTable[str | Text]):
    """Shows the sessions it is given."""

    class Selected(Message):
        """The user chose a session."""

        def __init__(self, session_id: int) -> None:
            self.session_id = session_id
            super().__init__()

    def __init__(
        self, *, id: str | None = None, sessions: Sequence[Session] = (), limit: int | None = None
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        #: Rows to show from the start (a screen composed with its data lays out once).
        self._initial = (sessions, limit)

    def on_mount(self) -> None:
        self.add_columns("When", "#", "Status", "Technique", "Volume", "Signed by")
        sessions, limit = self._initial
        if sessions:
            self.show(sessions, limit)

    def show(self, sessions: Sequence[Session], limit: int | None = None) -> None:
        """Replace the rows (newest first; at most ``limit``)."""
        self.clear()
        ordered = sorted(sessions, key=lambda s: (s.performed_at, s.id), reverse=True)
        for session in ordered[:limit] if limit else ordered:
            self.add_row(*session_row(session), key=str(session.id))

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Selected(int(event.row_key.value)))
