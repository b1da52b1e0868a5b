"""Formulary's user-facing layer: the Textual app and the ``formulary`` command line."""
