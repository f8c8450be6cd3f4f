"""What a protocol lets a plan choose, as plain data: its parameters with their bounds and choices,
its variants, the milestones `--actual` accepts and the named times of day.

`recovery show NAME --parameters` prints it, so that nobody has to read TOML to find these names.
"""

from __future__ import annotations

from typing import Any

from recovery.protocol.model import Protocol
from recovery.words import SLOTS, clock


def choices(protocol: Protocol) -> dict[str, Any]:
    """The protocol's adjustable names, in a fixed shape (also printed as JSON)."""
    return {
        "protocol": protocol.id,
        "title": protocol.title,
        "version": protocol.version,
        "parameters": {
            name: {
                "default": parameter.default,
                "kind": _kind(parameter.sample),
                "set_by_clinician": parameter.blank,
                "min": parameter.min,
                "max": parameter.max,
                "choices": parameter.choices,
                "description": parameter.description,
            }
            for name, parameter in protocol.parameters.items()
        },
        "variants": {name: {"description": v.description, "set": dict(v.set)} for name, v in protocol.variants.items()},
        "milestones": {
            m.id: {"title": m.title, "only_if": m.only_if, "clearance": m.clearance} for m in protocol.milestones
        },
        "times_of_day": {slot: clock(moment) for slot, moment in SLOTS.items()},
    }


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    return "whole number" if isinstance(value, int) else "text"
