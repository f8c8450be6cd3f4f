"""Every plan a surgeon's bounds allow, for every bundled protocol, makes a calendar readers agree on.

Hypothesis draws a bundled protocol, a surgery date, a zone, a variant and a value within bounds
for every parameter. The schedule is built, written as .ics, and read back with icalendar and
expanded with recurring-ical-events: the occurrences in the file are exactly the schedule's.

Reminders are compared as local wall-clock times in the plan's zone: that is what the patient
set, and what every reader shows, even where a reader's own zone data (which it prefers to the
file's VTIMEZONE for a known zone name) is of another release than the one the file was written with.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import icalendar
import recurring_ical_events
from hypothesis import assume, given
from hypothesis import strategies as st

from recovery import Plan, Protocol, Schedule, build, load
from recovery.writers.ics import to_ics as write

from conftest import BUNDLED

PROTOCOLS = {path.stem: load(path) for path in sorted(BUNDLED.glob("*.toml"))}
ZONES = [
    "America/New_York", "America/Sao_Paulo", "America/Mexico_City", "Europe/London", "Europe/Dublin",
    "Africa/Casablanca", "Asia/Kolkata", "Asia/Tehran", "Australia/Sydney", "Pacific/Auckland", "Pacific/Chatham",
]  # fmt: skip


def parameter_values(protocol: Protocol) -> st.SearchStrategy[dict[str, str]]:
    """A value within bounds for every parameter, as `--set` would give it (a template's blanks too)."""
    drawn: dict[str, st.SearchStrategy[str]] = {}
    for name, parameter in protocol.parameters.items():
        if isinstance(parameter.default, bool):
            drawn[name] = st.sampled_from(["true", "false"])
        elif isinstance(parameter.sample, int) and parameter.min is not None and parameter.max is not None:
            drawn[name] = st.integers(parameter.min, parameter.max).map(str)
        elif isinstance(parameter.default, str) and parameter.choices:
            drawn[name] = st.sampled_from(list(parameter.choices))
        elif isinstance(parameter.default, str):
            drawn[name] = st.sampled_from(["", "as your surgeon prescribed"])
    return st.fixed_dictionaries(drawn)


@st.composite
def plans(draw: st.DrawFn) -> tuple[Protocol, Plan]:
    protocol = PROTOCOLS[draw(st.sampled_from(sorted(PROTOCOLS)))]
    plan = Plan(
        surgery_date=draw(st.dates(date(2000, 1, 1), date(2060, 12, 31))),
        timezone=draw(st.sampled_from(ZONES)),
        variant=draw(st.sampled_from([None, *protocol.variants])),
        overrides=draw(parameter_values(protocol)),
        side=draw(st.sampled_from([None, "left", "right"])),
    )
    values = protocol.values(plan.variant, {k: protocol.parameters[k].parse(v) for k, v in plan.overrides.items()})
    assume(not any(conflict.matches(values) for conflict in protocol.conflicts))  # refused on purpose (tested)
    return protocol, plan


def expected_timed(schedule: Schedule) -> list[datetime]:
    """Every session reminder the schedule has, as a local wall-clock time; and every routine's
    occurrence lies in exactly one session."""
    found = []
    for session in schedule.sessions:
        day = session.first
        while day <= session.last:
            if session.occurs_on(day):
                found.append(datetime.combine(day, session.time))
            day += timedelta(1)
    due = sorted((day, s.id, s.time) for s in schedule.routines for day in _days(s.first, s.last) if s.occurs_on(day))
    in_sessions = sorted(
        (day, r.id, r.time) for session in schedule.sessions for day in _days(session.first, session.last)
        if session.occurs_on(day) for r in session.routines
    )  # fmt: skip
    assert in_sessions == due
    return sorted(found)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def expected_all_day(schedule: Schedule) -> list[tuple[date, date]]:
    """Every all-day event as (first day, day after the last): the notice, phases, milestones, visits."""
    spans = [(schedule.first_day, schedule.first_day + timedelta(1))]
    spans += [(p.start, p.end) for p in schedule.phases]
    spans += [(m.date, m.date + timedelta(1)) for m in schedule.milestones]
    spans += [(a.first, a.last + timedelta(1)) for a in schedule.appointments]
    spans += [
        (a.book_by, a.book_by + timedelta(1))
        for a in schedule.appointments
        if a.book_by is not None
        and schedule.first_day <= a.book_by < a.first
        and a.book_by > schedule.plan.surgery_date
    ]  # the reminders to book each visit
    return sorted(spans)


@given(plans())
def test_every_allowed_plan_writes_a_calendar_with_exactly_its_occurrences(drawn: tuple[Protocol, Plan]) -> None:
    protocol, plan = drawn
    schedule = build(protocol, plan)
    calendar = icalendar.Calendar.from_ical(write(schedule))
    occurrences = recurring_ical_events.of(calendar).between(date(1999, 1, 1), date(2070, 1, 1))
    timed, all_day = [], []
    for event in occurrences:
        start, end = event["DTSTART"].dt, event["DTEND"].dt
        if isinstance(start, datetime):
            assert str(start.tzinfo) == plan.timezone
            timed.append(start.replace(tzinfo=None))
        else:
            all_day.append((start, end))
    assert sorted(timed) == expected_timed(schedule)
    assert sorted(all_day) == expected_all_day(schedule)


HAMSTRING = load("proximal-hamstring-repair")


@st.composite
def recorded_courses(draw: st.DrawFn) -> Plan:
    """A hamstring plan with its parameters anywhere within their bounds and the brace-off (and
    perhaps the walk-jog and sport clearances) recorded on any day the protocol allows."""
    surgery = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)))
    overrides = {
        name: str(draw(st.integers(parameter.min, parameter.max)))
        for name, parameter in HAMSTRING.parameters.items()
        if parameter.min is not None and parameter.max is not None and draw(st.booleans())
    }
    values = HAMSTRING.values(None, {name: int(text) for name, text in overrides.items()})
    assume(not any(conflict.matches(values) for conflict in HAMSTRING.conflicts))  # refused for every patient
    actuals = {"brace-off": surgery + timedelta(draw(st.integers(21, 84)))}  # recordable: 3 to 12 weeks
    plan = Plan(surgery, overrides=overrides, actuals=actuals)
    if draw(st.booleans()):  # cleared to run on or after its earliest day
        earliest = next(m.date for m in build(HAMSTRING, plan).milestones if m.id == "walk-jog")
        actuals["walk-jog"] = earliest + timedelta(draw(st.integers(0, 60)))
        plan = Plan(surgery, overrides=overrides, actuals=actuals)
    return plan


@given(recorded_courses())
def test_whatever_is_recorded_the_hamstring_course_stays_in_order(plan: Plan) -> None:
    """Protection, walking and strength follow each other without a gap or an overlap; crutches go
    before strength work starts; ankle weights and the clearances come after the brace; the running
    phase starts on its recorded day and not before walking is over."""
    schedule = build(HAMSTRING, plan)
    phases = {p.id: p for p in schedule.phases}
    days = {m.id: m.date for m in schedule.milestones}
    brace_off = plan.actuals["brace-off"]
    weeks = int(plan.overrides.get("protection_weeks", 6))
    # a brace off sooner than planned ends the brace alone (H7); later, it ends protection too
    assert phases["brace"].end == brace_off
    assert (
        phases["protection"].end
        == phases["walking"].start
        == max(brace_off, plan.surgery_date + timedelta(weeks=weeks))
    )
    assert phases["walking"].end == phases["strengthening"].start
    assert phases["walking"].end - phases["walking"].start >= timedelta(weeks=6)
    if "crutches-away" in days:
        assert days["crutches-away"] < phases["strengthening"].start
    assert brace_off <= days["ankle-weights"]
    for clearance in ("cleared-for-slow-lowering", "walk-jog"):
        assert days[clearance] >= phases["walking"].end
    if "walk-jog" in plan.actuals:
        assert phases["running"].start == plan.actuals["walk-jog"] >= phases["walking"].end
