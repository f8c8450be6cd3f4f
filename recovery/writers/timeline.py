"""The terminal timeline: a Schedule as phase bars on a week scale, then its dated items.

A writer: it reads only the Schedule. With `dated`, real dates are shown beside day numbers.
"""

from __future__ import annotations

import math
import textwrap
from datetime import date, timedelta

from recovery.schedule.items import Schedule, by_routine
from recovery.words import iso_date

BAR_LABEL = 24  # columns for a phase's name beside its bar


def render(schedule: Schedule, dated: bool = True, width: int = 80) -> str:
    """The whole course as text that fits `width` columns, for the surgeon who edits the protocol:
    each item with its id in brackets, which `remove`, `during` and a derived protocol name."""
    lines = [f"{schedule.protocol_title}  ({schedule.protocol_id}, version {schedule.protocol_version})"]
    day0 = schedule.plan.surgery_date
    if dated:
        lines.append(f"{schedule.said.label}: {iso_date(day0)}")
    else:
        event = {"surgery": "a surgery", "first-visit": "a first visit", "injury": "an injury"}[schedule.day_zero]
        lines.append(f"Day numbers for {event} on {day0.isoformat()}; months are calendar months.")
    if schedule.plan.variant:
        lines.append(f"Variant: {schedule.plan.variant}")
    lines += ["", *_bars(schedule, width), ""]

    def when(first: date, last: date | None = None) -> str:
        text = f"day {schedule.day_number(first)}"
        if last is not None and last != first:
            text += f"-{schedule.day_number(last)}"
        if dated:
            text += f"  {iso_date(first)}" + (f" - {iso_date(last)}" if last is not None and last != first else "")
        return text

    lines.append("Phases")
    for phase in schedule.phases:
        lines.append(f"  {when(phase.start, phase.end - timedelta(1))}  {phase.title}  [{phase.id}]")
        for label, text in (("weight bearing", phase.weight_bearing), ("brace", phase.brace)):
            if text:
                lines += _wrap(f"{label}: {text}", width, 6)
        for text in phase.precautions:
            lines += _wrap(f"! {text}", width, 6)
        for text in phase.advice:
            lines += _wrap(f"· {text}", width, 6)
    lines += ["", "Milestones"]
    for milestone in schedule.milestones:
        lines += _wrap(
            f"{when(milestone.date)}  {milestone.title}  [{milestone.id}]" + ("  (actual)" if milestone.actual else ""),
            width,
            2,
        )
        for text in milestone.check:
            lines += _wrap(f"check: {text}", width, 6)
    lines += ["", "Appointments"]
    for visit in schedule.appointments:
        lines.append(f"  {when(visit.first, visit.last)}  {visit.title}  [{visit.id}]")
    lines += ["", "Routines"]
    for series in by_routine(schedule.routines).values():
        first = series[0]
        slots = ", ".join(s.slot for s in series)
        dose = f" · {first.dose}" if first.dose else ""
        days = " on " + ", ".join(first.weekdays) if first.weekdays else ""
        days += f" every {first.every} days" if first.every > 1 else ""
        lines.append(f"  {when(first.first, first.last)}  {first.title}{dose}  [{first.id}]")
        lines += _wrap(f"{slots}{days}, {first.minutes} min", width, 6)
    if schedule.red_flags:
        team = "surgical team" if schedule.day_zero == "surgery" else "care team"
        lines += ["", f"Red flags: contact your {team}"]
        for sign, action in schedule.red_flags:
            lines += _wrap(f"! {sign}: {action}", width, 2)
    if schedule.normal:
        lines += ["", schedule.said.normal]
        for text in schedule.normal:
            lines += _wrap(f"· {text}", width, 2)
    return "\n".join(lines) + "\n"


def _bars(schedule: Schedule, width: int) -> list[str]:
    """Phases as bars under a week ruler."""
    day0 = schedule.plan.surgery_date
    total = max((schedule.last_day - day0).days + 1, 7)
    columns = width - BAR_LABEL - 2
    # a whole fraction or multiple of a week per column, so the week ruler stays regular
    days_per_column = next((d for d in (1, 3.5, 7, 14, 28) if total / d <= columns), math.ceil(total / columns))
    # a labelled tick every 1, 2, 4 or 8 weeks, at least 5 columns apart so the numbers fit
    step = next((w for w in (1, 2, 4, 8, 16) if w * 7 / days_per_column >= 5), 26)
    columns = min(columns, math.ceil(total / days_per_column) + 1)
    ruler = [" "] * columns
    labels = [" "] * (columns + 6)
    week = 0
    while int(week * 7 // days_per_column) < columns:
        col = int(week * 7 // days_per_column)
        ruler[col] = "|"
        for i, ch in enumerate(str(week)):
            if col + i < len(labels):
                labels[col + i] = ch
        week += step
    out = [f"{'week':<{BAR_LABEL}}  {''.join(labels).rstrip()}", f"{'':<{BAR_LABEL}}  {''.join(ruler).rstrip()}"]
    for phase in schedule.phases:
        start = int((phase.start - day0).days // days_per_column)
        end = min(columns, max(start + 1, math.ceil((phase.end - day0).days / days_per_column)))
        bar = " " * start + "█" * (end - start)
        out.append(f"{_cut(phase.title, BAR_LABEL):<{BAR_LABEL}}  {bar}")
    return out


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _wrap(text: str, width: int, indent: int) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=" " * indent, subsequent_indent=" " * (indent + 2))
