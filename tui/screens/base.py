"""What every screen of the app may ask for: the Store and the signed-in user."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from textual.message import Message

    from db.store import Actor, Store
    from tui.app import FormularyApp


class _AppAccess:
    @property
    def formulary_app(self) -> FormularyApp:
        """The running app, typed."""
        return cast("FormularyApp", self.app)  # type: ignore[attr-defined]

    @property
    def store(self) -> Store:
        """The Store the app opened (every read and write goes through it)."""
        return self.formulary_app.store

    @property
    def user(self) -> Actor:
        """The signed-in user (screens past sign-in always have one)."""
        user = self.formulary_app.user
        if user is None:
            raise RuntimeError("no user is signed in")
        return user


    def post_if_current(self, message: Message) -> None:
        """Post what a thread worker read, unless a newer run of it has replaced it.

        A reload is an exclusive worker: starting one cancels the one still reading,
        but that one's thread runs on. Had it read before a change and posted after
        the newer reload, the screen would show the older records over the newer.
        """
        from textual.worker import get_current_worker

        if not get_current_worker().is_cancelled:
            self.post_message(message)  # type: ignore[attr-defined]


class AppScreen(_AppAccess, Screen[None]):
    """A full screen of the workday."""


class AppModal(_AppAccess, ModalScreen[Any]):
    """A dialog over a screen of the workday.

    The look every dialog shares is here, once: centred, a thick bordered box on the
    surface colour, a row of buttons (``classes="dialog-buttons"``), an error line
    (``classes="dialog-error"``) and muted hints (``classes="hint"``). The rules are
    scoped under ``AppModal``, so a dialog's own DEFAULT_CSS (``ConfirmScreen >
    Vertical { width: 76; border: thick $error; }``) wins where it says otherwise.
    """

    DEFAULT_CSS = """
    AppModal { align: center middle; }
    AppModal > Vertical, AppModal > VerticalScroll {
        width: 100; max-width: 98%; height: auto; max-height: 95%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    AppModal .dialog-buttons { height: 3; margin-top: 1; }
    AppModal .dialog-buttons Button { margin-right: 2; }
    AppModal .dialog-error { color: $error; height: auto; }
    AppModal .hint { color: $text-muted; }
    """


_Read = TypeVar("_Read")


def defer_until_typed(screen: Screen[Any], action: Callable[[], object]) -> bool:
    """Run ``action`` once the focused field has handled the keys typed before it.

    A priority key (ctrl+s on a form) runs as soon as it arrives, while characters typed
    just before it may still wait in the focused field's queue: a save then reads the
    field without them (an Add user form saved from a burst ended with the second
    password short, and stayed open). Returns True when ``action`` was put behind
    those keys; the caller returns and ``action`` runs again, with them in.
    """
    focused = screen.focused
    if focused is not None and focused.message_queue_size:
        focused.call_later(action)
        return True
    return False


def read_then_push(
    app: FormularyApp,
    read: Callable[[Actor], _Read],
    screen_for: Callable[[_Read], Screen[Any]],
    *,
    failure: str,
    group: str,
) -> None:
    """Run ``read(user)`` (a Store read) in a worker, then push ``screen_for(result)``.

    The screen is pushed only over the screen it was asked from, with the user still
    signed in: a lock or a sign-out in the meantime must not be covered by a patient's
    details. A failed read is a notification titled ``failure``. A newer request in
    the same ``group`` replaces one still reading.
    """
    from textual.worker import get_current_worker

    requested_from = app.screen

    def show(result: _Read) -> None:
        if app.screen is requested_from and app.user is not None:
            app.push_screen(screen_for(result))

    def load(user: Actor) -> None:
        try:
            result = read(user)
        except Exception as exc:
            app.call_from_thread(app.notify, f"{exc}", title=failure, severity="error")
            return
        if not get_current_worker().is_cancelled:
            app.call_from_thread(show, result)

    user = app.user
    if user is not None:
        app.run_worker(partial(load, user), thread=True, exclusive=True, group=group)
