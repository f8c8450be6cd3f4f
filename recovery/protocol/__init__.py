"""The protocol layer: what a surgeon's file says, checked, and knowing no dates.

- `model`: the dataclasses a protocol file is read into (phases, milestones, routines, appointments).
- `timeexpr`: time expressions ("6 weeks", "brace-off + 2 weeks"), parsed but not yet dated.
- `references`: the graph of which item's date is counted from which.
- `consistency`: the checks that look across items.
- `validation`: pydantic checks each key and writes the JSON Schema (the only module importing pydantic).
- `loader`: finding files by name or path, `extends` and `remove`; `cache`: validated protocols kept on disk.
"""

from recovery.protocol.loader import load
from recovery.protocol.model import Appointment, Item, Milestone, Phase, Protocol, Routine

__all__ = ["Appointment", "Item", "Milestone", "Phase", "Protocol", "Routine", "load"]
