"""Trying a protocol out: lay it out on a fixed set of surgery dates, so its date problems show.

A protocol can be valid key by key and still put a visit before surgery, end a phase before it
starts, or give a routine no day at all, and some of these happen only for some surgery dates
(a month that is too short, a leap year) or some zones (a reminder time that a daylight-saving
change skips). `trial_problems` lays the protocol out, with its defaults and with each variant,
for every plan in TRIAL_PLANS (the same dates every day, so a file that passes today passes
tomorrow), and with each whole-number parameter at its bounds. The plans cover month ends, 29 February, a year boundary, and both daylight-saving
changes in each hemisphere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from itertools import product
from pathlib import Path

from recovery.cache import Cache
from recovery.errors import Problem, RecoveryError
from recovery.protocol.loader import load
from recovery.protocol.model import Protocol
from recovery.protocol.references import Point
from recovery.protocol.review import untagged_numbers
from recovery.schedule.build import build, check_coherence
from recovery.schedule.plan import Plan

#: (surgery date, zone, why this one): the surgery dates every protocol is tried on.
TRIAL_PLANS: tuple[tuple[date, str, str], ...] = (
    (date(2027, 1, 31), "America/New_York", "a month end before a short February; spring forward on 14 March"),
    (date(2028, 2, 29), "Europe/London", "29 February of a leap year"),
    (date(2028, 3, 31), "Europe/Berlin", "a 31st followed by a 30-day month"),
    (date(2027, 3, 13), "America/New_York", "the day before the clocks go forward (northern spring)"),
    (date(2027, 11, 6), "America/New_York", "the day before the clocks go back (northern autumn)"),
    (date(2027, 4, 3), "Australia/Sydney", "the day before the clocks go back (southern autumn)"),
    (date(2027, 10, 2), "Australia/Sydney", "the day before the clocks go forward (southern spring)"),
    (date(2027, 12, 31), "Pacific/Auckland", "a year boundary, east of the date line"),
    (date(2027, 8, 31), "Asia/Kolkata", "a month end in a zone without daylight saving"),
)


#: Up to this many parameters that move dates are tried one at a time at each bound; beyond it,
#: all of them together at their minimums and at their maximums (so validating stays linear).
MAX_SINGLE_BOUNDS = 100


def trial_plans(protocol: Protocol) -> list[Plan]:
    """The plans a protocol is tried on: every trial date with the defaults and with each variant,
    and the first trial date with each whole-number parameter that moves a date at its minimum and
    at its maximum (a surgeon's bounds promise that every value between them lays out). A
    parameter that only fills a text cannot change a layout, so it is not tried."""
    plans = [
        Plan(surgery_date, timezone=zone, variant=variant)
        for variant in (None, *protocol.variants)
        for surgery_date, zone, _ in TRIAL_PLANS
    ]
    surgery_date, zone, _ = TRIAL_PLANS[0]
    moving = {name for _, item in protocol.items() for _, expr in item.whens() for name in expr.parameters}
    bounded = [
        (name, parameter)
        for name, parameter in protocol.parameters.items()
        if name in moving and isinstance(parameter.default, int) and not isinstance(parameter.default, bool)
    ]
    if len(bounded) <= MAX_SINGLE_BOUNDS:
        for name, parameter in bounded:
            for bound in (parameter.min, parameter.max):
                if bound is not None:
                    plans.append(Plan(surgery_date, timezone=zone, overrides={name: str(bound)}))
        return plans
    for side in ("min", "max"):
        chosen = {name: str(getattr(p, side)) for name, p in bounded if getattr(p, side) is not None}
        plans.append(Plan(surgery_date, timezone=zone, overrides=chosen))
    return plans


def trial_problems(protocol: Protocol) -> list[Problem]:
    """Every problem the protocol's schedules have on the trial plans, each reported once, with
    the first plan that shows it."""
    found: dict[tuple[str, str, str], Problem] = {}
    for plan in trial_plans(protocol):
        try:
            schedule = build(protocol, plan)
            cleared = {day.id: day.date for day in schedule.milestones if day.waiting}
            if cleared:  # also lay out what waits behind each clearance, cleared on its earliest day
                build(protocol, replace(plan, actuals=cleared))
        except RecoveryError as error:
            for problem in error.problems:
                key = (problem.file, problem.where, "")  # one place, one message: the first plan that shows it
                if key not in found:
                    shown_with = [problem.plan] if problem.plan else []
                    shown_with.append(f"for a surgery on {plan.surgery_date} in {plan.timezone}")
                    found[key] = replace(problem, file=problem.file or protocol.source, plan=", ".join(shown_with))
    # One cause, one message, across plans too: what follows from an item that is itself broken
    # on some plan is left out.
    broken = {problem.item for problem in found.values() if problem.item}
    return [problem for problem in found.values() if not broken.intersection(problem.refers)]


#: Up to this many parameters are tried at every combination of their bounds; beyond it, each at
#: its bounds alone and all together at their minimums and maximums.
MAX_CORNERS = 6
#: At most this many combinations of choices are tried (each choice parameter is also tried alone).
MAX_CHOICE_SETS = 64


def coherence_plans(protocol: Protocol) -> list[Plan]:
    """The plans the coherence check tries, on the first trial date: per variant, the parameters
    it leaves free at their bounds (every combination of them, up to MAX_CORNERS) and the
    choices that decide levels or switch items (every combination, up to MAX_CHOICE_SETS), with
    the defaults, all at their minimums and all at their maximums. Combinations the protocol
    declares as `conflicts` are refused for patients, so they are not tried."""
    surgery_date, zone, _ = TRIAL_PLANS[0]
    moving = _moving_what_is_compared(protocol)
    deciding = {level[1:-1] for *_, level in protocol.declared_levels if level.startswith("{")}
    deciding |= {item.only_if for _, item in protocol.items() if item.only_if}
    plans, seen = [], set()
    for variant in (None, *protocol.variants):
        fixed = set(protocol.variants[variant].set) if variant else set()
        numbers = [
            (name, [b for b in (p.min, p.max) if b is not None])
            for name, p in protocol.parameters.items()
            if name in moving
            and name not in fixed
            and type(p.default) is int
            and (p.min is not None or p.max is not None)
        ]
        choices = [
            (name, [True, False] if type(p.default) is bool else list(p.choices or ()))
            for name, p in protocol.parameters.items()
            if name in deciding and name not in fixed and (type(p.default) is bool or p.choices)
        ]
        if len(numbers) <= MAX_CORNERS:
            corners = [dict(zip([n for n, _ in numbers], c, strict=True)) for c in product(*(b for _, b in numbers))]
        else:
            corners = [{name: bound} for name, bounds in numbers for bound in bounds]
        corners += [{name: bounds[0] for name, bounds in numbers}, {name: bounds[-1] for name, bounds in numbers}]
        choice_sets = [dict(zip([n for n, _ in choices], c, strict=True)) for c in product(*(v for _, v in choices))]
        if len(choice_sets) > MAX_CHOICE_SETS:
            choice_sets = [{name: value} for name, values in choices for value in values]
        for chosen in [{}, *choice_sets]:
            for numbers_at in [{}, *corners] if not chosen else [{}, corners[-2], corners[-1]]:
                overrides = {
                    name: str(value).lower() if isinstance(value, bool) else str(value)
                    for name, value in {**chosen, **numbers_at}.items()
                }
                key = (variant, tuple(sorted(overrides.items())))
                values = protocol.values(variant, {**chosen, **numbers_at})
                if key in seen or any(conflict.matches(values) for conflict in protocol.conflicts):
                    continue
                seen.add(key)
                plans.append(Plan(surgery_date, timezone=zone, variant=variant, overrides=overrides))
    return plans


def _moving_what_is_compared(protocol: Protocol) -> set[str]:
    """The parameters that move a day the coherence check compares: the days of items that
    declare levels or are in `order`, of what `not_before` counts from, and of every point
    those are counted from, and the windows of the milestones among them. A parameter that only
    moves something nothing is compared with (the week of the driving question, say) cannot make
    a contradiction, so its bounds are not tried."""
    graph = protocol.references_graph
    compared = {item.id for _, item, *_ in protocol.declared_levels}
    compared |= {entry.removeprefix("end of ") for entry in protocol.order}
    compared |= {anchor for entry in protocol.not_before for anchor in entry.at.anchors}
    pending = [point for point in graph.definitions if point[0] in compared]
    seen: set[Point] = set()
    while pending:
        point = pending.pop()
        if point not in seen:
            seen.add(point)
            pending += graph.depends_on(point)
    moving = {name for point in seen if (expr := graph.definitions[point].expression) for name in expr.parameters}
    moving |= {name for entry in protocol.not_before for name in entry.at.parameters}
    ids = {point[0] for point in seen}
    moving |= {name for m in protocol.milestones if m.id in ids for e in m.recordable or () for name in e.parameters}
    return moving


def coherence_problems(protocol: Protocol) -> list[Problem]:
    """Every contradiction (see `schedule.coherence`) on the coherence plans, each with no
    milestone recorded, with every clearance recorded on its earliest day, and with each
    milestone that has a window recorded on its first and last day (the clearances after it
    then recorded on their earliest days). Each problem is reported once, with the first
    combination that shows it."""
    found: dict[tuple[str, str], Problem] = {}
    for plan in coherence_plans(protocol):
        try:
            windows = check_coherence(protocol, plan)
        except RecoveryError as error:
            _keep(found, error.problems, protocol)
            continue
        scenarios: list[dict[str, date]] = [{}]
        for name, window in windows.items():
            scenarios += [{name: recorded} for recorded in dict.fromkeys(window or ())]
        for recorded in scenarios:
            try:
                _record_clearances(protocol, replace(plan, actuals=recorded))
            except RecoveryError as error:
                _keep(found, error.problems, protocol)
    return list(found.values())


def _record_clearances(protocol: Protocol, plan: Plan) -> None:
    """Check the plan, then the same plan with its clearances recorded on their earliest days (an
    unrecorded clearance is shown on that day, so recording them all at once moves nothing)."""
    windows = check_coherence(protocol, plan)
    waiting = {
        m.id: window[0]
        for m in protocol.milestones
        if m.clearance and m.id not in plan.actuals and (window := windows.get(m.id)) is not None
    }
    if waiting:
        check_coherence(protocol, replace(plan, actuals={**plan.actuals, **waiting}))


def _keep(found: dict[tuple[str, str], Problem], problems: Iterable[Problem], protocol: Protocol) -> None:
    for problem in problems:
        found.setdefault(
            (problem.where, problem.message.split(" on day")[0]), replace(problem, file=problem.file or protocol.source)
        )


@dataclass(frozen=True)
class Findings:
    """What `validate` found in a protocol: errors (it cannot be used) and warnings (a number
    without a source, which `strict` makes an error)."""

    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the protocol can be used as it is."""
        return not self.errors


def validate(reference: str | Path, strict: bool = False, cache: Cache | None = None) -> Findings:
    """Check one protocol (a name or a path) as `recovery validate` does, reading it once: its keys
    and cross-item checks, its layouts on the trial plans, then its sources (warnings, or errors
    when `strict`). Problems always carry the file they are in."""
    try:
        protocol = load(reference, cache=cache)
    except RecoveryError as error:
        return Findings(errors=tuple(p if p.file else replace(p, file=str(reference)) for p in error.problems))
    errors = trial_problems(protocol) or coherence_problems(protocol)
    if errors:
        return Findings(errors=tuple(errors))
    warnings = tuple(untagged_numbers(protocol))
    return Findings(errors=warnings) if strict else Findings(warnings=warnings)
