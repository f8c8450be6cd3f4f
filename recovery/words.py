"""The clinic's small vocabulary and the wording every view shares, each defined once.

Weekdays, the named times of day, counts that read right ("1 day", "2 days"), lists that read
like a sentence ("a, b and c") and the ways a date is written. Every other module imports these;
none writes its own table of weekday names or its own plural.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, time

#: The operated side, as a plan gives it.
SIDES = ("left", "right")

#: Days of the week as a protocol file writes them, Monday first (date.weekday() order).
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The same days as people read them.
WEEKDAY_NAMES: dict[str, str] = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)
#: The named times of day a routine can use, with the clock time each has unless the patient sets another.
SLOTS: dict[str, time] = {"morning": time(8, 0), "midday": time(13, 0), "evening": time(19, 0)}
#: A clock time as protocol files and the command line write it: 24-hour HH:MM, e.g. 07:30.
CLOCK_PATTERN = r"([01]\d|2[0-3]):[0-5]\d"


def weekday(day: date) -> str:
    """The protocol file's name of the day's weekday: "mon" … "sun"."""
    return WEEKDAYS[day.weekday()]


def count(number: int, noun: str, plural: str | None = None) -> str:
    """ "1 day", "2 days", "0 days": a number with its noun in the right form."""
    return f"{number} {noun if abs(number) == 1 else plural or noun + 's'}"


def listing(words: Iterable[str], last: str = "and") -> str:
    """Words as a sentence lists them: "a", "a and b", "a, b and c"."""
    items: Sequence[str] = list(words)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def quoted_choices(choices: Iterable[str]) -> str:
    """The valid choices for a message: '"a", "b" or "c"' (sorted), or '(none defined)'."""
    quoted = [f'"{c}"' for c in sorted(choices)]
    return listing(quoted, "or") if quoted else "(none defined)"


def clock(moment: time) -> str:
    """A clock time as the patient set it: "07:30"."""
    return moment.strftime("%H:%M")


def long_date(day: date) -> str:
    """A date in a sentence: "Mon 01 Mar 2027"."""
    return day.strftime("%a %d %b %Y")


def iso_date(day: date) -> str:
    """A date in a table, sortable: "Mon 2027-03-01"."""
    return day.strftime("%a %Y-%m-%d")


def short_date(day: date) -> str:
    """A date close to today, year left out: "Mon 01 Mar"."""
    return day.strftime("%a %d %b")


def in_days(days: int) -> str:
    """How far away a day is: "today", "tomorrow", "in 5 days", "2 days ago"."""
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days > 0:
        return f"in {count(days, 'day')}"
    return f"{count(-days, 'day')} ago"


def weeks_and_days(days: int) -> str:
    """ "3 weeks and 2 days", "1 week", "4 days": a span of days as people count it."""
    weeks, rest = divmod(days, 7)
    parts = [count(weeks, "week")] if weeks else []
    parts += [count(rest, "day")] if rest or not weeks else []
    return " and ".join(parts)


def marked(text: str) -> str:
    """Marks a text for translation where it is defined (docs/translating.md); the code that shows
    it translates it then, with `recovery.language.words(language)`."""
    return text


#: The title of a clearance the plan has not recorded: the day the patient may first ask for it.
EARLIEST_DAY_TO_ASK = marked("Earliest day to ask {clearance}")
#: What a visit's text says when a public holiday moved it, or falls in its window.
HOLIDAY_MOVED = marked("Moved from {day}: {name}, a public holiday.")
HOLIDAY_IN_WINDOW = marked("{day} is {name}, a public holiday: the clinic may be closed.")


#: What a stage that lasts until the patient moves on says, and its routines: how long it usually
#: lasts ("2 to 13 weeks", from its earliest and latest day) and what moves the plan on.
STAGE_LASTS = marked("This stage lasts until you are ready for the next one: usually {span}.")
STAGE_KEEP_GOING = marked("Keep going until you move on to the next stage.")
#: The criteria of a stage, in plain words (`Criteria`): pain during the exercises and the next morning.
STAGE_CRITERIA = marked(
    "You are ready when, on {sessions} of your last {of_last} exercise days, pain during the exercises was "
    "{pain} out of 10 or less, and the next morning was no worse than usual."
)
STAGE_CRITERIA_BETTER = marked(
    "You are ready when, on {sessions} of your last {of_last} exercise days, pain during the exercises was "
    "{pain} out of 10 or less, and you felt better the next morning."
)
STAGE_DECIDES = {
    "clinician": marked("Your physio decides when you move on."),
    "rule": marked("Your plan moves on when this is met, and your physio is told."),
}
STAGE_IF_WORSE = {
    "stay": marked("If the pain gets worse, stay at this stage and tell your physio."),
    "step-back": marked("If the pain gets worse, your physio may take you back one stage for a while."),
}
#: When to call, on a stage's checkpoint: not ready by its latest day.
STAGE_CALL = marked("If you are not ready by {day}, call your care team.")
#: The title of a stage's checkpoint: the first day the plan may move on.
EARLIEST_DAY_FOR_STAGE = marked("Earliest day to move on: {title}")
#: What a stage's checkpoint adds: what comes next is not in the calendar yet.
STAGE_NEXT = marked("What comes next is added to your calendar when you move on.")


@dataclass(frozen=True)
class DayZero:
    """How the texts name day 0, by the protocol's `day_zero`: surgery, a first visit, an injury."""

    after: str  # "{span} after surgery"
    before: str
    the_day: str
    calendar_from: str  # what the calendar's first event says it counts from
    days_after: str
    normal: str  # the heading of what needs no call
    normal_heading: str  # the same in a calendar's description, where headings are in capitals
    first: str  # whose instructions come first
    call_team: str  # the handout's line for the number
    my_team: str  # the wallet card's
    label: str  # the timeline's "Surgery (day 0)"
    on_day: str  # the handout's subtitle
    preview: str  # the same, for a preview without dates
    card: str  # the wallet card's label of the day
    page_first: str  # the patient's page: whose instructions come first
    page_call: str  # the patient's page, without a contact
    legend_side: str  # the patient's page: which leg the pictures draw black, with a side
    legend: str  # the same, without one
    is_on: str  # the agenda before day 0
    after_course: str  # the agenda after the last day
    # Whom to ask for a clearance: an item that lasts until one (its end in the calendar is the
    # latest day the protocol expects it), a routine or a phase (a restriction such as "no
    # driving" too), and the day it may first be asked for (what follows comes in a new calendar).
    keep_going: str
    lasts_until_cleared: str
    from_this_day_ask: str


#: A course without surgery, counted from the first visit: its care team, its recovery.
_FIRST_VISIT = DayZero(
    after=marked("{span} after your first visit"),
    before=marked("{span} before your first visit"),
    the_day=marked("day 0, the day of your first visit"),
    calendar_from=marked("This calendar lays out {title} (protocol version {version}) from your first visit on {day}."),
    days_after=marked("Days {first} to {last} after your first visit."),
    normal=marked("Normal during your recovery: no need to call"),
    normal_heading=marked("NORMAL during your recovery: no need to call"),
    first=marked("Your care team's instructions come first. If they differ from this calendar, follow theirs."),
    call_team=marked("Questions, or a red flag below: call your care team. Their number:"),
    my_team=marked("My care team:"),
    label=marked("First visit (day 0)"),
    on_day=marked("First visit on {day} (day 0)"),
    preview=marked("Protocol preview: days and weeks count from the first visit (day 0)"),
    card=marked("First visit:"),
    page_first=marked("Your care team's instructions come first. If they differ from this plan, follow theirs."),
    page_call=marked("Questions, or a warning sign: call your care team."),
    legend_side=marked("In the pictures, the black leg is your {side} leg, the one being treated."),
    legend=marked("In the pictures, the black leg is the one being treated."),
    is_on=marked("Your first visit is on {day}."),
    after_course=marked("Keep to what your care team advises from here on."),
    keep_going=marked("Keep going until you are cleared: ask your care team {clearance}."),
    lasts_until_cleared=marked("This lasts until you are cleared: ask your care team {clearance}."),
    from_this_day_ask=marked(
        "From this day on, ask your care team {clearance}. What comes after it is not in "
        "this calendar until you are cleared: then ask for a new calendar from the day you were cleared."
    ),
)

DAY_ZERO_WORDS: dict[str, DayZero] = {
    "surgery": DayZero(
        after=marked("{span} after surgery"),
        before=marked("{span} before surgery"),
        the_day=marked("day 0, the day of surgery"),
        calendar_from=marked("This calendar lays out {title} (protocol version {version}) from your surgery on {day}."),
        days_after=marked("Days {first} to {last} after surgery."),
        normal=marked("Normal after surgery: no need to call"),
        normal_heading=marked("NORMAL after surgery: no need to call"),
        first=marked(
            "Your surgeon's and physio's instructions come first. If they differ from this calendar, follow theirs."
        ),
        call_team=marked("Questions, or a red flag below: call your surgical team. Their number:"),
        my_team=marked("My surgical team:"),
        label=marked("Surgery (day 0)"),
        on_day=marked("Surgery on {day} (day 0)"),
        preview=marked("Protocol preview: days and weeks count from the surgery (day 0)"),
        card=marked("Surgery:"),
        page_first=marked(
            "Your surgeon's and physio's instructions come first. If they differ from this plan, follow theirs."
        ),
        page_call=marked("Questions, or a warning sign: call your surgical team."),
        legend_side=marked("In the pictures, the black leg is your {side} leg, the one operated on."),
        legend=marked("In the pictures, the black leg is the one operated on."),
        is_on=marked("Your surgery is on {day}."),
        after_course=marked("Keep to what your surgeon and physio advise from here on."),
        keep_going=marked("Keep going until you are cleared: ask your surgeon or physio {clearance}."),
        lasts_until_cleared=marked("This lasts until you are cleared: ask your surgeon or physio {clearance}."),
        from_this_day_ask=marked(
            "From this day on, ask your surgeon or physio {clearance}. What comes after it is not in "
            "this calendar until you are cleared: then ask for a new calendar from the day you were cleared."
        ),
    ),
    "first-visit": _FIRST_VISIT,
    # the same care-team words as a first visit; only what counts from day 0 differs
    "injury": replace(
        _FIRST_VISIT,
        after=marked("{span} after your injury"),
        before=marked("{span} before your injury"),
        the_day=marked("day 0, the day of your injury"),
        calendar_from=marked("This calendar lays out {title} (protocol version {version}) from your injury on {day}."),
        days_after=marked("Days {first} to {last} after your injury."),
        label=marked("Injury (day 0)"),
        on_day=marked("Injury on {day} (day 0)"),
        preview=marked("Protocol preview: days and weeks count from the injury (day 0)"),
        card=marked("Injury:"),
        is_on=marked("Day 0, the day of your injury, is {day}."),
    ),
}


#: Characters a one-line text from outside must not hold, and that are never echoed as they are:
#: control characters (C0, DEL, C1) and the marks that reorder text (right-to-left overrides and
#: isolates), which can break a message into lines, command a terminal or make it read backwards,
#: and lone halves of a character (surrogates), which no file can hold as UTF-8.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """Text with every CONTROL_CHARACTER shown as an escape ("\\x1b", "\\u202e")."""
    return CONTROL_CHARACTER.sub(_escaped, text)


def _escaped(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
