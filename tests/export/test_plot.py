"""The outcome plot: a real PNG, grouped by zone, and words when nothing was measured."""

from __future__ import annotations

from dataclasses import replace

from formulary.export.plot import (
    density_series,
    diameter_series,
    has_measurements,
    outcome_plot_png,
)
from formulary.records import PatientChart, ScalpZone

PNG = b"\x89PNG\r\n\x1a\n"


def test_series_per_zone_oldest_first(chart: PatientChart) -> None:
    frontal = replace(chart.outcomes[0], id=1, zone=ScalpZone.FRONTAL)
    outcomes = (*reversed(chart.outcomes), frontal)
    density = density_series(outcomes)
    # zones appear in the order they were first measured (frontal sorts first on id)
    assert [s.label for s in density] == ["frontal", "vertex"]
    vertex = density[1]
    assert [v for _, v in vertex.points] == [128, 135, 142, 149]
    assert vertex.unit == "hairs/cm2"
    first = chart.outcomes[0].shaft_diameter
    assert first is not None and diameter_series(outcomes)[1].points[0][1] == first.value


def test_png_with_measurements(chart: PatientChart) -> None:
    png = outcome_plot_png(chart.outcomes)
    assert png.startswith(PNG) and len(png) > 5000


def test_single_measurement_and_none(chart: PatientChart) -> None:
    assert outcome_plot_png(chart.outcomes[:1]).startswith(PNG)
    assert not has_measurements(())
    assert outcome_plot_png(()).startswith(PNG)
    only_grade = (replace(chart.outcomes[0], density=None, shaft_diameter=None),)
    assert not has_measurements(only_grade)


def test_diameter_missing_draws_density_alone(chart: PatientChart) -> None:
    outcomes = tuple(replace(o, shaft_diameter=None) for o in chart.outcomes)
    assert diameter_series(outcomes) == ()
    assert outcome_plot_png(outcomes).startswith(PNG)
