"""One patient's plan: the surgery date and everything else that turns a protocol into dates.

A Plan holds only what the patient or clinic chose (zone, side, variant, overrides, times of
day, actual dates). It holds no name or other identifying data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from recovery.words import SLOTS


@dataclass(frozen=True)
class Plan:
    """What one patient's calendar is built from."""

    surgery_date: date
    timezone: str = "UTC"
    side: str | None = None  # "left" or "right", fills {side} in texts
    variant: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)  # parameter name → value as typed
    slot_times: dict[str, time] = field(default_factory=lambda: dict(SLOTS))
    alarm_minutes: int = 0  # how long before a reminder its alarm goes off
    calendar_name: str | None = None
    discreet: bool = False  # titles say nothing medical
    start_from: date | None = None  # skip what is before this day (a patient who starts late)
    actuals: dict[str, date] = field(default_factory=dict)  # milestone id → the day it happened
    plan_id: str = ""  # tells apart two plans meant for one calendar (both legs); never identifying data
