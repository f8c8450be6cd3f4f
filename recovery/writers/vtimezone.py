"""VTIMEZONE components in the rule form that every calendar client reads the same way.

icalendar's own `Timezone.from_tzid()` writes RDATE lists, which Outlook cannot reduce to a
yearly rule and which ical.js (Thunderbird) and Radicale read only partly. This module reads the
zone's transitions from zoneinfo and writes one STANDARD and one DAYLIGHT observance, each
with a yearly RRULE (BYMONTH + BYDAY), as vzic and libical do; one STANDARD for a zone without
DST in the years concerned. Where the rules change within those years, each transition gets
its own observance (no RRULE, no RDATE), which is exact for every reader.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

from recovery.words import WEEKDAYS

#: RFC 5545's two-letter weekday codes, by the protocol file's weekday names.
BYDAY_CODES: dict[str, str] = {day: day[:2].upper() for day in WEEKDAYS}


@dataclass(frozen=True)
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

    def rule_key(self, position: str) -> tuple[object, ...]:
        """What must be equal, year after year, for one yearly rule to describe these changes."""
        onset = self.local_onset
        return (onset.month, onset.weekday(), position, onset.time(), self.offset_before, self.offset_after, self.name)


def transitions(zone: str, first: date, last: date) -> list[Transition]:
    """Every change of offset in `zone` from the start of `first`'s year to the end of `last`'s."""
    tz = ZoneInfo(zone)
    start = datetime(first.year, 1, 1, tzinfo=UTC) - timedelta(days=1)
    end = datetime(last.year + 1, 1, 1, tzinfo=UTC) + timedelta(days=1)
    found = []
    moment, offset = start, _offset(start.astimezone(tz))
    while moment < end:
        step = moment + timedelta(days=1)  # offsets never change twice within a day
        if _offset(step.astimezone(tz)) != offset:
            low, high = moment, step  # the change lies in (low, high]: bisect to the second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(middle.astimezone(tz)) == offset:
                    low = middle
                else:
                    high = middle
            local = high.astimezone(tz)
            # Clocks going forward start DAYLIGHT, as vzic writes it; this also keeps zones with
            # negative DST in tzdata (Europe/Dublin) in the shape Outlook's bias model expects.
            after = _offset(local)
            found.append(Transition(high, offset, after, local.tzname() or "", after > offset))
            offset = after
        moment = step
    return found


def _position(onset: datetime) -> list[str]:
    """The BYDAY positions that name this day in its month: "2" (second) and/or "-1" (last)."""
    positions = [str((onset.day - 1) // 7 + 1)]
    if onset.day + 7 > calendar.monthrange(onset.year, onset.month)[1]:
        positions.append("-1")
    return positions


def _offset(moment: datetime) -> timedelta:
    """A zone-aware moment's UTC offset."""
    return moment.utcoffset() or timedelta(0)


def _yearly_rule(changes: list[Transition], years: range) -> tuple[str, dict[str, object]] | None:
    """The one yearly rule that gives exactly these changes, one per year, or None."""
    if [c.local_onset.year for c in changes] != list(years):
        return None
    for position in ("1", "2", "3", "4", "-1"):
        keys = {c.rule_key(position) for c in changes if position in _position(c.local_onset)}
        if len(keys) == 1 and all(position in _position(c.local_onset) for c in changes):
            onset = changes[0].local_onset
            return position, {
                "freq": "yearly",
                "bymonth": onset.month,
                "byday": position + BYDAY_CODES[WEEKDAYS[onset.weekday()]],
            }
    return None


def vtimezone(zone: str, first: date, last: date) -> Timezone:
    """A VTIMEZONE for `zone` that is exact from the year before `first` to the end of `last`'s year."""
    component = Timezone()
    component.add("tzid", zone)
    tz = ZoneInfo(zone)
    changes = transitions(zone, date(first.year - 1, 1, 1), last)
    if not changes:
        moment = datetime(first.year, 1, 1, tzinfo=tz)
        component.add_component(
            _observance(False, datetime(1970, 1, 1), _offset(moment), _offset(moment), moment.tzname())
        )
        return component
    years = range(first.year - 1, last.year + 1)
    to_dst = [c for c in changes if c.is_dst]
    to_standard = [c for c in changes if not c.is_dst]
    dst_rule, standard_rule = _yearly_rule(to_dst, years), _yearly_rule(to_standard, years)
    if dst_rule is not None and standard_rule is not None:
        for group, (_, rrule) in ((to_standard, standard_rule), (to_dst, dst_rule)):
            head = group[0]
            observance = _observance(head.is_dst, head.local_onset, head.offset_before, head.offset_after, head.name)
            observance.add("rrule", rrule)
            component.add_component(observance)
        return component
    # The rules change within these years: one observance per transition, each exact.
    before = changes[0]
    initial = (before.instant - timedelta(days=1)).astimezone(tz)
    component.add_component(
        _observance(False, datetime(1970, 1, 1), before.offset_before, before.offset_before, initial.tzname())
    )
    for change in changes:
        component.add_component(
            _observance(change.is_dst, change.local_onset, change.offset_before, change.offset_after, change.name)
        )
    return component


def _observance(
    is_dst: bool, onset: datetime, before: timedelta, after: timedelta, name: str | None
) -> TimezoneDaylight | TimezoneStandard:
    observance = TimezoneDaylight() if is_dst else TimezoneStandard()
    observance.add("dtstart", onset.replace(tzinfo=None))
    observance.add("tzoffsetfrom", before)
    observance.add("tzoffsetto", after)
    if name:
        observance.add("tzname", name)
    return observance
