"""What a new user met in a new clinic (``formulary init``, no demo), and must not meet again.

Each test starts from an empty database made by ``formulary init`` (tests/tui/new_clinic.py)
and drives the app as the tester did.
"""

from __future__ import annotations

from pathlib import Path

from tests.tui.new_clinic import WEIGHED_ON, clinic_app, new_clinic, open_chart
from tests.tui.pilot_helpers import screen_text


async def test_the_chart_shows_the_latest_weight_with_its_date_and_the_height(
    tmp_path: Path,
) -> None:
    clinic = new_clinic(tmp_path)
    async with clinic_app(clinic).run_test(size=(120, 40)) as pilot:
        await open_chart(pilot)
        shown = screen_text(pilot)
        assert f"61.5 kg on {WEIGHED_ON.isoformat()}" in shown
        assert "164 cm" in shown
