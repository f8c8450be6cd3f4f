"""The JSON writer: a Schedule as stable, documented data for clinic software.

The shape is described in docs/schedule-json.md and pinned by tests; a change to it raises
FORMAT_VERSION. Dates are ISO 8601 days, clock times are local "HH:MM" in `plan.timezone`,
and spans give both `start` and `end` (exclusive, as in the protocol) and their `last_day`.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from recovery.language import words
from recovery.schedule.items import Schedule
from recovery.words import clock

FORMAT = "recovery-schedule"
FORMAT_VERSION = 2


def to_data(schedule: Schedule) -> dict[str, Any]:
    """The schedule as plain JSON data, keys in a fixed order."""
    plan = schedule.plan
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "notice": words(schedule.plan.language)(schedule.said.first),
        "protocol": {
            "id": schedule.protocol_id,
            "title": schedule.protocol_title,
            "version": schedule.protocol_version,
            "references": list(schedule.references),
        },
        "plan": {
            "surgery_date": _day(plan.surgery_date),
            "timezone": plan.timezone,
            "side": plan.side,
            "variant": plan.variant,
            "parameters": dict(sorted(schedule.values.items())),
            "times": {slot: clock(moment) for slot, moment in plan.slot_times.items()},
            "alarm_minutes": plan.alarm_minutes,
            "from": _day(plan.start_from) if plan.start_from else None,
            "actual": {name: _day(day) for name, day in sorted(plan.actuals.items())},
        },
        "first_day": _day(schedule.first_day),
        "last_day": _day(schedule.last_day),
        "phases": [
            {
                "id": p.id,
                "title": p.title,
                "start": _day(p.start),
                "end": _day(p.end),
                "last_day": _day(p.end - timedelta(1)),
                "description": p.description,
                "weight_bearing": p.weight_bearing,
                "brace": p.brace,
                "precautions": list(p.precautions),
                "goals": list(p.goals),
                "advice": list(p.advice),
            }
            for p in schedule.phases
        ],
        "milestones": [
            {
                "id": m.id,
                "title": m.title,
                "date": _day(m.date),
                "day": schedule.day_number(m.date),
                "description": m.description,
                "check": list(m.check),
                "actual": m.actual,
                "clearance": m.clearance or None,
            }
            for m in schedule.milestones
        ],
        "appointments": [
            {
                "id": a.id,
                "title": a.title,
                "first_day": _day(a.first),
                "last_day": _day(a.last),
                "book_by": _day(a.book_by) if a.book_by else None,
                "description": a.description,
            }
            for a in schedule.appointments
        ],
        "routines": [
            {
                "id": r.id,
                "slot": r.slot,
                "time": clock(r.time),
                "title": r.title,
                "dose": r.dose,
                "pictures": list(r.pictures),
                "minutes": r.minutes,
                "medication": r.medication,
                "first_day": _day(r.first),
                "last_day": _day(r.last),
                "weekdays": list(r.weekdays),
                "every_days": r.every,
                "count": r.count,
                "description": r.description,
                "phase": r.phase or None,
            }
            for r in schedule.routines
        ],
        "red_flags": [{"sign": sign, "action": action} for sign, action in schedule.red_flags],
        "normal": list(schedule.normal),
        "contact": schedule.contact,
        "words": [{"term": term, "meaning": meaning} for term, meaning in schedule.words],
    }


def to_json(schedule: Schedule) -> bytes:
    """The schedule as UTF-8 JSON, indented, ending in a newline."""
    return (json.dumps(to_data(schedule), indent=2, ensure_ascii=False) + "\n").encode()


def _day(day: date) -> str:
    return day.isoformat()
