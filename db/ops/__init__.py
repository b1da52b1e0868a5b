"""Headless operations built on the Store: transfer, backup, exports, recall, demo, bulk loading.

The root of :mod:`db` holds persistence (tables, engine, migrations, the Store, the
audit trail). The modules here are what the command line and the app *do* with a
database (copy it, export it, fill it with a demo clinic, load a whole clinic in bulk)
and they reach the Store through its public API only (:mod:`db.store`,
:mod:`db.store.roles`, :mod:`db.store.signing`, :mod:`db.store.validate`); an
import-linter contract forbids importing the Store's private modules.
"""
