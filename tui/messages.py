"""Messages the app's workers post; the App or Screen that handles one owns the state."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
