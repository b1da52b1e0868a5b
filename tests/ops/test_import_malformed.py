"""Malformed export files: every problem is refused by name and JSON path, never a crash.

A valid export of the demo clinic is mutated at random paths (values replaced by any
JSON, keys removed, deep nesting) and parsed; the parser must either accept it or
raise the one TransferError whose message names where the problem is.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.ops.transfer import TransferError, parse_document
from tests.ops.test_transfer import Cli, _export

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["abc", "-5", "0001-01-01", "1E+400", "NaN"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                  max_size=3),
    max_leaves=8,
)


@pytest.fixture
def document(demo_copy: Path, cli: Cli, tmp_path: Path) -> dict[str, Any]:
    return _export(cli, str(demo_copy), tmp_path / "demo.json")


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into ``value`` (the first two records of each list only)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            yield from paths(item, (*prefix, index))


def replaced(document: dict[str, Any], path: tuple[Any, ...], value: Any, drop: bool) -> Any:
    changed = copy.deepcopy(document)
    if not path:
        return value
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return changed


def where(message: str) -> str:
    return message.split(":", 1)[0]


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_mutation_is_accepted_or_refused_with_its_path(
    document: dict[str, Any], data: st.DataObject
) -> None:
    all_paths = list(paths(document))
    path = data.draw(st.sampled_from(all_paths), label="path")
    value = data.draw(JSON, label="value")
    drop = data.draw(st.booleans(), label="drop")
    text = json.dumps(replaced(document, path, value, drop))
    try:
        parse_document(text)
    except TransferError as exc:
        message = str(exc)
        assert "\n" not in message
        assert message.endswith("nothing was imported")
        # Every refusal says where: a JSON path, or the file as a whole.
        assert message.startswith(("records", "source", "clinic", "the file")), message


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.__setitem__("source", [1]), "source"),
        (lambda d: d.__setitem__("source", "x"), "source"),
        (lambda d: d.__setitem__("source", None), "source"),
        (lambda d: d.__setitem__("source", 5), "source"),
        (lambda d: d["records"]["lots"][0].__setitem__(
            "quantity", {"value": "-5", "unit": "mL"}), "records.lots[0].quantity.value"),
        (lambda d: d["records"]["sessions"][0]["lots"][0].__setitem__(
            "component_position", "abc"), "records.sessions[0].lots[0].component_position"),
        (lambda d: d["records"]["sessions"][0]["lots"][0].__setitem__("lot_id", None),
         "records.sessions[0].lots[0].lot_id"),
        (lambda d: d["records"]["sessions"][0].__setitem__(
            "performed_at", "0001-03-04T10:00:00.000000Z"), "records.sessions[0].performed_at"),
        # The ranges and lengths declared in formulary.session_fields.
        (lambda d: d["records"]["sessions"][0].__setitem__("needle_gauge", 99),
         "records.sessions[0].needle_gauge"),
        (lambda d: d["records"]["sessions"][0].__setitem__("pain_score", 11),
         "records.sessions[0].pain_score"),
        (lambda d: d["records"]["sessions"][0].__setitem__("anaesthesia", "x" * 501),
         "records.sessions[0].anaesthesia"),
        # Beyond what a syringe or a label holds (formulary.limits).
        (lambda d: d["records"]["sessions"][0]["total_volume"].__setitem__(
            "value", "999999999"), "records.sessions[0].total_volume.value"),
        (lambda d: d["records"]["formulation_versions"][0]["final_volume"].__setitem__(
            "value", "5000"), "records.formulation_versions[0].final_volume.value"),
    ],
)
def test_the_reported_cases_are_refused_by_path(
    document: dict[str, Any], change: Any, path: str
) -> None:
    bad = copy.deepcopy(document)
    change(bad)
    with pytest.raises(TransferError) as refused:
        parse_document(json.dumps(bad))
    assert where(str(refused.value)) == path, str(refused.value)


def test_deep_nesting_is_refused_in_one_line(document: dict[str, Any]) -> None:
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    bad = copy.deepcopy(document)
    bad["records"]["patients"][0]["allergies"] = deep
    try:
        text = json.dumps(bad)
    except RecursionError:
        text = '{"format":' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(TransferError) as refused:
        parse_document(text)
    assert "\n" not in str(refused.value)
