"""Who is acting and what each role may do: the one declaration of the role sets.

Every Store call takes the signed-in :class:`Actor`; every write and read names the
set of roles allowed to do it. Headless operations (:mod:`db.ops`) and the command
line check roles with :func:`require_role` before work that does not go through a
Store method.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.errors import PermissionDenied
from formulary.records import Practitioner, Role

#: Who may do what. Auditors read only; assistants prepare but never sign.
EVERYONE = frozenset(Role)
PREPARERS = frozenset({Role.ADMIN, Role.PRACTITIONER, Role.ASSISTANT})
SIGNERS = frozenset({Role.ADMIN, Role.PRACTITIONER})
ADMINS = frozenset({Role.ADMIN})
AUDIT_READERS = frozenset({Role.ADMIN, Role.PRACTITIONER, Role.AUDITOR})


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in user, as returned by :meth:`Store.authenticate`. Pass it to every call."""

    id: int
    username: str
    full_name: str
    role: Role

    @property
    def practitioner(self) -> Practitioner:
        """The record form of this user (for signatures and exports)."""
        return Practitioner(self.id, self.username, self.full_name, self.role)


_ROLE_WORDS = {
    PREPARERS: "an administrator, practitioner or assistant",
    SIGNERS: "an administrator or practitioner",
    ADMINS: "an administrator",
    AUDIT_READERS: "an administrator, practitioner or auditor",
    EVERYONE: "a signed-in user",
}


def require_role(actor: Actor, allowed: frozenset[Role], what: str) -> None:
    """Raise :class:`PermissionDenied` unless ``actor``'s role is in ``allowed``."""
    if actor.role not in allowed:
        who = _ROLE_WORDS.get(allowed, "another role")
        raise PermissionDenied(
            f"{actor.username} is {_article(actor.role)} {actor.role.value} and cannot {what}; "
            f"ask {who} to do it"
        )


def _article(role: Role) -> str:
    return "an" if role.value[0] in "aeiou" else "a"

