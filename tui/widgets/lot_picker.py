"""Which lot supplies one component: proposed, changeable, refused when unusable."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Label, Select, Static

from formulary.preparation import lot_refusal, lot_state
from formulary.records import Component, Lot
from formulary.units import format_amount


def lot_label(lot: Lot, on: date) -> str:
    """How a lot reads in the list: number, expiry, stock, and why it is refused on ``on``."""
    text = f"{lot.lot_number}  exp {lot.expiry}  {format_amount(lot.quantity_on_hand)}"
    if lot_refusal(lot, on):
        text += "  ✗ " + lot_state(lot, on)
    return text


class LotPicker(Horizontal):
    """One component line of a session: name, amount, the lot and a message beside it.

    The domain decides which lots may be drawn on the session's day ``on``
    (``formulary.preparation.lot_refusal``). Choosing a refused lot puts the previous
    choice back and says why beside the field.
    """

    DEFAULT_CSS = """
    LotPicker { height: auto; }
    LotPicker > Label { width: 40; padding-top: 1; }
    LotPicker > Select { width: 52; }
    LotPicker > .lot-message { width: 1fr; padding: 1 0 0 1; }
    LotPicker > .lot-message.-refused { color: $error; text-style: bold; }
    /* Narrow terminals: the name above its lot, the message under it. */
    LotPicker.-compact { layout: vertical; }
    LotPicker.-compact > Label { width: 1fr; padding-top: 0; }
    LotPicker.-compact > Select { width: 1fr; }
    LotPicker.-compact > .lot-message { padding: 0; height: auto; }
    """

    #: Below this width the name, the lot and the message are stacked.
    COMPACT_BELOW = 110

    class Changed(Message):
        """The lot of component ``position`` is now ``lot_id`` (None: no usable lot)."""

        def __init__(self, position: int, lot_id: int | None) -> None:
            self.position = position
            self.lot_id = lot_id
            super().__init__()

    def __init__(
        self,
        component: Component,
        lots: Sequence[Lot],
        chosen: int | None,
        on: date,
        *,
        read_only: bool = False,
    ) -> None:
        super().__init__(id=f"lot-row-{component.position}")
        self.component = component
        self._lots = {lot.id: lot for lot in lots}
        self._on = on
        self.lot_id = chosen
        self._read_only = read_only

    def compose(self) -> ComposeResult:
        c = self.component
        yield Label(Text(f"{c.position}. {c.name}  {format_amount(c.amount)}"))
        options = [(lot_label(lot, self._on), lot.id) for lot in self._lots.values()]
        yield Select(
            options,
            value=self.lot_id if self.lot_id in self._lots else Select.NULL,
            prompt="no usable lot" if not options else "choose a lot",
            id=f"lot-{c.position}",
            disabled=self._read_only,
        )
        yield Static("", classes="lot-message")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < self.COMPACT_BELOW, "-compact")

    def on_mount(self) -> None:
        if self._read_only:
            return
        if self.lot_id is None:
            refused = "; ".join(
                f"{lot.lot_number} is {lot_state(lot, self._on)}" for lot in self._lots.values()
            )
            self._say(
                "No usable lot in stock"
                + (f" ({refused})" if refused else "")
                + ": receive one or change the formulation.",
                True,
            )
            return
        chosen = self._lots.get(self.lot_id)
        refusal = lot_refusal(chosen, self._on) if chosen is not None else None
        if refusal is not None:
            # A draft saved before its lot was recalled (or expired): the lot stays shown,
            # refused, and the safety rules block signing with it.
            self._say(f"Refused: {refusal}; choose another lot.", True)

    def _say(self, message: str, refused: bool) -> None:
        note = self.query_one(".lot-message", Static)
        note.update(Text(message))
        note.set_class(refused, "-refused")

    @property
    def message(self) -> str:
        """What is said beside the lot."""
        return str(self.query_one(".lot-message", Static).render())

    @on(Select.Changed)
    def _changed(self, event: Select.Changed) -> None:
        event.stop()
        if self._read_only:
            return
        value = event.value
        if not isinstance(value, int):
            return
        if value == self.lot_id:
            return
        refusal = lot_refusal(self._lots[value], self._on)
        if refusal is not None:
            self._say(f"Refused: {refusal}.", True)
            select: Select[int] = self.query_one(Select)
            with select.prevent(Select.Changed):
                select.value = self.lot_id if self.lot_id is not None else Select.NULL
            return
        self.lot_id = value
        self._say("", False)
        self.post_message(self.Changed(self.component.position, value))
