"""The schedule layer: a protocol and one patient's plan become plain dated items.

- `plan`: what one patient's calendar is built from (no identifying data).
- `items`: the Schedule and its items, the only thing writers read.
- `build`: the scheduler itself; `zones`: time-zone names and skipped clock times.
- `trial`: a protocol laid out on fixed surgery dates, which is how `validate` finds date problems.
"""

from recovery.schedule.build import build
from recovery.schedule.items import SURGEON_FIRST, Day, Schedule, Series, Span, Window
from recovery.schedule.plan import Plan

__all__ = ["SURGEON_FIRST", "Day", "Plan", "Schedule", "Series", "Span", "Window", "build"]
