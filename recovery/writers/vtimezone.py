"""VTIMEZONE components in the rule form that every calendar reader takes the same way.

icalendar's own `Timezone.from_tzid()` writes RDATE lists, which Outlook cannot reduce to a
yearly rule and which ical.js (Thunderbird) and Radicale read only partly. Like vzic and libical,
this module writes one STANDARD and one DAYLIGHT observance, each a yearly RRULE (BYMONTH and
BYDAY, "-1SU" for a last Sunday) whose DTSTART is the rule's first onset in 1970; one STANDARD
from 1970 for a zone without daylight saving. Readers that compare a zone with their own over
other years (vobject looks at 2000-2020) then see the same rule, not a zone that starts in the
plan's year.

The rule is derived from the zone's own transitions (from the pinned tzdata package) over the
calendar's years, and checked against them: a position that fits those years is confirmed on the
years around them until one position fits all ("last Sunday" and "fourth Sunday" agree in some
years, not in others). Where the zone's rules change within the calendar's years, each transition
gets its own observance instead, which is exact for every reader. Only the calendar's own years
must be right; what a rule implies for years long before it does not matter.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from recovery.records import record
from recovery.schedule.zones import offset_changes, utc_offset, zone
from recovery.words import WEEKDAYS
from recovery.writers.values import local_time, offset, text

#: RFC 5545's two-letter weekday codes, by the protocol file's weekday names.
BYDAY_CODES: dict[str, str] = {day: day[:2].upper() for day in WEEKDAYS}
#: The year every observance starts in, as vzic and ical-generator write it.
ANCHOR_YEAR = 1970
#: How many years on each side of the calendar's years a rule is confirmed on (readers look that far).
CONFIRMING_YEARS = 20
_POSITIONS = ("1", "2", "3", "4", "-1")


@record
class Transition:
    """A change of UTC offset: the instant, the offsets around it, the name after it."""

    instant: datetime  # UTC
    offset_before: timedelta
    offset_after: timedelta
    name: str
    is_dst: bool

    @property
    def local_onset(self) -> datetime:
        """The wall-clock time at which the change happens, in the offset before it (RFC 5545)."""
        return (self.instant + self.offset_before).replace(tzinfo=None)

    @property
    def shape(self) -> tuple[object, ...]:
        """What must be equal, year after year, for one yearly rule to describe these changes."""
        onset = self.local_onset
        return (onset.month, onset.weekday(), onset.time(), self.offset_before, self.offset_after, self.name)


def transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[Transition]:
    """Every change of offset in `tz` between two UTC instants."""
    found = []
    for instant, before, after in offset_changes(tz, start, end):
        # Clocks going forward start DAYLIGHT, as vzic writes it; this also keeps zones with
        # negative DST in tzdata (Europe/Dublin) in the shape Outlook's bias model expects.
        found.append(Transition(instant, before, after, instant.astimezone(tz).tzname() or "", after > before))
    return found


def _in_years(tz: ZoneInfo, first: int, last: int) -> list[Transition]:
    start = datetime(first, 1, 1, tzinfo=UTC) - timedelta(days=1)
    end = datetime(last + 1, 1, 1, tzinfo=UTC) + timedelta(days=1)
    return [t for t in transitions(tz, start, end) if first <= t.local_onset.year <= last]


def _positions(onset: datetime) -> set[str]:
    """The BYDAY positions that name this day in its month: "2" (second) and/or "-1" (last)."""
    positions = {str((onset.day - 1) // 7 + 1)} & set(_POSITIONS)
    if onset.day + 7 > calendar.monthrange(onset.year, onset.month)[1]:
        positions.add("-1")
    return positions


def _yearly_rule(tz: ZoneInfo, changes: list[Transition], years: range) -> str | None:
    """The BYDAY position of the one yearly rule that gives exactly these changes, or None.

    Readers apply a rule to years beyond the calendar's (vobject compares zones over 2000-2020),
    so among the positions that fit the calendar's years, the one kept is the zone's own: each is
    tried on the years around them, outwards, for as long as some position still holds there
    (where none does, the zone's rules are different: another era). "Last Sunday" and "fourth
    Sunday" agree in some years only, so this is what tells -1SU from 4SU.
    """
    if [c.local_onset.year for c in changes] != list(years) or len({c.shape for c in changes}) != 1:
        return None
    fitting = set(_POSITIONS)
    for change in changes:
        fitting &= _positions(change.local_onset)
    head = changes[0]
    for direction, edge in ((-1, years.start), (+1, years.stop - 1)):
        for distance in range(1, CONFIRMING_YEARS + 1):
            holding = {position for position in fitting if _holds(tz, edge + direction * distance, position, head)}
            if not holding:
                break  # another era of the zone (or no rule at all there): the calendar's years decide
            fitting = holding
    if not fitting:
        return None
    return "-1" if "-1" in fitting else min(fitting)  # still ambiguous: tzdata's "lastSun" is by far the most common


def _holds(tz: ZoneInfo, year: int, position: str, like: Transition) -> bool:
    """Whether the zone changes in `year` on the day and at the time the rule names."""
    onset = like.local_onset
    day = _day_in_year(year, onset.month, position, onset.weekday())
    instant = (datetime.combine(day, onset.time()) - like.offset_before).replace(tzinfo=UTC)
    before = utc_offset((instant - timedelta(seconds=1)).astimezone(tz))
    return before == like.offset_before and utc_offset(instant.astimezone(tz)) == like.offset_after


def _day_in_year(year: int, month: int, position: str, weekday: int) -> date:
    """The day a BYMONTH/BYDAY rule names in `year`."""
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1) if date(year, month, d).weekday() == weekday]
    return date(year, month, days[int(position) - 1 if position != "-1" else -1])


def vtimezone(name: str, first: date, last: date) -> tuple[str, ...]:
    """The content lines of a VTIMEZONE for zone `name` (unfolded), exact from the year before
    `first` to the end of `last`'s year."""
    tz = zone(name)
    years = range(first.year - 1, last.year + 1)
    changes = _in_years(tz, years.start, years.stop - 1)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{text(name)}"]
    if not changes:
        moment = datetime(first.year, 1, 1, tzinfo=tz)
        at = utc_offset(moment)
        return (*lines, *_observance(False, datetime(ANCHOR_YEAR, 1, 1), at, at, moment.tzname()), "END:VTIMEZONE")
    to_standard = [c for c in changes if not c.is_dst]
    to_dst = [c for c in changes if c.is_dst]
    rules = [(group, _yearly_rule(tz, group, years)) for group in (to_standard, to_dst)]
    if all(position is not None for _, position in rules):
        for group, position in rules:
            assert position is not None
            head = group[0]
            onset = head.local_onset
            day = _day_in_year(ANCHOR_YEAR, onset.month, position, onset.weekday())
            rule = f"FREQ=YEARLY;BYDAY={position}{BYDAY_CODES[WEEKDAYS[onset.weekday()]]};BYMONTH={onset.month}"
            lines += _observance(
                head.is_dst, datetime.combine(day, onset.time()), head.offset_before, head.offset_after, head.name, rule
            )
        return (*lines, "END:VTIMEZONE")
    # The rules change within these years: one observance per transition, each exact.
    before = changes[0]
    initial = (before.instant - timedelta(days=1)).astimezone(tz)
    lines += _observance(
        False, datetime(ANCHOR_YEAR, 1, 1), before.offset_before, before.offset_before, initial.tzname()
    )
    for change in changes:
        lines += _observance(change.is_dst, change.local_onset, change.offset_before, change.offset_after, change.name)
    return (*lines, "END:VTIMEZONE")


def _observance(
    is_dst: bool, onset: datetime, before: timedelta, after: timedelta, name: str | None, rule: str = ""
) -> list[str]:
    kind = "DAYLIGHT" if is_dst else "STANDARD"
    lines = [f"BEGIN:{kind}", f"DTSTART:{local_time(onset)}"]
    if rule:
        lines.append(f"RRULE:{rule}")
    if name:
        lines.append(f"TZNAME:{text(name)}")
    return [*lines, f"TZOFFSETFROM:{offset(before)}", f"TZOFFSETTO:{offset(after)}", f"END:{kind}"]
