"""The problems a schedule would have, as messages that name the item and the field: an event
before surgery, an end before its start, a routine with no occurrence, phases that overlap
without saying so, a reminder at a clock time that a DST change skips or repeats, and two
instructions that contradict each other on one day (found by `coherence`).

Problems are errors, never silent omissions; one that only follows from another item's is
dropped (`one_cause`), so that each cause is reported once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from recovery.errors import PlanError, Problem, ProtocolError
from recovery.protocol.model import Appointment, Item, Phase, Protocol, Routine, where
from recovery.protocol.references import Point
from recovery.schedule.coherence import contradictions
from recovery.schedule.dates import Days, chosen, day_finder
from recovery.schedule.items import Series, Session, Span
from recovery.schedule.plan import Plan
from recovery.schedule.zones import ClockChange, clock_changes
from recovery.words import (
    clock,
)


def item_problem(item: Item, section: str, wrong: tuple[str, str], plan: Plan) -> Problem:
    """A date problem of an item; it refers to the items its dates are counted from."""
    message, field_name = wrong
    return Problem(
        message, item.source, where(section, item, field_name), item=item.id, plan=chosen(plan), refers=_anchors(item)
    )


def _anchors(item: Item) -> tuple[str, ...]:
    """The items an item's dates are counted from."""
    anchors = [anchor for _, expr in item.whens() for anchor in expr.anchors]
    if isinstance(item, Routine) and item.during:
        anchors.append(item.during)
    return tuple(anchors)


def one_cause(problems: list[Problem]) -> list[Problem]:
    """The problems without those that only follow from another item's (a routine during a phase
    that ends before it starts has no day either): one cause, one message."""
    broken = {problem.item for problem in problems if problem.item}
    return [problem for problem in problems if not broken.intersection(problem.refers)]


def date_problem(item: Item, start: date, end: date, day0: date, made: list[Series]) -> tuple[str, str] | None:
    """(message, field) when an item's dates cannot be right, else None."""
    first_field = "during" if isinstance(item, Routine) and item.during else next(item.whens())[0]
    if start < day0:
        return f"falls on day {(start - day0).days}, before the surgery (day 0)", first_field
    if isinstance(item, Phase) and end <= start:
        return f"ends on day {(end - day0).days}, which is not after its start on day {(start - day0).days}", "end"
    if isinstance(item, Appointment) and end < start:
        return (
            f"the window's last day (day {(end - day0).days}) is before its first (day {(start - day0).days})",
            "window",
        )
    if isinstance(item, Routine) and not made:
        return f"has no occurrence between day {(start - day0).days} and day {(end - day0).days}", first_field
    return None


def check_clock_times(routines: list[Series], plan: Plan) -> None:
    """A reminder at a clock time that a DST change skips or repeats on a day it rings is an error:
    calendar apps disagree about when (or how often) it rings."""
    for series in routines:
        for year in range(series.first.year, series.last.year + 1):
            for change in clock_changes(plan.timezone, year):
                if series.occurs_on(change.day) and change.holds(series.time):
                    raise PlanError([_clock_time_problem(series, change, plan)])


def _clock_time_problem(series: Series, change: ClockChange, plan: Plan) -> Problem:
    at, safe = clock(series.time), clock(change.nearest_safe(series.time))
    if change.skipped:
        what = f"go forward from {clock(change.first)} to {clock(change.after)}, so {at} does not exist that day"
    else:
        what = f"go back from {clock(change.after)} to {clock(change.first)}, so {at} happens twice that day"
    if series.slot in plan.slot_times:
        return Problem(
            f"on {change.day} the clocks in {plan.timezone} {what} ({series.title}); "
            f"choose another time, such as {series.slot}={safe}",
            field="slot_times",
            detail=f"{series.slot}={at}",
        )
    return Problem(
        f"the protocol's reminder time {at} for {series.title}: on {change.day} the clocks in {plan.timezone} "
        f"{what}; the protocol should use a named time of day or another time, such as {safe}"
    )


#: The most alarms a plan rings in a day: a few a day, or a patient on crutches mutes them all.
#: Sessions and medicines ring at most one less, so that a "Book:" reminder still fits.
MAX_ALARMS_A_DAY = 4


def check_alarms(sessions: tuple[Session, ...], plan: Plan) -> None:
    """Refuse a plan whose reminders ring more than MAX_ALARMS_A_DAY - 1 times on some day (each
    session rings once; a medicine at a session's minute rings for both)."""
    ringing = [s for s in sessions if s.rings]
    for day in sorted({s.first for s in ringing}):
        for offset in range(7):  # each weekday from the day on, up to the next change
            here = day + timedelta(offset)
            due = [s for s in ringing if s.occurs_on(here)]
            if len(due) >= MAX_ALARMS_A_DAY:
                times = ", ".join(f"{clock(s.time)} {s.slot}" for s in sorted(due, key=lambda s: s.time))
                raise PlanError(
                    [
                        Problem(
                            f"{len(due)} reminders ring on {here} (day {(here - plan.surgery_date).days}: {times}); "
                            f"at most {MAX_ALARMS_A_DAY - 1} a day, and a booking reminder makes {MAX_ALARMS_A_DAY}: "
                            "give the protocol's routines fewer times of day, or set two times of day to one time",
                            field="slot_times",
                        )
                    ]
                )


def overlaps(protocol: Protocol, phases: list[Span], plan: Plan) -> list[Problem]:
    """Two phases that share days without saying so. The problem is put where the protocol being
    checked changed things: at the earlier phase's end when that phase comes from its own file and
    the later one does not (a clinic's file that made a bundled phase end later), else at the later
    phase."""
    declared = {p.id: set(p.overlaps) for p in protocol.phases}
    day = plan.surgery_date
    problems = []
    for i, a in enumerate(phases):
        for b in phases[i + 1 :]:
            if a.start < b.end and b.start < a.end and b.id not in declared[a.id] and a.id not in declared[b.id]:
                later, earlier = (b, a) if (b.start, b.id) >= (a.start, a.id) else (a, b)
                first, second = protocol.item(earlier.id), protocol.item(later.id)
                assert first is not None
                assert second is not None
                last_day, starts = (earlier.end - day).days - 1, (later.start - day).days
                if first.source == protocol.source and second.source != protocol.source:
                    at, message = (
                        earlier,
                        (
                            f"ends after day {last_day}, but phases[id={later.id}] starts on day {starts}; "
                            f'end it by then, or give phases[id={later.id}] overlaps = ["{earlier.id}"] if both are meant to run at once'
                        ),
                    )
                else:
                    at, message = (
                        later,
                        (
                            f"overlaps phases[id={earlier.id}] (days {(earlier.start - day).days}-{last_day} and "
                            f"{starts}-{(later.end - day).days - 1}); make one end before the other starts, "
                            f'or add overlaps = ["{earlier.id}"] if both are meant to run at once'
                        ),
                    )
                problems.append(
                    Problem(
                        message,
                        (first if at is earlier else second).source,
                        f"phases[id={at.id}]" + (".end" if at is earlier else ""),
                        item=at.id,
                        plan=chosen(plan),
                        refers=_anchors(first) + _anchors(second),
                    )
                )
    return problems


def check_contradictions(
    protocol: Protocol, values: dict[str, Any], plan: Plan, dates: dict[Point, date], days: Days
) -> None:
    """Refuse a plan that would tell the patient two opposite things on one day (see `coherence`)."""
    problems = contradictions(
        protocol,
        values,
        days.spans,
        day_finder(dates, plan.surgery_date, values),
        plan.surgery_date,
        days.gates,
        plan.confirmed,
    )
    if problems:
        recorded = [f"{name} recorded on day {(day - plan.surgery_date).days}" for name, day in plan.actuals.items()]
        shown = ", ".join(filter(None, [chosen(plan), *recorded]))
        raise ProtocolError([replace(problem, plan=shown) for problem in problems])
