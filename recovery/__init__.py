"""recovery: a surgeon's rehabilitation protocol becomes a patient's calendar.

Protocol (what the surgeon's file says, no dates) + Plan (one patient) → Schedule (plain dated
items) → writers (.ics, JSON, agenda, timeline, handout). See docs/architecture.md for the layers;
the command line is `recovery.cli`.

Names are imported on first use, so that `recovery --help` does not pay for the validator.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_WHERE = {
    "OutputError": "recovery.errors",
    "Plan": "recovery.schedule.plan",
    "PlanError": "recovery.errors",
    "Problem": "recovery.errors",
    "Protocol": "recovery.protocol.model",
    "ProtocolError": "recovery.errors",
    "RecoveryError": "recovery.errors",
    "Schedule": "recovery.schedule.items",
    "build": "recovery.schedule.build",
    "load": "recovery.protocol.loader",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'recovery' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
