"""What marks a SQLite file as a Formulary database.

``PRAGMA application_id`` (a 32-bit number in the file header, meant for this) is
set to :data:`APPLICATION_ID` by migration 0011, for new databases as they are
created and for older ones as they are migrated. Formulary opens a SQLite file only
when its application id is Formulary's, or when it is 0 and the file is a Formulary
database of a revision before 0011 (it gets the id when migrated, after its backup).
"""

from __future__ import annotations

#: "FORM" in ASCII (0x464F524D).
APPLICATION_ID = 0x464F524D

#: The first revision whose databases carry the id.
MARKED_FROM = "0011"
