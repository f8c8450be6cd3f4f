"""Time zones: which names are real, what each zone does, and the clock times it skips or repeats.

Every zone comes from the `tzdata` package this project pins, never from the machine's own zone
files, so the same command writes the same calendar on every machine; TZDATA_VERSION names the
data in every calendar and in `recovery --version`.

A reminder at a clock time that a daylight-saving change skips (spring) or repeats (autumn) on
some day of the plan is an error, because calendar apps disagree about when it rings. The days
a zone changes its offset are found once per zone and year, so checking a plan costs one look
per change, not per day.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import tzdata

from recovery.errors import PlanError
from recovery.records import record
from recovery.words import quoted_choices

#: The IANA release of the zone data every calendar is written with, e.g. "2026f".
TZDATA_VERSION: str = tzdata.IANA_VERSION


#: The tzdata package's folder (an ordinary installed package, read as files).
_TZDATA = os.path.dirname(tzdata.__file__)


@cache
def zone_names() -> frozenset[str]:
    """Every IANA zone name the tzdata package defines (including its documented aliases, such as US/Eastern)."""
    with open(os.path.join(_TZDATA, "zones"), encoding="utf-8") as listing:
        return frozenset(line.strip() for line in listing if line.strip())


@cache
def zone(name: str) -> ZoneInfo:
    """The zone as the pinned tzdata package defines it, whatever this machine's own zone files say."""
    if name not in zone_names():
        check_timezone(name)  # raises with suggestions
    with open(os.path.join(_TZDATA, "zoneinfo", *name.split("/")), "rb") as data:
        return ZoneInfo.from_file(data, key=name)


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
    if name in zone_names():
        return name
    by_lower = {zone.lower(): zone for zone in zone_names()}
    if name.lower() in by_lower:
        raise PlanError(
            f'unknown time zone "{name}"; did you mean "{by_lower[name.lower()]}"? (names are case-sensitive)'
        )
    import difflib  # only a mistake needs it

    close = difflib.get_close_matches(name, sorted(zone_names()), n=3, cutoff=0.6)
    if not close:  # "Berlin" → "Europe/Berlin": compare against the city part too
        cities = {zone.rsplit("/", 1)[-1].lower(): zone for zone in zone_names()}
        close = [cities[c] for c in difflib.get_close_matches(name.lower().replace(" ", "_"), cities, n=3, cutoff=0.7)]
    hint = f"; did you mean {quoted_choices(close)}?" if close else ""
    if not name.strip():
        raise PlanError('the time zone is empty; use an IANA name such as "Europe/Berlin"')
    raise PlanError(f'unknown time zone "{name}"{hint} (use an IANA name such as "Europe/Berlin")')


@record
class ClockChange:
    """A day on which a zone's clocks change, and the wall-clock times that are not a single moment.

    Clocks going forward skip [first, after): those times do not exist that day. Clocks going back
    repeat [first, after): those times happen twice. A reminder in either is refused.
    """

    day: date
    first: time
    after: time  # the first wall-clock time that is again a single moment
    skipped: bool  # True: forward (a gap); False: back (an overlap)

    def holds(self, moment: time) -> bool:
        """Whether a reminder at this clock time would be skipped or doubled."""
        return self.first <= moment < self.after

    def nearest_safe(self, moment: time) -> time:
        """The safe clock time nearest to `moment`: just before the change, or the first time after it."""
        day = date(2000, 1, 1)
        before = datetime.combine(day, self.first) - timedelta(minutes=1)
        after = datetime.combine(day, self.after)
        here = datetime.combine(day, moment)
        if self.first == time(0) or (after - here) <= (here - before):
            return self.after
        return before.time()


def utc_offset(moment: datetime) -> timedelta:
    """A zone-aware moment's UTC offset."""
    return moment.utcoffset() or timedelta(0)


def offset_changes(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, timedelta, timedelta]]:
    """(instant, offset before, offset after) of every change of `tz`'s offset between two UTC
    instants: a day-by-day walk (no zone changes twice within a day), bisected to the second."""
    found = []
    moment, offset = start, utc_offset(start.astimezone(tz))
    while moment < end:
        step = moment + timedelta(days=1)
        if utc_offset(step.astimezone(tz)) != offset:
            low, high = moment, step  # the change lies in (low, high]
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if utc_offset(middle.astimezone(tz)) == offset:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)  # zones change on whole seconds: this is the instant itself
            after = utc_offset(high.astimezone(tz))
            found.append((high, offset, after))
            offset = after
        moment = step
    return found


@cache
def clock_changes(name: str, year: int) -> tuple[ClockChange, ...]:
    """Every day of `year` on which the zone's clocks change, with the times skipped or repeated
    (found by walking the year's days: about 1.5 ms a zone and year, once per process)."""
    start = datetime(year, 1, 1, tzinfo=UTC) - timedelta(days=1)
    end = datetime(year + 1, 1, 1, tzinfo=UTC) + timedelta(days=1)
    found = []
    for instant, before, after in offset_changes(zone(name), start, end):
        wall_after = (instant + after).replace(tzinfo=None)  # the first wall-clock time of the new offset
        wall_before = (instant + before).replace(tzinfo=None)  # what the clock would have shown
        if after > before:  # forward: [wall_before, wall_after) is skipped
            first, last = wall_before, wall_after
        else:  # back: [wall_after, wall_before) is repeated
            first, last = wall_after, wall_before
        if first.year == year:
            later = last.time() if last.date() == first.date() else time.max
            found.append(ClockChange(first.date(), first.time(), later, after > before))
    return tuple(found)
