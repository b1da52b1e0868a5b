"""The one exception hierarchy the Store raises.

Every message is a single sentence a user can act on: what was wrong and what to do.
Callers (the TUI, the CLI) show ``str(error)`` as it is.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the persistence layer reports to a user."""


class DatabaseUnavailable(StoreError):
    """The database cannot be opened (missing, network filesystem, newer schema)."""


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
    """The change committed, but the audit checkpoint after it could not be written."""
