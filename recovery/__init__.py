"""recovery: a surgeon's rehabilitation protocol becomes a patient's calendar.

Protocol (what the surgeon's file says, no dates) + Plan (one patient) → Schedule (plain dated
items) → writers (.ics, JSON, agenda, handout). The library API, for a clinic system or a web
app (docs/library.md)::

    from datetime import date
    import recovery

    protocol = recovery.load("proximal-hamstring-repair")          # once
    schedule = recovery.build(protocol, recovery.Plan(surgery_date=date(2027, 3, 1), timezone="Europe/Berlin"))
    calendar = recovery.to_ics(schedule)                            # bytes
    data = recovery.to_json(schedule)                               # bytes

The library reads protocol files and writes nothing; pass `cache=recovery.Cache.open(folder)[0]`
to `load` to keep validated protocols, as the command line does. Every failure is a
`RecoveryError` (`ProtocolError`, `PlanError`, `OutputError`) whose `problems` name the file,
item and field. See docs/architecture.md for the layers; the command line is `recovery.cli`.

Names are imported on first use (so that `recovery --help` stays fast); type checkers and
`dir(recovery)` see them all.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from recovery.cache import Cache
    from recovery.errors import OutputError, PlanError, Problem, ProtocolError, RecoveryError
    from recovery.protocol.loader import load
    from recovery.protocol.model import Protocol
    from recovery.schedule.build import build
    from recovery.schedule.items import Schedule
    from recovery.schedule.plan import Plan
    from recovery.schedule.validate import Findings, validate
    from recovery.schedule.zones import check_timezone
    from recovery.writers.agenda import render as agenda
    from recovery.writers.handout import render as to_handout
    from recovery.writers.ics import write as to_ics
    from recovery.writers.previous import read_previous
    from recovery.writers.schedule_json import write as to_json

_WHERE = {  # public name: (module, name there)
    "Cache": ("recovery.cache", "Cache"),
    "Findings": ("recovery.schedule.validate", "Findings"),
    "OutputError": ("recovery.errors", "OutputError"),
    "Plan": ("recovery.schedule.plan", "Plan"),
    "PlanError": ("recovery.errors", "PlanError"),
    "Problem": ("recovery.errors", "Problem"),
    "Protocol": ("recovery.protocol.model", "Protocol"),
    "ProtocolError": ("recovery.errors", "ProtocolError"),
    "RecoveryError": ("recovery.errors", "RecoveryError"),
    "Schedule": ("recovery.schedule.items", "Schedule"),
    "agenda": ("recovery.writers.agenda", "render"),
    "build": ("recovery.schedule.build", "build"),
    "check_timezone": ("recovery.schedule.zones", "check_timezone"),
    "load": ("recovery.protocol.loader", "load"),
    "read_previous": ("recovery.writers.previous", "read_previous"),
    "to_handout": ("recovery.writers.handout", "render"),
    "to_ics": ("recovery.writers.ics", "write"),
    "to_json": ("recovery.writers.schedule_json", "write"),
    "validate": ("recovery.schedule.validate", "validate"),
}
__all__ = [
    "Cache",
    "Findings",
    "OutputError",
    "Plan",
    "PlanError",
    "Problem",
    "Protocol",
    "ProtocolError",
    "RecoveryError",
    "Schedule",
    "agenda",
    "build",
    "check_timezone",
    "load",
    "read_previous",
    "to_handout",
    "to_ics",
    "to_json",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'recovery' has no attribute {name!r}")
    module, attribute = _WHERE[name]
    value = getattr(import_module(module), attribute)
    globals()[name] = value  # the next use is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])
