"""The one exception hierarchy the Store raises.

Every message is a single sentence a user can act on: what was wrong and what to do.
Callers (the TUI, the CLI) show ``str(error)`` as it is.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the persistence layer reports to a user."""


class DatabaseUnavailable(StoreError):
    """The database cannot be opened (missing, network filesystem, newer schema)."""


class NotFormulary(DatabaseUnavailable):
    """The file or database is empty or belongs to something else: never migrated."""


class SchemaTooNew(DatabaseUnavailable):
    """The database was migrated by a newer Formulary than this one."""


class PermissionDenied(StoreError):
    """The user's role does not allow this action."""


class NotFound(StoreError):
    """The record asked for does not exist (or was deleted)."""


class ValidationError(StoreError):
    """The input cannot be saved as given."""


class Conflict(StoreError):
    """The change collides with what is already stored (duplicate, busy, stale)."""


class AuthenticationFailed(StoreError):
    """Unknown user or wrong password."""


class AccountLocked(AuthenticationFailed):
    """Too many failed logins: an administrator must unlock the account."""


class Immutable(StoreError):
    """The record is signed or used and can no longer change."""


class CheckpointFailed(StoreError):
    """The change committed, but the audit checkpoint after it could not be written.

    ``saved`` is what was saved (the signed session), so a caller can show it as
    saved: the change stands, only its checkpoint is missing.
    """

    saved: object | None = None


class KeyNotTrusted(StoreError):
    """The installation's checkpoint key is missing, replaced or unsafe: writes stop."""


class RolledBack(StoreError):
    """The database is behind its newest signed checkpoint: restored or rolled back."""


class FileNotWritten(StoreError):
    """A file or folder outside the database could not be written (full disk, read-only).

    Nothing half-written is left; the command line exits with its "file or folder"
    status rather than "refused", since the input was fine.
    """


class AlreadyRecorded(StoreError):
    """A retried write whose idempotency key was already used: nothing written again."""

    def __init__(self, message: str, record_id: int) -> None:
        super().__init__(message)
        #: The id of the record written the first time.
        self.record_id = record_id
