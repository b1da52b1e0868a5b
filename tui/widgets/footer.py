"""A footer that rebuilds its keys only when the keys it would show have changed."""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class QuietFooter(Footer):
    """Textual's footer, minus the rebuilds that change nothing.

    Textual's footer removes and mounts all of its keys again each time the screen says
    its bindings may have changed: on being pushed, on every focus change, after idle.
    Opening a chart did that four times for the same ten keys, a large part of the
    time to show it. This one compares what it would show with what it shows.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._composed: Hashable = None
        self._pending = False

    def _signature(self) -> Hashable:
        """Everything the keys are built from: keys, labels, enabled, tooltips."""
        app = self.app
        return (
            self.show_command_palette,
            self.compact,
            tuple(
                (
                    binding.key,
                    app.get_key_display(binding),
                    binding.action,
                    binding.description,
                    binding.show,
                    id(binding.group),
                    enabled,
                    tooltip,
                )
                for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
            ),
        )

    def compose(self) -> ComposeResult:
        self._pending = False
        self._composed = self._signature() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            super().bindings_changed(screen)
            return
        if self._pending or (self._bindings_ready and self._signature() == self._composed):
            return
        self._pending = True
        super().bindings_changed(screen)
