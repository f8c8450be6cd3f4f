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

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, timedelta
from functools import partial
from itertools import product
from typing import Any

from recovery.errors import Problem, RecoveryError
from recovery.protocol.model import Protocol
from recovery.schedule.build import build, check_coherence
from recovery.schedule.dates import recorded_first
from recovery.schedule.items import Schedule
from recovery.schedule.plan import Plan
from recovery.schedule.proof import Variable, counted_from, related
from recovery.schedule.proof import moves as _moves

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


#: Up to this many plans hold the parameters' bounds (those that move no item in common share
#: one); beyond it, all of them together at their minimums and at their maximums (so validating
#: stays linear when thousands of parameters move the same items).
MAX_SINGLE_BOUNDS = 100


def trial_plans(protocol: Protocol) -> list[tuple[Plan, list[dict[str, str]]]]:
    """The plans a protocol is tried on, each with the parameter bounds it holds: every trial
    date with the defaults and with each variant, and the first trial date with each
    whole-number parameter that moves a date at its minimum and at its maximum (a surgeon's
    bounds promise that every value between them lays out). A parameter that only fills a text
    cannot change a layout, so it is not tried. Bounds of parameters that move no item in common
    (and not both a phase: phases are checked against each other) share a plan: each item is
    then laid out as with its own parameter's bound alone."""
    plans: list[tuple[Plan, list[dict[str, str]]]] = [
        (Plan(surgery_date, timezone=zone, variant=variant, overrides=blanks_filled(protocol)), [])
        for variant in (None, *protocol.variants)
        for surgery_date, zone, _ in TRIAL_PLANS
    ]
    surgery_date, zone, _ = TRIAL_PLANS[0]
    moved: dict[str, set[str]] = {}
    for section, item in protocol.items():
        for end in ("start", "end"):
            for kind, name in _moves(protocol, (item.id, end)):
                if kind == "number":
                    moved.setdefault(name, set()).update({item.id, *(["(phases)"] if section == "phases" else [])})
    packed: list[tuple[dict[str, str], set[str]]] = []
    parts: list[list[dict[str, str]]] = []
    for name, parameter in protocol.parameters.items():
        if name not in moved or not isinstance(parameter.sample, int) or isinstance(parameter.sample, bool):
            continue
        for bound in (parameter.min, parameter.max):
            if bound is None or _refused(protocol, {name: bound}):
                continue  # a bound that only other choices allow is tried with them (`coherence_plans`)
            for index, (overrides, items) in enumerate(packed):
                if (
                    name not in overrides
                    and not items & moved[name]
                    and not _refused(protocol, {**{n: int(v) for n, v in overrides.items()}, name: bound})
                ):
                    overrides[name] = str(bound)
                    items |= moved[name]
                    parts[index].append({name: str(bound)})
                    break
            else:
                packed.append(({name: str(bound)}, set(moved[name])))
                parts.append([{name: str(bound)}])
    if len(packed) > MAX_SINGLE_BOUNDS:  # so many that move the same items: all at once, both ways
        every = [(name, p) for name, p in protocol.parameters.items() if name in moved and type(p.sample) is int]
        packed = [
            ({n: str(getattr(p, side)) for n, p in every if getattr(p, side) is not None}, set())
            for side in ("min", "max")
        ]
        parts = [[], []]
    plans += [
        (Plan(surgery_date, timezone=zone, overrides={**blanks_filled(protocol), **overrides}), held)
        for (overrides, _), held in zip(packed, parts, strict=True)
    ]
    return plans


def blanks_filled(protocol: Protocol) -> dict[str, str]:
    """The blanks a clinician fills in for each patient (parameters without a default), at their
    minimum: a trial plan must set them as a patient's plan must (their bounds are tried too)."""
    return {name: str(p.min) for name, p in protocol.parameters.items() if p.blank and p.min is not None}


def _refused(protocol: Protocol, overrides: dict[str, Any]) -> bool:
    """Whether these values (the rest as defaults) are one of the protocol's declared conflicts."""
    values = protocol.values(None, overrides)
    return any(conflict.matches(values) for conflict in protocol.conflicts)


#: A week or more with nothing to do between a plan's first and last reminder is a gap that
#: `validate` reports (a rest day between strength days is not).
GAP_DAYS = 7


def trial_problems(protocol: Protocol, gaps: dict[str, Problem] | None = None) -> list[Problem]:
    """Every problem the protocol's schedules have on the trial plans, each reported once, with
    the first plan that shows it (for a plan that holds several bounds, the bound alone). With
    `gaps`, the weeks without any reminder (`exercise_gap`) are kept there, one per item."""
    found: dict[tuple[str, str, str], Problem] = {}
    for plan, parts in trial_plans(protocol):
        _by_parts(partial(_lay_out, protocol, gaps=gaps), plan, "overrides", parts, found)
    # One cause, one message, across plans too: what follows from an item that is itself broken
    # on some plan is left out.
    broken = {problem.item for problem in found.values() if problem.item}
    return [problem for problem in found.values() if not broken.intersection(problem.refers)]


def exercise_gap(schedule: Schedule) -> tuple[date, date] | None:
    """The first run of GAP_DAYS or more days without any exercise or care reminder between the
    schedule's first and last one (a medicine is not exercise), as (first day, last day)."""
    series = [s for s in schedule.routines if not s.medication]
    if not series:
        return None
    first, last = min(s.first for s in series), max(s.last for s in series)
    day, run_start = first, None
    while day <= last:
        if any(s.occurs_on(day) for s in series):
            if run_start is not None and (day - run_start).days >= GAP_DAYS:
                return run_start, day - timedelta(1)
            run_start = None
        elif run_start is None:
            run_start = day
        day += timedelta(1)
    return None


def _day_zero_named(protocol: Protocol) -> str:
    """Day 0 as a surgeon's message names it: "a surgery", "a first visit", "an injury"."""
    return {"surgery": "a surgery", "first-visit": "a first visit", "injury": "an injury"}[protocol.day_zero]


def _gap_warning(protocol: Protocol, schedule: Schedule, gap: tuple[date, date], plan: Plan) -> Problem:
    start, end = (schedule.day_number(day) for day in gap)
    after = max((s for s in schedule.routines if s.last < gap[0]), key=lambda s: s.last, default=None)
    where = f"routines[id={after.id}].end" if after is not None else "routines"
    recorded = ", ".join(f"{name} recorded on day {schedule.day_number(day)}" for name, day in plan.actuals.items())
    return Problem(
        f"days {start} to {end} have no exercise: the patient has nothing to do for {end - start + 1} days; "
        "start the next routine where this one ends, or keep this one going",
        protocol.source,
        where,
        plan=", ".join(filter(None, [f"for {_day_zero_named(protocol)} on {plan.surgery_date}", recorded])),
    )


def _lay_out(
    protocol: Protocol, plan: Plan, found: dict[tuple[str, str, str], Problem], gaps: dict[str, Problem] | None = None
) -> bool:
    """Lay a trial plan out (and again with its clearances on their earliest days, stage after
    stage), keeping the problems it shows, one per place, and the gaps without exercise."""
    try:
        # Without public holidays: they only move visits within their windows (and the proof
        # must give the same answer on any machine, whatever the holidays package knows).
        schedule = build(protocol, plan, days_off={})
        layouts = [(schedule, plan)]
        cleared: dict[str, date] = {}
        for _ in protocol.milestones:  # what waits behind each clearance, cleared on its earliest day
            more = {day.id: day.date for day in schedule.milestones if day.waiting and day.id not in cleared}
            if not more:
                break
            cleared.update(more)
            recorded = replace(plan, actuals=dict(cleared))
            schedule = build(protocol, recorded, days_off={})
            layouts.append((schedule, recorded))
        if gaps is not None:
            for laid_out, made_from in layouts:
                if (gap := exercise_gap(laid_out)) is not None:
                    warning = _gap_warning(protocol, laid_out, gap, made_from)
                    gaps.setdefault(warning.where, warning)
    except RecoveryError as error:
        for problem in error.problems:
            key = (problem.file, problem.where, "")  # one place, one message: the first plan that shows it
            if key not in found:
                shown_with = [problem.plan] if problem.plan else []
                shown_with.append(f"for {_day_zero_named(protocol)} on {plan.surgery_date} in {plan.timezone}")
                found[key] = replace(problem, file=problem.file or protocol.source, plan=", ".join(shown_with))
        return True
    return False


#: Up to this many parameters are tried at every combination of their bounds; beyond it, each at
#: its bounds alone and all together at their minimums and maximums.
MAX_CORNERS = 8
#: At most this many combinations of choices are tried (each choice parameter is also tried alone).
MAX_CHOICE_SETS = 64


def coherence_plans(protocol: Protocol) -> tuple[list[tuple[Plan, list[dict[str, str]]]], list[str]]:
    """The plans the coherence check tries, on the first trial date, each with the combinations
    it holds, and a note for each part it cannot try in full. Per variant: for each comparison
    (`proof.related`), every combination of the bounds of the free parameters it reads (more
    than MAX_CORNERS: each alone, noted), with all at their minimums and all at their maximums;
    and every combination of the choices it reads that decide levels or switch items (more than
    MAX_CHOICE_SETS: each alone, noted), each with the defaults and the two extremes. What one
    comparison needs does not depend on the values it does not read, so the combinations of
    different comparisons are packed into as few plans as agree (`_packed`): the number of plans
    follows the largest combination, not the number of parameters. Combinations the protocol
    declares as `conflicts` are refused for patients, so they are not tried."""
    surgery_date, zone, _ = TRIAL_PLANS[0]
    together = related(protocol)
    read: set[Variable] = set().union(*together)
    deciding = {level[1:-1] for *_, level in protocol.declared_levels if level.startswith("{")}
    deciding |= {item.switch for _, item in protocol.items() if item.switch}
    plans, seen = [], set()
    notes: list[str] = []
    for variant in (None, *protocol.variants):
        fixed = set(protocol.variants[variant].set) if variant else set()
        numbers = {
            name: [b for b in (p.min, p.max) if b is not None]
            for name, p in protocol.parameters.items()
            if ("number", name) in read
            and name not in fixed
            and type(p.sample) is int
            and (p.min is not None or p.max is not None)
        }
        choices = {
            name: [True, False] if type(p.sample) is bool else list(p.choices or ())
            for name, p in protocol.parameters.items()
            if name in deciding and name not in fixed and (type(p.sample) is bool or p.choices)
        }
        corners = _packed(protocol, variant, numbers, together, 2**MAX_CORNERS, "parameters", notes)
        corners += [
            ({name: bounds[0] for name, bounds in numbers.items()}, []),
            ({name: bounds[-1] for name, bounds in numbers.items()}, []),
        ]
        choice_sets = _packed(protocol, variant, choices, together, MAX_CHOICE_SETS, "choices", notes)
        for chosen, chosen_parts in [({}, []), *choice_sets]:
            for numbers_at, number_parts in [({}, []), *corners] if not chosen else [({}, []), *corners[-2:]]:
                key = (variant, tuple(sorted(_texts({**chosen, **numbers_at}).items())))
                values = protocol.values(variant, {**chosen, **numbers_at})
                if key in seen or any(conflict.matches(values) for conflict in protocol.conflicts):
                    continue
                seen.add(key)
                parts = [_texts(part) for part in (*chosen_parts, *number_parts)]
                plans.append(
                    (
                        Plan(
                            surgery_date,
                            timezone=zone,
                            variant=variant,
                            overrides={**blanks_filled(protocol), **_texts({**chosen, **numbers_at})},
                        ),
                        parts,
                    )
                )
    return plans, list(dict.fromkeys(notes))


def _texts(values: dict[str, Any]) -> dict[str, str]:
    """Parameter values as a plan's overrides take them."""
    return {name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in values.items()}


def _packed(
    protocol: Protocol,
    variant: str | None,
    values: dict[str, list[Any]],
    together: list[frozenset[Variable]],
    most: int,
    what: str,
    notes: list[str],
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Every combination of the values one comparison reads together (`proof.related`; more than
    `most` combinations: each value alone, noted), packed first fit into as few combinations as
    agree with each other and are no declared conflict, each with the combinations it holds."""
    kind = "number" if what == "parameters" else "choice"
    wanted: list[dict[str, Any]] = []
    for read in together:
        names = [name for name in values if (kind, name) in read]
        combined = [dict(zip(names, c, strict=True)) for c in product(*(values[n] for n in names))] if names else []
        if len(combined) > most:
            combined = [{name: value} for name in names for value in values[name]]
            notes.append(_not_combined(what, names, most, variant))
        wanted += combined
    packed: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for combination in dict.fromkeys(tuple(c.items()) for c in wanted):
        part = dict(combination)
        for joined, parts in packed:
            if all(joined.get(name, value) == value for name, value in part.items()) and not any(
                conflict.matches(protocol.values(variant, {**joined, **part})) for conflict in protocol.conflicts
            ):
                joined.update(part)
                parts.append(part)
                break
        else:
            packed.append((dict(part), [part]))
    return packed


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
    then recorded on their earliest days), and the notes of `coherence_plans`.

    Two shortcuts keep this linear, both from `proof.related` (which values each comparison
    reads): a milestone is recorded on a plan that changes the defaults only where a comparison
    reads both it and a changed value (elsewhere the plan with the defaults has tried it), and
    milestones that no comparison reads together are recorded in the same layout (each
    comparison then sees exactly what it would see with its own milestone recorded alone).
    A layout that shows a problem is tried again one milestone at a time, so that a message
    names only the milestone that shows it. Each problem is reported once, with the first
    combination that shows it."""
    found: dict[tuple[str, str], Problem] = {}
    meets: dict[Variable, set[Variable]] = {}
    for read in related(protocol) + counted_from(protocol):
        for variable in read:
            meets.setdefault(variable, set()).update(read)
    plans, notes = coherence_plans(protocol)
    for plan, parts in plans:
        _by_parts(partial(_prove_plan, protocol, meets), plan, "overrides", parts, found)
    return list(found.values()), notes


def _prove_plan(
    protocol: Protocol, meets: dict[Variable, set[Variable]], plan: Plan, found: dict[tuple[str, str], Problem]
) -> bool:
    """One coherence plan, with its milestones recorded as `coherence_problems` says; whether it
    showed a problem."""
    try:
        windows = check_coherence(protocol, plan)
    except RecoveryError as error:
        _keep(found, error.problems, protocol)
        return True
    changed = [("number", n) for n in plan.overrides] + [("choice", n) for n in plan.overrides]
    recordable = [
        name
        for name, window in windows.items()
        if window is not None
        and (not changed or any(("recorded", name) in meets.get(variable, ()) for variable in changed))
    ]
    scenarios: list[dict[str, date]] = [{}]
    for batch in _apart(recordable, meets):
        for end in (0, 1):
            scenarios.append({name: window[end] for name in batch if (window := windows[name]) is not None})
    shows = partial(_shows_problems, protocol)
    showed = False
    for recorded in dict.fromkeys(tuple(sorted(_with_first(protocol, s, windows).items())) for s in scenarios):
        singles = [_with_first(protocol, dict([single]), windows) for single in recorded]
        showed |= _by_parts(shows, replace(plan, actuals=dict(recorded)), "actuals", singles, found)
    return showed


def _with_first(
    protocol: Protocol, recorded: dict[str, date], windows: dict[str, tuple[date, date] | None]
) -> dict[str, date]:
    """Recorded milestones with the clearances each must follow (`recorded_first`), those on
    their earliest days unless recorded already."""
    found = dict(recorded)
    waiting = list(recorded)
    while waiting:  # and the clearances those must follow (stage 4 after stage 3 after stage 2)
        for first in recorded_first(protocol, waiting.pop()):
            if first not in found and (window := windows.get(first)) is not None:
                found[first] = window[0]
                waiting.append(first)
    return found


def _by_parts(
    check: Callable[[Plan, dict[Any, Problem]], bool],
    whole: Plan,
    field: str,
    parts: list[dict[str, Any]],
    found: dict[Any, Problem],
) -> bool:
    """Check a plan whose `field` holds several combinations (`parts`) at once, keeping what it
    shows in `found`; when it shows a problem, check the plan with each part alone first, so that
    a message names only the combination that shows it (the plans of the parts are made only
    then: each costs a conversion of all its values). Whether the whole plan showed a problem."""
    shown: dict[Any, Problem] = {}
    showed = check(whole, shown)
    if showed and len(parts) > 1:
        for held in parts:
            changed: dict[str, Any] = {field: held}
            check(replace(whole, **changed), found)
    for key, problem in shown.items():
        found.setdefault(key, problem)
    return showed


def _shows_problems(protocol: Protocol, plan: Plan, found: dict[tuple[str, str], Problem]) -> bool:
    """Check a plan (its clearances then recorded, see `_record_clearances`), keeping what it shows."""
    try:
        _record_clearances(protocol, plan)
    except RecoveryError as error:
        _keep(found, error.problems, protocol)
        return True
    return False


def _apart(names: list[str], meets: dict[Variable, set[Variable]]) -> list[list[str]]:
    """The milestones in groups of which no two meet in a comparison or count one from the
    other (first fit, in the order given): each group can be recorded in one layout."""
    groups: list[list[str]] = []
    for name in names:
        near = meets.get(("recorded", name), set())
        for group in groups:
            if not any(("recorded", other) in near for other in group):
                group.append(name)
                break
        else:
            groups.append([name])
    return groups


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
