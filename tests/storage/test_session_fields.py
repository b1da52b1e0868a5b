"""The session declared once: the table, the record, the draft, the signed content,
the CLI and the CSV all agree with formulary.session_fields."""

from __future__ import annotations

import dataclasses

import pytest

from db.store import SessionDraft
from db.tables.sessions import SessionRow
from formulary import session_fields as fields
from formulary import signed_content
from formulary.export.csv_export import SESSION_COLUMNS
from formulary.records import Session
from tui.cli import session as cli_session


def test_table_columns_are_the_declared_fields_and_the_bookkeeping() -> None:
    columns = {c.key for c in SessionRow.__table__.columns}  # type: ignore[attr-defined]
    assert columns == fields.stored_columns() | fields.BOOKKEEPING_COLUMNS
    assert not fields.stored_columns() & fields.BOOKKEEPING_COLUMNS


def test_record_and_draft_hold_every_declared_field() -> None:
    attributes = {f.attr for f in fields.FIELDS}
    draft = {f.name for f in dataclasses.fields(SessionDraft)}
    record = {f.name for f in dataclasses.fields(Session)}
    assert draft == attributes
    assert attributes <= record
    # What the record has beyond the fields is the session's own bookkeeping.
    assert record - attributes == {"id", "status", "signature", "addenda"}


@pytest.mark.parametrize("version", sorted(signed_content.VERSIONS))
def test_each_signed_version_covers_exactly_the_fields_declared_signed(version: int) -> None:
    definition = signed_content.VERSIONS[version]
    session_part = set(definition.session_fields) - fields.BOOKKEEPING_COLUMNS
    assert session_part == fields.signed_columns(version)


def test_the_current_version_covers_every_signed_field() -> None:
    newest = max(f.signed_since or 0 for f in fields.FIELDS)
    assert signed_content.CURRENT.number >= newest
    assert fields.signed_columns(signed_content.CURRENT.number) == {
        c for f in fields.FIELDS if f.signed_since is not None for c in f.columns
    }


def test_a_new_column_must_be_declared_before_it_can_be_signed() -> None:
    # Every signed column is a declared column: nothing is signed by accident.
    for definition in signed_content.VERSIONS.values():
        assert set(definition.session_fields) <= (
            fields.stored_columns() | fields.BOOKKEEPING_COLUMNS
        )


def test_cli_accepts_the_declared_keys() -> None:
    assert fields.cli_keys() <= cli_session._FIELDS


def test_csv_header_lists_the_declared_columns_in_order() -> None:
    declared = fields.csv_columns()
    start = SESSION_COLUMNS.index(declared[0])
    assert SESSION_COLUMNS[start : start + len(declared)] == declared


def test_ranges_live_in_the_declaration() -> None:
    assert fields.field("needle_gauge").problem(17) == (
        "the needle gauge must be between 18 G and 34 G"
    )
    assert fields.field("needle_gauge").problem(34) is None
    assert fields.field("pain_score").problem(11) is not None
    assert fields.field("pain_score").problem(0) is None
    assert fields.field("notes").problem("x" * 10001) is not None
    assert fields.field("injection_points").problem(500) is None
    assert fields.field("injection_points").problem(501) is not None
