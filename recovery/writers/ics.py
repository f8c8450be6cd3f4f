"""The .ics writer: a Schedule as one iCalendar file that phone and desktop calendars read alike.

It follows docs/calendar-output.md (and the client rules behind it): IANA TZIDs with a
rule-form VTIMEZONE, all-day spans with exclusive DTEND, one COUNT-limited series per routine
and time of day, transparent events, one DISPLAY alarm per timed event, deterministic UIDs
that do not depend on the surgery date, and byte-identical output for a fixed generation time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event
from icalendar.prop import vDuration

from recovery.errors import PlanError
from recovery.schedule.items import SURGEON_FIRST, Schedule, Series, Span
from recovery.words import WEEKDAY_NAMES, listing, long_date
from recovery.writers.vtimezone import BYDAY_CODES, vtimezone

PACKAGE = "recovery"
SEQUENCE_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def generation_time() -> datetime:
    """Now, or $SOURCE_DATE_EPOCH when set, so that a build can be reproduced byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except (ValueError, OverflowError, OSError):
        raise PlanError(f'SOURCE_DATE_EPOCH="{epoch}" is not a number of seconds since 1970') from None


def plan_key(schedule: Schedule) -> str:
    """What tells one patient's plans apart in UIDs: never the surgery date, never a name."""
    plan = schedule.plan
    return f"{schedule.protocol_id}|{plan.calendar_name or ''}|{plan.side or ''}"


def uid(schedule: Schedule, item_id: str, slot: str = "") -> str:
    """A stable UID: the same plan regenerated, even with a corrected date, updates the same events."""
    digest = hashlib.sha256(f"{plan_key(schedule)}|{item_id}|{slot}".encode()).hexdigest()[:32]
    return f"{digest}@plan.invalid"


def calendar_name(schedule: Schedule) -> str:
    """The calendar's name: the plan's, or one that says what it is (nothing medical when discreet)."""
    plan = schedule.plan
    if plan.calendar_name:
        return plan.calendar_name
    return "Plan" if plan.discreet else f"Recovery: {schedule.protocol_title}"


def write(schedule: Schedule, stamp: datetime | None = None) -> bytes:
    """The whole calendar as bytes (CRLF lines, folded at 75 octets, UTF-8)."""
    stamp = stamp or generation_time()
    sequence = max(0, int((stamp - SEQUENCE_EPOCH).total_seconds() // 60))  # never goes backwards
    calendar = Calendar.new(
        prodid=f"-//{PACKAGE}//{PACKAGE} protocol calendar//EN",
        calscale="GREGORIAN",
        method="PUBLISH",
        name=calendar_name(schedule),
        uid=uid(schedule, "calendar"),
        description=f"{schedule.protocol_title}, version {schedule.protocol_version}. {SURGEON_FIRST}",
    )
    zone = schedule.plan.timezone
    if schedule.routines:
        calendar.add_component(vtimezone(zone, schedule.first_day, schedule.last_day))
    writer = _Writer(schedule, stamp, sequence)
    for event in writer.events():
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


class _Trigger(vDuration):
    """A zero trigger written as PT0S ("at the time of the event"), as Apple Calendar writes it."""

    def to_ical(self) -> bytes:
        if self.td == timedelta(0):
            return b"PT0S"
        data: bytes = super().to_ical()  # type: ignore[no-untyped-call]
        return data


class _Writer:
    def __init__(self, schedule: Schedule, stamp: datetime, sequence: int):
        self.schedule = schedule
        self.plan = schedule.plan
        self.stamp = stamp
        self.sequence = sequence
        self.tz = ZoneInfo(schedule.plan.timezone)

    def events(self) -> Iterator[Event]:
        yield self.welcome()
        for number, phase in enumerate(self.schedule.phases, 1):
            yield self.phase(number, phase)
        for milestone in self.schedule.milestones:
            title = "Check-in" if self.plan.discreet else milestone.title
            lines = [milestone.description] if milestone.description else []
            if milestone.check:
                lines += ["Before this step, check:", *[f"- {c}" for c in milestone.check]]
            if milestone.actual:
                lines.append("This is the day it actually happened.")
            yield self.all_day(milestone.id, title, milestone.date, milestone.date + timedelta(1), lines)
        for visit in self.schedule.appointments:
            if self.plan.discreet:
                title = "Appointment"
            elif visit.first == visit.last:
                title = visit.title
            else:
                title = f"{visit.title} · visit window"
            when = (
                f"on {long_date(visit.first)}"
                if visit.first == visit.last
                else f"between {long_date(visit.first)} and {long_date(visit.last)}"
            )
            lines = [visit.description] if visit.description else []
            lines.append(f"This visit should take place {when}. If it is not booked yet, call your clinic.")
            yield self.all_day(visit.id, title, visit.first, visit.last + timedelta(1), lines)
        for series in self.schedule.routines:
            yield self.routine(series)

    def base(self, item_id: str, slot: str = "") -> Event:
        event = Event.new(uid=uid(self.schedule, item_id, slot), stamp=self.stamp, sequence=self.sequence)
        event.add("class", "PRIVATE")
        event.add("transp", "TRANSPARENT")
        event.add("x-microsoft-cdo-busystatus", "FREE")
        return event

    def all_day(self, item_id: str, title: str, start: date, end: date, lines: list[str]) -> Event:
        event = self.base(item_id)
        event.add("summary", title)
        event.add("dtstart", start)
        event.add("dtend", end)  # exclusive: the first day after the event
        event.add("description", "\n".join([*lines, "", SURGEON_FIRST]).strip())
        return event

    def welcome(self) -> Event:
        schedule = self.schedule
        lines = [
            f"This calendar lays out {schedule.protocol_title} (protocol version {schedule.protocol_version}) "
            f"from your surgery on {long_date(self.plan.surgery_date)}.",
            "",
            "- All-day events show each phase, milestone and visit window. Timed events are your exercise and ice reminders.",
            "- Milestones are the days a step is expected. Rehabilitation moves on when you meet the criteria, "
            "not by date alone: when a step happens on another day, ask for a new calendar and import it in place of this one.",
            "- Keep this calendar separate from your own, so that it can be replaced or removed at once.",
        ]
        if schedule.red_flags:
            lines += ["", "RED FLAGS: when to get help"]
            lines += [f"- {sign}: {action}" for sign, action in schedule.red_flags]
        title = (
            "Read first" if self.plan.discreet else "Read first: how to use this calendar, and when to call for help"
        )
        return self.all_day("welcome", title, schedule.first_day, schedule.first_day + timedelta(1), lines)

    def phase(self, number: int, phase: Span) -> Event:
        title = f"Stage {number}" if self.plan.discreet else phase.title
        lines = [phase.description] if phase.description else []
        if phase.weight_bearing:
            lines.append(f"Weight bearing: {phase.weight_bearing}")
        if phase.brace:
            lines.append(f"Brace: {phase.brace}")
        if phase.precautions:
            lines += ["Precautions:", *[f"- {p}" for p in phase.precautions]]
        if phase.goals:
            lines += ["Goals:", *[f"- {g}" for g in phase.goals]]
        days = (
            f"Days {self.schedule.day_number(phase.start)} to {self.schedule.day_number(phase.end) - 1} after surgery."
        )
        return self.all_day(phase.id, title, phase.start, phase.end, [*lines, days])

    def routine(self, series: Series) -> Event:
        title = routine_title(series)
        shown = f"Reminder · {series.slot}" if self.plan.discreet else title
        event = self.base(series.id, series.slot.replace(":", ""))
        start = datetime.combine(series.first, series.time, self.tz)
        event.add("summary", shown)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=series.minutes))
        rule: dict[str, Any] = (
            {"freq": "weekly", "byday": [BYDAY_CODES[d] for d in series.weekdays]}
            if series.weekdays
            else {"freq": "daily"}
        )
        rule["count"] = series.count  # COUNT, not UNTIL: no UTC conversion for readers to get wrong
        event.add("rrule", rule)
        lines = [series.description] if series.description else []
        if series.dose:
            lines.append(f"Dose: {series.dose}")
        lines.append(f"About {series.minutes} minutes, {_days(series)} until {long_date(series.last)}.")
        phase = self.schedule.phase(series.phase)
        if phase is not None and phase.precautions:
            lines += ["", f"During {phase.title}:", *[f"- {p}" for p in phase.precautions]]
        lines += ["", SURGEON_FIRST]
        event.add("description", "\n".join(lines))
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", "Reminder" if self.plan.discreet else title)
        alarm["TRIGGER"] = _Trigger(-timedelta(minutes=self.plan.alarm_minutes))
        event.add_component(alarm)
        return event


def routine_title(series: Series) -> str:
    """What to do, in the title itself, since some calendars drop the alarm: "Quad sets · 3×10, hold 5 s"."""
    return f"{series.title} · {series.dose}" if series.dose else f"{series.title} · {series.minutes} min"


def _days(series: Series) -> str:
    if not series.weekdays:
        return "every day"
    return "every " + listing(WEEKDAY_NAMES[d] for d in series.weekdays)
