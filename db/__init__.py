"""Formulary's persistence layer: tables, engines, migrations, the Store and the audit chain."""
