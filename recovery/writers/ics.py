"""The .ics writer: a Schedule as one iCalendar file that phone and desktop calendars read alike.

It follows docs/calendar-output.md (and the client rules behind it): IANA TZIDs with a
rule-form VTIMEZONE, all-day spans with exclusive DTEND, COUNT-limited series of at most 999
occurrences, transparent events, one DISPLAY alarm per timed event, and byte-identical output
for a fixed generation time.

UIDs come from the protocol family, the plan id, the item and its time of day, and from nothing
a patient or clinic may correct later, so a corrected plan updates the same events. Written
with a previous file (`--update`), the new file replaces it under any calendar that imports by
UID: unchanged events keep their SEQUENCE, changed ones get SEQUENCE + 1, and every event that
left the plan comes back as STATUS:CANCELLED, without its alarm.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar import Alarm, Calendar, Event
from icalendar.prop import vDuration, vText

from recovery.errors import PlanError
from recovery.schedule.items import CARE_TEAM_FIRST, SURGEON_FIRST, Schedule, Series, Span
from recovery.schedule.zones import TZDATA_VERSION, zone
from recovery.words import WEEKDAY_NAMES, listing, long_date
from recovery.writers.vtimezone import BYDAY_CODES, vtimezone

PACKAGE = "recovery"
PRODID = f"-//{PACKAGE}//{PACKAGE} protocol calendar//EN"
#: Outlook (and Exchange) refuse a series of more than 999 occurrences; longer ones are split.
MAX_COUNT = 999
#: Properties of our own, on the calendar and on each event.
PLAN_PROPERTY = "X-RECOVERY-PLAN"  # which plan (family and plan id, hashed): --update refuses another's file
REVISION_PROPERTY = "X-RECOVERY-REVISION"  # 1 for a new plan, one more with each --update
TZDATA_PROPERTY = "X-RECOVERY-TZDATA"  # the IANA release of the zone data the file was written with
CONTENT_PROPERTY = "X-RECOVERY-CONTENT"  # hash of an event's content: what --update compares
_NOT_CONTENT = frozenset({"DTSTAMP", "SEQUENCE", CONTENT_PROPERTY})
_FOLD_AT = 74  # icalendar folds a line before it reaches 75 octets


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
    """What tells one patient's plans apart: the protocol family and the plan id. Never the surgery
    date, the side, a name, times, zone, variant, parameters or actual dates."""
    return f"{schedule.protocol_family}|{schedule.plan.plan_id}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def uid(schedule: Schedule, item_id: str, slot: str = "", part: int = 1) -> str:
    """A stable UID: the same plan regenerated, however corrected, updates the same events."""
    suffix = f"|{part}" if part > 1 else ""
    return f"{_digest(f'{plan_key(schedule)}|{item_id}|{slot}{suffix}')}@plan.invalid"


def calendar_name(schedule: Schedule, revision: int = 1) -> str:
    """The calendar's name with the plan revision, so a patient can tell which version the phone holds."""
    plan = schedule.plan
    name = plan.calendar_name or ("Plan" if plan.discreet else f"Recovery: {schedule.protocol_title}")
    return f"{name} (revision {revision})"


@dataclass(frozen=True)
class PreviousEvent:
    """An event of the calendar written before, as --update needs it."""

    sequence: int
    content: str
    cancelled: bool
    event: Event


@dataclass(frozen=True)
class Previous:
    """The calendar a patient imported before: what `--update` replaces."""

    plan: str
    revision: int
    events: dict[str, PreviousEvent] = field(default_factory=dict)


def read_previous(data: bytes, name: str) -> Previous:
    """A calendar this program wrote, read for --update; a PlanError for anything else."""
    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as error:
        raise PlanError(f"--update {name}: cannot be read as a calendar ({error})") from None
    plan = str(calendar.get(PLAN_PROPERTY, ""))
    if not str(calendar.get("PRODID", "")).startswith(f"-//{PACKAGE}//") or not plan:
        raise PlanError(f"--update {name}: this calendar was not written by {PACKAGE}; give the file it wrote last")
    try:
        revision = int(str(calendar.get(REVISION_PROPERTY, "1")))
        events = {
            str(event["UID"]): PreviousEvent(
                int(event.get("SEQUENCE", 0)),
                str(event.get(CONTENT_PROPERTY, "")),
                str(event.get("STATUS", "")).upper() == "CANCELLED",
                event,
            )
            for event in calendar.walk("VEVENT")
            if isinstance(event, Event)
        }
    except (ValueError, KeyError) as error:
        raise PlanError(f"--update {name}: an event cannot be read ({error})") from None
    return Previous(plan, revision, events)


def write(schedule: Schedule, stamp: datetime | None = None, previous: Previous | None = None) -> bytes:
    """The whole calendar as bytes (CRLF lines, folded at 75 octets, UTF-8).

    With `previous` (the file the patient imported before), the calendar replaces it: see the
    module's docstring. Without it, every SEQUENCE is 0 and the revision is 1.
    """
    stamp = stamp or generation_time()
    key = _digest(plan_key(schedule))
    if previous is not None and previous.plan != key:
        raise PlanError(
            "--update: that calendar belongs to another plan (another protocol or --plan-id); "
            "import this one into a new calendar instead, or give the file this plan was last written to"
        )
    revision = previous.revision + 1 if previous is not None else 1
    plan = schedule.plan
    about = "Your plan" if plan.discreet else f"{schedule.protocol_title}, version {schedule.protocol_version}"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = calendar_name(schedule, revision)
    description = f"{about}, revision {revision}. {CARE_TEAM_FIRST if plan.discreet else SURGEON_FIRST}"
    # TEXT values, escaped like every other (icalendar leaves X-WR-* and NAME raw unless told).
    for prop, value in (("name", name), ("x-wr-calname", name), ("description", description)):
        calendar.add(prop, vText(value))
    calendar.add("x-wr-caldesc", vText(description))
    calendar.add(PLAN_PROPERTY, key)
    calendar.add(REVISION_PROPERTY, str(revision))
    calendar.add(TZDATA_PROPERTY, TZDATA_VERSION)
    if schedule.routines:
        calendar.add_component(vtimezone(plan.timezone, schedule.first_day, schedule.last_day))
    writer = _Writer(schedule, stamp, revision)
    written: set[str] = set()
    for event in writer.events():
        event_uid = str(event["UID"])
        written.add(event_uid)
        calendar.add_component(_sequenced(event, stamp, previous.events.get(event_uid) if previous else None))
    if previous is not None:
        for event_uid, old in previous.events.items():
            if event_uid not in written and not _history(old.event, plan.start_from):
                calendar.add_component(_cancelled(old, stamp))
    return b"".join(fold(line) + b"\r\n" for line in calendar.content_lines() if line)


def fold(line: str) -> bytes:
    """A content line folded as icalendar folds it (at most 74 octets a line, never inside a UTF-8
    character, never right after a backslash or caret that starts an escape), in one pass over the
    bytes instead of one per character: folding was most of the time spent writing a calendar."""
    data = line.encode()
    if len(data) <= _FOLD_AT:
        return data
    parts = []
    start = 0
    while len(data) - start > _FOLD_AT:
        end = start + _FOLD_AT
        while 0x80 <= data[end] < 0xC0:  # do not split a character
            end -= 1
        if end - start > 1 and data[end - 1] in b"\\^":  # keep an escape with what it escapes
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return b"\r\n ".join(parts)


def _content(event: Event) -> str:
    """A hash of what the patient sees of an event: every property (and the alarm's) but its stamps."""
    digest = hashlib.sha256()
    for component in event.walk():
        for name, value in component.property_items(recursive=False, sorted=False):
            if name not in _NOT_CONTENT:
                digest.update(
                    name.encode() + b"\0" + (value if isinstance(value, bytes) else str(value).encode()) + b"\0"
                )
    return digest.hexdigest()[:32]


def _sequenced(event: Event, stamp: datetime, old: PreviousEvent | None) -> Event:
    """The event with its content hash, DTSTAMP and SEQUENCE (kept when unchanged, one more when changed)."""
    content = _content(event)
    if old is None:
        sequence = 0
    elif old.content == content and not old.cancelled:
        sequence = old.sequence
    else:
        sequence = old.sequence + 1
    event.add("dtstamp", stamp)
    event.add("sequence", sequence)
    event.add(CONTENT_PROPERTY, content)
    return event


def _cancelled(old: PreviousEvent, stamp: datetime) -> Event:
    """An event that left the plan, as a cancellation that removes it (and its alarm) on import."""
    event = Event()
    for name, value in old.event.property_items(recursive=False):
        if name not in ("BEGIN", "END", "STATUS", *_NOT_CONTENT):
            event.add(name, value, encode=False)
    event.add("status", "CANCELLED")
    event.add("dtstamp", stamp)
    event.add("sequence", old.sequence if old.cancelled else old.sequence + 1)
    event.add(CONTENT_PROPERTY, _content(event))
    return event


def _history(event: Event, start_from: date | None) -> bool:
    """Whether an old event lies wholly before the plan's --from day: history, left as it is."""
    if start_from is None:
        return False
    from dateutil.rrule import rrulestr

    start, end = event.start, event.end
    recurrence: Any = event.get("RRULE")
    if recurrence is not None and isinstance(start, datetime) and isinstance(end, datetime):
        occurrences = list(rrulestr(recurrence.to_ical().decode(), dtstart=start))
        end = occurrences[-1] + (end - start) if occurrences else end
    last_day = end.date() if isinstance(end, datetime) else end - timedelta(1)
    return last_day < start_from


class _Trigger(vDuration):
    """A zero trigger written as PT0S ("at the time of the event"), as Apple Calendar writes it."""

    def to_ical(self) -> bytes:
        if self.td == timedelta(0):
            return b"PT0S"
        data: bytes = super().to_ical()  # type: ignore[no-untyped-call]
        return data


class _Writer:
    def __init__(self, schedule: Schedule, stamp: datetime, revision: int):
        self.schedule = schedule
        self.plan = schedule.plan
        self.stamp = stamp
        self.revision = revision
        self.tz = zone(schedule.plan.timezone)

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
            yield from self.routine(series)

    def base(self, item_id: str, slot: str = "", part: int = 1) -> Event:
        event = Event()
        event.add("uid", uid(self.schedule, item_id, slot, part))
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
        made = f"Plan revision {self.revision}, made on {long_date(self.stamp.date())}"
        if self.revision > 1:
            made += f"; it replaces revision {self.revision - 1}"
        lines = [
            f"This calendar lays out {schedule.protocol_title} (protocol version {schedule.protocol_version}) "
            f"from your surgery on {long_date(self.plan.surgery_date)}.",
            f"{made}.",
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

    def routine(self, series: Series) -> Iterator[Event]:
        """One event per run of at most MAX_COUNT occurrences (almost always one)."""
        for part, (first, count) in enumerate(_runs(series), 1):
            yield self.run(series, part, first, count)

    def run(self, series: Series, part: int, first: date, count: int) -> Event:
        title = routine_title(series)
        shown = f"Reminder · {series.slot}" if self.plan.discreet else title
        event = self.base(series.id, series.slot.replace(":", ""), part)
        start = datetime.combine(first, series.time, self.tz)
        event.add("summary", shown)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=series.minutes))
        rule: dict[str, Any] = (
            {"freq": "weekly", "byday": [BYDAY_CODES[d] for d in series.weekdays]}
            if series.weekdays
            else {"freq": "daily"}
        )
        rule["count"] = count  # COUNT, not UNTIL: no UTC conversion for readers to get wrong
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


def _runs(series: Series) -> Iterator[tuple[date, int]]:
    """(first day, count) of each run of at most MAX_COUNT occurrences that together make the series."""
    total = series.count
    if total <= MAX_COUNT:
        yield series.first, total
        return
    day, left = series.first, total
    while left > 0:
        count = min(left, MAX_COUNT)
        yield day, count
        left -= count
        seen = 0  # the first occurrence after this run
        while seen < count:
            if series.occurs_on(day):
                seen += 1
            day += timedelta(1)
        while left and not series.occurs_on(day):
            day += timedelta(1)


def routine_title(series: Series) -> str:
    """What to do, in the title itself, since some calendars drop the alarm: "Quad sets · 3×10, hold 5 s"."""
    return f"{series.title} · {series.dose}" if series.dose else f"{series.title} · {series.minutes} min"


def _days(series: Series) -> str:
    if not series.weekdays:
        return "every day"
    return "every " + listing(WEEKDAY_NAMES[d] for d in series.weekdays)
