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

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the API: each public name, once (`_where` reads this block at run time)
    from recovery.cache import Cache as Cache
    from recovery.errors import OutputError as OutputError
    from recovery.errors import PlanError as PlanError
    from recovery.errors import Problem as Problem
    from recovery.errors import ProtocolError as ProtocolError
    from recovery.errors import RecoveryError as RecoveryError
    from recovery.protocol.loader import load as load
    from recovery.protocol.model import Protocol as Protocol
    from recovery.schedule.build import build as build
    from recovery.schedule.items import Schedule as Schedule
    from recovery.schedule.plan import Plan as Plan
    from recovery.schedule.validate import Findings as Findings
    from recovery.schedule.validate import validate as validate
    from recovery.schedule.zones import check_timezone as check_timezone
    from recovery.writers.agenda import agenda as agenda
    from recovery.writers.handout import to_handout as to_handout
    from recovery.writers.ics import to_ics as to_ics
    from recovery.writers.previous import read_previous as read_previous
    from recovery.writers.schedule_json import to_json as to_json


@cache
def _where() -> dict[str, str]:
    """Each public name and its module, read from the imports under TYPE_CHECKING above, so
    that type checkers and `import recovery` see one list; read on a name's first use only."""
    import ast

    with open(__file__, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    return {alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name == "__all__":
        return sorted(_where())
    module = _where().get(name)
    if module is None:
        raise AttributeError(f"module 'recovery' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next use is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*_where(), "__version__"])
