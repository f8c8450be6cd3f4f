"""The .ics writer: a Schedule as one iCalendar file that phone and desktop calendars read alike.

It follows docs/calendar-output.md (and the client rules behind it): IANA TZIDs with a
rule-form VTIMEZONE, all-day spans with exclusive DTEND, COUNT-limited series of at most 999
occurrences, transparent events, one DISPLAY alarm per timed event, and byte-identical output
for a fixed generation time.

UIDs come from the protocol family, the plan id, the item and its time of day, and from nothing
a patient or clinic may correct later, so a corrected plan updates the same events. Written
with a previous file (`--update`), the new file replaces it under any calendar that imports by
UID (the previous file is read by `writers.previous`): unchanged events keep their SEQUENCE, changed ones get SEQUENCE + 1, and every event that
left the plan comes back as STATUS:CANCELLED, without its alarm.

One model of an event: `_Event`, its content lines. TEXT values are escaped by `values.text`
(icalendar's vText misreads a backslash before N), other values by `values` too, the VTIMEZONE
by `vtimezone`; icalendar reads a previous file and encodes the properties of its events again
(`--update`); the lines are assembled and folded here. Writing a calendar through icalendar's components took 17 ms a calendar against 2 ms
this way (measured in one process, 30 calendars), which is most of a command's own time and of a
clinic batch's: see `fold`.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from recovery.digests import sha256
from recovery.errors import PlanError
from recovery.language import SOURCE, Words, words
from recovery.schedule.items import CARE_TEAM_FIRST, Schedule, Series, Session, Span
from recovery.schedule.zones import TZDATA_VERSION
from recovery.words import SLOTS as SLOT_NAMES
from recovery.writers.previous import (
    CONTENT_PROPERTY,
    OPTIONS_PROPERTY,
    PACKAGE,
    PLAN_PROPERTY,
    REVISION_PROPERTY,
    UID_DOMAIN,
    Previous,
    PreviousEvent,
)
from recovery.writers.values import duration, text
from recovery.writers.vtimezone import BYDAY_CODES, vtimezone

if TYPE_CHECKING:  # icalendar's components are loaded only to read a previous file (--update)
    pass

PRODID = f"-//{PACKAGE}//{PACKAGE} protocol calendar//EN"
#: Outlook (and Exchange) refuse a series of more than 999 occurrences; longer ones are split.
MAX_COUNT = 999
#: When a "Book:" reminder rings: 09:00 on its day (an all-day event's alarm counts from the day's start).
BOOKING_TIME = time(9, 0)
#: Properties of our own, on the calendar and on each event.
TZDATA_PROPERTY = "X-RECOVERY-TZDATA"  # the IANA release of the zone data the file was written with
#: Every UID this program makes ends so (a reserved domain: no one else's events end so).
_NOT_CONTENT = frozenset({"DTSTAMP", "SEQUENCE", CONTENT_PROPERTY})
#: The properties of this program's events that a cancellation repeats (never ATTENDEE, URL, …).
_REPEATED = ("SUMMARY", "DTSTART", "DTEND", "RRULE", "CLASS", "DESCRIPTION", "TRANSP", "X-MICROSOFT-CDO-BUSYSTATUS")
_FOLD_AT = 74  # a line is folded before it reaches 75 octets


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


@lru_cache(maxsize=8192)
def _digest(text: str) -> str:
    return sha256(text.encode()).hexdigest()[:32]


def uid(schedule: Schedule, item_id: str, slot: str = "", part: int = 1) -> str:
    """A stable UID: the same plan regenerated, however corrected, updates the same events."""
    suffix = f"|{part}" if part > 1 else ""
    return f"{_digest(f'{plan_key(schedule)}|{item_id}|{slot}{suffix}')}{UID_DOMAIN}"


def calendar_name(schedule: Schedule, revision: int = 1) -> str:
    """The calendar's name with the plan revision, so a patient can tell which version the phone holds."""
    plan = schedule.plan
    w = words(plan.language)
    name = plan.calendar_name or (
        w("Plan") if plan.discreet else w("Recovery: {title}").format(title=schedule.protocol_title)
    )
    return w("{name} (revision {revision})").format(name=name, revision=revision)


def to_ics(
    schedule: Schedule,
    stamp: datetime | None = None,
    previous: Previous | None = None,
    options: bool = True,
    page: bool = False,
) -> bytes:
    """The whole calendar as bytes (CRLF lines, folded at 75 octets, UTF-8).

    With `previous` (the file the patient imported before), the calendar replaces it: see the
    module's docstring. Without it, every SEQUENCE is 0 and the revision is 1. With
    `options=False` the file does not carry the plan's choices (X-RECOVERY-OPTIONS, which
    `--update` reads back): a server keeps them itself, and its feeds go to calendar services.
    With `page` (a server's feed: the patient has a page), each exercise session says that its
    pictures are on the patient's page; the feed holds no link to it, since the link is a secret
    the server keeps only as a hash.
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
    w = words(plan.language)
    about = (
        w("Your plan")
        if plan.discreet
        else w("{title}, version {version}").format(title=schedule.protocol_title, version=schedule.protocol_version)
    )
    name = calendar_name(schedule, revision)
    first = w(CARE_TEAM_FIRST if plan.discreet else schedule.said.first)
    description = text(w("{about}, revision {revision}. {first}").format(about=about, revision=revision, first=first))
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    # TEXT values, all four escaped (icalendar leaves X-WR-* and NAME raw unless told).
    lines += [f"DESCRIPTION:{description}", f"X-WR-CALDESC:{description}"]
    lines += [f"NAME:{text(name)}", f"X-WR-CALNAME:{text(name)}"]
    lines += [f"{PLAN_PROPERTY}:{key}", f"{REVISION_PROPERTY}:{revision}", f"{TZDATA_PROPERTY}:{TZDATA_VERSION}"]
    if options:  # base64, so that no TEXT escaping stands between the JSON and its reader
        chosen = json.dumps(plan.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        lines.append(f"{OPTIONS_PROPERTY}:{base64.b64encode(chosen.encode()).decode()}")
    if schedule.routines:
        lines += _vtimezone_lines(plan.timezone, schedule.first_day.year, schedule.last_day.year)
    end = "END:VCALENDAR"
    written: set[str] = set()
    dtstamp = f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}"  # the same line in every event
    for event in _Writer(schedule, revision, stamp, page).events():
        written.add(event.uid)
        lines += _sequenced(event, dtstamp, previous.events.get(event.uid) if previous else None)
    if previous is not None:
        for event_uid, old in previous.events.items():
            if event_uid not in written and not _history(old, plan.start_from):
                cancelled = _cancelled(old)
                lines += cancelled.lines(
                    dtstamp, old.sequence if old.cancelled else old.sequence + 1, cancelled.content()
                )
    return b"\r\n".join(map(fold, [*lines, end])) + b"\r\n"


@lru_cache(maxsize=64)
def _vtimezone_lines(name: str, first_year: int, last_year: int) -> tuple[str, ...]:
    """The VTIMEZONE's content lines: the same for every plan in these years, so made once per process."""
    return vtimezone(name, date(first_year, 1, 1), date(last_year, 12, 31))


#: Where a server's feed of a course with stages says, in each exercise session, where to check
#: in: the server puts the patient's own page in its place as it serves the feed to the link that
#: asked (`with_page_link`), so the stored calendar holds no secret. A reserved name (RFC 2606):
#: never anyone's address.
PAGE_LINK = "https://patient-page.invalid/check-in"


def with_page_link(calendar: bytes, link: str) -> bytes:
    """The calendar with each PAGE_LINK replaced by `link`: a content line that held it is
    unfolded and folded again (`fold`); every other line is left as it was, byte for byte."""
    marker = PAGE_LINK.encode()
    out: list[bytes] = []
    group: list[bytes] = []

    def close() -> None:
        if not group:
            return
        whole = b"".join([group[0], *(part[1:] for part in group[1:])])
        out.append(fold(whole.decode().replace(PAGE_LINK, link)) if marker in whole else b"\r\n".join(group))
        group.clear()

    for line in calendar.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and group:
            group.append(line)
        else:
            close()
            group.append(line)
    close()
    return b"\r\n".join(out)


@lru_cache(maxsize=8192)
def fold(line: str) -> bytes:
    """A content line folded as RFC 5545 asks and icalendar does it (at most 74 octets a line,
    never inside a UTF-8 character, never right after a backslash or caret that starts an escape).

    A copy of icalendar's rule, in one pass over the bytes instead of one per character: with
    icalendar's components and folding, writing one calendar took 17 ms instead of 2 ms (the
    hamstring protocol, one process, 30 calendars), 15 ms of every `generate` and 15 s of CPU in
    a batch of 1,000 plans."""
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


@dataclass
class _Event:
    """An event as its content lines (unfolded, values already encoded by icalendar), written in
    the order they were added; its UID, SEQUENCE, DTSTAMP and content hash are added when written."""

    uid: str
    properties: dict[str, str]  # NAME -> the whole unfolded line
    alarm: list[str] = field(default_factory=list)

    def add(self, name: str, value: str, parameters: str = "") -> None:
        self.properties[name] = f"{name}{parameters}:{value}"

    def content(self) -> str:
        """A hash of what the patient sees: every line but the stamps."""
        return _digest("\n".join([*self.properties.values(), *self.alarm]))

    def lines(self, dtstamp: str, sequence: int, content: str) -> list[str]:
        alarm = ["BEGIN:VALARM", *self.alarm, "END:VALARM"] if self.alarm else []
        return [
            "BEGIN:VEVENT",
            f"UID:{self.uid}",
            f"SEQUENCE:{sequence}",
            dtstamp,
            *self.properties.values(),
            f"{CONTENT_PROPERTY}:{content}",
            *alarm,
            "END:VEVENT",
        ]


def _sequenced(event: _Event, dtstamp: str, old: PreviousEvent | None) -> list[str]:
    """The event's lines with its content hash, DTSTAMP and SEQUENCE (kept when unchanged, one more when changed)."""
    content = event.content()
    if old is None:
        sequence = 0
    elif old.content == content and not old.cancelled:
        sequence = old.sequence
    else:
        sequence = old.sequence + 1
    return event.lines(dtstamp, sequence, content)


def _cancelled(old: PreviousEvent) -> _Event:
    """An event that left the plan, as a cancellation that removes it (and its alarm) on import:
    its properties as the previous file had them (encoded again by icalendar), STATUS:CANCELLED."""
    parsed = old.parsed()
    event = _Event(str(parsed["UID"]), {})
    for name, value in parsed.property_items(recursive=False, sorted=False):
        if name in _REPEATED:
            event.properties[name] = str(parsed.content_line(name, value))
    event.add("STATUS", "CANCELLED")
    return event


def _history(old: PreviousEvent, start_from: date | None) -> bool:
    """Whether an old event lies wholly before the plan's --from day: history, left as it is. An
    event whose days cannot be read, or whose rule repeats more often than this program writes,
    is not history (it is cancelled)."""
    if start_from is None:
        return False
    event = old.parsed()
    from itertools import islice

    from dateutil.rrule import rrulestr

    try:
        start, end = event.start, event.end
        recurrence: Any = event.get("RRULE")
        if recurrence is not None and isinstance(start, datetime) and isinstance(end, datetime):
            occurrences = list(islice(rrulestr(recurrence.to_ical().decode(), dtstart=start), MAX_COUNT + 1))
            if len(occurrences) > MAX_COUNT:
                return False
            end = occurrences[-1] + (end - start) if occurrences else end
        last_day = end.date() if isinstance(end, datetime) else end - timedelta(1)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError):
        return False
    return bool(last_day < start_from)


class _Writer:
    """Each item of the Schedule as the event a patient sees."""

    def __init__(self, schedule: Schedule, revision: int, stamp: datetime, page: bool = False):
        self.page = page
        self.schedule = schedule
        self.stages = any(day.criteria is not None for day in schedule.milestones)
        self.plan = schedule.plan
        self.revision = revision
        self.stamp = stamp
        self.tzid = f";TZID={schedule.plan.timezone}"
        trigger = -timedelta(minutes=self.plan.alarm_minutes)
        self.trigger = duration(trigger)
        self.w = words(self.plan.language)
        # The language of the texts, on each text property (RFC 5545, 3.2.10); English, the
        # program's own, is left unmarked.
        self.language = "" if self.plan.language == SOURCE else f";LANGUAGE={self.plan.language}"
        self.red_flags = self.w("RED FLAGS: when to get help")

    def events(self) -> Iterator[_Event]:
        yield self.welcome()
        for number, phase in enumerate(self.schedule.phases, 1):
            yield self.phase(number, phase)
        for milestone in self.schedule.milestones:
            w = self.w
            title = w("Check-in") if self.plan.discreet else milestone.title
            lines = [milestone.description] if milestone.description else []
            if milestone.check:
                lines += [w("Before this step, check:"), *[f"- {c}" for c in milestone.check]]
            if milestone.actual:
                lines.append(w("This is the day it actually happened."))
            if self.schedule.red_flags and not any(p.holds(milestone.date) for p in self.schedule.phases):
                # no phase's event holds the warning signs this day (return to sport ends them all)
                lines += ["", self.red_flags, *[f"- {s}: {a}" for s, a in self.schedule.red_flags]]
            yield self.all_day(milestone.id, title, milestone.date, milestone.date + timedelta(1), lines)
        for visit in self.schedule.appointments:
            w = self.w
            if self.plan.discreet:
                title = w("Appointment")
            elif visit.first == visit.last:
                title = visit.title
            else:
                title = w("{title} · visit window").format(title=visit.title)
            when = (
                w("on {day}").format(day=w.long_date(visit.first))
                if visit.first == visit.last
                else w("between {first} and {last}").format(
                    first=w.long_date(visit.first), last=w.long_date(visit.last)
                )
            )
            lines = [visit.description] if visit.description else []
            lines.append(
                w("This visit should take place {when}. If it is not booked yet, call your clinic.").format(when=when)
            )
            yield self.all_day(visit.id, title, visit.first, visit.last + timedelta(1), lines)
            # No reminder to book on the surgery day itself (book_by is then "before you go home").
            booking_day = visit.book_by
            if (
                booking_day is not None
                and self.schedule.first_day <= booking_day < visit.first
                and booking_day > self.plan.surgery_date
            ):
                booking = (
                    w("Book an appointment") if self.plan.discreet else w("Book: {title}").format(title=visit.title)
                )
                call = (
                    w("call your clinic now ({contact})").format(contact=self.schedule.contact)
                    if self.schedule.contact
                    else w("call your clinic now")
                )
                event = self.all_day(
                    f"book-{visit.id}",
                    booking,
                    booking_day,
                    booking_day + timedelta(1),
                    [
                        w("If this visit is not booked yet, {call}: it should take place {when}.").format(
                            call=call, when=when
                        )
                    ],
                )
                # An alarm at 09:00 that day (all-day events count from the day's start), on a clinic
                # day; half an hour later while a session's alarm rings then (one alarm a minute).
                event.alarm = [
                    "ACTION:DISPLAY",
                    f"DESCRIPTION{self.language}:{text(booking)}",
                    f"TRIGGER:{self.booking_alarm(booking_day)}",
                ]
                yield event
        parts: dict[str, int] = {}  # the same routines at the same time can return later in the course
        for session in self.schedule.sessions:
            yield from self.session(session, parts)

    def booking_alarm(self, day: date) -> str:
        """When a "Book:" reminder rings on its day, as a TRIGGER from the day's start: 09:00, or
        the first half hour after it at which no session's alarm rings that day."""
        lead = timedelta(minutes=self.plan.alarm_minutes)
        taken = {datetime.combine(day, s.time) - lead for s in self.schedule.sessions if s.rings and s.occurs_on(day)}
        at = datetime.combine(day, BOOKING_TIME)
        while at in taken:
            at += timedelta(minutes=30)
        return duration(at - datetime.combine(day, time(0)))

    def base(self, item_id: str, title: str, slot: str = "", part: int = 1) -> _Event:
        event = _Event(uid(self.schedule, item_id, slot, part), {})
        event.add("SUMMARY", text(title), self.language)
        return event

    def finish(self, event: _Event, description: str) -> _Event:
        event.add("CLASS", "PRIVATE")
        event.add("DESCRIPTION", text(description), self.language)
        event.add("TRANSP", "TRANSPARENT")
        event.add("X-MICROSOFT-CDO-BUSYSTATUS", "FREE")
        return event

    def all_day(self, item_id: str, title: str, start: date, end: date, lines: list[str]) -> _Event:
        event = self.base(item_id, title)
        event.add("DTSTART", f"{start:%Y%m%d}", ";VALUE=DATE")
        event.add("DTEND", f"{end:%Y%m%d}", ";VALUE=DATE")  # exclusive: the first day after the event
        return self.finish(event, "\n".join([*lines, "", self.w(self.schedule.said.first)]).strip())

    def welcome(self) -> _Event:
        schedule, w = self.schedule, self.w
        made = w("Plan revision {revision}, made on {day}").format(
            revision=self.revision, day=w.long_date(self.stamp.date())
        )
        if self.revision > 1:
            made += w("; it replaces revision {revision}").format(revision=self.revision - 1)
        lines = (
            [w("Questions, or a warning sign below: {contact}").format(contact=schedule.contact), ""]
            if schedule.contact
            else []
        )
        lines += [
            w(schedule.said.calendar_from).format(
                title=schedule.protocol_title,
                version=schedule.protocol_version,
                day=w.long_date(self.plan.surgery_date),
            ),
            f"{made}.",
            "",
            "- "
            + w(
                "All-day events show each phase, milestone and visit window. Timed events are your exercise and ice reminders."
            ),
            "- "
            + w(
                "Milestones are the days a step is expected. Rehabilitation moves on when you meet the criteria, "
                "not by date alone: when a step happens on another day, ask for a new calendar and import it in place of this one."
            ),
            "- " + w("Keep this calendar separate from your own, so that it can be replaced or removed at once."),
        ]
        if schedule.red_flags:
            lines += ["", self.red_flags]
            lines += [f"- {sign}: {action}" for sign, action in schedule.red_flags]
        if schedule.normal:
            lines += ["", w(schedule.said.normal_heading)]
            lines += [f"- {text}" for text in schedule.normal]
        if schedule.words:
            lines += ["", w("WORDS this plan uses")]
            lines += [f"- {term}: {meaning}" for term, meaning in schedule.words]
        title = (
            w("Read first")
            if self.plan.discreet
            else w("Read first: how to use this calendar, and when to call for help")
        )
        return self.all_day("welcome", title, schedule.first_day, schedule.first_day + timedelta(1), lines)

    def phase(self, number: int, phase: Span) -> _Event:
        w = self.w
        title = w("Stage {number}").format(number=number) if self.plan.discreet else phase.title
        lines = [phase.description] if phase.description else []
        if phase.weight_bearing:
            lines.append(w("Weight bearing: {text}").format(text=phase.weight_bearing))
        if phase.brace:
            lines.append(w("Brace: {text}").format(text=phase.brace))
        if phase.precautions:
            lines += [w("Precautions:"), *[f"- {p}" for p in phase.precautions]]
        if phase.goals:
            lines += [w("Goals:"), *[f"- {g}" for g in phase.goals]]
        if phase.advice:
            lines += [w("Day to day:"), *[f"- {a}" for a in phase.advice]]
        days = w(self.schedule.said.days_after).format(
            first=self.schedule.day_number(phase.start), last=self.schedule.day_number(phase.end) - 1
        )
        # The warning signs on every day, not only in Read first on day 0.
        flags = [
            "",
            self.red_flags,
            *[f"- {sign}: {action}" for sign, action in self.schedule.red_flags],
        ]
        return self.all_day(
            phase.id, title, phase.start, phase.end, [*lines, days, *(flags if self.schedule.red_flags else [])]
        )

    def session(self, session: Session, parts: dict[str, int]) -> Iterator[_Event]:
        """One event per run of at most MAX_COUNT occurrences (almost always one), with one alarm.

        Each event's UID holds the session's key and a part number; `parts` counts the parts each
        key has used so far, so that a session that returns later in the course gets new UIDs."""
        w = self.w
        lines = [w("What to take:") if session.medication else w("What to do:")]
        for series in session.routines:
            dose = f" · {series.dose}" if series.dose else ""
            minutes = "" if series.medication else " (" + w("{minutes} min").format(minutes=series.minutes) + ")"
            lines.append(f"- {series.title}{dose}{minutes}")
            if series.description:
                lines.append(f"  {series.description}")
        until = w.long_date(session.last)
        if session.medication:
            said = w("{days} until {day}.").format(days=_days(session, w), day=until)
            lines.append(said[:1].upper() + said[1:])
        else:
            lines.append(
                w("About {minutes} minutes in all, {days} until {day}.").format(
                    minutes=session.minutes, days=_days(session, w), day=until
                )
            )
        if self.page and any(series.pictures for series in session.routines):
            lines.append(w("Pictures of these exercises: on your plan's page, from the link your clinic gave you."))
        if self.page and self.stages and not session.medication:
            lines.append(w("After this session, say how it went: {link}").format(link=PAGE_LINK))
        phase = self.schedule.phase(session.routines[0].phase)
        if phase is not None and phase.precautions and not session.medication:
            lines += ["", w("During {phase}:").format(phase=phase.title), *[f"- {p}" for p in phase.precautions]]
        description = "\n".join([*lines, "", w(self.schedule.said.first)])
        key = f"{session.slot}|{'+'.join(sorted(s.id for s in session.routines))}|{''.join(session.weekdays)}"
        if session.every > 1:  # every so many days: which of those days, too
            key += f"|{session.every}/{session.first.toordinal() % session.every}"
        for part, (first, count) in enumerate(_runs(session), parts.get(key, 0) + 1):
            parts[key] = part
            yield self.run(session, key, part, first, count, description)

    def run(self, session: Session, key: str, part: int, first: date, count: int, description: str) -> _Event:
        w = self.w
        title = session_title(session, w)
        shown = w("Reminder · {slot}").format(slot=_slot(session.slot, w)) if self.plan.discreet else title
        if session.medication and self.plan.discreet:
            shown = w("Medicine")
        event = self.base("session", shown, key, part)
        start = datetime.combine(first, session.time)  # local wall-clock time in the plan's zone (TZID)
        event.add("DTSTART", f"{start:%Y%m%dT%H%M%S}", self.tzid)
        event.add("DTEND", f"{start + timedelta(minutes=session.minutes):%Y%m%dT%H%M%S}", self.tzid)
        # COUNT, not UNTIL: no UTC conversion for readers to get wrong
        rule = f"FREQ=DAILY;COUNT={count}"
        if session.weekdays:
            rule = f"FREQ=WEEKLY;COUNT={count};BYDAY={','.join(BYDAY_CODES[d] for d in session.weekdays)}"
        elif session.every > 1:
            rule = f"FREQ=DAILY;INTERVAL={session.every};COUNT={count}"
        event.add("RRULE", rule)
        self.finish(event, description)
        if session.rings:  # else a medicine at the same minute rings for it, and names it
            said = shown if self.plan.discreet else title
            if session.rings_for and not self.plan.discreet:
                said += "".join(
                    w(", then {title}").format(title=session_title(other, w)) for other in session.rings_for
                )
            event.alarm = ["ACTION:DISPLAY", f"DESCRIPTION{self.language}:{text(said)}", f"TRIGGER:{self.trigger}"]
        return event


def _runs(series: Series | Session) -> Iterator[tuple[date, int]]:
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


def session_title(session: Session, w: Words | None = None) -> str:
    """ "Morning exercises · about 35 minutes"; a session of one routine is called by that routine."""
    w = w or words()
    if len(session.routines) == 1:
        return routine_title(session.routines[0], w)
    if session.slot in SLOT_NAMES:
        return {
            "morning": w("Morning exercises · about {minutes} minutes"),
            "midday": w("Midday exercises · about {minutes} minutes"),
            "evening": w("Evening exercises · about {minutes} minutes"),
        }[session.slot].format(minutes=session.minutes)
    return w("At {time}, exercises · about {minutes} minutes").format(time=session.slot, minutes=session.minutes)


def routine_title(series: Series, w: Words | None = None) -> str:
    """What to do, in the title itself, since some calendars drop the alarm: "Quad sets · 3 sets
    of 10"; a medicine exactly as the surgeon wrote it."""
    if series.medication:
        return series.title
    w = w or words()
    return f"{series.title} · {series.dose or w('{minutes} min').format(minutes=series.minutes)}"


def _slot(slot: str, w: Words) -> str:
    """A named time of day in the plan's language ("morning", "mañana"), or the clock time."""
    return {"morning": w("morning"), "midday": w("midday"), "evening": w("evening")}.get(slot, slot)


def _days(series: Series | Session, w: Words) -> str:
    if series.every > 1:
        return w.every_days(series.every)
    if not series.weekdays:
        return w("every day")
    return w("every {days}").format(days=w.listing(w.weekday_names(series.weekdays, wide=True)))
