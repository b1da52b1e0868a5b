"""The app's text field: Textual's Input with its editing keys applied in typing order."""

from __future__ import annotations

from textual import events
from textual.widgets import Input


class TextInput(Input):
    """A text field whose own keys (backspace, delete, arrows, home, end…) run in order.

    Textual's Input inserts a typed character as the key reaches it, but sends a key it
    binds (backspace, the arrows) up to the app, which runs the binding when the key
    has travelled back through the screen. In a burst of keys (a fast typist, a
    repeating backspace, a machine typing for a person) the characters typed after a
    backspace could be inserted before it ran: "zzabi", five backspaces, "lee" left
    "zza" in the patient search (Textualize/textual#6605). Here the field runs its own
    bindings where it inserts characters, so each key applies in the order it came.
    Priority bindings are the app's and screen's, run before the key reaches the field;
    keys the field does not bind still go up to its screen as before.
    """

    async def _on_key(self, event: events.Key) -> None:
        await super()._on_key(event)
        if event.is_printable:
            return  # inserted (and stopped) by Input
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
