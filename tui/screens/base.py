"""What every screen of the app may ask for: the Store and the signed-in user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from formulary.records import Practitioner
    from tui.app import FormularyApp


class _AppAccess:
    @property
    def formulary(self) -> FormularyApp:
        """The running app, typed."""
        return cast("FormularyApp", self.app)  # type: ignore[attr-defined]

    @property
    def store(self) -> Any:
        """The Store the app opened (every read and write goes through it)."""
        return self.formulary.store

    @property
    def user(self) -> Practitioner:
        """The signed-in user (screens past sign-in always have one)."""
        user = self.formulary.user
        if user is None:
            raise RuntimeError("no user is signed in")
        return user


class AppScreen(_AppAccess, Screen[None]):
    """A full screen of the workday."""


class AppModal(_AppAccess, ModalScreen[Any]):
    """A dialog over a screen of the workday."""
