"""Administrator commands that must work while writing is refused: rekey, accept a rollback.

Both are audited and followed by a checkpoint signed with the (new) key, so the
checkpoint log again agrees with the database and normal writes resume.
"""

from __future__ import annotations

from db.audit.pinning import (
    KEY_ENTITY,
    REKEY_ACTION,
    ROLLBACK_ACTION,
    ROLLBACK_ENTITY,
    log_lines,
    new_key_files,
    pin_image,
    read_pin,
    superseded_checkpoints,
    trusted_key,
)
from db.errors import ValidationError
from db.store._base import ADMINS, Actor, StoreBase, require_reason
from formulary.records import Checkpoint


class KeysStore(StoreBase):
    """Replacing the checkpoint key; carrying on after a rollback."""

    def rekey(self, actor: Actor, reason: str) -> tuple[str | None, str, Checkpoint]:
        """Replace the installation's checkpoint key (administrators); old id, new id, checkpoint.

        The key-transition line in the checkpoint log is signed by the old key when it
        still exists, so verification follows the checkpoints from the old key to the
        new one. The change is audited as ``key.rekey`` with the reason.
        """
        why = require_reason(reason, "replace the checkpoint key")
        db_id = self.database.db_id
        with self._write(actor, ADMINS, "replace the checkpoint key", guard=False) as uow:
            pin = read_pin(uow.session)
            key, transition = new_key_files(db_id, self.key_dir, pin)
            uow.audit(
                REKEY_ACTION,
                KEY_ENTITY,
                key.key_id,
                None if pin is None else {"key_id": pin.key_id, "public_key": pin.public_key},
                {
                    **pin_image(key, previous=None if pin is None else pin.key_id),
                    "transition": transition.line,
                    "signed_by_old_key": transition.signed,
                },
                why,
            )
        checkpoint = self._checkpoint("new key")
        return (None if pin is None else pin.key_id), key.key_id, checkpoint

    def accept_rollback(self, actor: Actor, reason: str) -> tuple[int, Checkpoint]:
        """Carry on from a restored or rolled-back copy (administrators, audited).

        Records which checkpoints of the log the database no longer agrees with, then
        signs a checkpoint of the current head. Returns how many were superseded.
        """
        why = require_reason(reason, "accept the rollback")
        db_id = self.database.db_id
        with self._write(actor, ADMINS, "accept a rollback", guard=False) as uow:
            # The acknowledgement is only worth its checkpoint: with the key missing,
            # replaced or unsafe it could not be signed, so it is refused before it is
            # written (the rollback guard alone is skipped here).
            trusted_key(db_id, read_pin(uow.session), self.key_dir)
            superseded = superseded_checkpoints(
                uow.session, db_id, log_lines(db_id, self.key_dir)
            )
            if not superseded:
                raise ValidationError(
                    "the database agrees with every checkpoint in its log; there is no "
                    "rollback to accept"
                )
            uow.audit(
                ROLLBACK_ACTION,
                ROLLBACK_ENTITY,
                None,
                None,
                {"superseded": superseded},
                why,
            )
        checkpoint = self._checkpoint("rollback acknowledgement", acknowledged=True)
        return len(superseded), checkpoint
