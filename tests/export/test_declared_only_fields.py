"""A simple session field declared with nothing but its declaration (held in the record's
``others``) is exported like the fields with an attribute: a key of its own in the JSON
chart, and cleaned of unprintable characters like every other text."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

from formulary.export.json_export import render_json
from formulary.export.safe_text import printable_record
from formulary.units.amount import Amount
from tests.export.fixtures import build_chart


def test_the_json_chart_has_them_as_keys_of_the_session() -> None:
    chart = build_chart(sessions=1, outcomes=0)
    (session,) = chart.sessions
    changed = dataclasses.replace(
        session, others={"skin_prep": "chlorhexidine", "wheal_spacing": Amount(Decimal("1"), "cm")}
    )
    document = json.loads(render_json(dataclasses.replace(chart, sessions=(changed,))))
    (shown,) = document["chart"]["sessions"]
    assert "others" not in shown
    assert shown["skin_prep"] == "chlorhexidine"
    assert shown["wheal_spacing"] == {"value": "1", "unit": "cm"}
    # A session without any keeps exactly the keys it had.
    (plain,) = json.loads(render_json(chart))["chart"]["sessions"]
    assert set(shown) - set(plain) == {"skin_prep", "wheal_spacing"}


def test_their_text_is_made_printable() -> None:
    chart = build_chart(sessions=1, outcomes=0)
    (session,) = chart.sessions
    changed = dataclasses.replace(session, others={"skin_prep": "chlor\x07hexidine", "n": 3})
    cleaned = printable_record(changed)
    assert cleaned.others == {"skin_prep": "chlorhexidine", "n": 3}
    assert printable_record(session) is session
