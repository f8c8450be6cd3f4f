"""One patient's plan: the surgery date and everything else that turns a protocol into dates.

A Plan holds only what the patient or clinic chose (zone, side, variant, overrides, times of
day, actual dates). It holds no name or other identifying data.
"""

from __future__ import annotations

import difflib
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, time
from functools import cache

from recovery.errors import PlanError, one_of
from recovery.protocol import SLOTS

DEFAULT_SLOT_TIMES = {slot: time.fromisoformat(clock) for slot, clock in SLOTS.items()}


@dataclass(frozen=True)
class Plan:
    """What one patient's calendar is built from."""

    surgery_date: date
    timezone: str = "UTC"
    side: str | None = None  # "left" or "right", fills {side} in texts
    variant: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)  # parameter name → value as typed
    slot_times: dict[str, time] = field(default_factory=lambda: dict(DEFAULT_SLOT_TIMES))
    alarm_minutes: int = 0  # how long before a reminder its alarm goes off
    calendar_name: str | None = None
    discreet: bool = False  # titles say nothing medical
    start_from: date | None = None  # skip what is before this day (a patient who starts late)
    actuals: dict[str, date] = field(default_factory=dict)  # milestone id → the day it happened


def machine_timezone() -> str:
    """This machine's IANA zone name, or UTC when it has none."""
    import tzlocal  # imported late: only the default zone needs it

    try:
        name = tzlocal.get_localzone_name()
    except Exception:  # noqa: BLE001 - any failure to read the machine's zone means "no zone"
        return "UTC"
    return name if name and name in zone_names() else "UTC"


@cache
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(name: str) -> str:
    """The IANA zone name as given, or a PlanError suggesting the nearest names."""
    try:
        if "/" in name or name == "UTC":  # a real IANA name is found without listing them all
            zoneinfo.ZoneInfo(name)
            return name
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        pass
    if name in zone_names():
        return name
    by_lower = {zone.lower(): zone for zone in zone_names()}
    if name.lower() in by_lower:
        raise PlanError(
            f'unknown time zone "{name}"; did you mean "{by_lower[name.lower()]}"? (names are case-sensitive)'
        )
    close = difflib.get_close_matches(name, sorted(zone_names()), n=3, cutoff=0.6)
    if not close:  # "Berlin" → "Europe/Berlin": compare against the city part too
        cities = {zone.rsplit("/", 1)[-1].lower(): zone for zone in zone_names()}
        close = [cities[c] for c in difflib.get_close_matches(name.lower().replace(" ", "_"), cities, n=3, cutoff=0.7)]
    hint = f"; did you mean {one_of(close)}?" if close else ""
    raise PlanError(f'unknown time zone "{name}"{hint} (use an IANA name such as "Europe/Berlin")')
