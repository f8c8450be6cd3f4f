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

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from recovery.cache import Cache
from recovery.errors import Problem, RecoveryError
from recovery.protocol.loader import load
from recovery.protocol.model import Protocol
from recovery.protocol.review import untagged_numbers
from recovery.schedule.build import build
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
    return list(found.values())


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
    errors = trial_problems(protocol)
    if errors:
        return Findings(errors=tuple(errors))
    warnings = tuple(untagged_numbers(protocol))
    return Findings(errors=warnings) if strict else Findings(warnings=warnings)
