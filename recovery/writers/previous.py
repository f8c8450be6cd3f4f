"""Reading back a calendar this program wrote, for `--update`: its plan, revision, options and
own events (`read_previous`), bounded before it is parsed. The markers it reads are the ones
the writer (`writers.ics`) puts in every file, declared here once for both."""

from __future__ import annotations

import base64
import json
from dataclasses import field
from typing import TYPE_CHECKING, Any

from recovery.errors import PlanError
from recovery.records import record

if TYPE_CHECKING:
    from icalendar import Event

PACKAGE = "recovery"
PLAN_PROPERTY = "X-RECOVERY-PLAN"  # which plan (family and plan id, hashed): --update refuses another's file
REVISION_PROPERTY = "X-RECOVERY-REVISION"  # 1 for a new plan, one more with each --update
CONTENT_PROPERTY = "X-RECOVERY-CONTENT"  # hash of an event's content: what --update compares
OPTIONS_PROPERTY = "X-RECOVERY-OPTIONS"  # the plan's options (its JSON form, in base64): what --update keeps
UID_DOMAIN = "@plan.invalid"


@record
class PreviousEvent:
    """An event of the calendar written before, as --update needs it: its SEQUENCE and content
    hash, and the event itself (read by icalendar; from a calendar this program stored itself,
    its text, read only when the event is cancelled)."""

    sequence: int
    content: str
    cancelled: bool
    event: Event | None = None
    text: str = ""

    def parsed(self) -> Event:
        """The event, read by icalendar (once, from `text` when it was kept as text)."""
        if self.event is None:
            from icalendar import Event

            object.__setattr__(self, "event", Event.from_ical(self.text))
        assert self.event is not None
        return self.event


@record
class Previous:
    """The calendar a patient imported before: what `--update` replaces."""

    plan: str
    revision: int
    events: dict[str, PreviousEvent] = field(default_factory=dict)
    #: The plan's options as the previous calendar recorded them (Plan's JSON form), or {}.
    options: dict[str, Any] = field(default_factory=dict)


#: What a previous calendar may hold: a plan's file has about 60 events and 1,000 lines, and a
#: plan updated a hundred times stays far below these. Reading one costs about what writing it did.
MAX_PREVIOUS_EVENTS = 2_000
MAX_PREVIOUS_LINES = 50_000


def read_previous(data: bytes, name: str) -> Previous:
    """A calendar this program wrote, read for --update; a PlanError for anything else.

    Only this program's own events are kept (a UID it makes, a content hash): any other event in
    the file is left alone, never cancelled or copied. What is over the bounds above is refused
    before it is parsed."""
    from icalendar import Calendar, Event

    lines, events_in_file = data.count(b"\n") + 1, data.count(b"BEGIN:VEVENT")
    if lines > MAX_PREVIOUS_LINES or events_in_file > MAX_PREVIOUS_EVENTS:
        raise PlanError(
            f"--update {name}: {lines:,} lines and {events_in_file:,} events is more than a plan's calendar holds "
            f"(at most {MAX_PREVIOUS_LINES:,} and {MAX_PREVIOUS_EVENTS:,}); give the file this program wrote"
        )
    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError, TypeError, RecursionError) as error:
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
            if isinstance(event, Event) and _is_ours(event)
        }
    except (ValueError, KeyError, TypeError) as error:
        raise PlanError(f"--update {name}: an event cannot be read ({error})") from None
    if not 1 <= revision < 1_000_000:
        raise PlanError(f"--update {name}: revision {revision} is not one this program writes")
    return Previous(plan, revision, events, options=_options(calendar))


def read_written(data: bytes) -> Previous:
    """A calendar this program wrote and kept itself (a server's stored revision), read without
    icalendar: its plan, revision and each event's UID, SEQUENCE, content hash and STATUS, from
    the unfolded lines. Reading one with icalendar costs about 30 ms; this, about 1 ms. A file
    from elsewhere goes through `read_previous`, which checks everything."""
    lines = data.decode("utf-8").replace("\r\n ", "").split("\r\n")
    plan, revision = "", 1
    events: dict[str, PreviousEvent] = {}
    current: list[str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = [line]
        elif current is not None:
            current.append(line)
            if line == "END:VEVENT":
                fields = dict(entry.partition(":")[::2] for entry in current[1:-1] if ":" in entry)
                uid, content = fields.get("UID", ""), fields.get(CONTENT_PROPERTY, "")
                if uid.endswith(UID_DOMAIN) and content:
                    text = "\r\n".join(current) + "\r\n"
                    cancelled = fields.get("STATUS", "").upper() == "CANCELLED"
                    events[uid] = PreviousEvent(int(fields.get("SEQUENCE", "0")), content, cancelled, text=text)
                current = None
        elif line.startswith(f"{PLAN_PROPERTY}:"):
            plan = line.partition(":")[2]
        elif line.startswith(f"{REVISION_PROPERTY}:"):
            revision = int(line.partition(":")[2])
    return Previous(plan, revision, events)


def _is_ours(event: Event) -> bool:
    """Whether an event is one this program wrote: its UID and its content hash."""
    return str(event.get("UID", "")).endswith(UID_DOMAIN) and CONTENT_PROPERTY in event


def _options(calendar: Any) -> dict[str, Any]:
    """The plan's options the previous calendar recorded ({} when it recorded none or they cannot be read)."""
    import binascii

    try:
        options = json.loads(base64.b64decode(str(calendar.get(OPTIONS_PROPERTY, "")), validate=True) or b"{}")
    except (ValueError, binascii.Error, RecursionError):
        return {}
    return options if isinstance(options, dict) else {}
