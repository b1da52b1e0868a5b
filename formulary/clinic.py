"""The clinic's details and settings, declared once: what each may hold.

The Store checks them (``db.store.validate``), the command line's help and the app's
Clinic details dialog show them, and the transfer file is checked against them. The
photo size limit's bounds are the photographs' own (``formulary.photos``).
"""

from __future__ import annotations

import re

#: The longest clinic name and address (as every export prints them).
NAME_LIMIT = 200
ADDRESS_LIMIT = 500

#: The longest clinic identifier; it goes into URNs and file names.
IDENTIFIER_LIMIT = 64
#: What a clinic identifier may look like (``""`` means the default, the database id).
IDENTIFIER = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{IDENTIFIER_LIMIT - 1}}}")
#: What :data:`IDENTIFIER` allows, in words.
IDENTIFIER_RULE = (
    f"1 to {IDENTIFIER_LIMIT} letters, digits, '.', '_' or '-', starting with a letter or digit"
)

#: How long a prepared syringe may be used, in minutes (its label prints it).
DEFAULT_BEYOND_USE_MINUTES = 60
MIN_BEYOND_USE_MINUTES = 1
#: The longest beyond-use time a label may print (USP <797> category 3 upper bound).
MAX_BEYOND_USE_MINUTES = 45 * 24 * 60
#: The bounds in words.
BEYOND_USE_RANGE = f"{MIN_BEYOND_USE_MINUTES} to {MAX_BEYOND_USE_MINUTES} minutes (45 days)"
