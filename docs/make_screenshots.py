"""Make the README's screenshots from the app itself (SVG, 120×40, demo clinic).

    python docs/make_screenshots.py            # writes docs/screenshots/*.svg

The demo clinic is built through the Store (the same builder the app tests use), the
app is driven with the Pilot, and each main screen is saved with ``App.save_screenshot``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["TZ"] = "UTC"
time.tzset()

from textual.pilot import Pilot  # noqa: E402
from textual.widgets import Input  # noqa: E402

from tests.tui.conftest import fixed_clock  # noqa: E402
from tests.tui.demo_data import ADMIN, build_demo  # noqa: E402
from tests.tui.pilot_helpers import screen_text, settle, sign_in, until  # noqa: E402
from tui.app import FormularyApp  # noqa: E402
from tui.keymap import Settings  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
Step = Callable[[Pilot[None], FormularyApp], Awaitable[None]]


async def _patients(pilot: Pilot[None], app: FormularyApp) -> None:
    await sign_in(pilot)
    await until(pilot, lambda: "session 3 of 8" in screen_text(pilot))


async def _patient(pilot: Pilot[None], app: FormularyApp) -> None:
    await sign_in(pilot)
    app.open_patient(2)
    # Read in a worker, then shown: wait for the last sessions to be laid out.
    await until(pilot, lambda: "Autumn course" in screen_text(pilot))


async def _session(pilot: Pilot[None], app: FormularyApp) -> None:
    await _patient(pilot, app)
    await pilot.press("ctrl+n")
    await settle(pilot, rounds=4)
    app.screen.query_one("#zone-vertex", Input).value = "1.5 mL"
    app.screen.query_one("#zone-mid_scalp", Input).value = "1 mL"
    app.screen.query_one("#zone-frontal", Input).value = "0.5 mL"
    app.screen.query_one("#points-vertex", Input).value = "30"
    app.screen.query_one("#points-mid_scalp", Input).value = "20"
    app.screen.query_one("#points-frontal", Input).value = "10"
    await settle(pilot)


async def _editor(pilot: Pilot[None], app: FormularyApp) -> None:
    await _patient(pilot, app)
    await pilot.press("ctrl+f")
    await settle(pilot, rounds=4)
    await pilot.press(*"vitamin b")
    await pilot.pause()


async def _stock(pilot: Pilot[None], app: FormularyApp) -> None:
    await sign_in(pilot, ADMIN[0], ADMIN[2])
    await pilot.press("f5")
    await settle(pilot)


async def _audit(pilot: Pilot[None], app: FormularyApp) -> None:
    await sign_in(pilot, ADMIN[0], ADMIN[2])
    await pilot.press("f6")
    await settle(pilot)
    await pilot.press("f8")
    await settle(pilot, rounds=5)


SHOTS: dict[str, Step] = {
    "patients": _patients,
    "patient": _patient,
    "session": _session,
    "formulation-editor": _editor,
    "formulary-stock": _stock,
    "audit": _audit,
}


async def _shoot(template: Path, name: str, step: Step, folder: Path) -> None:
    db = folder / f"{name}.db"
    db.write_bytes(template.read_bytes())
    app = FormularyApp(db, settings=Settings(), clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await step(pilot, app)
        app.save_screenshot(f"{name}.svg", str(OUT))
    print(f"docs/screenshots/{name}.svg")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = folder / "demo.db"
        build_demo(template)
        for name, step in SHOTS.items():
            asyncio.run(_shoot(template, name, step, folder))


if __name__ == "__main__":
    main()
