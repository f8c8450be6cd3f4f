"""The layout: the items of a plan's Schedule (phases, milestones, visit windows, routines),
each on the days `dates` worked out, with its texts filled for the patient.

An item whose days cannot be right is not laid out: it goes to the list of problems that each
step returns (`checks`). `starting_from` cuts a schedule to what is left from a day on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date, time, timedelta
from typing import TypeVar

from recovery.errors import PlanError, Problem
from recovery.language import Words, words
from recovery.protocol.model import Appointment, Dose, Milestone, Phase, Protocol, Routine
from recovery.schedule.checks import date_problem, item_problem
from recovery.schedule.dates import Days, Filler
from recovery.schedule.items import Day, Schedule, Series, Span, Window, narrowed, owning_phase
from recovery.schedule.plan import Plan
from recovery.words import (
    DAY_ZERO_WORDS,
    EARLIEST_DAY_FOR_STAGE,
    EARLIEST_DAY_TO_ASK,
    HOLIDAY_IN_WINDOW,
    HOLIDAY_MOVED,
    STAGE_CALL,
    STAGE_CRITERIA,
    STAGE_CRITERIA_BETTER,
    STAGE_DECIDES,
    STAGE_IF_WORSE,
    STAGE_KEEP_GOING,
    STAGE_LASTS,
    STAGE_NEXT,
    weekday,
)

T = TypeVar("T", Phase, Milestone, Appointment)


#: How many days before a visit window the patient is reminded to book it.
BOOKING_DAYS = 7
#: The most days in a row a clinic can be closed (weekends and a run of holidays) before a visit
#: is placed on the next day whatever it is.
MAX_CLOSED_DAYS = 21


def describe_dose(dose: Dose | None, w: Words | None = None) -> str:
    """A dose as a patient reads it: "3 sets of 10, hold each 5 seconds" (in `w`'s language)."""
    if dose is None:
        return ""
    w = w or words()
    parts = []
    if dose.sets and dose.reps:
        parts.append(w("{sets} of {reps}").format(sets=w.count(dose.sets, "set"), reps=dose.reps))
    elif dose.reps:
        parts.append(w.count(dose.reps, "time"))
    elif dose.sets:
        parts.append(w.count(dose.sets, "set"))
    if dose.hold_seconds:
        parts.append(w("hold each {span}").format(span=w.count(dose.hold_seconds, "second")))
    return ", ".join(parts)


def phases_of(protocol: Protocol, days: Days, fill: Filler, plan: Plan) -> tuple[list[Span], list[Problem]]:
    made: list[Span] = []
    problems: list[Problem] = []
    for item, start, end in _in_schedule(protocol.phases, "phases", days, plan, problems):
        waiting = _keep_going(protocol, days, item.id, fill, (start, end), phase=True)
        if (worse := _stage_begun_by(protocol, item)) is not None:
            waiting = " ".join(filter(None, [waiting, fill.words(STAGE_IF_WORSE[worse.if_worse])]))
        made.append(
            Span(
                id=item.id,
                title=fill(item.title),
                start=start,
                end=end,
                description=fill(item.description),
                weight_bearing=fill(item.weight_bearing),
                brace=fill(item.brace),
                precautions=tuple(map(fill, item.precautions)),
                goals=tuple(map(fill, item.goals)),
                advice=(*map(fill, item.advice), *([waiting] if waiting else [])),
                until_ready=_waits_on_stage(protocol, days, item.id),
            )
        )
    return made, problems


def milestones_of(protocol: Protocol, days: Days, fill: Filler, plan: Plan) -> tuple[list[Day], list[Problem]]:
    made: list[Day] = []
    problems: list[Problem] = []
    for item, start, _end in _in_schedule(protocol.milestones, "milestones", days, plan, problems):
        clearance = fill(item.clearance) if item.clearance is not None else ""
        waiting = item.id in days.gates
        latest = days.latest.get(item.id)
        if item.criteria is not None and waiting:
            title = fill.words(EARLIEST_DAY_FOR_STAGE).format(title=fill(item.title))
            description = _stage_description(item, fill(item.description), latest, fill.words)
        elif waiting:
            title = fill.words(EARLIEST_DAY_TO_ASK).format(clearance=clearance)
            description = _gate_description(fill(item.description), clearance, fill.words, protocol.day_zero)
        else:
            title, description = fill(item.title), fill(item.description)
        made.append(
            Day(
                id=item.id,
                title=title,
                date=start,
                description=description,
                check=tuple(map(fill, item.check)),
                actual=item.id in plan.actuals,
                clearance=clearance,
                criteria=item.criteria,
                decides=item.decides if item.criteria is not None else "",
                if_worse=item.if_worse if item.criteria is not None else "",
                latest=latest,
            )
        )
    return made, problems


def criteria_words(item: Milestone, w: Words) -> str:
    """A stage's criteria in plain words, with who decides ("" when the milestone has none)."""
    if (criteria := item.criteria) is None:
        return ""
    sentence = STAGE_CRITERIA_BETTER if criteria.next_morning == "better" else STAGE_CRITERIA
    said = w(sentence).format(sessions=criteria.sessions, of_last=criteria.of_last, pain=criteria.pain_at_most)
    return f"{said} {w(STAGE_DECIDES[item.decides])}"


def _stage_description(item: Milestone, description: str, latest: date | None, w: Words) -> str:
    """What a stage's checkpoint says: what to check before moving on, who decides, when to call."""
    parts = [description, criteria_words(item, w)]
    if latest is not None:
        parts.append(w(STAGE_CALL).format(day=w.long_date(latest)))
    parts.append(w(STAGE_NEXT))
    return "\n".join(filter(None, parts))


def _waits_on_stage(protocol: Protocol, days: Days, item_id: str) -> bool:
    """Whether an item lasts until a stage that has not begun (a gate with criteria)."""
    milestone = protocol.item(days.until_cleared.get(item_id))
    return isinstance(milestone, Milestone) and milestone.criteria is not None


def _stage_begun_by(protocol: Protocol, phase: Phase) -> Milestone | None:
    """The stage's start (a milestone with criteria) that a phase begins at, if any."""
    anchors = protocol.references_graph.definitions[(phase.id, "start")].anchors
    for anchor, _ in anchors:
        milestone = protocol.item(anchor)
        if isinstance(milestone, Milestone) and milestone.criteria is not None:
            return milestone
    return None


def appointments_of(
    protocol: Protocol, days: Days, fill: Filler, plan: Plan, days_off: Mapping[date, str]
) -> tuple[list[Window], list[Problem]]:
    """The visit windows on clinic days that are no public holiday (`days_off`); a visit that one
    moved, or a window with one inside it, says so."""
    made: list[Window] = []
    problems: list[Problem] = []
    is_open = _open_days(protocol.clinic_days, days_off)
    for item, start, end in _in_schedule(protocol.appointments, "appointments", days, plan, problems):
        first, last = _on_clinic_days(start, end, is_open)
        if start == end and start in days_off:
            notes = [fill.words(HOLIDAY_MOVED).format(day=fill.words.long_date(start), name=days_off[start])]
        else:
            inside = [d for d in days_off if first <= d <= last and weekday(d) in protocol.clinic_days]
            notes = [
                fill.words(HOLIDAY_IN_WINDOW).format(day=fill.words.long_date(d), name=days_off[d])
                for d in sorted(inside)
            ]
        made.append(
            Window(
                id=item.id,
                title=fill(item.title),
                first=first,
                last=last,
                description=" ".join(filter(None, [fill(item.description), *notes])),
                book_by=_booking_day(first, plan.surgery_date, is_open),
            )
        )
    return made, problems


def _open_days(clinic_days: Iterable[str], days_off: Mapping[date, str]) -> Callable[[date], bool]:
    """Whether the clinic is open on a day: one of its days, and no public holiday."""
    days = set(clinic_days)
    return lambda day: weekday(day) in days and day not in days_off


def routines_of(
    protocol: Protocol, days: Days, fill: Filler, plan: Plan, phases: tuple[Span, ...]
) -> tuple[list[Series], list[Problem]]:
    made, problems = [], []
    for item in protocol.routines:
        if (span := days.of(item)) is None:
            continue
        start, end = span
        series = _series(item, start, end, plan, fill, phases)
        if waiting := _keep_going(protocol, days, item.id, fill, (start, end), phase=False):
            series = [replace(s, description=f"{s.description} {waiting}".strip()) for s in series]
        if (wrong := date_problem(item, start, end, plan.surgery_date, series)) is not None:
            problems.append(item_problem(item, "routines", wrong, plan))
            continue
        made += series
    return made, problems


def _booking_day(visit: date, surgery: date, is_open: Callable[[date], bool]) -> date:
    """The day to be reminded to book a visit: a day the clinic is open about a week before it,
    after the surgery day; when there is none before the visit, the surgery day itself (book it
    before leaving the hospital)."""
    day = visit - timedelta(BOOKING_DAYS)
    while day > surgery and not is_open(day):
        day -= timedelta(1)
    if day <= surgery:  # too close to the surgery: the first open day after it
        day = surgery + timedelta(1)
        while day < visit and not is_open(day):
            day += timedelta(1)
    return day if day < visit else surgery


def _keep_going(
    protocol: Protocol, days: Days, item_id: str, fill: Filler, span: tuple[date, date], phase: bool
) -> str:
    """What an item (a `phase`, else a routine) that lasts until a clearance tells the patient ("" for any other item). Until
    a stage begins, the one before it lasts as long as the check-ins say: a phase says how long
    it usually takes (from the next stage's earliest to its latest day) and what moves it on."""
    gate = days.until_cleared.get(item_id)
    milestone = protocol.item(gate)
    if not isinstance(milestone, Milestone) or milestone.clearance is None:
        return ""
    if milestone.criteria is None:
        said = DAY_ZERO_WORDS[protocol.day_zero]  # whom to ask: a surgeon only after surgery
        asked = said.lasts_until_cleared if phase else said.keep_going
        return fill.words(asked).format(clearance=fill(milestone.clearance))
    if not phase:
        return fill.words(STAGE_KEEP_GOING)
    w = fill.words
    start, end = span
    earliest = days.spans[milestone.id][0] if milestone.id in days.spans else start
    low, high = (earliest - start).days, (end - start).days - 1
    weeks = w("{low} to {high} weeks").format(low=round(low / 7), high=max(round(high / 7), round(low / 7) + 1))
    return " ".join([w(STAGE_LASTS).format(span=weeks), criteria_words(milestone, w)])


def _in_schedule(
    items: list[T], section: str, days: Days, plan: Plan, problems: list[Problem]
) -> Iterator[tuple[T, date, date]]:
    """Each item of a section that the schedule holds, with its start and end; an item whose days
    cannot be right goes to `problems` instead."""
    for item in items:
        if (span := days.of(item)) is None:
            continue
        start, end = span
        if (wrong := date_problem(item, start, end, plan.surgery_date, [])) is not None:
            problems.append(item_problem(item, section, wrong, plan))
            continue
        yield item, start, end


def _on_clinic_days(first: date, last: date, is_open: Callable[[date], bool]) -> tuple[date, date]:
    """A visit window trimmed to the days the clinic is open; one with none of them (a visit
    planned for a Sunday, or a public holiday) moves to the next open day."""
    start, end = first, last
    while start <= end and not is_open(start):
        start += timedelta(1)
    while end >= start and not is_open(end):
        end -= timedelta(1)
    if start > end:  # no open day in the window: the next one (a clinic is open at least one day a week)
        start = last + timedelta(1)
        for _ in range(MAX_CLOSED_DAYS):
            if is_open(start):
                break
            start += timedelta(1)
        end = start
    return start, end


def _gate_description(description: str, clearance: str, w: Words, day_zero: str) -> str:
    asked = w(DAY_ZERO_WORDS[day_zero].from_this_day_ask).format(clearance=clearance)
    return "\n".join([*([description] if description else []), asked])


def _series(
    routine: Routine, start: date, end: date, plan: Plan, fill: Filler, phases: tuple[Span, ...]
) -> list[Series]:
    """One Series per time of day; none when the routine's span holds no matching day."""
    first, last = start, end - timedelta(1)
    weekdays = tuple(routine.weekdays or ())
    first, last = narrowed(first, last, weekdays, routine.every_days)
    if last < first:
        return []
    made = []
    for slot in dict.fromkeys(routine.times):
        clock = plan.slot_times[slot] if slot in plan.slot_times else time.fromisoformat(slot)
        made.append(
            Series(
                id=routine.id,
                slot=slot,
                title=fill(routine.title),
                time=clock,
                first=first,
                last=last,
                minutes=routine.minutes,
                dose=describe_dose(routine.dose, fill.words),
                description=fill(routine.description),
                weekdays=weekdays,
                every=routine.every_days,
                phase=owning_phase(first, routine.during, phases),
                medication=routine.medication,
                pictures=tuple(routine.pictures),
            )
        )
    return made


def starting_from(schedule: Schedule, day: date) -> Schedule:
    """The schedule without what ends before `day`; what is under way then starts on `day`."""
    if day <= schedule.plan.surgery_date:
        return schedule
    if day > schedule.last_day:
        raise PlanError(
            [
                Problem(
                    f"the whole course ends on {schedule.last_day}; nothing is left to schedule",
                    field="start_from",
                    detail=str(day),
                )
            ]
        )
    phases = tuple(replace(p, start=max(p.start, day)) for p in schedule.phases if p.end > day)
    left = {p.id for p in phases}
    routines = []
    for series in schedule.routines:
        if series.last >= day:
            first, last = narrowed(max(series.first, day), series.last, series.weekdays, series.every, series.first)
            moved = replace(series, first=first, last=last)
            if moved.phase not in left:  # its phase is over: it belongs to the one under way now
                moved = replace(moved, phase=owning_phase(moved.first, "", phases))
            if moved.count:
                routines.append(moved)
    return replace(
        schedule,
        first_day=day,
        phases=phases,
        milestones=tuple(m for m in schedule.milestones if m.date >= day),
        routines=tuple(routines),
        appointments=tuple(replace(a, first=max(a.first, day)) for a in schedule.appointments if a.last >= day),
    )
