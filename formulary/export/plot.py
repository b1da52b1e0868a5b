"""The outcome chart: hair density and shaft diameter over time, drawn with matplotlib.

matplotlib is imported inside :func:`outcome_plot_png` only, and through its object
API (Figure + the Agg canvas) rather than pyplot, so drawing a chart neither costs the
app's start-up nor changes any global backend state.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from formulary.export.display import show_zone
from formulary.records import Outcome
from formulary.units.amount import Amount

if TYPE_CHECKING:
    from PIL.Image import Image

NO_MEASUREMENTS = "No outcome measurements recorded"


@dataclass(frozen=True, slots=True)
class Series:
    """One line on a panel: the measurements of one zone in one unit, oldest first."""

    label: str
    unit: str
    points: tuple[tuple[datetime, Decimal], ...]


def _series(outcomes: Iterable[Outcome], pick: str) -> tuple[Series, ...]:
    grouped: dict[tuple[str, str], list[tuple[datetime, Decimal]]] = {}
    for outcome in sorted(outcomes, key=lambda o: (o.measured_at, o.id)):
        amount: Amount | None = getattr(outcome, pick)
        if amount is None:
            continue
        key = (show_zone(outcome.zone), amount.unit)
        grouped.setdefault(key, []).append((outcome.measured_at, amount.value))
    return tuple(Series(zone, unit, tuple(points)) for (zone, unit), points in grouped.items())


def density_series(outcomes: Iterable[Outcome]) -> tuple[Series, ...]:
    """Hair density per zone (and unit) over time."""
    return _series(outcomes, "density")


def diameter_series(outcomes: Iterable[Outcome]) -> tuple[Series, ...]:
    """Hair shaft diameter per zone (and unit) over time."""
    return _series(outcomes, "shaft_diameter")


def has_measurements(outcomes: Iterable[Outcome]) -> bool:
    """Whether any outcome carries a density or a diameter to plot."""
    return any(o.density is not None or o.shaft_diameter is not None for o in outcomes)


# Axis labels only: compact, and µm is not a dose unit (the mcg rule is about doses).
_UNIT_LABELS = {"hairs/cm2": "hairs/cm²", "hairs/mm2": "hairs/mm²", "micrometre": "µm"}


def _date_ticks(dates: list[datetime], most: int = 4) -> list[datetime]:
    """At most ``most`` of the measurement dates, evenly spread, first and last included."""
    if len(dates) <= most:
        return dates
    step = (len(dates) - 1) / (most - 1)
    return [dates[round(i * step)] for i in range(most)]


def outcome_plot_png(
    outcomes: Iterable[Outcome], *, width_in: float = 7.0, height_in: float = 2.6, dpi: int = 150
) -> bytes:
    """Two panels side by side, density and diameter over time, as PNG bytes.

    Each scalp zone is its own line. With nothing to plot the figure says so in
    words ("No outcome measurements recorded") instead of showing empty axes; a
    single measurement is drawn as a marked point.
    """
    image = outcome_plot_image(outcomes, width_in=width_in, height_in=height_in, dpi=dpi)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(dpi, dpi))
    return buffer.getvalue()


def outcome_plot_image(
    outcomes: Iterable[Outcome], *, width_in: float = 7.0, height_in: float = 2.6, dpi: int = 150
) -> Image:
    """The same figure as :func:`outcome_plot_png`, as an RGB Pillow image.

    The PDF note embeds this directly: no PNG encoding and decoding on the way.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    outcomes = tuple(outcomes)
    # A fixed layout, few ticks and titles drawn as plain text: constrained layout,
    # automatic date locators and Axes titles each cost a full measuring pass.
    figure = Figure(figsize=(width_in, height_in), dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    if not has_measurements(outcomes):
        figure.text(0.5, 0.5, NO_MEASUREMENTS, ha="center", va="center", fontsize=12)
    else:
        panels = (
            ("Hair density", density_series(outcomes)),
            ("Hair shaft diameter", diameter_series(outcomes)),
        )
        axes = figure.subplots(1, 2)
        figure.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.88, wspace=0.28)
        for ax, (title, series) in zip(axes, panels, strict=True):
            ax.text(0.5, 1.04, title, ha="center", va="bottom", fontsize=9,
                    transform=ax.transAxes)
            ax.tick_params(labelsize=7)
            if not series:
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"No {title.lower()} recorded", ha="center", va="center",
                        fontsize=8, transform=ax.transAxes)
                continue
            ax.grid(True, linewidth=0.4, alpha=0.5)
            units = sorted({_UNIT_LABELS.get(s.unit, s.unit) for s in series})
            ax.set_ylabel(", ".join(units), fontsize=8)
            for s in series:
                xs = [at for at, _ in s.points]
                ys = [float(v) for _, v in s.points]  # drawing only; exact values are in the table
                label = s.label if len(units) == 1 else f"{s.label} ({s.unit})"
                ax.plot(xs, ys, marker="o", markersize=3.5, linewidth=1.2, label=label)
            ticks = _date_ticks(sorted({at for s in series for at, _ in s.points}))
            ax.set_xticks(ticks, [f"{at:%Y-%m-%d}" for at in ticks])
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
            ax.margins(x=0.08, y=0.15)
            ax.legend(fontsize=7, frameon=False)
    canvas.draw()  # type: ignore[no-untyped-call]
    width, height = canvas.get_width_height()
    from PIL import Image as PillowImage

    pixels = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    rgba = PillowImage.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", 0, 1)
    return rgba.convert("RGB")
