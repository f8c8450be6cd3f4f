"""The clinic's small vocabulary and the wording every view shares, each defined once.

Weekdays, the named times of day, counts that read right ("1 day", "2 days"), lists that read
like a sentence ("a, b and c") and the ways a date is written. Every other module imports these;
none writes its own table of weekday names or its own plural.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
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
#: What an item that lasts until a clearance says (its end in the calendar is the latest day the
#: protocol expects the clearance).
#: What a visit's text says when a public holiday moved it, or falls in its window.
HOLIDAY_MOVED = marked("Moved from {day}: {name}, a public holiday.")
HOLIDAY_IN_WINDOW = marked("{day} is {name}, a public holiday: the clinic may be closed.")
KEEP_GOING = marked("Keep going until you are cleared: ask your surgeon or physio {clearance}.")
#: What a phase that lasts until a clearance says (a restriction such as "no driving" too).
LASTS_UNTIL_CLEARED = marked("This lasts until you are cleared: ask your surgeon or physio {clearance}.")
#: What such a day says: what follows the clearance comes in a new calendar.
FROM_THIS_DAY_ASK = marked(
    "From this day on, ask your surgeon or physio {clearance}. What comes after it is not in "
    "this calendar until you are cleared: then ask for a new calendar from the day you were cleared."
)


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
