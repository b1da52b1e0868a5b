"""How exports print amounts, times and codes, so every format says it the same way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from formulary.records import ScalpZone, Technique, ZoneVolume
from formulary.units.amount import Amount
from formulary.units.catalog import BY_CANONICAL
from formulary.units.display import format_amount, format_value

_ZONE_LABELS: dict[ScalpZone, str] = {
    ScalpZone.FRONTAL: "frontal",
    ScalpZone.LEFT_TEMPORAL: "left temporal",
    ScalpZone.RIGHT_TEMPORAL: "right temporal",
    ScalpZone.MID_SCALP: "mid-scalp",
    ScalpZone.VERTEX: "vertex",
    ScalpZone.PARIETAL: "parietal",
    ScalpZone.OCCIPITAL: "occipital",
}

_TECHNIQUE_LABELS: dict[Technique, str] = {
    Technique.NAPPAGE: "nappage",
    Technique.PAPULE: "papule",
    Technique.POINT_BY_POINT: "point-by-point",
    Technique.GUN: "injector gun",
    Technique.MICRONEEDLING: "microneedling",
}


def show_amount(amount: Amount | None) -> str:
    """An amount in medication-safe (ISMP) form, or ``""`` when there is none.

    Exactly as stored (no rounding): a chart must show what was charted.
    """
    if amount is None:
        return ""
    if amount.unit not in BY_CANONICAL:
        # Not a unit the parser would have stored; print it verbatim, number ISMP-safe.
        return f"{format_value(amount.value)} {amount.unit}"
    return format_amount(amount)


def show_zone(zone: ScalpZone | None) -> str:
    """A scalp zone in words (``left temporal``); ``whole scalp`` when none is given."""
    return "whole scalp" if zone is None else _ZONE_LABELS[zone]


#: Significant figures of a derived volume per injection point (0.0333 mL).
PER_POINT_FIGURES = 3


def show_points(zone: ZoneVolume) -> str:
    """``"20 points, 0.025 mL each"``, or ``""`` when the points were not charted."""
    per_point = zone.volume_per_point
    if zone.points is None or per_point is None:
        return ""
    word = "point" if zone.points == 1 else "points"
    each = format_amount(per_point, significant=PER_POINT_FIGURES)
    return f"{zone.points} {word}, {each} each"


def show_zone_volume(zone: ZoneVolume) -> str:
    """A zone's volume in words, with its injection points when charted."""
    points = show_points(zone)
    text = f"{show_zone(zone.zone)} {show_amount(zone.volume)}"
    return f"{text} ({points})" if points else text


def show_technique(technique: Technique | None) -> str:
    """A technique in words, or ``""``."""
    return "" if technique is None else _TECHNIQUE_LABELS[technique]


def show_time(moment: datetime | None) -> str:
    """A UTC time to the minute, labelled, e.g. ``2026-03-04 10:15 UTC``."""
    if moment is None:
        return ""
    # isoformat runs in C, several times faster than strftime (bulk exports print
    # tens of thousands of times); the same text for years 1000 to 9999.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "minutes") + " UTC"


def show_local_time(moment: datetime | None, zone: tzinfo | None = None) -> str:
    """The clinic's local time beside UTC, e.g. ``2026-03-04 11:15 CET (10:15 UTC)``.

    ``zone`` is the clinic's time zone (a :class:`zoneinfo.ZoneInfo`); None means this
    machine's zone. Where local time is UTC itself it is shown once, as
    ``2026-03-04 10:15 UTC``.
    """
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    if local.utcoffset() == timedelta(0):
        return show_time(moment)
    name = local.tzname() or local.strftime("UTC%z")
    utc = moment.astimezone(UTC)
    same_day = utc.date() == local.date()
    return (
        f"{local:%Y-%m-%d %H:%M} {name} ({utc:%H:%M} UTC)"
        if same_day
        else f"{local:%Y-%m-%d %H:%M} {name} ({utc:%Y-%m-%d %H:%M} UTC)"
    )


def show_date(day: date | None) -> str:
    """An ISO date, or ``""``."""
    return "" if day is None else day.isoformat()


def iso_time(moment: datetime) -> str:
    """A machine-readable UTC timestamp with offset (``2026-03-04T10:15:00+00:00``)."""
    return moment.astimezone(UTC).isoformat()
