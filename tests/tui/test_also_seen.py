"""Small things a practitioner met on the way, each fixed and kept fixed."""

from __future__ import annotations

from tests.tui.demo_data import Demo
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.screens.sign_in import SignInScreen


def _notices(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_signing_out_from_a_chart_says_nothing_about_the_database(
    demo: Demo, make_app
) -> None:
    app = make_app(demo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        app.open_patient(demo.patients["dubois"])
        await settle(pilot)
        app.run_command("sign_out")
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await settle(pilot, rounds=5)
        assert not any("Cannot load patients" in n for n in _notices(app)), _notices(app)
        assert "database connection" not in screen_text(pilot)
