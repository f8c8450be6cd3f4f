"""iCalendar values as text for the calendar writer, which assembles its lines from them without
icalendar's component objects (see docs/performance.md).

TEXT is escaped here because icalendar's vText misreads a backslash before N. DURATION, UTC-OFFSET
and a floating DATE-TIME are written here too, by RFC 5545's grammar (sections 3.3.6, 3.3.14 and
3.3.5), so that writing a calendar loads none of icalendar's property modules: with icalendar 7
those load on first use and took 22 ms of every `generate` (import time, measured with
`python -X importtime`), a sixth of the command. The tests read every value back with icalendar.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache


@lru_cache(maxsize=8192)
def text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 says (backslash, semicolon, comma, line break); the same
    texts recur in every patient's calendar, so each is escaped once per process.

    Not icalendar's vText: it takes a backslash before N for an escaped line break already, so
    "C:\\Notes" came back from a calendar as "C:" and a new line."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\n").replace("\n", "\\n")
    )


def duration(value: timedelta) -> str:
    """A DURATION value as icalendar writes it ("-PT10M", "PT9H", "P1DT2H"), and "PT0S" at zero
    (as Apple Calendar writes it)."""
    if not value:
        return "PT0S"
    sign, value = ("-", -value) if value < timedelta(0) else ("", value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    time = (
        (f"{hours}H" if hours else "")
        + (f"{minutes}M" if minutes or (hours and seconds) else "")  # RFC 5545: no hours and seconds without minutes
        + (f"{seconds}S" if seconds else "")
    )
    days = f"{value.days}D" if value.days else ""
    return f"{sign}P{days}{'T' + time if time else ''}"


def offset(value: timedelta) -> str:
    """A UTC-OFFSET value: "+0530", "-0500", "+0000", with seconds only when there are some."""
    total = int(value.total_seconds())
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{'-' if total < 0 else '+'}{hours:02}{minutes:02}{f'{seconds:02}' if seconds else ''}"


def local_time(value: datetime) -> str:
    """A DATE-TIME in local (floating) form, as a VTIMEZONE's DTSTART is written: 19700308T020000."""
    return f"{value:%Y%m%dT%H%M%S}"
