"""Time zones: which names are real, the machine's own zone, and the clock times a zone skips.

A reminder at a clock time that a daylight-saving change skips on some day of the plan is an
error, because calendar apps disagree about when it rings. The days a zone changes its offset
are found once per zone and year, so checking a plan costs one look per change, not per day.
"""

from __future__ import annotations

import difflib
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from recovery.errors import PlanError
from recovery.words import quoted_choices


@cache
def zone_names() -> frozenset[str]:
    """Every IANA zone name this machine knows."""
    return frozenset(zoneinfo.available_timezones())


def machine_timezone() -> str:
    """This machine's IANA zone name, or UTC when it has none."""
    import tzlocal  # imported late: only the default zone needs it

    try:
        name = tzlocal.get_localzone_name()
    except Exception:  # noqa: BLE001 - any failure to read the machine's zone means "no zone"
        return "UTC"
    return name if name and name in zone_names() else "UTC"


def check_timezone(name: str) -> str:
    """The IANA zone name as given, or a PlanError suggesting the nearest names."""
    try:
        if "/" in name or name == "UTC":  # a real IANA name is found without listing them all
            zoneinfo.ZoneInfo(name)
            return name
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        pass
    if name in zone_names():
        return name
    by_lower = {zone.lower(): zone for zone in zone_names()}
    if name.lower() in by_lower:
        raise PlanError(
            f'unknown time zone "{name}"; did you mean "{by_lower[name.lower()]}"? (names are case-sensitive)'
        )
    close = difflib.get_close_matches(name, sorted(zone_names()), n=3, cutoff=0.6)
    if not close:  # "Berlin" → "Europe/Berlin": compare against the city part too
        cities = {zone.rsplit("/", 1)[-1].lower(): zone for zone in zone_names()}
        close = [cities[c] for c in difflib.get_close_matches(name.lower().replace(" ", "_"), cities, n=3, cutoff=0.7)]
    hint = f"; did you mean {quoted_choices(close)}?" if close else ""
    raise PlanError(f'unknown time zone "{name}"{hint} (use an IANA name such as "Europe/Berlin")')


@cache
def skipped_times(zone: str, year: int) -> dict[date, tuple[time, time]]:
    """The days of `year` on which `zone`'s clocks jump forward, with the skipped clock times
    (from inclusive, to exclusive)."""
    tz = zoneinfo.ZoneInfo(zone)
    found = {}
    day = date(year, 1, 1)
    offset = datetime.combine(day, time(0), tz).utcoffset()
    while day.year == year:
        after = datetime.combine(day + timedelta(1), time(0), tz).utcoffset()
        if after != offset:
            gap = _skipped(day, tz)
            if gap is not None:
                found[day] = gap
            offset = after
        day += timedelta(1)
    return found


def _skipped(day: date, zone: zoneinfo.ZoneInfo) -> tuple[time, time] | None:
    """The clock times skipped on `day` (start inclusive, end exclusive), or None."""
    midnight = datetime.combine(day, time(0), zone)
    after = datetime.combine(day + timedelta(1), time(0), zone)
    gap = (after.utcoffset() or timedelta(0)) - (midnight.utcoffset() or timedelta(0))
    if gap <= timedelta(0):
        return None
    moment = midnight.astimezone(UTC)
    while (moment + timedelta(minutes=1)).astimezone(zone).utcoffset() == midnight.utcoffset():
        moment += timedelta(minutes=1)
    start = (moment + timedelta(minutes=1)).astimezone(zone) - gap  # the wall time that is skipped first
    return start.time(), (start + gap).time()
