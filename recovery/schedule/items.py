"""A Schedule: a protocol laid out on one patient's calendar, as plain dated items.

This is everything a writer may read. It holds dates and local clock times, and the facts that
every view needs alike (which phase a routine belongs to, how often a reminder occurs), derived
here once so that no writer derives them again. It knows nothing of icalendar, HTML or JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import field, replace
from datetime import date, time, timedelta
from functools import cached_property
from itertools import pairwise
from math import lcm
from typing import Any

from recovery.protocol.model import Criteria
from recovery.records import record
from recovery.schedule.plan import Plan
from recovery.words import DAY_ZERO_WORDS, WEEKDAYS, DayZero, weekday

#: Said by every output a patient sees.
SURGEON_FIRST = DAY_ZERO_WORDS["surgery"].first
#: The same, where --discreet keeps medical words out (a calendar's description, seen in lists).
CARE_TEAM_FIRST = DAY_ZERO_WORDS["first-visit"].first


#: A day, for the fields of `Day`, whose own field `date` hides the type.
CalendarDay = date


@record
class Span:
    """A phase: from `start` (inclusive) to `end` (exclusive)."""

    id: str
    title: str
    start: date
    end: date
    description: str = ""
    weight_bearing: str = ""
    brace: str = ""
    precautions: tuple[str, ...] = ()
    goals: tuple[str, ...] = ()
    advice: tuple[str, ...] = ()
    #: A stage that lasts until the patient is ready for the next (its `end` is then the latest
    #: day the next stage is expected, not a day it ends).
    until_ready: bool = False

    @property
    def last(self) -> date:
        """The phase's last day."""
        return self.end - timedelta(1)

    def holds(self, day: date) -> bool:
        """Whether `day` is within the phase."""
        return self.start <= day < self.end


@record
class Day:
    """A milestone on one day; `actual` when the plan says it happened on that day.

    A gate (`clearance` set) that the plan has not recorded is a checkpoint: its date is the
    earliest day to ask, its title says so, and nothing counted from it is in the schedule yet.
    """

    id: str
    title: str
    date: date
    description: str = ""
    check: tuple[str, ...] = ()
    actual: bool = False
    clearance: str = ""  # what the patient asks ("whether you may start running"); "" when not a gate
    #: A stage's start (the protocol's `criteria`): the rule that moves the plan on, who decides,
    #: what happens when the check-ins go the other way, and the latest day it is expected.
    criteria: Criteria | None = None
    decides: str = ""
    if_worse: str = ""
    latest: CalendarDay | None = None

    @property
    def waiting(self) -> bool:
        """A gate that has not been cleared yet."""
        return bool(self.clearance) and not self.actual


@record
class Window:
    """An appointment that should happen between `first` and `last`, both included, on clinic
    days; `book_by` is the day to book it by (a week before, or the first day of the calendar)."""

    id: str
    title: str
    first: date
    last: date
    description: str = ""
    book_by: date | None = None


@record
class Series:
    """One routine at one time of day, every day (or on `weekdays`, or every `every` days counted
    from `first`) from `first` to `last`."""

    id: str
    slot: str  # "morning", or a clock time "07:30" written in the protocol
    title: str
    time: time
    first: date
    last: date
    minutes: int
    dose: str = ""  # "3×10, hold 5 s"
    description: str = ""
    weekdays: tuple[str, ...] = ()  # empty: every day
    every: int = 1  # every how many days, counted from `first` (never with weekdays)
    phase: str = ""  # id of the phase the routine belongs to (see `owning_phase`), "" for none
    medication: bool = False  # a medicine reminder: never grouped with exercises, never timed in minutes
    pictures: tuple[str, ...] = ()  # ids of the exercise's pictures (recovery.pictures), in order

    def occurs_on(self, day: date) -> bool:
        """Whether the reminder goes off on `day`."""
        return self.first <= day <= self.last and self.on_pattern(day)

    def on_pattern(self, day: date) -> bool:
        """Whether `day` is one of the reminder's days of the week and of its every so many days,
        wherever its first and last day are."""
        return _on_pattern(day, self.first, self.weekdays, self.every)

    @property
    def count(self) -> int:
        """How many times the reminder occurs, counted from the dates (not day by day)."""
        return _count(self.first, self.last, self.weekdays, self.every)


@record
class Session:
    """The routines due at one time of day, grouped into one reminder with one alarm.

    A patient on crutches mutes a calendar that rings fourteen times a day: the calendar rings
    once per session (at most once per named time of day), and the session lists what to do.
    A session covers the days from `first` to `last` (on `weekdays`, or every `every` days from
    `first`, or every day) on which the same routines are due at that time.
    """

    slot: str
    time: time
    first: date
    last: date
    weekdays: tuple[str, ...]  # empty: every day
    routines: tuple[Series, ...]
    every: int = 1  # every how many days, counted from `first` (then weekdays is empty)
    #: False when a medicine due at the same minute rings for it (one alarm a minute, see `one_alarm_a_minute`).
    rings: bool = True
    #: For a medicine: the sessions at its minute that it rings for, so that its alarm names them.
    rings_for: tuple[Session, ...] = ()

    @property
    def minutes(self) -> int:
        """How long the whole session takes."""
        return sum(series.minutes for series in self.routines)

    @property
    def medication(self) -> bool:
        """Whether the session is a medicine reminder (it then holds that one routine alone)."""
        return any(series.medication for series in self.routines)

    def occurs_on(self, day: date) -> bool:
        """Whether the session's reminder goes off on `day`."""
        return self.first <= day <= self.last and _on_pattern(day, self.first, self.weekdays, self.every)

    @property
    def count(self) -> int:
        """How many times the session's reminder occurs."""
        return _count(self.first, self.last, self.weekdays, self.every)


def _on_pattern(day: date, anchor: date, weekdays: tuple[str, ...], every: int) -> bool:
    return (day - anchor).days % every == 0 and (not weekdays or weekday(day) in weekdays)


def _period(weekdays: Iterable[str], every: int) -> int:
    """After how many days the pattern repeats."""
    return lcm(every, 7) if set(weekdays) else every


def narrowed(
    first: date, last: date, weekdays: Iterable[str] = (), every: int = 1, anchor: date | None = None
) -> tuple[date, date]:
    """The span narrowed to its first and last day on one of `weekdays` (none given: every day)
    and, every `every` days counted from `anchor` (default `first`). First after last when no day
    of the span is one of them. At most one period of the pattern is looked at."""
    days = tuple(weekdays)
    anchor = first if anchor is None else anchor
    if not days and every == 1:
        return first, last
    for _ in range(_period(days, every)):
        if first > last or _on_pattern(first, anchor, days, every):
            break
        first += timedelta(1)
    for _ in range(_period(days, every)):
        if last < first or _on_pattern(last, anchor, days, every):
            break
        last -= timedelta(1)
    if not (first <= last and _on_pattern(first, anchor, days, every)):
        return first, first - timedelta(1)
    return first, last


def _count(first: date, last: date, weekdays: tuple[str, ...], every: int = 1) -> int:
    """How many days from `first` to `last` are on the pattern (counted from `first`)."""
    days = (last - first).days + 1
    if days <= 0:
        return 0
    if not weekdays and every == 1:
        return days
    period = _period(weekdays, every)
    whole, rest = divmod(days, period)
    on = [_on_pattern(first + timedelta(n), first, weekdays, every) for n in range(period)]
    return whole * sum(on) + sum(on[:rest])


def _step(residues: list[int], period: int) -> int:
    """The interval of `residues` (sorted, of one period) when they are one day every so many
    (0, 2, 4 of 6: 2), else the period itself."""
    for step in range(1, period):
        if (
            period % step == 0
            and len(residues) == period // step
            and all((r - residues[0]) % step == 0 for r in residues)
        ):
            return step
    return period


def sessions_of(routines: Iterable[Series]) -> tuple[Session, ...]:
    """The routines grouped by time of day into sessions. Cost grows with the number of routines'
    start and end days (and, for routines every so many days, the length of their common period),
    not with the number of days.

    Where a routine comes every other or every third day, the routines due together repeat after
    the least common multiple of their intervals: each set of routines due together on the days of
    that period becomes one session every so many days (all three every sixth day, the daily one
    with the other on the days between), so that each day still rings once per time of day."""
    by_time: dict[tuple[time, str], list[Series]] = {}
    for series in routines:  # a medicine is a session of its own: its reminder says only what to take
        # Two times of day set to one clock time are one session (one alarm), named by the first.
        by_time.setdefault((series.time, series.id if series.medication else ""), []).append(series)
    found: list[Session] = []
    for (moment, _), group in by_time.items():
        slot = group[0].slot
        edges = sorted({s.first for s in group} | {s.last + timedelta(1) for s in group})
        spans: list[list[Any]] = []  # [first, last, weekdays, every, due]: due as positions in `group`
        going: dict[tuple[Any, ...], int] = {}  # the spans of the edge before, by what and which days
        for start, stop in pairwise(edges):
            still: dict[tuple[Any, ...], int] = {}
            last_day = stop - timedelta(1)
            active = [n for n, s in enumerate(group) if s.first <= start and last_day <= s.last]
            for due, weekdays, every, anchor in _patterns(group, active, start):
                first, last = narrowed(anchor, last_day, weekdays, every)
                if first > last:
                    continue
                key = (due, weekdays, every, first.toordinal() % every)
                if key in going:  # the same routines on the same days go on: one session
                    index = going[key]
                    spans[index][1] = last
                else:
                    index = len(spans)
                    spans.append([first, last, weekdays, every, due])
                still[key] = index
            going = still
        for first, last, weekdays, every, due in spans:
            found.append(Session(slot, moment, first, last, weekdays, tuple(group[n] for n in due), every=every))
    return tuple(sorted(one_alarm_a_minute(found), key=lambda s: (s.first, s.time, s.slot)))


def _patterns(
    group: list[Series], active: list[int], start: date
) -> Iterator[tuple[tuple[int, ...], tuple[str, ...], int, date]]:
    """(routines due together, weekdays, every, a first day on or after `start`) for the days from
    `start` on which the `active` routines of `group` are due."""
    if all(group[n].every == 1 for n in active):  # by day of the week: one weekly rule each
        by_days: dict[tuple[int, ...], list[str]] = {}
        for day in WEEKDAYS:
            due = tuple(n for n in active if not group[n].weekdays or day in group[n].weekdays)
            if due:
                by_days.setdefault(due, []).append(day)
        for due, days in by_days.items():
            yield due, () if len(days) == 7 else tuple(days), 1, start
        return
    period = lcm(*(_period(group[n].weekdays, group[n].every) for n in active))
    by_residue: dict[tuple[int, ...], list[int]] = {}
    for r in range(period):
        due = tuple(n for n in active if group[n].on_pattern(start + timedelta(r)))
        if due:
            by_residue.setdefault(due, []).append(r)
    for due, residues in by_residue.items():
        step = _step(residues, period)
        for r in residues[:1] if step < period else residues:
            yield due, (), step, start + timedelta(r)


def one_alarm_a_minute(sessions: list[Session]) -> list[Session]:
    """The sessions with one alarm a minute: where a medicine is due at the same time as a session
    on every day of that session, the two stay separate events (a medicine is never grouped with
    exercises), and the medicine's alarm rings for both and names the session. Each is cut where
    the other starts and ends, so that this holds for whole sessions."""
    medicines = [s for s in sessions if s.medication]
    if not medicines:
        return sessions
    found: list[Session] = []
    for session in (s for s in sessions if not s.medication):
        same = [m for m in medicines if m.time == session.time]
        for piece in _cut(session, {day for m in same for day in (m.first, m.last + timedelta(1))}):
            found.append(replace(piece, rings=not any(_covers(m, piece) for m in same)))
    quiet = [s for s in found if not s.rings]
    for medicine in medicines:
        same = [s for s in quiet if s.time == medicine.time]
        for piece in _cut(medicine, {day for s in same for day in (s.first, s.last + timedelta(1))}):
            found.append(replace(piece, rings_for=tuple(s for s in same if _meets(piece, s))))
    return found


def _cut(session: Session, days: set[date]) -> Iterator[Session]:
    """The session in pieces, cut on each of `days` inside it (pieces without a day of it left out)."""
    edges = sorted(
        {session.first, session.last + timedelta(1), *(d for d in days if session.first < d <= session.last)}
    )
    for start, stop in pairwise(edges):
        first, last = narrowed(start, stop - timedelta(1), session.weekdays, session.every, session.first)
        if first <= last:
            yield replace(session, first=first, last=last)


def _covers(medicine: Session, session: Session) -> bool:
    """Whether the medicine is due on every day the session is (one period of both is looked at)."""
    if not (medicine.first <= session.first and session.last <= medicine.last):
        return False
    if medicine.every == 1 and session.every == 1:
        return not medicine.weekdays or (bool(session.weekdays) and set(session.weekdays) <= set(medicine.weekdays))
    period = lcm(_period(medicine.weekdays, medicine.every), _period(session.weekdays, session.every))
    days = (session.first + timedelta(n) for n in range(period))
    return all(medicine.occurs_on(day) for day in days if session.occurs_on(day))


def _meets(medicine: Session, session: Session) -> bool:
    """Whether the two share a day."""
    return medicine.first <= session.last and session.first <= medicine.last


def owning_phase(first: date, during: str | None, phases: Iterable[Span]) -> str:
    """The phase a routine belongs to: the one it runs `during`, else, of those under way on its
    first day, the one that started last (the most particular), the shortest of equals."""
    if during:
        return during
    under_way = [p for p in phases if p.holds(first)]
    return min(under_way, key=lambda p: (-p.start.toordinal(), p.end)).id if under_way else ""


@record
class Schedule:
    """A protocol laid out on one patient's calendar."""

    protocol_id: str
    protocol_family: str  # the root of the protocol's `extends` chain (see Protocol.family)
    protocol_title: str
    protocol_version: str
    plan: Plan
    first_day: date  # the surgery day, or the plan's start_from
    phases: tuple[Span, ...]
    milestones: tuple[Day, ...]
    routines: tuple[Series, ...]
    appointments: tuple[Window, ...]
    red_flags: tuple[tuple[str, str], ...]  # (sign, what to do)
    references: tuple[str, ...]
    values: dict[str, Any] = field(default_factory=dict)
    normal: tuple[str, ...] = ()  # what is expected and needs no call
    words: tuple[tuple[str, str], ...] = ()  # (term, what it means): words the texts use, explained
    contact: str = ""  # whom to call: the plan's contact, else the protocol's
    emergencies: tuple[str, ...] = ()  # the signs of the red flags whose action is the emergency number
    day_zero: str = "surgery"  # what day 0 is (Protocol.day_zero): the texts count from it

    @property
    def said(self) -> DayZero:
        """How this plan's texts name day 0 ("after surgery", "after your first visit"), untranslated."""
        return DAY_ZERO_WORDS[self.day_zero]

    @property
    def last_day(self) -> date:
        """The last day on which anything happens."""
        ends = [p.last for p in self.phases] + [m.date for m in self.milestones]
        ends += [r.last for r in self.routines] + [a.last for a in self.appointments]
        return max(ends, default=self.first_day)

    def day_number(self, day: date) -> int:
        """Days since surgery: day 0 is the surgery day."""
        return (day - self.plan.surgery_date).days

    def phase(self, phase_id: str) -> Span | None:
        """The phase with this id, or None (a routine that belongs to no phase)."""
        return next((p for p in self.phases if p.id == phase_id), None)

    @cached_property
    def sessions(self) -> tuple[Session, ...]:
        """The routines grouped into one reminder per time of day (see Session)."""
        return sessions_of(self.routines)

    def routines_of(self, phase: Span) -> dict[str, list[Series]]:
        """The routines that belong to a phase, each with its times of day, in order."""
        return by_routine([s for s in self.routines if s.phase == phase.id])


def by_routine(series: Iterable[Series]) -> dict[str, list[Series]]:
    """Series grouped by their routine, in order: one routine's times of day together."""
    grouped: dict[str, list[Series]] = {}
    for one in series:
        grouped.setdefault(one.id, []).append(one)
    return grouped
