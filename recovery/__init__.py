"""recovery: a surgeon's rehabilitation protocol becomes a patient's calendar.

Protocol (what the surgeon's file says, no dates) + Plan (one patient) → Schedule (plain dated
items) → writers (.ics, JSON, agenda, timeline, handout). The library API, for a clinic system or
a web app (docs/library.md)::

    import recovery
    protocol = recovery.load("proximal-hamstring-repair")          # once
    schedule = recovery.build(protocol, recovery.Plan(surgery_date=date(2027, 3, 1), timezone="Europe/Berlin"))
    calendar = recovery.to_ics(schedule)                            # bytes
    data = recovery.to_json(schedule)                               # bytes

Every failure is a `RecoveryError` (`ProtocolError`, `PlanError`, `OutputError`) whose `problems`
name the file, item and field. See docs/architecture.md for the layers; the command line is
`recovery.cli`. Names are imported on first use, so that `recovery --help` stays fast.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_WHERE = {  # public name: (module, name there)
    "OutputError": ("recovery.errors", "OutputError"),
    "Plan": ("recovery.schedule.plan", "Plan"),
    "PlanError": ("recovery.errors", "PlanError"),
    "Problem": ("recovery.errors", "Problem"),
    "Protocol": ("recovery.protocol.model", "Protocol"),
    "ProtocolError": ("recovery.errors", "ProtocolError"),
    "RecoveryError": ("recovery.errors", "RecoveryError"),
    "Schedule": ("recovery.schedule.items", "Schedule"),
    "build": ("recovery.schedule.build", "build"),
    "check_timezone": ("recovery.schedule.zones", "check_timezone"),
    "load": ("recovery.protocol.loader", "load"),
    "read_previous": ("recovery.writers.ics", "read_previous"),
    "to_ics": ("recovery.writers.ics", "write"),
    "to_json": ("recovery.writers.schedule_json", "write"),
    "validate": ("recovery.schedule.trial", "check"),
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'recovery' has no attribute {name!r}")
    module, attribute = _WHERE[name]
    value = getattr(import_module(module), attribute)
    globals()[name] = value  # the next use is a plain attribute
    return value
