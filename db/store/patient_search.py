"""The patient list's search query: every typed word anywhere in a patient's search key.

SQLite scans one clinic's patients. On PostgreSQL (a chain's shared server, hundreds of
thousands of patients) no single plan suits every word, and the planner cannot tell
them apart well enough:

* a word many patients share ('ma') is answered by walking the list index in order
  until a page is full: a few hundred entries;
* a rare word of three letters or more ('dubois') is looked up in the trigram index
  (migration 0006);
* a word with no three letters in a row ('zz', 'c-0': pg_trgm splits at the dash) has
  no trigram to look up; its bigrams do (migration 0013). Walking the list for it
  reads every patient when few or none match: 45 ms on 200,000 patients.

So for a word with no trigram, PostgreSQL first walks at most :data:`PROBE_ENTRIES`
entries of the list index. A full page there is the answer (the walk is in list order,
so no earlier match is missed). Otherwise the word is not common among the first names
of the list, and the second query may not walk: it finds the matches through the
bigram index and sorts them. Words with trigrams get one query, and the planner's
choice between the walk and the trigram index.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from db.tables.people import PatientRow

#: List-index entries the first PostgreSQL query reads at most (about 2 ms): a word at
#: least one patient in a hundred shares fills a page well within them.
PROBE_ENTRIES = 10_000
#: pg_trgm makes trigrams of runs of letters and digits only.
_ALNUM_RUN = re.compile(r"[^\W_]{3,}")


def trigram_blind(word: str) -> bool:
    """True when pg_trgm finds nothing to look up for ``word`` (no three letters in a row)."""
    return _ALNUM_RUN.search(word) is None


def _escaped(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def containing(search_key: SQLCoreOperations[str], key: str) -> sa.ColumnElement[bool]:
    """``key`` (a search key, :func:`db.store.validate.search_key`) anywhere in ``search_key``."""
    return search_key.like(_escaped(key), escape="\\")


def word_condition(
    word: str, search_key: SQLCoreOperations[str], born: SQLCoreOperations[date]
) -> sa.ColumnElement[bool]:
    """``word`` anywhere in the search key, or (for YYYY-MM-DD) the date of birth."""
    condition: sa.ColumnElement[bool] = search_key.like(_escaped(word), escape="\\")
    try:
        day = date.fromisoformat(word)
    except ValueError:
        return condition
    return sa.or_(condition, born == day)


def _bigram_condition(word: str, search_key: SQLCoreOperations[str]) -> sa.ColumnElement[bool]:
    """Every bigram of ``word`` in the key's: what ``ix_patient_search_bigrams`` answers.

    Both sides come from the one SQL function, so they agree whatever the database's
    encoding counts as a character.
    """
    text_array = postgresql.ARRAY(postgresql.TEXT)
    grams = sa.func.formulary_bigrams(search_key, type_=text_array)
    return grams.contains(
        sa.func.formulary_bigrams(sa.cast(sa.literal(word), postgresql.TEXT), type_=text_array)
    )


def _order(*, walk: bool) -> tuple[SQLCoreOperations[Any], ...]:
    # Ordering by an expression keeps a query off the list index (the planner cannot
    # walk it): for SQLite always, for PostgreSQL's second query.
    family: SQLCoreOperations[Any] = (
        sa.literal_column("family_key")
        if walk
        else sa.func.coalesce(col(PatientRow.family_key), "")
    )
    return (family, col(PatientRow.given_key), col(PatientRow.id))


def _page(limit: int, offset: int) -> tuple[int, int]:
    return max(1, min(limit, 1000)), max(0, offset)


def sqlite_query(words: list[str], limit: int, offset: int) -> SelectOfScalar[PatientRow]:
    """One query: with a filter, scanning the table and sorting the few matches beats
    walking the name index and fetching every row to test it (20x on 20,000 patients)."""
    query = select(PatientRow).where(col(PatientRow.deleted_at).is_(None))
    for word in words:
        query = query.where(
            word_condition(word, col(PatientRow.search_key), col(PatientRow.date_of_birth))
        )
    size, skip = _page(limit, offset)
    return query.order_by(*_order(walk=not words)).limit(size).offset(skip)


def postgresql_probe(words: list[str], limit: int, offset: int) -> SelectOfScalar[int]:
    """The page's ids among the first :data:`PROBE_ENTRIES` live patients in list order
    (an index-only walk: the list index holds the search key and date of birth)."""
    first = (
        sa.select(
            col(PatientRow.id),
            col(PatientRow.family_key),
            col(PatientRow.given_key),
            col(PatientRow.search_key),
            col(PatientRow.date_of_birth),
        )
        .where(col(PatientRow.deleted_at).is_(None))
        .order_by(*_order(walk=True))
        .limit(PROBE_ENTRIES)
        .subquery("first_entries")
    )
    query = select(first.c.id)
    for word in words:
        query = query.where(word_condition(word, first.c.search_key, first.c.date_of_birth))
    size, skip = _page(limit, offset)
    return (
        query.order_by(first.c.family_key, first.c.given_key, first.c.id)
        .limit(size)
        .offset(skip)
    )


def needs_probe(words: list[str]) -> bool:
    """True when a word has no trigram: PostgreSQL probes the list's first entries."""
    return any(trigram_blind(word) for word in words)


def probe_answers(ids: list[int], limit: int, offset: int) -> bool:
    """True when the probe's ``ids`` are the page (the probe found a full one)."""
    size, _ = _page(limit, offset)
    return len(ids) == size


def postgresql_query(
    words: list[str], limit: int, offset: int, *, walk: bool = True
) -> SelectOfScalar[PatientRow]:
    """The page's rows, chosen by ids. ``walk=False`` (after a probe) keeps the planner
    off the list order: the words' indexes and a sort, with the bigram index for a word
    with no trigram."""
    key, born = col(PatientRow.search_key), col(PatientRow.date_of_birth)
    ids = sa.select(col(PatientRow.id)).where(col(PatientRow.deleted_at).is_(None))
    for word in words:
        ids = ids.where(word_condition(word, key, born))
        if not walk and len(word) > 1 and trigram_blind(word):
            ids = ids.where(_bigram_condition(word, key))
    size, skip = _page(limit, offset)
    page = ids.order_by(*_order(walk=walk)).limit(size).offset(skip).scalar_subquery()
    return select(PatientRow).where(col(PatientRow.id).in_(page)).order_by(*_order(walk=True))


def rows_by_ids(ids: list[int]) -> SelectOfScalar[PatientRow]:
    """The rows of ``ids`` in list order."""
    return select(PatientRow).where(col(PatientRow.id).in_(ids)).order_by(*_order(walk=True))
