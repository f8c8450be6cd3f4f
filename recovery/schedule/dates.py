"""The days of a plan: each item's start and end, worked out from the protocol's definitions,
the plan's parameter values and its recorded dates.

Pure functions over plain data. Dates are given to items in the order of the protocol's
reference graph, so a chain of any length costs no recursion. A recorded date is checked here
(a milestone the plan has, a day the protocol expects or one the plan confirms), as are the
parameter values a plan chooses (known, in range, not in a declared conflict).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import field, replace
from datetime import date, timedelta
from functools import partial
from typing import Any

from dateutil.relativedelta import relativedelta

from recovery.errors import PlanError, Problem, ProtocolError, did_you_mean
from recovery.language import words
from recovery.protocol.model import Item, Milestone, Protocol
from recovery.protocol.references import Definition, Point
from recovery.protocol.timeexpr import TimeExpr
from recovery.records import record
from recovery.schedule.plan import Plan
from recovery.words import DAY_ZERO_WORDS, quoted_choices

#: Every date a plan produces lies within these days (surgery dates are limited to 1900-2200).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2299, 12, 31)


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
    unset = [
        Problem(
            f"a blank to fill in for each patient, a whole number from {parameter.min} to {parameter.max}"
            + (f" ({parameter.description})" if parameter.description else "")
            + ": no calendar is made until it is set",
            field="overrides",
            detail=f"{name}=…",
        )
        for name, parameter in protocol.parameters.items()
        if parameter.blank and values.get(name) is None
    ]
    if unset:
        raise PlanError(unset)
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


def day_finder(dates: dict[Point, date], surgery: date, values: dict[str, Any]) -> Callable[[TimeExpr], date]:
    """The day of any time expression, counted from the plan's dates. Each expression's day is
    worked out once: the coherence check asks for the same ones day after day."""
    found: dict[int, tuple[TimeExpr, date]] = {}  # by id, holding the expression so that its id stays its own

    def day_of(expr: TimeExpr) -> date:
        known = found.get(id(expr))
        if known is None:
            day = max(apply(part, _anchor_day(part, dates, surgery), values) for part in expr.parts())
            known = found[id(expr)] = (expr, day)
        return known[1]

    return day_of


@record
class Days:
    """The days a plan gives the protocol's items: what `resolve_days` works out."""

    #: (start, end) of every item in the schedule (shown by its parameters, not behind a clearance).
    spans: dict[str, tuple[date, date]]
    #: The clearances the plan has not recorded: their day is the earliest day to ask.
    gates: frozenset[str]
    #: Items that last until a clearance is recorded: item id → that clearance's milestone id.
    until_cleared: dict[str, str] = field(default_factory=dict)
    #: The latest day each unrecorded clearance with a `recordable` window is expected.
    latest: dict[str, date] = field(default_factory=dict)

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
    dates = dates if dates is not None else resolve(protocol, values, plan)
    shown = {item.id for _, item in protocol.items() if item.shown_with(values)}
    gates = {
        m.id for m in protocol.milestones if m.clearance is not None and m.id in shown and m.id not in plan.actuals
    }
    behind = _behind_gates(protocol, plan, gates)
    open_end = max(
        (day for point, day in dates.items() if point[0] in shown and point not in behind), default=plan.surgery_date
    )
    scheduled = [item for _, item in protocol.items() if item.id in shown and (item.id, "start") not in behind]
    waiting = {item.id: _gate_of(protocol, (item.id, "end"), gates) for item in scheduled if (item.id, "end") in behind}
    latest = {name: _latest_recordable(protocol, gate, values, plan, dates) for name, gate in waiting.items()}
    # What lasts until a clearance with a latest day runs to it; the rest to the end of everything.
    open_end = max([open_end, *(day for day in latest.values() if day is not None)])
    spans = {}
    for item in scheduled:
        end = dates[(item.id, "end")]
        if item.id in waiting:
            end = (latest[item.id] or open_end) + timedelta(1)
        spans[item.id] = (dates[(item.id, "start")], end)
    expected = {
        gate: day
        for gate in gates
        if gate in spans and (day := _latest_recordable(protocol, gate, values, plan, dates)) is not None
    }
    return Days(spans, frozenset(gates), {name: gate for name, gate in waiting.items() if gate}, expected)


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


def _latest_recordable(
    protocol: Protocol, gate: str, values: dict[str, Any], plan: Plan, dates: dict[Point, date]
) -> date | None:
    """The latest day a clearance may be recorded, when its milestone says (`recordable`): its
    last day, or its earliest day to ask when that comes later (running cleared late moves the
    question about sport past the usual last day, rather than leaving it no day at all)."""
    milestone = protocol.item(gate)
    if not isinstance(milestone, Milestone) or milestone.recordable is None:
        return None
    return max(apply(milestone.recordable[1], plan.surgery_date, values), dates[(gate, "start")])


def _behind_gates(protocol: Protocol, plan: Plan, gates: set[str]) -> set[Point]:
    """The points whose dates are counted from a clearance that the plan has not recorded. An
    unrecorded clearance itself is never behind one: it is a checkpoint, shown on its earliest
    day to ask, counted from the other's earliest day (return to sport not before walk-jog).
    A stage is different: what is counted from a stage that has not begun (a milestone with
    `criteria`), later stages and their clearances included, is not in the schedule at all, since
    its day would be made up (stage 3 two weeks after a stage 2 that may begin any day)."""
    if not gates:
        return set()
    graph = protocol.references_graph
    given: list[Point] = [(name, "start") for name in plan.actuals]
    stages = {name for name in gates if isinstance(m := protocol.item(name), Milestone) and m.criteria is not None}
    behind: set[Point] = set()
    behind_stage: set[Point] = set()
    for point in graph.order(given) if given else graph.plain_order:
        anchors = () if point in given else graph.depends_on(point)
        after_stage = [a for a in anchors if a in behind_stage or (a[0] in stages and a[0] != point[0])]
        if after_stage:
            behind_stage.add(point)
        if point[0] in gates and not after_stage:
            continue
        if any(anchor in behind or (anchor[0] in gates and anchor[0] != point[0]) for anchor in anchors):
            behind.add(point)
    return behind


def resolve(protocol: Protocol, values: dict[str, Any], plan: Plan) -> dict[Point, date]:
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
                        plan=chosen(plan),
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
    months = days = 0
    for term in expr.terms:
        amount = term.amount(values)
        if term.unit == "months":
            months += amount
        else:
            days += amount * 7 if term.unit == "weeks" else amount
    if not months:
        return anchor + timedelta(days)
    # Calendar months first, then days, as relativedelta does: Jan 31 + 1 month = Feb 28 or 29.
    shifted: date = anchor + relativedelta(months=months)
    return shifted + timedelta(days)


def check_actuals(protocol: Protocol, plan: Plan, values: dict[str, Any], resolved: dict[Point, date]) -> None:
    milestones = [m.id for m in protocol.milestones]
    hidden = {m.id: m.only_if for m in protocol.milestones if not m.shown_with(values)}
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
                Problem(
                    f"before {DAY_ZERO_WORDS[protocol.day_zero].the_day}, {plan.surgery_date}",  # not surgery in every course
                    field="actuals",
                    detail=f"{name}={day}",
                )
            )
        elif name not in plan.confirmed and (why := _outside_window(protocol, values, plan, name, day, resolved)):
            problems.append(Problem(why, field="actuals", detail=f"{name}={day}", remedy=("confirmed", name)))
    for name in plan.actuals:
        for first in recorded_first(protocol, name):
            if first not in plan.actuals and first not in hidden:
                milestone, before = protocol.item(name), protocol.item(first)
                assert milestone is not None
                assert before is not None
                problems.append(
                    Problem(
                        f'"{milestone.title}" comes only after "{before.title}" ({first}): record that day too',
                        field="actuals",
                        detail=name,
                    )
                )
    unknown = [name for name in plan.confirmed if name not in plan.actuals]
    problems += [
        Problem(
            "confirms no recorded date: give its recorded date too, or leave it out", field="confirmed", detail=name
        )
        for name in unknown
    ]
    if problems:
        raise PlanError(problems)


def in_words(expr: TimeExpr, protocol: Protocol, values: dict[str, Any]) -> str:
    """An expression as a patient's plan has it: its parameters' values filled in and the
    milestones it counts from by their titles ("later of 12 weeks, "Walk without crutches" + 1 week")."""
    parts = []
    for part in expr.parts():
        text = part.text.strip()
        for name in part.parameters:
            text = text.replace(f"{{{name}}}", str(values.get(name, f"{{{name}}}")))
        item = protocol.item(part.anchor)
        if item is not None:
            text = re.sub(rf"(?<![\w-]){re.escape(item.id)}(?![\w-])", f'"{item.title}"', text, count=1)
        parts.append(text)
    return parts[0] if len(parts) == 1 else "later of " + ", ".join(parts)


def recorded_first(protocol: Protocol, name: str) -> list[str]:
    """The clearances that must be recorded before this milestone may be: those it is counted
    from when it needs a level that comes only after a step (`steps`) those clearances begin
    (return to sport after the walk-to-jog clearance: without it, no running came first), and
    for a stage's start (a milestone with `criteria`), every gate it is counted from: a stage
    begins only after the stage before it has begun."""
    milestone = protocol.item(name)
    if not isinstance(milestone, Milestone):
        return []
    graph = protocol.references_graph
    found = []
    if milestone.criteria is not None:
        for anchor, _ in graph.definitions[(name, "start")].anchors:
            other = protocol.item(anchor)
            if isinstance(other, Milestone) and other.clearance is not None and anchor not in found:
                found.append(anchor)
    for step in protocol.steps:
        if milestone.needs.get(step.scale) != step.level:
            continue
        for anchor, _ in graph.definitions[(name, "start")].anchors:
            other = protocol.item(anchor)
            begins = [
                item
                for _, item in protocol.items()
                if item.needs.get(step.scale) in step.after
                and any(point[0] == anchor for point in graph.definitions[(item.id, "start")].anchors)
            ]
            if isinstance(other, Milestone) and other.clearance is not None and begins and anchor not in found:
                found.append(anchor)
    return found


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
    confirm = "check the date; if it is right, confirm it"
    said = partial(in_words, protocol=protocol, values=values)
    if milestone.clearance is not None:
        definition = protocol.references_graph.definitions[(name, "start")]
        earliest = _day_of(definition, dates, plan.surgery_date, values)
        if day < earliest:
            return (
                f"day {number} is before the earliest day to ask {Filler(protocol.shown(values), plan)(milestone.clearance)} "
                f"(day {(earliest - plan.surgery_date).days}, {earliest}); {confirm}"
            )
    if milestone.recordable is not None:
        first, last = map(day_finder(dates, plan.surgery_date, values), milestone.recordable)
        if milestone.clearance is not None:  # never a window that ends before the earliest day to ask
            last = max(
                last, _day_of(protocol.references_graph.definitions[(name, "start")], dates, plan.surgery_date, values)
            )
        if not first <= day <= last:
            low, high = milestone.recordable
            after = DAY_ZERO_WORDS[protocol.day_zero].after  # "{span} after surgery", "… after your first visit"
            if low.anchors or high.anchors:  # each end says what it counts from
                span = " to ".join(said(end) if end.anchors else after.format(span=said(end)) for end in (low, high))
            else:
                span = after.format(span=f"{said(low)} to {said(high)}")
            earlier = [
                protocol.item(part.anchor)
                for part in low.parts()
                if day < first and part.anchor is not None and part.anchor not in plan.actuals
            ]
            moved = "".join(
                f'; if "{item.title}" happened earlier, record its day too ({item.id})'
                for item in earlier
                if isinstance(item, Milestone)
            )
            return (
                f"day {number} is outside the days this protocol expects it (from {span}: "
                f"{first} to {last}){moved}; {confirm}"
            )
    return ""


def as_planned(protocol: Protocol, values: dict[str, Any], plan: Plan) -> Plan:
    """The plan with each actual date moved to the day the protocol plans for it (for a
    clearance, its earliest day): what the protocol itself must lay out."""
    planned = resolve(protocol, values, replace(plan, actuals={}))
    return replace(plan, actuals={name: planned[(name, "start")] for name in plan.actuals})


class Filler:
    """Fills {side} and {parameter} in protocol texts, in the plan's language: `words` holds the
    program's own words in it, and {side_m} is the side's masculine form where a language has one
    ("el pie izquierdo"; {side} is "la pierna izquierda")."""

    def __init__(self, values: dict[str, Any], plan: Plan):
        self.words = words(plan.language)
        self.values = {
            **values,
            "side": self.words.side(plan.side),
            "side_m": self.words.side(plan.side, masculine=True),
        }

    def __call__(self, text: str) -> str:
        return text.format_map(self.values) if "{" in text or "}" in text else text


def chosen(plan: Plan) -> str:
    """The plan's choices that a protocol problem shows with: "with variant accelerated, protection_weeks=3"."""
    chosen = [f"variant {plan.variant}"] if plan.variant else []
    chosen += [f"{k}={v}" for k, v in plan.overrides.items()]
    return f"with {', '.join(chosen)}" if chosen else ""
