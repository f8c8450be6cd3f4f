"""The scheduler: a protocol and one patient's plan become a Schedule of plain dated items.

Pure functions over plain data. Dates are given to items in the order of the protocol's
reference graph, so a chain of any length costs no recursion. Problems a schedule would have
(an event before surgery, an end before its start, a routine with no occurrence, undeclared
overlapping phases, a reminder at a clock time a DST change skips) are errors, never silent
omissions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import field, replace
from datetime import date, time, timedelta
from typing import Any, TypeVar

from dateutil.relativedelta import relativedelta

from recovery.errors import PlanError, Problem, ProtocolError, did_you_mean
from recovery.protocol.model import Appointment, Dose, Item, Milestone, Phase, Protocol, Routine, where
from recovery.protocol.references import Definition, Point
from recovery.protocol.timeexpr import TimeExpr
from recovery.records import record
from recovery.schedule.coherence import contradictions
from recovery.schedule.items import Day, Schedule, Series, Span, Window, on_weekdays, owning_phase
from recovery.schedule.plan import Plan
from recovery.schedule.zones import ClockChange, clock_changes
from recovery.words import (
    EARLIEST_DAY_TO_ASK,
    FROM_THIS_DAY_ASK,
    KEEP_GOING,
    LASTS_UNTIL_CLEARED,
    clock,
    quoted_choices,
    weekday,
)

T = TypeVar("T", Phase, Milestone, Appointment)

#: How many days before a visit window the patient is reminded to book it.
BOOKING_DAYS = 7
#: Every date a plan produces lies within these days (surgery dates are limited to 1900-2200).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2299, 12, 31)


def describe_dose(dose: Dose | None) -> str:
    """A dose as a patient reads it: "3×10, hold 5 s"."""
    if dose is None:
        return ""
    parts = []
    if dose.sets and dose.reps:
        parts.append(f"{dose.sets}×{dose.reps}")
    elif dose.reps:
        parts.append(f"{dose.reps} times")
    elif dose.sets:
        parts.append(f"{dose.sets} sets")
    if dose.hold_seconds:
        parts.append(f"hold {dose.hold_seconds} s")
    return ", ".join(parts)


def parameter_values(protocol: Protocol, plan: Plan) -> dict[str, Any]:
    """The parameter values for a plan: defaults, its variant, its overrides (all checked)."""
    problems = []
    if plan.variant is not None and plan.variant not in protocol.variants:
        hint = did_you_mean(plan.variant, protocol.variants)
        problems.append(
            Problem(
                f'unknown variant "{plan.variant}"'
                + (hint or f"; {protocol.id} has {quoted_choices(protocol.variants)}"),
                field="variant",
            )
        )
    overrides = {}
    for name, text in plan.overrides.items():
        parameter = protocol.parameters.get(name)
        if parameter is None:
            hint = did_you_mean(name, protocol.parameters)
            problems.append(
                Problem(
                    "unknown parameter" + (hint or f"; {protocol.id} has {quoted_choices(protocol.parameters)}"),
                    field="overrides",
                    detail=name,
                )
            )
            continue
        value = parameter.parse(text)
        if why := parameter.problems_with(value):
            problems.append(Problem(why, field="overrides", detail=f"{name}={text}"))
        overrides[name] = value
    if problems:
        raise PlanError(problems)
    values = protocol.values(plan.variant, overrides)
    for conflict in protocol.conflicts:
        if conflict.matches(values):
            chosen = ", ".join(f"{name}={_plain(values[name])}{_origin(protocol, plan, name)}" for name in conflict.set)
            raise PlanError(
                [Problem(f"these cannot be chosen together: {conflict.reason}", field="overrides", detail=chosen)]
            )
    return values


def _origin(protocol: Protocol, plan: Plan, name: str) -> str:
    """Where a value the plan did not set comes from: " (variant accelerated)", " (default)"."""
    if name in plan.overrides:
        return ""
    if plan.variant is not None and name in protocol.variants[plan.variant].set:
        return f" (variant {plan.variant})"
    return " (default)"


def _plain(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def build(protocol: Protocol, plan: Plan, *, facts: bool = True) -> Schedule:
    """Lay a protocol out on a patient's calendar, or raise every problem found.

    Two steps: the days of every item (`resolve_days`), then one layout step per kind of item.
    The plan's actual dates are facts: a problem that they cause (a late brace-off that leaves a
    later phase no days) leaves out what has no room, where the same plan with those milestones
    on their planned days would lay out (`facts=False` turns that off).
    """
    values = parameter_values(protocol, plan)
    dates = _resolve(protocol, values, plan)
    _check_actuals(protocol, plan, values, dates)
    days = resolve_days(protocol, values, plan, dates)
    fill = _Filler(protocol.shown(values), plan)
    contact = fill(plan.contact or protocol.contact)
    phases, problems = _phases(protocol, days, fill, plan)
    in_order = tuple(sorted(phases, key=lambda p: (p.start, p.end)))
    milestones, more = _milestones(protocol, days, fill, plan)
    problems += more
    appointments, more = _appointments(protocol, days, fill, plan)
    problems += more
    routines, more = _routines(protocol, days, fill, plan, in_order)
    problems += more
    problems = _one_cause(problems + _overlaps(protocol, phases, plan))
    if problems and plan.actuals and facts and _lays_out(protocol, _as_planned(protocol, values, plan)):
        # The patient's dates are facts: a late brace-off that leaves a later phase no days, or
        # makes two phases overlap, is what happened. What it leaves no room for is left out.
        problems = []
    if problems:
        raise ProtocolError(problems)
    _check_coherence(protocol, values, plan, dates, days)
    _check_clock_times(routines, plan)
    schedule = Schedule(
        protocol_id=protocol.id,
        protocol_family=protocol.family or protocol.id,
        protocol_title=protocol.title,
        protocol_version=protocol.version,
        plan=plan,
        first_day=plan.surgery_date,
        phases=in_order,
        milestones=tuple(sorted(milestones, key=lambda m: m.date)),
        routines=tuple(sorted(routines, key=lambda r: (r.first, r.time, r.id))),
        appointments=tuple(sorted(appointments, key=lambda a: a.first)),
        red_flags=tuple(
            (fill(f.sign), fill(f.action) + (f" Contact: {contact}." if contact and not f.emergency else ""))
            for f in protocol.red_flags
        ),
        references=tuple(protocol.references),
        values=values,
        normal=tuple(fill(expected.text) for expected in protocol.normal),
        words=tuple((fill(word.term), fill(word.meaning)) for word in protocol.words),
        contact=contact,
    )
    return starting_from(schedule, plan.start_from) if plan.start_from else schedule


def check_coherence(protocol: Protocol, plan: Plan) -> dict[str, tuple[date, date] | None]:
    """Only the first steps of `build`: the days of a plan's items, refused as `build` would
    refuse them when they contradict each other (see `coherence`). Returns, for each scheduled
    milestone, the first and last day its real date may be recorded without --confirm (a
    clearance: from its earliest day to ask; without `recordable`, that day alone), or None
    when the protocol gives no window."""
    values = parameter_values(protocol, plan)
    dates = _resolve(protocol, values, plan)
    _check_actuals(protocol, plan, values, dates)
    days = resolve_days(protocol, values, plan, dates)
    _check_coherence(protocol, values, plan, dates, days)
    day_of = day_finder(dates, plan.surgery_date, values)
    windows: dict[str, tuple[date, date] | None] = {}
    for milestone in protocol.milestones:
        if milestone.id not in days.spans:
            continue
        planned = days.spans[milestone.id][0]
        if milestone.recordable is None:
            windows[milestone.id] = (planned, planned) if milestone.clearance is not None else None
        else:
            first, last = (day_of(expr) for expr in milestone.recordable)
            windows[milestone.id] = (max(first, planned) if milestone.clearance is not None else first), last
    return windows


def _check_coherence(
    protocol: Protocol, values: dict[str, Any], plan: Plan, dates: dict[Point, date], days: Days
) -> None:
    """Refuse a plan that would tell the patient two opposite things on one day (see `coherence`)."""
    problems = contradictions(
        protocol, values, days.spans, day_finder(dates, plan.surgery_date, values), plan.surgery_date
    )
    if problems:
        recorded = [f"{name} recorded on day {(day - plan.surgery_date).days}" for name, day in plan.actuals.items()]
        shown = ", ".join(filter(None, [_chosen(plan), *recorded]))
        raise ProtocolError([replace(problem, plan=shown) for problem in problems])


def day_finder(dates: dict[Point, date], surgery: date, values: dict[str, Any]) -> Callable[[TimeExpr], date]:
    """The day of any time expression, counted from the plan's dates."""
    return lambda expr: max(apply(part, _anchor_day(part, dates, surgery), values) for part in expr.parts())


@record
class Days:
    """The days a plan gives the protocol's items: what `resolve_days` works out."""

    #: (start, end) of every item in the schedule (shown by its parameters, not behind a clearance).
    spans: dict[str, tuple[date, date]]
    #: The clearances the plan has not recorded: their day is the earliest day to ask.
    gates: frozenset[str]
    #: Items that last until a clearance is recorded: item id → that clearance's milestone id.
    until_cleared: dict[str, str] = field(default_factory=dict)

    def of(self, item: Item) -> tuple[date, date] | None:
        """The item's (start, end), or None when it is not in the schedule."""
        return self.spans.get(item.id)


def resolve_days(
    protocol: Protocol, values: dict[str, Any], plan: Plan, dates: dict[Point, date] | None = None
) -> Days:
    """The days of every item in the schedule. What a parameter switches off is not in it; what
    starts after a clearance the plan has not recorded is not in it yet; what ends at such a
    clearance goes on until it is recorded: to the latest day the clearance may be recorded
    (`recordable`), else to the last day of everything else."""
    dates = dates if dates is not None else _resolve(protocol, values, plan)
    shown = {item.id for _, item in protocol.items() if item.only_if is None or values.get(item.only_if)}
    gates = {
        m.id for m in protocol.milestones if m.clearance is not None and m.id in shown and m.id not in plan.actuals
    }
    behind = _behind_gates(protocol, plan, gates)
    open_end = max(
        (day for point, day in dates.items() if point[0] in shown and point not in behind), default=plan.surgery_date
    )
    scheduled = [item for _, item in protocol.items() if item.id in shown and (item.id, "start") not in behind]
    waiting = {item.id: _gate_of(protocol, (item.id, "end"), gates) for item in scheduled if (item.id, "end") in behind}
    latest = {name: _latest_recordable(protocol, gate, values, plan) for name, gate in waiting.items()}
    # What lasts until a clearance with a latest day runs to it; the rest to the end of everything.
    open_end = max([open_end, *(day for day in latest.values() if day is not None)])
    spans = {}
    for item in scheduled:
        end = dates[(item.id, "end")]
        if item.id in waiting:
            end = (latest[item.id] or open_end) + timedelta(1)
        spans[item.id] = (dates[(item.id, "start")], end)
    return Days(spans, frozenset(gates), {name: gate for name, gate in waiting.items() if gate})


def _gate_of(protocol: Protocol, point: Point, gates: set[str]) -> str:
    """The unrecorded clearance a point is counted from, following its references ("" if none)."""
    graph = protocol.references_graph
    pending, visited = list(graph.depends_on(point)), set()
    while pending:
        current = pending.pop()
        if current[0] in gates:
            return current[0]
        if current not in visited:
            visited.add(current)
            pending += graph.depends_on(current)
    return ""


def _latest_recordable(protocol: Protocol, gate: str, values: dict[str, Any], plan: Plan) -> date | None:
    """The latest day a clearance may be recorded, when its milestone says (`recordable`)."""
    milestone = protocol.item(gate)
    if not isinstance(milestone, Milestone) or milestone.recordable is None:
        return None
    return apply(milestone.recordable[1], plan.surgery_date, values)


def _phases(protocol: Protocol, days: Days, fill: _Filler, plan: Plan) -> tuple[list[Span], list[Problem]]:
    made: list[Span] = []
    problems: list[Problem] = []
    for item, start, end in _in_schedule(protocol.phases, "phases", days, plan, problems):
        waiting = _keep_going(protocol, days, item.id, fill, LASTS_UNTIL_CLEARED)
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
            )
        )
    return made, problems


def _milestones(protocol: Protocol, days: Days, fill: _Filler, plan: Plan) -> tuple[list[Day], list[Problem]]:
    made: list[Day] = []
    problems: list[Problem] = []
    for item, start, _end in _in_schedule(protocol.milestones, "milestones", days, plan, problems):
        clearance = fill(item.clearance) if item.clearance is not None else ""
        waiting = item.id in days.gates
        made.append(
            Day(
                id=item.id,
                title=EARLIEST_DAY_TO_ASK.format(clearance=clearance) if waiting else fill(item.title),
                date=start,
                description=_gate_description(fill(item.description), clearance) if waiting else fill(item.description),
                check=tuple(map(fill, item.check)),
                actual=item.id in plan.actuals,
                clearance=clearance,
            )
        )
    return made, problems


def _appointments(protocol: Protocol, days: Days, fill: _Filler, plan: Plan) -> tuple[list[Window], list[Problem]]:
    made: list[Window] = []
    problems: list[Problem] = []
    for item, start, end in _in_schedule(protocol.appointments, "appointments", days, plan, problems):
        first, last = _on_clinic_days(start, end, protocol.clinic_days)
        made.append(
            Window(
                id=item.id,
                title=fill(item.title),
                first=first,
                last=last,
                description=fill(item.description),
                book_by=_booking_day(first, plan.surgery_date, protocol.clinic_days),
            )
        )
    return made, problems


def _routines(
    protocol: Protocol, days: Days, fill: _Filler, plan: Plan, phases: tuple[Span, ...]
) -> tuple[list[Series], list[Problem]]:
    made, problems = [], []
    for item in protocol.routines:
        if (span := days.of(item)) is None:
            continue
        start, end = span
        series = _series(item, start, end, plan, fill, phases)
        if waiting := _keep_going(protocol, days, item.id, fill):
            series = [replace(s, description=f"{s.description} {waiting}".strip()) for s in series]
        if (wrong := _date_problem(item, start, end, plan.surgery_date, series)) is not None:
            problems.append(_problem(item, "routines", wrong, plan))
            continue
        made += series
    return made, problems


def _booking_day(visit: date, surgery: date, clinic_days: Iterable[str]) -> date | None:
    """The day to be reminded to book a visit: a clinic day about a week before it, after the
    surgery day (on which no one books anything); None when there is no such day before the visit."""
    days = set(clinic_days)
    day = visit - timedelta(BOOKING_DAYS)
    while day > surgery and weekday(day) not in days:
        day -= timedelta(1)
    if day <= surgery:  # too close to the surgery: the first clinic day after it
        day = surgery + timedelta(1)
        while day < visit and weekday(day) not in days:
            day += timedelta(1)
    return day if day < visit else None


def _keep_going(protocol: Protocol, days: Days, item_id: str, fill: _Filler, words: str = KEEP_GOING) -> str:
    """What an item that lasts until a clearance tells the patient ("" for any other item)."""
    milestone = protocol.item(days.until_cleared.get(item_id))
    if not isinstance(milestone, Milestone) or milestone.clearance is None:
        return ""
    return words.format(clearance=fill(milestone.clearance))


def _in_schedule(
    items: list[T], section: str, days: Days, plan: Plan, problems: list[Problem]
) -> Iterator[tuple[T, date, date]]:
    """Each item of a section that the schedule holds, with its start and end; an item whose days
    cannot be right goes to `problems` instead."""
    for item in items:
        if (span := days.of(item)) is None:
            continue
        start, end = span
        if (wrong := _date_problem(item, start, end, plan.surgery_date, [])) is not None:
            problems.append(_problem(item, section, wrong, plan))
            continue
        yield item, start, end


def _problem(item: Item, section: str, wrong: tuple[str, str], plan: Plan) -> Problem:
    """A date problem of an item; it refers to the items its dates are counted from."""
    message, field_name = wrong
    return Problem(
        message, item.source, where(section, item, field_name), item=item.id, plan=_chosen(plan), refers=_anchors(item)
    )


def _anchors(item: Item) -> tuple[str, ...]:
    """The items an item's dates are counted from."""
    anchors = [anchor for _, expr in item.whens() for anchor in expr.anchors]
    if isinstance(item, Routine) and item.during:
        anchors.append(item.during)
    return tuple(anchors)


def _one_cause(problems: list[Problem]) -> list[Problem]:
    """The problems without those that only follow from another item's (a routine during a phase
    that ends before it starts has no day either): one cause, one message."""
    broken = {problem.item for problem in problems if problem.item}
    return [problem for problem in problems if not broken.intersection(problem.refers)]


def _on_clinic_days(first: date, last: date, clinic_days: Iterable[str]) -> tuple[date, date]:
    """A visit window trimmed to the clinic's days; one with none of them (a visit planned for a
    Sunday) moves to the next clinic day."""
    days = set(clinic_days)
    start, end = on_weekdays(first, last, days)
    if start > end:  # no clinic day in the window: the next one
        start, _ = on_weekdays(last + timedelta(1), last + timedelta(7), days)
        end = start
    return start, end


def _behind_gates(protocol: Protocol, plan: Plan, gates: set[str]) -> set[Point]:
    """The points whose dates are counted from a clearance that the plan has not recorded. An
    unrecorded clearance itself is never behind one: it is a checkpoint, shown on its earliest
    day to ask, counted from the other's earliest day (return to sport not before walk-jog)."""
    if not gates:
        return set()
    graph = protocol.references_graph
    given: list[Point] = [(name, "start") for name in plan.actuals]
    behind: set[Point] = set()
    for point in graph.order(given) if given else graph.plain_order:
        anchors = () if point in given or point[0] in gates else graph.depends_on(point)
        if any(anchor in behind or (anchor[0] in gates and anchor[0] != point[0]) for anchor in anchors):
            behind.add(point)
    return behind


def _gate_description(description: str, clearance: str) -> str:
    return "\n".join([*([description] if description else []), FROM_THIS_DAY_ASK.format(clearance=clearance)])


def _as_planned(protocol: Protocol, values: dict[str, Any], plan: Plan) -> Plan:
    """The plan with each actual date moved to the day the protocol plans for it (for a
    clearance, its earliest day): what the protocol itself must lay out."""
    planned = _resolve(protocol, values, replace(plan, actuals={}))
    return replace(plan, actuals={name: planned[(name, "start")] for name in plan.actuals})


def _lays_out(protocol: Protocol, plan: Plan) -> bool:
    """Whether the protocol lays out for this plan without a problem."""
    try:
        build(protocol, plan, facts=False)
    except ProtocolError:
        return False
    return True


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
            moved = replace(series, first=max(series.first, day))
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


def _date_problem(item: Item, start: date, end: date, day0: date, made: list[Series]) -> tuple[str, str] | None:
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


class _Filler:
    """Fills {side} and {parameter} in protocol texts."""

    def __init__(self, values: dict[str, Any], plan: Plan):
        self.values = {**values, "side": plan.side or "operated"}

    def __call__(self, text: str) -> str:
        return text.format_map(self.values) if "{" in text or "}" in text else text


def _check_actuals(protocol: Protocol, plan: Plan, values: dict[str, Any], resolved: dict[Point, date]) -> None:
    milestones = [m.id for m in protocol.milestones]
    hidden = {m.id: m.only_if for m in protocol.milestones if m.only_if and not values.get(m.only_if)}
    problems = []
    for name, day in plan.actuals.items():
        if name in hidden:
            problems.append(
                Problem(
                    f"this milestone is not part of this plan ({hidden[name]} is off)", field="actuals", detail=name
                )
            )
        elif name not in milestones:
            hint = did_you_mean(name, milestones)
            problems.append(
                Problem(
                    f"not a milestone of {protocol.id}"
                    + (hint or f"; its milestones are {quoted_choices(milestones)}"),
                    field="actuals",
                    detail=name,
                )
            )
        elif day < plan.surgery_date:
            problems.append(
                Problem(f"before the surgery date {plan.surgery_date}", field="actuals", detail=f"{name}={day}")
            )
        elif name not in plan.confirmed and (why := _outside_window(protocol, values, plan, name, day, resolved)):
            problems.append(Problem(why, field="actuals", detail=f"{name}={day}"))
    unknown = [name for name in plan.confirmed if name not in plan.actuals]
    problems += [
        Problem("confirms no recorded date: give its --actual too, or leave it out", field="confirmed", detail=name)
        for name in unknown
    ]
    if problems:
        raise PlanError(problems)


def _outside_window(
    protocol: Protocol,
    values: dict[str, Any],
    plan: Plan,
    name: str,
    day: date,
    dates: dict[Point, date],
) -> str:
    """Why a recorded day is not one the protocol expects ("" when it is): before a clearance's
    earliest day to ask (its own definition, counted from the plan's other dates), or outside a
    milestone's `recordable` days."""
    milestone = protocol.item(name)
    assert isinstance(milestone, Milestone)
    number = (day - plan.surgery_date).days
    confirm = f"check the date; if it is right, confirm it: --confirm {name}"
    if milestone.clearance is not None:
        definition = protocol.references_graph.definitions[(name, "start")]
        earliest = _day_of(definition, dates, plan.surgery_date, values)
        if day < earliest:
            return (
                f"day {number} is before the earliest day to ask {_Filler(protocol.shown(values), plan)(milestone.clearance)} "
                f"(day {(earliest - plan.surgery_date).days}, {earliest}); {confirm}"
            )
    if milestone.recordable is not None:
        first, last = map(day_finder(dates, plan.surgery_date, values), milestone.recordable)
        if not first <= day <= last:
            low, high = milestone.recordable
            return (
                f"day {number} is outside the days this protocol expects it ({low} to {high} after surgery: "
                f"{first} to {last}); {confirm}"
            )
    return ""


def _resolve(protocol: Protocol, values: dict[str, Any], plan: Plan) -> dict[Point, date]:
    """The date of every item's start and end, in the reference graph's order (cycles were ruled out)."""
    graph = protocol.references_graph
    given: dict[Point, date] = {(name, "start"): day for name, day in plan.actuals.items()}
    dates: dict[Point, date] = dict(given)
    for point in graph.order(given) if given else graph.plain_order:
        if point in given:
            continue
        definition = graph.definitions[point]
        try:
            day = _day_of(definition, dates, plan.surgery_date, values)
        except (OverflowError, ValueError):
            day = date.max
        if not FIRST_DAY <= day <= LAST_DAY:
            item = protocol.item(point[0])
            raise ProtocolError(
                [
                    Problem(
                        f"falls outside the years {FIRST_DAY.year}-{LAST_DAY.year} that calendars are written for",
                        item.source if item is not None else protocol.source,
                        definition.where,
                        plan=_chosen(plan),
                    )
                ]
            )
        dates[point] = day
    return dates


def _day_of(definition: Definition, dates: dict[Point, date], surgery: date, values: dict[str, Any]) -> date:
    """A point's day: the same as its one anchor's, or the latest of its expression's parts, each
    counted from its own anchor."""
    if definition.expression is None:
        return dates[definition.anchors[0]]
    return max(apply(part, _anchor_day(part, dates, surgery), values) for part in definition.expression.parts())


def _anchor_day(part: TimeExpr, dates: dict[Point, date], surgery: date) -> date:
    """The day a simple expression counts from: the surgery day, or its item's start or end."""
    if part.anchor is None:
        return surgery
    return dates[(part.anchor, "end" if part.anchor_end else "start")]


def apply(expr: TimeExpr, anchor: date, values: dict[str, Any]) -> date:
    """The day an expression names, counted from its anchor's day."""
    months = sum(t.amount(values) for t in expr.terms if t.unit == "months")
    days = sum(t.amount(values) * (7 if t.unit == "weeks" else 1) for t in expr.terms if t.unit != "months")
    if not months:
        return anchor + timedelta(days)
    # Calendar months first, then days, as relativedelta does: Jan 31 + 1 month = Feb 28 or 29.
    shifted: date = anchor + relativedelta(months=months)
    return shifted + timedelta(days)


def _series(
    routine: Routine, start: date, end: date, plan: Plan, fill: _Filler, phases: tuple[Span, ...]
) -> list[Series]:
    """One Series per time of day; none when the routine's span holds no matching day."""
    first, last = start, end - timedelta(1)
    weekdays = tuple(routine.weekdays or ())
    first, last = on_weekdays(first, last, weekdays)
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
                dose=describe_dose(routine.dose),
                description=fill(routine.description),
                weekdays=weekdays,
                phase=owning_phase(first, routine.during, phases),
                medication=routine.medication,
            )
        )
    return made


def _check_clock_times(routines: list[Series], plan: Plan) -> None:
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


def _overlaps(protocol: Protocol, phases: list[Span], plan: Plan) -> list[Problem]:
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
                    message = (
                        f"ends after day {last_day}, but phases[id={later.id}] starts on day {starts}; "
                        f'end it by then, or give phases[id={later.id}] overlaps = ["{earlier.id}"] if both are meant to run at once'
                    )
                    problems.append(
                        Problem(
                            message,
                            first.source,
                            f"phases[id={earlier.id}].end",
                            item=earlier.id,
                            plan=_chosen(plan),
                            refers=_anchors(first) + _anchors(second),
                        )
                    )
                    continue
                message = (
                    f"overlaps phases[id={earlier.id}] (days {(earlier.start - day).days}-{last_day} and "
                    f"{starts}-{(later.end - day).days - 1}); make one end before the other starts, "
                    f'or add overlaps = ["{earlier.id}"] if both are meant to run at once'
                )
                problems.append(
                    Problem(
                        message,
                        second.source,
                        f"phases[id={later.id}]",
                        item=later.id,
                        plan=_chosen(plan),
                        refers=_anchors(first) + _anchors(second),
                    )
                )
    return problems


def _chosen(plan: Plan) -> str:
    """The plan's choices that a protocol problem shows with: "with variant accelerated, protection_weeks=3"."""
    chosen = [f"variant {plan.variant}"] if plan.variant else []
    chosen += [f"{k}={v}" for k, v in plan.overrides.items()]
    return f"with {', '.join(chosen)}" if chosen else ""
