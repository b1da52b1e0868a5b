"""The clinic's consent templates (administrators): add, edit (a new version), retire.

The same Store calls as ``formulary consent template``. An edit saves a new version;
the consents already signed keep the version (and text) they were signed on.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Header, Input, Markdown, Static, TextArea

from formulary.consent import DEFAULT_TEMPLATE_TEXT, ConsentTemplate
from tui.messages import Loaded, WorkerFailed
from tui.screens.base import AppScreen
from tui.screens.store_form import StoreFormModal
from tui.styles import STYLES
from tui.widgets.field_row import FieldRow
from tui.widgets.key_footer import KeyFooter
from tui.widgets.text_input import TextInput


class ConsentTemplateFormScreen(StoreFormModal):
    """A new template, or a new version of one; dismissed with True once saved."""

    CSS_PATH = STYLES / "consent.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="consent_template_form.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="consent_template_form.cancel"),
    ]
    SAVE_BUTTON = "template-save"
    CANCEL_BUTTON = "template-cancel"
    ERROR_LINE = "template-error"
    FORM_NAME = "the consent template"

    def __init__(self, template: ConsentTemplate | None = None) -> None:
        super().__init__()
        self.template = template

    def compose(self) -> ComposeResult:
        t = self.template
        title = (f"New version of '{t.name}' (now v{t.current.version})" if t
                 else "New consent template")
        with Vertical(id="template-form-box"):
            yield Static(title, classes="form-title")
            yield Static(
                "Markdown. Name the procedure, its purpose, the known effects (pain at "
                "injection, bruising, swelling, infection, allergic reaction, temporary "
                "shedding), the alternatives and the course plan. Signed consents keep the "
                "version they were signed on.", classes="form-hint")
            yield Static("", id="template-error", classes="dialog-error")
            yield FieldRow("Name", TextInput(t.name if t else "", id="t-name"), id="row-t-name")
            yield FieldRow(
                "Text",
                TextArea(t.current.text if t else DEFAULT_TEMPLATE_TEXT, id="t-text",
                         soft_wrap=True, show_line_numbers=False),
                id="row-t-text")
            with Horizontal(id="template-buttons", classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="template-save", variant="primary")
                yield Button("Cancel (esc)", id="template-cancel")

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The name and text, and what is wrong, by field."""
        from formulary.consent import ConsentError, check_template_name, check_template_text

        errors: dict[str, str] = {}
        name = self.query_one("#t-name", Input).value
        text = self.query_one("#t-text", TextArea).text
        try:
            check_template_name(name)
        except ConsentError as exc:
            errors["row-t-name"] = str(exc).capitalize() + "."
        try:
            check_template_text(text)
        except ConsentError as exc:
            errors["row-t-text"] = "See above."
            self.query_one("#template-error", Static).update(Text(str(exc)))
        return {"name": name, "text": text}, errors

    def store_call(self, values: dict[str, Any]) -> None:
        """Save through the Store (in the worker thread)."""
        if self.template is None:
            self.store.add_consent_template(self.user, values["name"], values["text"])
        else:
            self.store.edit_consent_template(self.user, self.template.id, values["text"],
                                             name=values["name"])


class ConsentTemplatesScreen(AppScreen):
    """Every template (retired ones marked), with the selected one's current text."""

    CSS_PATH = STYLES / "consent.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="consent_templates.back"),
        Binding("ctrl+n", "add_template", "New template", id="consent_templates.add"),
        Binding("ctrl+e", "edit_template", "New version", id="consent_templates.edit"),
        Binding("f3", "retire_template", "Retire", id="consent_templates.retire"),
    ]

    class Changed(Message):
        """A change was saved; ``what`` says which."""

        def __init__(self, what: str) -> None:
            self.what = what
            super().__init__()

    def __init__(self) -> None:
        super().__init__()
        self.templates: list[ConsentTemplate] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("An edit saves a new version; signed consents keep the text they were "
                     "signed on. Retire a template to stop new signatures on it.",
                     id="templates-hint")
        table: DataTable[Any] = DataTable(id="templates", cursor_type="row", zebra_stripes=True)
        yield table
        with VerticalScroll(id="template-preview"):
            yield Static("", id="template-preview-head")
            yield Markdown("", id="template-preview-text")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = "Consent templates"
        table = self.query_one("#templates", DataTable)
        table.add_columns("Id", "Name", "Version", "SHA-256", "State")
        table.focus()
        self._load()

    @work(thread=True, exclusive=True, group="templates-read")
    def _load(self) -> None:
        try:
            found = self.store.consent_templates(self.user, include_retired=True)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.post_if_current(Loaded(found))

    @on(Loaded)
    def _loaded(self, message: Loaded[list[ConsentTemplate]]) -> None:
        table = self.query_one("#templates", DataTable)
        row = table.cursor_row
        table.clear()
        self.templates = list(message.data)
        for t in self.templates:
            state = Text(f"retired: {t.retired_reason}", style="bold") if t.retired else Text(
                "in force")
            table.add_row(str(t.id), Text(t.name), f"v{t.current.version}",
                          t.current.sha256[:16], state, key=str(t.id))
        if self.templates:
            table.move_cursor(row=min(max(row, 0), len(self.templates) - 1))
        self._preview()

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        self.notify(message.reason, title="Not done", severity="error")

    @on(Changed)
    def _changed(self, message: Changed) -> None:
        self.notify(message.what, title="Consent templates")
        self._load()

    def selected(self) -> ConsentTemplate | None:
        """The template under the cursor."""
        table = self.query_one("#templates", DataTable)
        if not self.templates or not 0 <= table.cursor_row < len(self.templates):
            return None
        return self.templates[table.cursor_row]

    @on(DataTable.RowHighlighted, "#templates")
    def _preview(self) -> None:
        template = self.selected()
        head = self.query_one("#template-preview-head", Static)
        text = self.query_one("#template-preview-text", Markdown)
        if template is None:
            head.update("No template yet: ctrl+n adds one.")
            text.update("")
            return
        head.update(Text(f"{template.name}, version {template.current.version}, saved "
                         f"{template.current.created_at:%Y-%m-%d} by "
                         f"{template.current.created_by}; SHA-256 {template.current.sha256}"))
        text.update(template.current.text)

    def action_back(self) -> None:
        """Back to where you came from."""
        self.app.pop_screen()

    def action_add_template(self) -> None:
        """Add a template (starts from the project's default text)."""

        def done(saved: bool | None) -> None:
            if saved:
                self.post_message(self.Changed("Template added."))

        self.app.push_screen(ConsentTemplateFormScreen(), done)

    def action_edit_template(self) -> None:
        """Save a new version of the selected template."""
        template = self.selected()
        if template is None:
            return
        if template.retired:
            self.notify(f"'{template.name}' is retired; add a new template instead.",
                        title="Consent templates")
            return

        def done(saved: bool | None) -> None:
            if saved:
                self.post_message(self.Changed(f"'{template.name}' saved."))

        self.app.push_screen(ConsentTemplateFormScreen(template), done)

    def action_retire_template(self) -> None:
        """Retire the selected template (asks for the reason)."""
        from tui.screens.confirm import ConfirmScreen

        template = self.selected()
        if template is None or template.retired:
            return

        def confirmed(reason: str | None) -> None:
            if reason:
                self._retire(template.id, reason, template.name)

        self.app.push_screen(
            ConfirmScreen(f"Retire '{template.name}'?",
                          "No new consent can be signed on it; consents signed on it stay "
                          "valid. The audit trail records who, when and why.",
                          action="Retire"),
            confirmed)

    @work(thread=True, exclusive=True, group="templates-change")
    def _retire(self, template_id: int, reason: str, name: str) -> None:
        try:
            self.store.retire_consent_template(self.user, template_id, reason)
        except Exception as exc:
            self.post_message(WorkerFailed.of(exc))
            return
        self.post_message(self.Changed(f"'{name}' retired."))
