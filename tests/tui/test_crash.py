"""An unexpected error: a plain sentence and a private report, never a traceback."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from tests.tui.demo_data import Demo
from tests.tui.pilot_helpers import sign_in
from tui.app import FormularyApp
from tui.crash import plain_message, write_report
from tui.keymap import Settings


def test_report_is_private_and_holds_no_local_variables(tmp_path: Path) -> None:
    def fail(password: str) -> None:
        raise RuntimeError("boom")

    secret = "-".join(["secret", "password", "1"])  # a value, not a literal in the source
    try:
        fail(secret)
    except RuntimeError as exc:
        report = write_report(exc, tmp_path / "crashes")
        message = plain_message(exc, report)
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text()
    assert "RuntimeError: boom" in text and "in fail" in text
    assert "secret-password-1" not in text
    assert "RuntimeError" in message and str(report) in message
    assert "Traceback" not in message


async def test_an_unexpected_error_stops_the_app_with_a_plain_message(
    demo: Demo, tmp_path: Path
) -> None:
    app = FormularyApp(demo.path, settings=Settings(), crash_reports=tmp_path / "crashes")
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)

        def broken() -> None:
            raise ValueError("a bug in a handler")

        app.call_later(broken)
        await asyncio.sleep(0.3)  # not pilot.pause(): the app has stopped
    assert app.return_code == 1
    (report,) = (tmp_path / "crashes").iterdir()
    assert "ValueError: a bug in a handler" in report.read_text()
