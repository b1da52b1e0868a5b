"""Messages the app's workers post; the App or Screen that handles one owns the state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from textual.message import Message

if TYPE_CHECKING:
    from db.store import Store


class StoreOpened(Message):
    """The database is open and migrated; ``store`` is ready for use."""

    def __init__(self, store: Store, has_users: bool) -> None:
        self.store = store
        self.has_users = has_users
        super().__init__()


class StoreFailed(Message):
    """The database could not be opened; ``reason`` says what to do."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__()


_Data = TypeVar("_Data")


class Loaded(Message, Generic[_Data], bubble=False):
    """A thread worker read ``data`` for the screen (or widget) that started it.

    Post it to yourself: ``self.post_message(Loaded(chart))``, handle it with
    ``@on(Loaded)`` and ``def _loaded(self, message: Loaded[PatientChart])``. It does
    not bubble, so a screen never receives a widget's read. ``generation`` lets a
    screen drop the answer to a request it has since replaced.
    """

    def __init__(self, data: _Data, *, generation: int = 0) -> None:
        self.data = data
        self.generation = generation
        super().__init__()


class WorkerFailed(Message, bubble=False):
    """Work in a thread worker failed; the screen (or widget) that started it says so.

    ``title`` names what did not happen ("Draft not saved"), ``reason`` says why and
    what to do. ``generation`` as for :class:`Loaded`. Like it, it does not bubble.
    """

    def __init__(self, reason: str, *, title: str = "", generation: int = 0) -> None:
        self.reason = reason
        self.title = title
        self.generation = generation
        super().__init__()

    @classmethod
    def of(cls, exc: BaseException, *, title: str = "", generation: int = 0) -> WorkerFailed:
        """The failure for ``exc``: its message, or its kind when it has none."""
        return cls(str(exc) or type(exc).__name__, title=title, generation=generation)
