"""A small plot of the outcome trend (hair density over time) for the overview tab."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from textual_plotext import PlotextPlot

from formulary.records import Outcome


def density_points(outcomes: Sequence[Outcome]) -> tuple[list[str], list[float]]:
    """Dates and densities (hairs/cm²) of the outcomes that measured density, oldest first.

    The float is for drawing only; the chart keeps the exact stored amount.
    """
    measured = sorted((o for o in outcomes if o.density is not None), key=lambda o: o.measured_at)
    dates = [o.measured_at.date().strftime("%d/%m/%Y") for o in measured]
    values = [float(o.density.value) for o in measured if o.density is not None]
    return dates, values


#: Days shown either side of a single measurement.
ONE_POINT_DAYS = 14


class OutcomePlot(PlotextPlot):
    """Density trend; says so plainly when nothing has been measured yet."""

    DEFAULT_CSS = """
    OutcomePlot { height: 12; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None, outcomes: Sequence[Outcome] = ()) -> None:
        super().__init__(id=id)
        self._initial = outcomes

    def on_mount(self) -> None:
        self.show(self._initial)

    def on_unmount(self) -> None:
        # PlotextPlot subscribes to the app's theme signal with a callback that holds
        # the plot, as the value of a weak-keyed map: the plot would never be freed,
        # and a workday opens hundreds of charts.
        self.app.theme_changed_signal.unsubscribe(self)

    def show(self, outcomes: Sequence[Outcome]) -> None:
        """Draw the density of ``outcomes``."""
        dates, values = density_points(outcomes)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.date_form("d/m/Y")
        if values:
            plt.plot(dates, values, marker="braille")
            plt.scatter(dates, values)
            plt.title("Hair density (hairs/cm²)")
            if len(set(dates)) == 1:
                # One measurement day: plotext would stretch the axes over a century
                # around it. Two weeks either side, the value ±10 %, one tick.
                # plotext annotates a datetime, but returns the timestamp (seconds).
                day = cast(float, plt.string_to_time(dates[0]))
                plt.xlim(day - ONE_POINT_DAYS * 86400, day + ONE_POINT_DAYS * 86400)
                plt.xticks([day], [dates[0]])
                low, high = min(values), max(values)
                spread = max(abs(high) * 0.1, 1.0)
                plt.ylim(low - spread, high + spread)
        else:
            plt.title("No density measured yet")
        self.refresh()
