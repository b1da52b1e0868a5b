from tests.tui.pilot_helpers import screen_text, settle, sign_in, until
from tui.widgets.patient_list import PatientList


async def test_dbg(demo, make_app) -> None:
    for size in ((80, 24), (120, 40)):
        app = make_app(demo.path)
        async with app.run_test(size=size) as pilot:
            await sign_in(pilot)
            await until(pilot, lambda: pilot.app.screen.query_one(PatientList).row_count > 0)
            await pilot.pause(1)
            await settle(pilot)
            pilot.app.screen.query_one(PatientList).focus()
            await settle(pilot)
            print(screen_text(pilot))
