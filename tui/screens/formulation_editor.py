"""The formulation editor: components from the formulary, worked out live as you type.

Each component's ingredients are shown with their amount per session and their
concentration in the final mix (``formulary.preparation.preview_mix`` does the
arithmetic). Saving a version already used in a signed session makes a new version
(the Store decides); versions are listed and two can be compared side by side.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, DataTable, Header, Input, Static

from formulary.preparation import MixPreview, preview_mix
from formulary.records import Component, FormulationVersion, PatientChart, Product
from formulary.units import DISPLAY_SIGNIFICANT, UnitsError, format_amount, parse_quantity
from formulary.units.amount import Amount
from formulary.units.substance import Substance
from tui.messages import Loaded, WorkerFailed
from tui.screens.base import AppScreen, defer_until_typed
from tui.styles import STYLES
from tui.widgets.key_footer import KeyFooter
from tui.widgets.name_picker import Choice, NamePicker
from tui.widgets.patient_header import PatientHeader
from tui.widgets.text_input import TextInput
from tui.widgets.version_list import show_versions

if TYPE_CHECKING:
    from formulary.safety import Findings


@dataclass
class EditorData:
    """What the editor works with, read through the Store (and the library's facts)."""

    chart: PatientChart
    products: dict[int, Product]
    choices: list[Choice]
    substances: dict[Hashable, Substance] = field(default_factory=dict)
    ingredient_names: dict[int, str] = field(default_factory=dict)
    #: Ingredients whose facts rest only on secondary web pages (shown beside them).
    secondary_only: frozenset[int] = frozenset()


def latest_version(chart: PatientChart) -> FormulationVersion | None:
    """The newest version of the chart's formulations."""
    versions = sorted(chart.formulation_versions, key=lambda v: (v.created_at, v.id))
    return versions[-1] if versions else None


#: The component table's columns (label, key).
_COLUMNS = (
    ("#", "n"),
    ("Component / ingredient", "name"),
    ("Amount", "amount"),
    ("Per session", "session"),
    ("In final mix", "final"),
    ("Warnings", "warnings"),
)
#: Widths of the columns that hold short figures; the name and warnings share the rest.
_FIXED_WIDTHS = {"n": 2, "amount": 9, "session": 11, "final": 12}
_MIN_NAME, _MAX_NAME, _MIN_WARNING = 12, 44, 14


class FormulationEditorScreen(AppScreen):
    """Edit the current formulation of ``patient_id`` (or write the first one)."""

    CSS_PATH = STYLES / "formulation_editor.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="formulation.back"),
        Binding("ctrl+s", "save", "Save", id="formulation.save", priority=True),
        Binding("ctrl+o", "add_component", "Add component", id="formulation.add"),
        Binding("delete", "remove_component", "Remove", id="formulation.remove"),
        Binding("f8", "compare", "Compare versions", id="formulation.compare"),
    ]

    class Saved(Message):
        """The Store saved the formulation as ``version``."""

        def __init__(self, version: FormulationVersion) -> None:
            self.version = version
            super().__init__()

    class Checked(Message):
        """The safety rules' findings for the components on screen."""

        def __init__(self, findings: Findings, generation: int) -> None:
            self.findings = findings
            self.generation = generation
            super().__init__()

    def __init__(self, patient_id: int) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.data: EditorData | None = None
        self.components: list[Component] = []
        self.base: FormulationVersion | None = None
        self._chosen: Choice | None = None
        self._rows: list[int] = []  # component position of each table row (0: none)
        #: A suggestion was just chosen and no key has been pressed since.
        self._fresh_choice = False
        #: The screen as loaded or last saved (None until the chart is read).
        self._saved_state: tuple[object, ...] | None = None
        self.preview: MixPreview | None = None
        self.findings: Findings | None = None  # for what is on screen
        self._check_timer: Timer | None = None
        # Findings belong to one state of the components: each edit starts a new
        # generation, and a check that answers for an older one is dropped, so a
        # warning on screen (or confirmed on save) is never about a previous mix.
        self._generation = 0
        self._save_when_checked = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield PatientHeader("Loading…", id="editor-patient")
        with Vertical(id="editor-body"):
            with Horizontal(id="editor-top"):
                yield TextInput(id="f-name", placeholder="formulation name")
                yield TextInput(
                    id="f-final", placeholder="final volume, e.g. 4 mL (blank: as drawn)"
                )
                yield TextInput(id="f-note", placeholder="note for this version")
            yield Static("", id="editor-status")
            with Horizontal(id="editor-add"):
                yield NamePicker(
                    id="add-name", placeholder="component: type a product or ingredient name"
                )
                # Not selected on focus: keys redirected here from "Add" append, and a
                # selected amount would be replaced by the next key.
                yield TextInput(
                    id="add-amount",
                    placeholder="amount, e.g. 1 mL or 500 mcg",
                    select_on_focus=False,
                )
                yield Button("Add", id="add-button")
            yield Static("", id="add-error")
            yield DataTable(id="editor-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="editor-total")
            yield Static(
                "Versions (select one, f8 compares it with another)", classes="section-title"
            )
            yield DataTable(id="editor-versions", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#editor-table", DataTable)
        for label, key in _COLUMNS:
            table.add_column(label, key=key)
        self._fit_columns()
        show_versions(self.query_one("#editor-versions", DataTable), [])
        self._load()

    @work(thread=True, exclusive=True, group="editor-load")
    def _load(self) -> None:
        try:
            chart = self.store.load_chart(self.user, self.patient_id)
            products = {p.id: p for p in self.store.list_products(self.user)}
            ingredients = self.store.list_ingredients(self.user)
            substances: dict[Hashable, Substance] = {}
            from formulary.library import load_library

            library = load_library()
            for ingredient in ingredients:
                try:
                    substances[ingredient.id] = library.by_key(ingredient.key).substance()
                except Exception as exc:  # a clinic's own ingredient has no library facts
                    self.log.info(f"no library facts for {ingredient.key}: {exc}")
        except Exception as exc:
            self.post_message(WorkerFailed(str(exc), title="Cannot open the formulation"))
            return
        choices = [
            Choice(
                "product",
                p.id,
                p.name,
                detail=", ".join(
                    f"{s.ingredient_name} {format_amount(s.strength)}" for s in p.ingredients
                ),
            )
            for p in products.values()
        ] + [Choice("ingredient", i.id, i.name, tuple(i.synonyms)) for i in ingredients]
        from formulary.library import secondary_only

        self.post_message(
            Loaded(
                EditorData(
                    chart,
                    products,
                    choices,
                    substances,
                    {i.id: i.name for i in ingredients},
                    frozenset(i.id for i in ingredients if secondary_only(i.sources)),
                )
            )
        )

    @on(Loaded)
    def _loaded(self, message: Loaded[EditorData]) -> None:
        data = self.data = message.data
        self.query_one(PatientHeader).show(
            data.chart.patient, self.formulary_app.today(), data.chart.consents
        )
        self.query_one(NamePicker).choices = data.choices
        self.base = latest_version(data.chart)
        name = self.query_one("#f-name", Input)
        if self.base is not None:
            self.components = list(self.base.components)
            name.value = self.base.formulation_name
            if self.base.final_volume is not None:
                self.query_one("#f-final", Input).value = format_amount(self.base.final_volume)
        else:
            name.value = f"{data.chart.patient.family_name} scalp cocktail"
        self._show_versions()
        self._recompute()
        self.query_one(NamePicker).input.focus()
        self._saved_state = self._state()

    def _show_versions(self) -> None:
        assert self.data is not None
        show_versions(
            self.query_one("#editor-versions", DataTable), self.data.chart.formulation_versions
        )
        status = self.query_one("#editor-status", Static)
        if self.base is None:
            status.update("New formulation: saving creates version 1.")
        elif self.base.locked:
            status.update(
                Text(
                    f"Version {self.base.version} was used in a signed session and cannot change: "
                    f"saving creates version {self.base.version + 1}.",
                    style="bold",
                )
            )
        else:
            status.update(f"Editing version {self.base.version} (not used yet).")

    # -- live arithmetic ----------------------------------------------------------------

    def _final_volume(self) -> tuple[Amount | None, str]:
        text = self.query_one("#f-final", Input).value.strip()
        if not text:
            return None, ""
        try:
            return parse_quantity(text, kind="volume"), ""
        except UnitsError as exc:
            return None, f"Final volume: {exc}"

    @on(Input.Changed, "#f-final")
    def _final_changed(self) -> None:
        self._recompute()

    def _recompute(self) -> None:
        self.refresh_bindings()  # "Remove" depends on there being components
        if self.data is None:
            return
        final, problem = self._final_volume()
        self.preview = preview_mix(self.components, self.data.products, final, self.data.substances)
        self._show_components(problem)
        if self._check_timer is not None:
            self._check_timer.stop()
        self._generation += 1
        self.findings = None
        self._save_when_checked = False
        if self.components and not problem:
            specs, generation = self._specs(), self._generation
            self._check_timer = self.set_timer(0.4, lambda: self._check(specs, final, generation))

    def _specs(self) -> list[Any]:
        from db.store import ComponentSpec

        return [
            ComponentSpec(c.name, c.amount, product_id=c.product_id, ingredient_id=c.ingredient_id)
            for c in self.components
        ]

    @work(thread=True, exclusive=True, group="editor-check")
    def _check(self, specs: list[Any], final: Amount | None, generation: int) -> None:
        # The safety rules (allergies, limits, ambiguous forms) through the Store.
        try:
            findings = self.store.check_formulation(
                self.user,
                patient_id=self.patient_id,
                components=specs,
                final_volume=final,
                formulation_id=self.base.formulation_id if self.base else None,
            )
        except Exception as exc:
            # Without the rules' answer nothing may be saved: say so rather than
            # showing a mix that merely looks unremarkable.
            self.post_message(
                WorkerFailed(
                    f"{exc}. Saving waits until the rules can run.", title="Safety check failed"
                )
            )
            return
        self.post_message(self.Checked(findings, generation))

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        if message.generation != self._generation:
            return
        self.findings = message.findings
        _, problem = self._final_volume()
        self._show_components(problem)
        if self._save_when_checked:
            self._save_when_checked = False
            self.action_save()

    def on_resize(self) -> None:
        # Column widths follow the terminal: the warnings wrap instead of being cut.
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        if self.data is not None and self.preview is not None:
            self._show_components(self._final_volume()[1])
        else:
            self._fit_columns()

    def _fit_columns(self, longest_name: int = 0) -> bool:
        """Give the name and warning columns the room left; True if a width changed.

        The fixed columns keep their width; the warnings (long sentences from the
        safety rules) get what remains and wrap on as many lines as they need, so
        they are read whole at 80 columns as at 120.
        """
        table = self.query_one("#editor-table", DataTable)
        width = table.scrollable_content_region.width or self.size.width - 2
        fixed = sum(_FIXED_WIDTHS.values()) + 2 * table.cell_padding * len(_COLUMNS) + 2
        rest = max(width - fixed, _MIN_NAME + _MIN_WARNING)
        # The name as wide as the longest one, while the warnings keep 2/5 of the room.
        room = max(_MIN_NAME, rest - max(_MIN_WARNING, rest * 2 // 5))
        name = max(_MIN_NAME, min(room, longest_name or _MAX_NAME))
        widths = {**_FIXED_WIDTHS, "name": name, "warnings": max(_MIN_WARNING, rest - name)}
        changed = False
        for key, column in table.columns.items():
            wanted = widths.get(str(key.value))
            if wanted is not None and (column.width != wanted or column.auto_width):
                column.width, column.auto_width = wanted, False
                changed = True
        if changed:
            table.refresh()
        return changed

    def _ingredient_keys(self, c: Component) -> list[int]:
        """The ingredients a component brings, in the order its lines are shown."""
        assert self.data is not None
        if c.product_id is not None and c.product_id in self.data.products:
            return [s.ingredient_id for s in self.data.products[c.product_id].ingredients]
        return [c.ingredient_id] if c.ingredient_id is not None else []

    def _show_components(self, final_problem: str) -> None:
        assert self.data is not None and self.preview is not None
        theme = self.app.current_theme
        danger = f"bold {theme.error}"
        table = self.query_one("#editor-table", DataTable)
        names = [len(c.name) for c in self.components] + [
            len("   · ") + len(self.data.ingredient_names.get(key, "ingredient 000"))
            for c in self.components
            for key in self._ingredient_keys(c)
        ]
        self._fit_columns(max(names, default=0))
        keep = table.cursor_row
        table.clear()
        self._rows = []
        mix = self.preview.mix
        for c in self.components:
            problem = self.preview.problems.get(c.position, "")
            warning = Text(problem, style=danger) if problem else Text()
            for finding in self.findings.for_component(c.id) if self.findings else ():
                style = danger if finding.is_block else f"bold {theme.warning}"
                warning.append(("\n" if warning.plain else "") + finding.message, style=style)
            table.add_row(
                str(c.position),
                Text(c.name, style="bold"),
                format_amount(c.amount),
                "",
                "",
                warning,
                height=None,
            )
            self._rows.append(c.position)
            for key in self._ingredient_keys(c):
                line = None
                if mix is not None:
                    try:
                        line = mix.line(key)
                    except KeyError:
                        line = None
                table.add_row(
                    "",
                    Text("   · " + self.data.ingredient_names.get(key, f"ingredient {key}")),
                    "",
                    format_amount(line.amount, significant=DISPLAY_SIGNIFICANT) if line else "",
                    format_amount(line.final_concentration, significant=DISPLAY_SIGNIFICANT)
                    if line
                    else "",
                    Text("facts from secondary web pages only", style=f"{theme.warning}")
                    if key in self.data.secondary_only
                    else "",
                    height=None,
                )
                self._rows.append(c.position)
        if self._rows:
            table.move_cursor(row=min(keep, len(self._rows) - 1))
        total = self.query_one("#editor-total", Static)
        if final_problem:
            total.update(Text(final_problem, style=danger))
        elif self.preview.general:
            total.update(Text(self.preview.general, style=danger if self.components else ""))
        elif (
            mix is not None
            and self.findings is not None
            and any(f.component_id is None for f in self.findings)
        ):
            general = [f for f in self.findings if f.component_id is None]
            text = Text(f"Total volume {format_amount(mix.final_volume)}. ", style="bold")
            for f in general:
                text.append(
                    f"{'BLOCK' if f.is_block else 'WARNING'}: {f.message}  ",
                    style=danger if f.is_block else f"bold {theme.warning}",
                )
            total.update(text)
        elif mix is not None:
            total.update(
                Text(
                    f"Total volume {format_amount(mix.final_volume)}: "
                    f"{format_amount(mix.drawn_volume)} drawn"
                    + (
                        f" + {format_amount(mix.diluent_volume)} diluent"
                        if mix.diluent_volume.value
                        else ""
                    ),
                    style="bold",
                )
            )
        else:
            total.update(
                Text("Correct the components marked in the Warnings column.", style=danger)
            )

    # -- adding and removing ------------------------------------------------------------

    @on(NamePicker.Chosen)
    def _chosen_name(self, message: NamePicker.Chosen) -> None:
        self._chosen = message.choice
        self._fresh_choice = True
        amount = self.query_one("#add-amount", Input)
        if message.choice.kind == "product" and not amount.value:
            amount.placeholder = "volume drawn, e.g. 1 mL"
        amount.focus()

    def keeps_tab(self) -> bool:
        """One Tab right after a suggestion is chosen stays in the amount.

        Choosing a suggestion puts the cursor in the amount; a Tab pressed out of habit
        right after (as if the cursor were still in the name) must not carry it past the
        amount to "Add". Any other Tab moves on as everywhere else.
        """
        fresh, self._fresh_choice = self._fresh_choice, False
        focused = self.focused
        return (fresh and isinstance(focused, Input) and focused.id == "add-amount"
                and not focused.value)

    def on_key(self, event: events.Key) -> None:
        # Any other key after the choice ends the grace for that one Tab.
        self._fresh_choice = False

    @on(Input.Submitted, "#add-amount")
    @on(Button.Pressed, "#add-button")
    def action_add_component(self) -> None:
        """Add the chosen product or ingredient with the amount typed."""
        error = self.query_one("#add-error", Static)
        picker = self.query_one(NamePicker)
        name_text = picker.input.value.strip()
        choice = self._chosen
        if choice is None or choice.name != name_text:
            error.update("Choose the component from the suggestions (type, then ↓ or enter).")
            picker.input.focus()
            return
        try:
            amount = parse_quantity(
                self.query_one("#add-amount", Input).value,
                kind="volume" if choice.kind == "product" else None,
            )
        except UnitsError as exc:
            error.update(Text(f"Amount: {exc}"))
            self.query_one("#add-amount", Input).focus()
            return
        error.update("")
        position = len(self.components) + 1
        self.components.append(
            Component(
                id=position,
                position=position,
                name=choice.name,
                amount=amount,
                product_id=choice.id if choice.kind == "product" else None,
                ingredient_id=choice.id if choice.kind == "ingredient" else None,
            )
        )
        with picker.input.prevent(Input.Changed):
            picker.input.value = ""
        self.query_one("#add-amount", Input).value = ""
        self._chosen = None
        self._recompute()
        picker.input.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "Remove" acts on the component under the table's cursor: offered only there.
        if action == "remove_component":
            tables = self.query("#editor-table").results(DataTable)
            table = next(tables, None)
            return table is not None and table.has_focus and any(self._rows)
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def on_descendant_blur(self) -> None:
        self.refresh_bindings()

    def action_remove_component(self) -> None:
        """Remove the component under the cursor of the table."""
        table = self.query_one("#editor-table", DataTable)
        if not table.has_focus or not self._rows:
            return
        position = self._rows[table.cursor_row]
        kept = [c for c in self.components if c.position != position]
        self.components = [replace(c, id=i, position=i) for i, c in enumerate(kept, start=1)]
        self._recompute()

    # -- saving -------------------------------------------------------------------------

    def action_save(self) -> None:
        """Save through the Store: in place if unused, else as a new version."""
        if defer_until_typed(self, self.action_save):
            return
        if self.data is None:
            return
        final, problem = self._final_volume()
        if problem or not self.components or self.preview is None or self.preview.mix is None:
            self.notify(
                problem or (self.preview.general if self.preview else "") or "Nothing to save yet.",
                title="Not saved",
                severity="warning",
            )
            return
        name = self.query_one("#f-name", Input).value.strip()
        if not name:
            self.notify("Give the formulation a name.", title="Not saved", severity="warning")
            return
        note = self.query_one("#f-note", Input).value.strip()
        findings = self.findings
        if findings is None:
            # The rules have not answered for this mix yet: check now and carry on
            # saving when they answer, so nothing is saved past an unseen finding.
            if self._check_timer is not None:
                self._check_timer.stop()
            self._save_when_checked = True
            self._check(self._specs(), final, self._generation)
            return
        if not findings:
            self._save(name, self._specs(), final, note, False, "")
            return
        if findings.blocks:
            from tui.screens.override_sign import OverrideSignScreen

            def signed(answer: tuple[str, str] | None) -> None:
                if answer is not None:
                    reason, password = answer
                    self._save(name, self._specs(), final, note, True, reason, password)

            self.app.push_screen(OverrideSignScreen(findings), signed)
            return
        from tui.screens.confirm import ConfirmScreen

        def decided(reason: str | None) -> None:
            if reason is not None:
                self._save(name, self._specs(), final, note, True, "")

        self.app.push_screen(
            ConfirmScreen(
                "Save despite the safety findings?",
                "\n".join(f.line() for f in findings) + "\nSaving acknowledges these warnings.",
                action="Acknowledge and save",
                reason=False,
            ),
            decided,
        )

    @work(thread=True, exclusive=True, group="editor-save")
    def _save(
        self,
        name: str,
        specs: Sequence[Any],
        final: Amount | None,
        note: str,
        acknowledge: bool,
        override_reason: str,
        override_password: str = "",
    ) -> None:
        try:
            version = self.store.save_formulation(
                self.user,
                patient_id=self.patient_id,
                name=name,
                components=specs,
                final_volume=final,
                note=note,
                formulation_id=self.base.formulation_id if self.base else None,
                acknowledge=acknowledge,
                override_reason=override_reason or None,
                override_password=override_password or None,
            )
            chart = self.store.load_chart(self.user, self.patient_id)
        except Exception as exc:
            self.post_message(
                WorkerFailed(f"{exc}. Your edits are kept.", title="Formulation not saved")
            )
            return
        if self.data is not None:
            self.data.chart = chart
        self.post_message(self.Saved(version))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        version = message.version
        self.notify(
            f"Saved as {version.formulation_name} version {version.version}.", title="Formulation"
        )
        self.base = version
        self._show_versions()
        self._saved_state = self._state()

    @on(WorkerFailed)
    def _failed(self, message: WorkerFailed) -> None:
        self.notify(message.reason, title=message.title, severity="error", timeout=12)

    # -- comparing ----------------------------------------------------------------------

    def action_compare(self) -> None:
        """Compare the version highlighted in the list with the newest one."""
        from tui.screens.compare_versions import CompareVersionsScreen

        if self.data is None or self.base is None:
            return
        table = self.query_one("#editor-versions", DataTable)
        versions = sorted(
            self.data.chart.formulation_versions, key=lambda v: v.version, reverse=True
        )
        if not versions:
            return
        left = versions[min(table.cursor_row, len(versions) - 1)]
        right = (
            versions[0]
            if left.id != versions[0].id and len(versions) > 0
            else (versions[1] if len(versions) > 1 else versions[0])
        )
        # Every product of the formulary: a version saved here may use one the chart's
        # earlier versions did not.
        chart = replace(self.data.chart, products=tuple(self.data.products.values()))
        self.app.push_screen(CompareVersionsScreen(left, right, chart))

    def _state(self) -> tuple[object, ...]:
        """What the practitioner has put on this screen: the components and every field."""
        return (tuple(self.components), *(i.value for i in self.query(Input)))

    def action_back(self) -> None:
        """Back to the chart; asks first when something changed since it was saved."""
        if self._saved_state is None or self._state() == self._saved_state:
            self.app.pop_screen()
            return
        from tui.screens.form_guard import DiscardChangesScreen

        def answered(discard: bool | None) -> None:
            if discard:
                self.app.pop_screen()

        self.app.push_screen(DiscardChangesScreen("the formulation editor"), answered)
