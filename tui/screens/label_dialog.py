"""Print the syringe label of the open session: size, file, copies; then what was written.

The same label as ``formulary label``: rendered, audited and written in a worker, times
in this computer's local zone. An existing file is replaced only after the user says
so. The barcode carries ``SESSION-<id>``, which the patient search opens when scanned.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Select, Static

from tui.messages import WorkerFailed
from tui.screens.base import AppModal, defer_until_typed
from tui.styles import STYLES
from tui.widgets.field_row import FieldRow
from tui.widgets.text_input import TextInput

#: (label, size) as offered; the sizes of ``formulary label --size``.
SIZE_CHOICES: tuple[tuple[str, str], ...] = (
    ("62 × 29 mm roll label", "62x29"),
    ("4 × 6 in label", "4x6"),
    ("A4 sheet of 24 (70 × 37 mm)", "a4-24"),
)


def default_label_path(session_id: int) -> Path:
    """Where a session's label goes unless another file is typed."""
    from formulary.export.syringe_label import label_file_name
    from tui.screens.export import default_export_folder

    return default_export_folder() / label_file_name(session_id)


class LabelDialog(AppModal):
    """Choose a label size, a file and a number of copies; print; see the result."""

    CSS_PATH = STYLES / "label_dialog.tcss"
    AUTO_FOCUS = "#label-size"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="label.close"),
        Binding("ctrl+s", "print_label", "Print", id="label.print", priority=True),
    ]

    class Done(Message):
        """The label was written; ``result`` is the service's answer, ``path`` the file."""

        def __init__(self, result: Any, path: Path) -> None:
            self.result = result
            self.path = path
            super().__init__()

    def __init__(self, session_id: int) -> None:
        super().__init__()
        self.session_id = session_id
        self._default_path = str(default_label_path(session_id))
        self._printing = False
        self._printed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="label-box"):
            yield Static(f"Syringe label, session {self.session_id}", classes="form-title")
            yield Static(
                "Patient, ingredients with amounts and final concentrations, lots and "
                "expiry dates, the beyond-use time and a barcode of the session.",
                classes="form-hint",
            )
            yield FieldRow(
                "Size",
                Select(SIZE_CHOICES, value="62x29", allow_blank=False, id="label-size"),
                id="row-label-size",
            )
            yield FieldRow("File", TextInput(self._default_path, id="label-path"),
                           id="row-label-path")
            yield FieldRow("Copies", TextInput("1", id="label-copies", type="integer"),
                           id="row-label-copies")
            with Horizontal(id="label-buttons", classes="dialog-buttons"):
                yield Button("Print label (ctrl+s)", id="label-print", variant="primary")
                yield Button("Close (esc)", id="label-close")
            yield Static("", id="label-result")

    def _choices(self) -> tuple[str, str, str]:
        size = str(self.query_one("#label-size", Select).value)
        path = self.query_one("#label-path", Input).value.strip()
        copies = self.query_one("#label-copies", Input).value.strip()
        return size, path, copies

    @on(Input.Changed)
    def _clear_errors(self) -> None:
        for row in self.query(FieldRow):
            row.set_error("")

    @on(Input.Submitted)
    @on(Button.Pressed, "#label-print")
    def action_print_label(self) -> None:
        """Print with the choices shown (asks before replacing an existing file)."""
        if defer_until_typed(self, self.action_print_label):
            return
        if self._printing:
            return
        size, path_text, copies_text = self._choices()
        ok = True
        if not path_text:
            self.query_one("#row-label-path", FieldRow).set_error("Type a file name.")
            ok = False
        path = Path(path_text).expanduser()
        if path_text and path.is_dir():
            from formulary.export.syringe_label import label_file_name

            path = path / label_file_name(self.session_id)
        copies = int(copies_text) if copies_text.isdigit() else 0
        if not 1 <= copies <= 240:
            self.query_one("#row-label-copies", FieldRow).set_error("Print 1 to 240 copies.")
            ok = False
        if not ok:
            return
        if not path.exists():
            self._start(size, path, copies, force=False)
            return
        from tui.screens.confirm import ConfirmScreen

        def answered(reply: str | None) -> None:
            if reply is None:
                self._say("Nothing was printed: the existing file was kept.")
            else:
                self._start(size, path, copies, force=True)

        self.app.push_screen(
            ConfirmScreen("Replace the existing file?", f"{path}\n\nCancel keeps it.",
                          action="Replace", reason=False),
            answered,
        )

    def _start(self, size: str, path: Path, copies: int, *, force: bool) -> None:
        self._printing = True
        self.query_one("#label-print", Button).disabled = True
        self._say("Printing the label…")
        self._print(size, path, copies, force)

    @work(thread=True, exclusive=True, group="label-print")
    def _print(self, size: str, path: Path, copies: int, force: bool) -> None:
        from db.ops.label import print_label
        from tui.export_files import to_file

        zone = datetime.now().astimezone().tzinfo
        try:
            assert zone is not None
            result = print_label(self.store, self.user, self.session_id,
                                 to_file(path, force=force), size=size, zone=zone,
                                 copies=copies)
        except OSError as exc:
            from tui.export_files import not_written

            self.post_message(WorkerFailed(not_written(path, exc, "label", "print it again")))
            return
        except Exception as exc:  # one plain sentence, never a traceback
            self.post_message(WorkerFailed.of(exc))
            return
        self.post_message(self.Done(result, path))

    @on(Done)
    def _done(self, message: Done) -> None:
        self._printing = False
        self._printed = True
        self.query_one("#label-print", Button).disabled = False
        label = message.result.label
        text = Text("Label written:\n", style="bold")
        text.append(f"  {message.path}\n", style="")
        text.append(f"Barcode {label.code}; use before "
                    f"{label.beyond_use:%Y-%m-%d %H:%M %Z}", style="")
        self._say(text)
        self.notify(f"Label for session {self.session_id} written.", title="Label")

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        self._printing = False
        self.query_one("#label-print", Button).disabled = False
        self._say(Text(f"Not printed: {message.reason}", style="bold"), error=True)

    def _say(self, text: str | Text, *, error: bool = False) -> None:
        result = self.query_one("#label-result", Static)
        result.update(text)
        result.set_class(error, "danger")

    @on(Button.Pressed, "#label-close")
    def action_close(self) -> None:
        """Close; asks first when a changed file name or copy count would be lost."""
        _, path, copies = self._choices()
        changed = path != self._default_path or copies != "1"
        if not changed or self._printed:
            self.dismiss(None)
            return
        from tui.screens.confirm import ConfirmScreen

        def answered(reply: str | None) -> None:
            if reply is not None:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen("Close without printing?",
                          "The file name and copies you typed will be lost.",
                          action="Close", reason=False),
            answered,
        )
