"""The command line's parameter types: each turns a typed value into data, or fails as a usage
error (exit 2) in click's words. `recovery.cli` and `recovery.batch` (for the CSV's cells) share them.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

import click

from recovery.errors import PlanError
from recovery.schedule.zones import check_timezone
from recovery.words import CLOCK_PATTERN, SLOTS, quoted_choices


def printable(text: str) -> str:
    """Text with every control character shown as an escape, so that echoing a user's input can
    neither break a message into lines nor send a command to the terminal."""
    return CONTROL_CHARACTER.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


# ---- Parameter types: each turns a typed value into data, or fails as a usage error (exit 2).


class DateType(click.ParamType[date]):
    """A calendar date written as YYYY-MM-DD, in the years calendars are written for (1900-2200)."""

    name = "YYYY-MM-DD"
    first_year, last_year = 1900, 2200

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            self.fail(f'"{printable(str(value))}" is not a date; write it as YYYY-MM-DD, e.g. 2027-03-01', param, ctx)
        try:
            day = date.fromisoformat(text)
        except ValueError as error:
            self.fail(f'"{value}" is not a day of the calendar ({error})', param, ctx)
        if not self.first_year <= day.year <= self.last_year:
            self.fail(f'"{value}": dates from {self.first_year} to {self.last_year} are supported', param, ctx)
        return day


class ClockTimeType(click.ParamType[time]):
    """A clock time written as 24-hour HH:MM (07:30), as protocol files write it."""

    name = "HH:MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> time:
        if isinstance(value, time):
            return value
        text = str(value).strip()
        if not re.fullmatch(CLOCK_PATTERN, text):
            self.fail(
                f'"{printable(str(value))}" is not a clock time; write HH:MM on the 24-hour clock, e.g. 07:30',
                param,
                ctx,
            )
        return time.fromisoformat(text)


class TextType(click.ParamType[str]):
    """A line of text: printable characters only, and not too long to be a mistake."""

    name = "TEXT"

    def __init__(self, max_length: int = 200):
        self.max_length = max_length

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        found = CONTROL_CHARACTER.search(text)
        if found:
            self.fail(f"a control character (U+{ord(found.group()):04X}) at character {found.start() + 1}", param, ctx)
        if len(text) > self.max_length:
            self.fail(f"{len(text):,} characters; at most {self.max_length:,}", param, ctx)
        return text


class ZoneType(click.ParamType[str]):
    """An IANA time zone name, such as Europe/Berlin."""

    name = "ZONE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return check_timezone(str(value))
        except PlanError as error:
            self.fail(printable(error.problems[0].message), param, ctx)


class AssignmentType(click.ParamType[tuple[str, Any]]):
    """NAME=VALUE, with the value converted by another type: ("protection_weeks", "5")."""

    def __init__(self, name: str, value: click.ParamType[Any] | None = None, names: tuple[str, ...] = ()):
        self.name = name
        self.value = value
        self.names = names  # the allowed names, when they are fixed (slots); else any

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, Any]:
        if isinstance(value, tuple):
            return value
        TEXT.convert(value, param, ctx)
        name, sep, text = str(value).partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name:
            self.fail(f'"{value}" should be {self.name}', param, ctx)
        if self.names and name not in self.names:
            self.fail(f'"{name}" is not a time of day; use {quoted_choices(self.names)}', param, ctx)
        return name, (self.value.convert(text, param, ctx) if self.value is not None else text)


CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
DATE = DateType()
TEXT = TextType()
PATH_TEXT = TextType(max_length=4096)
ZONE = ZoneType()
SET = AssignmentType("NAME=VALUE")
SLOT_TIME = AssignmentType("SLOT=HH:MM", ClockTimeType(), tuple(SLOTS))
ACTUAL = AssignmentType("MILESTONE=DATE", DATE)
