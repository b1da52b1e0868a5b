"""The patient search on both engines: the same answer as reading every patient.

PostgreSQL answers with a walk of the list's first entries, or through its trigram and
bigram indexes (db/store/patient_search.py); with the walk cut to a few entries here,
every search takes both paths in turn on a small clinic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.database import Database
from db.store import Actor, PatientFields, Store
from db.store import patient_search as search_query
from db.store.validate import search_key
from db.tables.people import PatientRow
from formulary.records import Patient, Sex

pytestmark = pytest.mark.storage

FAMILIES = ("Dubois", "Nguyen", "Martin", "Ma", "Zuzak", "Müller", "Abad", "Berger", "Oz")
GIVEN = ("Ana", "Zoë", "Marc", "Nam", "Bea")


@pytest.fixture
def clinic(store: Store, admin: Actor) -> list[Patient]:
    """Forty-five patients whose names share bigrams and trigrams in many ways; two deleted."""
    specs = [
        PatientFields(
            chart_number=f"{'SY' if i % 2 else 'C'}-{i:04d}",
            family_name=FAMILIES[i % len(FAMILIES)],
            given_name=GIVEN[i % len(GIVEN)],
            date_of_birth=date(1970, 1, 1) + timedelta(days=97 * i),
            sex=Sex.FEMALE,
        )
        for i in range(45)
    ]
    patients = store.add_patients(admin, specs)
    for gone in patients[:2]:
        store.delete_patient(admin, gone.id, "entered twice")
    return patients[2:]


def expected(patients: list[Patient], search: str, limit: int, offset: int) -> list[str]:
    """Every live patient tested one by one, in list order."""

    def matches(p: Patient, word: str) -> bool:
        if word in search_key(p.family_name, p.given_name, p.chart_number):
            return True
        try:
            return date.fromisoformat(word) == p.date_of_birth
        except ValueError:
            return False

    words = search_key(search).split()
    found = [p for p in patients if all(matches(p, w) for w in words)]
    found.sort(key=lambda p: (search_key(p.family_name), search_key(p.given_name), p.id))
    return [p.chart_number for p in found[offset : offset + limit]]


WORDS = st.one_of(
    st.sampled_from(["zz", "c-", "c-0", "sy-00", "ma", "m", "du", "ngu", "er", "ü", "zo", "-"]),
    st.text(alphabet="abdegimnortuyz-0123 ", min_size=1, max_size=4),
    st.dates(date(1970, 1, 1), date(1982, 12, 31)).map(date.isoformat),
)


@pytest.mark.parametrize("probe", [3, 10_000])
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    words=st.lists(WORDS, min_size=0, max_size=2),
    limit=st.integers(1, 12),
    offset=st.integers(0, 6),
)
def test_search_finds_what_reading_every_patient_finds(
    store: Store,
    admin: Actor,
    clinic: list[Patient],
    monkeypatch: pytest.MonkeyPatch,
    probe: int,
    words: list[str],
    limit: int,
    offset: int,
) -> None:
    monkeypatch.setattr(search_query, "PROBE_ENTRIES", probe)
    search = " ".join(words)
    found = store.list_patients(admin, search, limit=limit, offset=offset)
    assert [p.chart_number for p in found] == expected(clinic, search, limit, offset)


@pytest.mark.parametrize(
    ("word", "blind"),
    [
        ("zz", True),
        ("c-0", True),
        ("sy-0100", False),
        ("ngu", False),
        ("a_b", True),
        ("ü1x", False),
    ],
)
def test_words_with_no_three_letters_in_a_row_have_no_trigram(word: str, blind: bool) -> None:
    assert search_query.trigram_blind(word) is blind


def test_postgresql_bigrams_are_the_distinct_two_character_pieces(database: Database) -> None:
    if database.dialect != "postgresql":
        pytest.skip("the bigram function and index are PostgreSQL's")
    keys = ["", "a", "zz", "müller zoe c-0001", "ana  ana", "nguyen nam sy-0001", "日本語"]
    with database.engine.connect() as connection:
        for key in keys:
            made = connection.execute(
                sa.text("SELECT formulary_bigrams(:k)"), {"k": key}
            ).scalar_one()
            assert sorted(made) == sorted({key[i : i + 2] for i in range(len(key) - 1)}), key


def test_postgresql_looks_up_a_word_with_no_trigram_in_the_bigram_index(
    database: Database,
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("the bigram index is PostgreSQL's; SQLite scans one clinic's patients")
    now = datetime.now(UTC)
    rows = [
        {
            "chart_number": f"SY-{i:06d}",
            "family_name": name,
            "given_name": "Ana",
            "family_key": name.lower(),
            "given_key": "ana",
            "search_key": f"{name.lower()} ana sy-{i:06d}",
            "date_of_birth": date(1980, 1, 1),
            "sex": "female",
            "allergies": [],
            "conditions": [],
            "created_at": now,
            "updated_at": now,
        }
        for i, name in enumerate(["Martin", "Dubois", "Nguyen", "Berger"] * 1500)
    ]
    with database.engine.begin() as connection:
        connection.execute(sa.insert(PatientRow.__table__), rows)  # type: ignore[attr-defined]
        connection.execute(sa.text("ANALYZE patient"))
    compiled = search_query.postgresql_query(["zz"], 100, 0, walk=False).compile(database.engine)
    with database.engine.connect() as connection:
        plan = "\n".join(
            r[0] for r in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        )
    assert "ix_patient_search_bigrams" in plan, plan
