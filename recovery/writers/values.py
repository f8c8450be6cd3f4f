"""iCalendar values as text for the calendar writer, which assembles its lines from them without
icalendar's component objects (see docs/performance.md): TEXT escaped here (icalendar's vText
misreads a backslash before N), DURATION encoded by icalendar."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from icalendar.prop import vDuration


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
    """A DURATION value: "PT0S" at zero (as Apple Calendar writes it), else icalendar's ("-PT10M")."""
    if not value:
        return "PT0S"
    encoded: bytes = vDuration(value).to_ical()  # type: ignore[no-untyped-call]
    return encoded.decode()
