"""recovery: a surgeon's rehabilitation protocol becomes a patient's calendar.

Protocol (what the surgeon's file says, no dates) + Plan (one patient) → Schedule (plain dated
items) → writers (.ics, terminal timeline). The command line is `recovery.cli`.
"""

from recovery.errors import PlanError, Problem, ProtocolError, RecoveryError
from recovery.loader import load
from recovery.plan import Plan
from recovery.protocol import Protocol
from recovery.schedule import Schedule, build

__all__ = ["Plan", "PlanError", "Problem", "Protocol", "ProtocolError", "RecoveryError", "Schedule", "build", "load"]
