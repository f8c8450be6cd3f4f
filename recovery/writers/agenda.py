"""The agenda: what a patient may do today (or this week), and what comes next.

A writer: it reads only the Schedule. Days are counted as everywhere else in the project:
day 0 is the surgery day, and "3 weeks" means day 21 (see docs/protocol-format.md).
Styling is ANSI, asked for by the caller; the text reads the same without it.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date, timedelta

from recovery.language import Words, words
from recovery.schedule.items import Schedule, Series
from recovery.words import clock

UPCOMING = 5  # how many milestones and visits "coming up" lists


class _Style:
    def __init__(self, color: bool):
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def warn(self, text: str) -> str:
        return self._wrap("1;31", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)


def since_surgery(schedule: Schedule, day: date) -> str:
    """ "day 23 (3 weeks and 2 days after surgery)", or how long until surgery (day 0 as the
    protocol names it: "after your first visit")."""
    w = words(schedule.plan.language)
    said = schedule.said
    n = schedule.day_number(day)
    if n < 0:
        return w(said.before).format(span=w.count(-n, "day"))
    if n == 0:
        return w(said.the_day)
    return w("day {number} ({span})").format(number=n, span=w(said.after).format(span=w.weeks_and_days(n)))


def agenda(schedule: Schedule, day: date, week: bool = False, color: bool = False, width: int = 80) -> str:
    """The agenda for `day`, or for the 7 days from `day`, as text `width` columns wide."""
    style = _Style(color)
    w = words(schedule.plan.language)
    days = [day + timedelta(n) for n in range(7 if week else 1)]
    out = [style.bold(f"{w.iso_date(day)} · {since_surgery(schedule, day)}")]
    out.append(w("{title}, version {version}").format(title=schedule.protocol_title, version=schedule.protocol_version))
    if schedule.contact:
        out += _wrap(w("Questions, or a red flag below: {contact}").format(contact=schedule.contact), width, 0, hang=2)
    out.append("")
    n = schedule.day_number(day)
    if n < 0:
        out += [w(schedule.said.is_on).format(day=w.iso_date(schedule.plan.surgery_date)), ""]
    elif day > schedule.last_day:
        out += [
            w("The planned course ended on {day} (day {number}).").format(
                day=w.iso_date(schedule.last_day), number=schedule.day_number(schedule.last_day)
            ),
            w(schedule.said.after_course),
            "",
        ]

    phases = [p for p in schedule.phases if p.start <= days[-1] and p.end > day]
    for phase in phases:
        when = w("day {first} to {last}").format(
            first=schedule.day_number(phase.start), last=schedule.day_number(phase.end) - 1
        )
        if phase.until_ready:  # a stage lasts until the patient is ready: its end is no date
            when = w("from day {first}").format(first=schedule.day_number(phase.start))
        elif phase.start > day:
            when += "; " + w("starts {day}").format(day=w.short_date(phase.start))
        else:
            when += "; " + w("{span} left").format(span=w.count((phase.end - day).days, "day"))
        out.append(style.bold(phase.title) + style.dim(f"  ({when})"))
        if phase.weight_bearing:
            out += _wrap(w("Weight bearing: {text}").format(text=phase.weight_bearing), width, 2)
        if phase.brace:
            out += _wrap(w("Brace: {text}").format(text=phase.brace), width, 2)
        for text in phase.precautions:
            out += [style.warn(line) if i == 0 else line for i, line in enumerate(_wrap(f"! {text}", width, 2))]
        for text in phase.advice:
            out += _wrap(f"· {text}", width, 2)
        out.append("")

    for current in days:
        if not schedule.first_day <= current <= schedule.last_day:
            continue  # before surgery or after the course: nothing is due
        heading = (
            w("{day} · day {number}").format(day=w.iso_date(current), number=schedule.day_number(current))
            if week
            else w("Today")
        )
        out += [style.bold(heading), *_day_items(schedule, current, width, style, w), ""]

    upcoming = _upcoming(schedule, days[-1], w)
    if upcoming:
        out.append(style.bold(w("Coming up")))
        for coming, text in upcoming:
            out += _wrap(f"{w.in_days((coming - day).days):<12} {w.iso_date(coming)}  {text}", width, 2)
        out.append("")

    if schedule.red_flags:
        out.append(style.warn(w("Red flags: get help")))
        for sign, action in schedule.red_flags:
            out += _wrap(f"! {sign}: {action}", width, 2)
        out.append("")
    if schedule.normal:
        out.append(style.bold(w(schedule.said.normal)))
        for text in schedule.normal:
            out += _wrap(f"· {text}", width, 2)
        out.append("")
    out += _wrap(w(schedule.said.first), width, 0, hang=0)
    return "\n".join(out) + "\n"


def _day_items(schedule: Schedule, day: date, width: int, style: _Style, w: Words) -> list[str]:
    lines = []
    for milestone in schedule.milestones:
        if milestone.date == day:
            lines += _wrap(f"* {milestone.title}", width, 2)
            lines += [
                line for check in milestone.check for line in _wrap(w("check: {text}").format(text=check), width, 6)
            ]
    for visit in schedule.appointments:
        if visit.first <= day <= visit.last:
            window = (
                w("today")
                if visit.first == visit.last
                else w("between {first} and {last}").format(
                    first=w.short_date(visit.first), last=w.short_date(visit.last)
                )
            )
            lines += _wrap(f"* {visit.title} ({window})", width, 2)
    by_time: dict[str, list[Series]] = {}
    for series in schedule.routines:
        if series.occurs_on(day):
            by_time.setdefault(clock(series.time), []).append(series)
    for at in sorted(by_time):
        for i, series in enumerate(by_time[at]):
            dose = f" · {series.dose}" if series.dose else ""
            minutes = (
                "" if series.medication else style.dim(" (" + w("{minutes} min").format(minutes=series.minutes) + ")")
            )
            text = f"{at if i == 0 else '':<5}  {series.title}{dose}" + minutes
            lines += _wrap(text, width + (len(text) - len(_plain(text))), 2, hang=9)
    if not lines:
        lines.append("  " + w("No reminders."))
    return lines


def _upcoming(schedule: Schedule, after: date, w: Words) -> list[tuple[date, str]]:
    found = [(m.date, m.title) for m in schedule.milestones if m.date > after]
    found += [(a.first, a.title) for a in schedule.appointments if a.first > after]
    found += [(p.start, w("{title} begins").format(title=p.title)) for p in schedule.phases if p.start > after]
    return sorted(found)[:UPCOMING]


def _plain(text: str) -> str:
    return re.sub(r"\033\[[0-9;]*m", "", text)


def _wrap(text: str, width: int, indent: int, hang: int = 2) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=" " * indent, subsequent_indent=" " * (indent + hang)) or [""]
