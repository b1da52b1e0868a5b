"""The session declared once: the table, the record, the draft, the signed content,
the CLI and the CSV all agree with formulary.session_fields."""

from __future__ import annotations

import dataclasses

import pytest

from db import loaders
from db.ops.transfer import BY_NAME, fields_of
from db.store import SessionDraft
from db.tables.sessions import SessionRow, simple_columns
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
    # A field is an attribute, or (simple and declared with nothing else) in ``others``.
    held = {f.attr for f in fields.others_of(SessionDraft)}
    draft = {f.name for f in dataclasses.fields(SessionDraft)} - {"others"}
    record = {f.name for f in dataclasses.fields(Session)} - {"others"}
    assert draft | held == attributes
    assert not draft & held
    assert fields.others_of(Session) == fields.others_of(SessionDraft)
    # What the record has beyond the fields is the session's own bookkeeping (who
    # prepared it is the row's created_by_id, a bookkeeping column).
    assert record - attributes == {"id", "status", "prepared_by", "signature", "addenda"}


def test_simple_columns_are_made_from_the_declaration() -> None:
    table = SessionRow.__table__  # type: ignore[attr-defined]
    for declared in fields.simple_fields():
        made = simple_columns(declared)
        assert tuple(made) == declared.columns
        for name in made:
            assert name in table.columns


def test_every_declared_field_reaches_each_place_it_declares() -> None:
    # The transfer file's fields, the CLI keys, the CSV header and the loader.
    transfer_fields = set(fields_of(BY_NAME["sessions"]))
    header = set(SESSION_COLUMNS)
    for declared in fields.FIELDS:
        assert set(declared.transfer) <= transfer_fields, declared.name
        assert not declared.cli or declared.cli in cli_session._FIELDS, declared.name
        assert set(declared.csv) <= header, declared.name
        assert set(declared.columns) <= {c.key for c in SessionRow.__table__.columns}  # type: ignore[attr-defined]
    row = SessionRow(needle_gauge=30, notes="n")  # type: ignore[call-arg]
    loaded = loaders.simple_fields(row)
    assert set(loaded) == {f.attr for f in fields.simple_fields()}
    assert loaded["needle_gauge"] == 30 and loaded["notes"] == "n"


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
