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
from typing import Any

from recovery.cache import Cache
from recovery.errors import Problem, RecoveryError
from recovery.protocol.loader import load
from recovery.protocol.model import Protocol
from recovery.protocol.review import untagged_numbers
from recovery.schedule.build import build, check_coherence
from recovery.schedule.plan import Plan
from recovery.schedule.proof import Variable, groups, related

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


def coherence_plans(protocol: Protocol) -> tuple[list[Plan], list[str]]:
    """The plans the coherence check tries, on the first trial date, and a note for each part it
    cannot try in full. Per variant: the parameters it leaves free at their bounds, every
    combination of the bounds of those that meet in one comparison (`proof.groups`; a group of
    more than MAX_CORNERS is tried one at a time, and noted), with all at their minimums and all
    at their maximums; the choices that decide levels or switch items, every combination of those
    that meet (up to MAX_CHOICE_SETS, else one at a time, noted). Combinations the protocol
    declares as `conflicts` are refused for patients, so they are not tried."""
    surgery_date, zone, _ = TRIAL_PLANS[0]
    together = related(protocol)
    read: set[Variable] = set().union(*together)
    deciding = {level[1:-1] for *_, level in protocol.declared_levels if level.startswith("{")}
    deciding |= {item.only_if for _, item in protocol.items() if item.only_if}
    plans, seen, notes = [], set(), []
    for variant in (None, *protocol.variants):
        fixed = set(protocol.variants[variant].set) if variant else set()
        numbers = {
            name: [b for b in (p.min, p.max) if b is not None]
            for name, p in protocol.parameters.items()
            if ("number", name) in read
            and name not in fixed
            and type(p.default) is int
            and (p.min is not None or p.max is not None)
        }
        choices = {
            name: [True, False] if type(p.default) is bool else list(p.choices or ())
            for name, p in protocol.parameters.items()
            if name in deciding and name not in fixed and (type(p.default) is bool or p.choices)
        }
        corners: list[dict[str, Any]] = []
        for group in groups([("number", name) for name in numbers], together):
            names = [name for _, name in group]
            if len(names) <= MAX_CORNERS:
                corners += [dict(zip(names, c, strict=True)) for c in product(*(numbers[n] for n in names))]
            else:
                corners += [{name: bound} for name in names for bound in numbers[name]]
                notes.append(_not_combined("parameters", names, MAX_CORNERS, variant))
        corners += [{name: bounds[0] for name, bounds in numbers.items()}, {name: b[-1] for name, b in numbers.items()}]
        choice_sets: list[dict[str, Any]] = []
        for group in groups([("choice", name) for name in choices], together):
            names = [name for _, name in group]
            combined = [dict(zip(names, c, strict=True)) for c in product(*(choices[n] for n in names))]
            if len(combined) > MAX_CHOICE_SETS:
                combined = [{name: value} for name in names for value in choices[name]]
                notes.append(_not_combined("choices", names, MAX_CHOICE_SETS, variant))
            choice_sets += combined
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
    return plans, notes


def _not_combined(what: str, names: list[str], most: int, variant: str | None) -> str:
    shown = ", ".join(names)
    return (
        f"the {what} {shown}{f' (variant {variant})' if variant else ''} meet in the coherence checks, but are more "
        f"than {most} combinations: each was tried alone at its bounds, not every combination of them"
    )


def coherence_problems(protocol: Protocol) -> tuple[list[Problem], list[str]]:
    """Every contradiction (see `schedule.coherence`) on the coherence plans, each with no
    milestone recorded, with every clearance recorded on its earliest day, and with each
    milestone that has a window recorded on its first and last day (the clearances after it
    then recorded on their earliest days), and the notes of `coherence_plans`. A milestone is
    recorded on a plan that changes the defaults only where a comparison reads both it and a
    changed value (`proof.related`): elsewhere the plan with the defaults has tried it. Each
    problem is reported once, with the first combination that shows it."""
    found: dict[tuple[str, str], Problem] = {}
    meets: dict[Variable, set[Variable]] = {}
    for read in related(protocol):
        for variable in read:
            meets.setdefault(variable, set()).update(read)
    plans, notes = coherence_plans(protocol)
    for plan in plans:
        try:
            windows = check_coherence(protocol, plan)
        except RecoveryError as error:
            _keep(found, error.problems, protocol)
            continue
        changed = [("number", n) for n in plan.overrides] + [("choice", n) for n in plan.overrides]
        scenarios: list[dict[str, date]] = [{}]
        for name, window in windows.items():
            if changed and not any(("recorded", name) in meets.get(variable, ()) for variable in changed):
                continue
            scenarios += [{name: recorded} for recorded in dict.fromkeys(window or ())]
        for recorded in scenarios:
            try:
                _record_clearances(protocol, replace(plan, actuals=recorded))
            except RecoveryError as error:
                _keep(found, error.problems, protocol)
    return list(found.values()), notes


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
    #: What the coherence proof could not try in full (see `coherence_plans`): said, not hidden.
    notes: tuple[str, ...] = ()

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
    errors = trial_problems(protocol)
    notes: tuple[str, ...] = ()
    if not errors:
        errors, listed = coherence_problems(protocol)
        notes = tuple(listed)
    if errors:
        return Findings(errors=tuple(errors), notes=notes)
    warnings = tuple(untagged_numbers(protocol))
    return Findings(errors=warnings, notes=notes) if strict else Findings(warnings=warnings, notes=notes)
