"""The scheduler: a protocol and one patient's plan become a Schedule of plain dated items.

Three jobs, three modules, called in this order: `dates` works out the days of every item,
`layout` lays each kind of item out on them, `checks` reports what cannot be right. A problem
that the plan's recorded dates cause is what happened, and leaves out what has no room
(`build`'s `facts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from recovery.cache import Cache
from recovery.errors import ProtocolError
from recovery.language import SOURCE
from recovery.protocol.model import Protocol
from recovery.protocol.translations import translated
from recovery.schedule.checks import check_alarms, check_clock_times, check_contradictions, one_cause, overlaps
from recovery.schedule.dates import (
    Filler,
    as_planned,
    check_actuals,
    day_finder,
    parameter_values,
    resolve,
    resolve_days,
)
from recovery.schedule.days_off import country_of
from recovery.schedule.days_off import days_off as days_off_in
from recovery.schedule.items import Schedule
from recovery.schedule.layout import appointments_of, milestones_of, phases_of, routines_of, starting_from
from recovery.schedule.plan import Plan


def build(
    protocol: Protocol,
    plan: Plan,
    *,
    facts: bool = True,
    days_off: Mapping[date, str] | None = None,
    cache: Cache | None = None,
) -> Schedule:
    """Lay a protocol out on a patient's calendar, or raise every problem found.

    Two steps: the days of every item (`resolve_days`), then one layout step per kind of item.
    The plan's actual dates are facts: a problem that they cause (a late brace-off that leaves a
    later phase no days) leaves out what has no room, where the same plan with those milestones
    on their planned days would lay out (`facts=False` turns that off). Visits avoid the public
    holidays of the plan's country (`days_off`: given, or worked out by `days_off.days_off`).
    A plan in another language reads the protocol's translation (`cache`: where its parsed
    entries are kept between runs).
    """
    if plan.language != SOURCE:
        protocol = translated(protocol, plan.language, cache)
    values = parameter_values(protocol, plan)
    dates = resolve(protocol, values, plan)
    check_actuals(protocol, plan, values, dates)
    days = resolve_days(protocol, values, plan, dates)
    fill = Filler(protocol.shown(values), plan)
    contact = fill(plan.contact or protocol.contact)
    phases, problems = phases_of(protocol, days, fill, plan)
    in_order = tuple(sorted(phases, key=lambda p: (p.start, p.end)))
    milestones, more = milestones_of(protocol, days, fill, plan)
    problems += more
    if days_off is None:
        days_off = holidays_of(plan) if protocol.appointments else {}
    appointments, more = appointments_of(protocol, days, fill, plan, days_off)
    problems += more
    routines, more = routines_of(protocol, days, fill, plan, in_order)
    problems += more
    problems = one_cause(problems + overlaps(protocol, phases, plan))
    if problems and plan.actuals and facts and _lays_out(protocol, as_planned(protocol, values, plan)):
        # The patient's dates are facts: a late brace-off that leaves a later phase no days, or
        # makes two phases overlap, is what happened. What it leaves no room for is left out.
        problems = []
    if problems:
        raise ProtocolError(problems)
    check_contradictions(protocol, values, plan, dates, days)
    check_clock_times(routines, plan)
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
            (
                fill(f.sign),
                fill(f.action)
                + (
                    " " + fill.words("Contact: {contact}.").format(contact=contact)
                    if contact and not f.emergency
                    else ""
                ),
            )
            for f in protocol.red_flags
        ),
        references=tuple(protocol.references),
        emergencies=tuple(fill(f.sign) for f in protocol.red_flags if f.emergency),
        values=values,
        normal=tuple(fill(expected.text) for expected in protocol.normal),
        words=tuple((fill(word.term), fill(word.meaning)) for word in protocol.words),
        contact=contact,
        day_zero=protocol.day_zero,
    )
    check_alarms(schedule.sessions, plan)
    return starting_from(schedule, plan.start_from) if plan.start_from else schedule


def holidays_of(plan: Plan, cache: Cache | None = None) -> dict[date, str]:
    """The public holidays a plan's visits avoid: those of its country (see `days_off`)."""
    return days_off_in(country_of(plan.country, plan.timezone), plan.surgery_date.year, cache)


def check_coherence(protocol: Protocol, plan: Plan) -> dict[str, tuple[date, date] | None]:
    """Only the first steps of `build`: the days of a plan's items, refused as `build` would
    refuse them when they contradict each other (see `coherence`). Returns, for each scheduled
    milestone, the first and last day its real date may be recorded without --confirm (a
    clearance: from its earliest day to ask; without `recordable`, that day alone), or None
    when the protocol gives no window."""
    values = parameter_values(protocol, plan)
    dates = resolve(protocol, values, plan)
    check_actuals(protocol, plan, values, dates)
    days = resolve_days(protocol, values, plan, dates)
    check_contradictions(protocol, values, plan, dates, days)
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
            if milestone.clearance is not None:  # from the earliest day to ask, which may come after `last`
                first, last = max(first, planned), max(last, planned)
            windows[milestone.id] = first, last
    return windows


def _lays_out(protocol: Protocol, plan: Plan) -> bool:
    """Whether the protocol lays out for this plan without a problem."""
    try:
        build(protocol, plan, facts=False)
    except ProtocolError:
        return False
    return True
