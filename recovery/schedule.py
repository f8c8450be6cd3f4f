"""The scheduler: a protocol and one patient's plan become a Schedule of plain dated items.

Pure functions over plain data. A Schedule knows dates and local clock times, but nothing of
icalendar or any other output format: each writer reads a Schedule and nothing else.
Problems a schedule would have (an event before surgery, an end before its start, a routine
with no occurrence, undeclared overlapping phases) are errors, never silent omissions.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from recovery.errors import PlanError, Problem, ProtocolError, did_you_mean, one_of
from recovery.plan import Plan
from recovery.protocol import WEEKDAYS, Appointment, Dose, Item, Milestone, Phase, Protocol, Routine, where
from recovery.timeexpr import TimeExpr

#: Said by every output a patient sees.
SURGEON_FIRST = (
    "Your surgeon's and physiotherapist's instructions come first: if they differ from this calendar, follow theirs."
)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Day:
    """A milestone on one day; `actual` when the plan says it happened on that day."""

    id: str
    title: str
    date: date
    description: str = ""
    check: tuple[str, ...] = ()
    actual: bool = False


@dataclass(frozen=True)
class Window:
    """An appointment that should happen between `first` and `last`, both included."""

    id: str
    title: str
    first: date
    last: date
    description: str = ""


@dataclass(frozen=True)
class Series:
    """One routine at one time of day, every day (or on `weekdays`) from `first` to `last`."""

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
    phase: str = ""  # id of the phase the routine belongs to, if any

    def occurs_on(self, day: date) -> bool:
        """Whether the reminder goes off on `day`."""
        if not self.first <= day <= self.last:
            return False
        return not self.weekdays or WEEKDAYS[day.weekday()] in self.weekdays

    @property
    def count(self) -> int:
        """How many times the reminder occurs."""
        days = (self.last - self.first).days + 1
        return sum(1 for n in range(days) if self.occurs_on(self.first + timedelta(n)))


@dataclass(frozen=True)
class Schedule:
    """A protocol laid out on one patient's calendar."""

    protocol_id: str
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

    @property
    def last_day(self) -> date:
        """The last day on which anything happens."""
        ends = [p.end - timedelta(1) for p in self.phases] + [m.date for m in self.milestones]
        ends += [r.last for r in self.routines] + [a.last for a in self.appointments]
        return max(ends, default=self.first_day)

    def day_number(self, day: date) -> int:
        """Days since surgery: day 0 is the surgery day."""
        return (day - self.plan.surgery_date).days


def by_routine(series: tuple[Series, ...] | list[Series]) -> dict[str, list[Series]]:
    """Series grouped by their routine, in order: one routine's times of day together."""
    grouped: dict[str, list[Series]] = {}
    for one in series:
        grouped.setdefault(one.id, []).append(one)
    return grouped


def describe_dose(dose: Dose | None, minutes: int | None = None) -> str:
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
            Problem(f'unknown variant "{plan.variant}"' + (hint or f"; {protocol.id} has {one_of(protocol.variants)}"))
        )
    overrides = {}
    for name, text in plan.overrides.items():
        parameter = protocol.parameters.get(name)
        if parameter is None:
            hint = did_you_mean(name, protocol.parameters)
            problems.append(
                Problem(
                    f"--set {name}: unknown parameter" + (hint or f"; {protocol.id} has {one_of(protocol.parameters)}")
                )
            )
            continue
        value = parameter.parse(text)
        if why := parameter.problems_with(value):
            problems.append(Problem(f"--set {name}={text}: {why}"))
        overrides[name] = value
    if problems:
        raise PlanError(problems)
    return protocol.values(plan.variant, overrides)


def build(protocol: Protocol, plan: Plan) -> Schedule:
    """Lay a protocol out on a patient's calendar, or raise every problem found."""
    values = parameter_values(protocol, plan)
    _check_actuals(protocol, plan, values)
    dates = _resolve(protocol, values, plan)
    fill = _Filler(values, plan)
    shown = {item.id for _, item in protocol.items() if item.only_if is None or values.get(item.only_if)}

    problems: list[Problem] = []
    phases, milestones, routines, appointments = [], [], [], []
    for section, item in protocol.items():
        if item.id not in shown:
            continue
        start, end = dates[(item.id, "start")], dates[(item.id, "end")]
        made = _series(item, start, end, plan, fill) if isinstance(item, Routine) else []
        wrong = _date_problem(item, start, end, plan.surgery_date, made)
        if wrong is not None:
            message, field_name = wrong
            problems.append(
                Problem(message + _values_note(protocol, plan), item.source, where(section, item, field_name))
            )
        elif isinstance(item, Phase):
            phases.append(
                Span(
                    item.id, fill(item.title), start, end, fill(item.description), fill(item.weight_bearing),
                    fill(item.brace), tuple(map(fill, item.precautions)), tuple(map(fill, item.goals)),
                )
            )  # fmt: skip
        elif isinstance(item, Milestone):
            milestones.append(
                Day(
                    item.id,
                    fill(item.title),
                    start,
                    fill(item.description),
                    tuple(map(fill, item.check)),
                    item.id in plan.actuals,
                )
            )
        elif isinstance(item, Appointment):
            appointments.append(Window(item.id, fill(item.title), start, end, fill(item.description)))
        else:
            routines.extend(made)

    problems.extend(_overlaps(protocol, phases, plan))
    if problems:
        raise ProtocolError(problems)
    _check_clock_times(routines, plan)
    schedule = Schedule(
        protocol.id,
        protocol.title,
        protocol.version,
        plan,
        plan.surgery_date,
        tuple(sorted(phases, key=lambda p: (p.start, p.end))),
        tuple(sorted(milestones, key=lambda m: m.date)),
        tuple(sorted(routines, key=lambda r: (r.first, r.time, r.id))),
        tuple(sorted(appointments, key=lambda a: a.first)),
        tuple((fill(f.sign), fill(f.action)) for f in protocol.red_flags),
        tuple(protocol.references),
        values,
    )
    return starting_from(schedule, plan.start_from) if plan.start_from else schedule


def starting_from(schedule: Schedule, day: date) -> Schedule:
    """The schedule without what ends before `day`; what is under way then starts on `day`."""
    if day <= schedule.plan.surgery_date:
        return schedule
    if day > schedule.last_day:
        raise PlanError(f"--from {day}: the whole course ends on {schedule.last_day}; nothing is left to schedule")
    routines = []
    for series in schedule.routines:
        if series.last >= day:
            moved = replace(series, first=max(series.first, day))
            if moved.count:
                routines.append(moved)
    return replace(
        schedule,
        first_day=day,
        phases=tuple(replace(p, start=max(p.start, day)) for p in schedule.phases if p.end > day),
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
        return string.Formatter().vformat(text, (), self.values) if "{" in text or "}" in text else text


def _check_actuals(protocol: Protocol, plan: Plan, values: dict[str, Any]) -> None:
    milestones = [m.id for m in protocol.milestones]
    hidden = {m.id: m.only_if for m in protocol.milestones if m.only_if and not values.get(m.only_if)}
    problems = []
    for name, day in plan.actuals.items():
        if name in hidden:
            problems.append(
                Problem(f"--actual {name}: this milestone is not part of this plan ({hidden[name]} is off)")
            )
        elif name not in milestones:
            hint = did_you_mean(name, milestones)
            problems.append(
                Problem(
                    f"--actual {name}: not a milestone of {protocol.id}"
                    + (hint or f"; its milestones are {one_of(milestones)}")
                )
            )
        elif day < plan.surgery_date:
            problems.append(Problem(f"--actual {name}={day}: before the surgery date {plan.surgery_date}"))
    if problems:
        raise PlanError(problems)


def _resolve(protocol: Protocol, values: dict[str, Any], plan: Plan) -> dict[tuple[str, str], date]:
    """The date of every item's start and end, following references (cycles were ruled out)."""
    exprs: dict[tuple[str, str], TimeExpr | tuple[str, str]] = {}
    for _, item in protocol.items():
        for field_name, expr in item.whens():
            exprs[(item.id, "end" if field_name in ("end", "window[1]") else "start")] = expr
        if isinstance(item, Milestone) or (isinstance(item, Appointment) and item.at is not None):
            exprs[(item.id, "end")] = (item.id, "start")
        if isinstance(item, Routine) and item.during is not None:
            exprs[(item.id, "start")] = (item.during, "start")
            exprs[(item.id, "end")] = (item.during, "end")
    for name in plan.actuals:
        exprs.pop((name, "start"), None)

    dates: dict[tuple[str, str], date] = {(name, "start"): day for name, day in plan.actuals.items()}

    def date_of(node: tuple[str, str]) -> date:
        if node not in dates:
            expr = exprs[node]
            if isinstance(expr, tuple):
                dates[node] = date_of(expr)
            else:
                anchor = (
                    plan.surgery_date
                    if expr.anchor is None
                    else date_of((expr.anchor, "end" if expr.anchor_end else "start"))
                )
                dates[node] = apply(expr, anchor, values)
        return dates[node]

    for node in exprs:
        date_of(node)
    return dates


def apply(expr: TimeExpr, anchor: date, values: dict[str, Any]) -> date:
    """The day an expression names, counted from its anchor's day."""
    months = sum(t.amount(values) for t in expr.terms if t.unit == "months")
    days = sum(t.amount(values) * (7 if t.unit == "weeks" else 1) for t in expr.terms if t.unit != "months")
    return anchor + relativedelta(months=months, days=days)


def _series(routine: Routine, start: date, end: date, plan: Plan, fill: _Filler) -> list[Series]:
    """One Series per time of day; none when the routine's span holds no matching day."""
    first, last = start, end - timedelta(1)
    weekdays = tuple(routine.weekdays or ())
    if weekdays:
        while first <= last and WEEKDAYS[first.weekday()] not in weekdays:
            first += timedelta(1)
        while last >= first and WEEKDAYS[last.weekday()] not in weekdays:
            last -= timedelta(1)
    if last < first:
        return []
    made = []
    for slot in dict.fromkeys(routine.times):
        clock = plan.slot_times[slot] if slot in plan.slot_times else time.fromisoformat(slot)
        made.append(
            Series(
                routine.id,
                slot,
                fill(routine.title),
                clock,
                first,
                last,
                routine.minutes,
                describe_dose(routine.dose),
                fill(routine.description),
                weekdays,
                routine.during or "",
            )
        )
    return made


def _check_clock_times(routines: list[Series], plan: Plan) -> None:
    """A reminder time that a DST change skips on some day is an error: clients disagree on it."""
    zone = ZoneInfo(plan.timezone)
    changes = {}  # the days on which the zone's offset changes, with the clock times it skips
    for series in routines:
        for offset in range((series.last - series.first).days + 1):
            day = series.first + timedelta(offset)
            if day not in changes:
                changes[day] = _skipped(day, zone)
            if changes[day] and changes[day][0] <= series.time < changes[day][1]:
                slot = f"{series.slot}={series.time:%H:%M}" if series.slot in plan.slot_times else series.slot
                raise PlanError(
                    f"--time {slot}: on {day} the clocks in {plan.timezone} jump from {changes[day][0]:%H:%M} "
                    f"to {changes[day][1]:%H:%M}, so {series.time:%H:%M} does not exist that day ({series.title}); choose another time"
                )


def _skipped(day: date, zone: ZoneInfo) -> tuple[time, time] | None:
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


def _overlaps(protocol: Protocol, phases: list[Span], plan: Plan) -> list[Problem]:
    declared = {p.id: set(p.overlaps) for p in protocol.phases}
    problems = []
    for i, a in enumerate(phases):
        for b in phases[i + 1 :]:
            if a.start < b.end and b.start < a.end and b.id not in declared[a.id] and a.id not in declared[b.id]:
                later, earlier = (b, a) if (b.start, b.id) >= (a.start, a.id) else (a, b)
                item = protocol.item(later.id)
                day = plan.surgery_date
                problems.append(
                    Problem(
                        f"overlaps phases[id={earlier.id}] (days {(earlier.start - day).days}-{(earlier.end - day).days - 1} and "
                        f'{(later.start - day).days}-{(later.end - day).days - 1}); if that is intended, add overlaps = ["{earlier.id}"]'
                        + _values_note(protocol, plan),
                        item.source,
                        f"phases[id={later.id}]",
                    )
                )
    return problems


def _values_note(protocol: Protocol, plan: Plan) -> str:
    if plan.variant or plan.overrides:
        chosen = [f"variant {plan.variant}"] if plan.variant else []
        chosen += [f"{k}={v}" for k, v in plan.overrides.items()]
        return f" (with {', '.join(chosen)})"
    return ""
