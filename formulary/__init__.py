"""Formulary's pure domain: units, the ingredient library, mixing math, safety rules
and export renderers. Nothing here imports the database or the user interface."""

__version__ = "0.1.0"
