"""Checking protocol data against the model with pydantic, and the JSON Schema from the same model.

Pydantic's errors are rewritten in a surgeon's words: the file, the item (`phases[id=protection]`),
the field, what was expected and, for a typo, the nearest valid name. This is the only module
that imports pydantic, and only the first use of a protocol file (or `validate`) loads it.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from recovery.errors import Problem, ProtocolError, did_you_mean, place
from recovery.protocol.consistency import check_protocol
from recovery.protocol.model import (
    LOADER_FIELDS,
    SECTIONS,
    Appointment,
    Conflict,
    Dose,
    Milestone,
    NotBefore,
    Parameter,
    Phase,
    Protocol,
    RedFlag,
    Routine,
    Step,
    Variant,
    located,
)
from recovery.words import SLOTS, count, quoted_choices

_NAMED_SLOTS = ", ".join(f'"{slot}"' for slot in SLOTS)
_SECTION_MODELS = {"phases": Phase, "milestones": Milestone, "routines": Routine, "appointments": Appointment}


@cache
def adapter() -> TypeAdapter[Protocol]:
    return TypeAdapter(Protocol)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a protocol file, generated from the model the loader validates with."""
    schema = adapter().json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Rehabilitation protocol",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def validate(
    raw: dict[str, Any],
    sources: dict[tuple[str, str], str],
    source: str,
    removed: Mapping[str, tuple[str, str]] | None = None,
) -> Protocol:
    """A Protocol from merged file data, or a ProtocolError with every problem found. `removed`
    (id → the file and place of its `remove` entry) turns the problems of items that still use a
    removed one into one problem at that entry."""
    try:
        protocol = adapter().validate_python(raw)
    except ValidationError as error:
        problems = _explain(error, raw, sources, source)
        raise ProtocolError(problems + _problems_in_the_rest(error, raw, sources, source)) from None
    protocol = located(protocol, source, sources)
    problems = _at_removals(check_protocol(protocol), removed or {})
    if problems:
        raise ProtocolError(problems)
    return protocol


def _at_removals(problems: list[Problem], removed: Mapping[str, tuple[str, str]]) -> list[Problem]:
    """Problems that come from removing an item that others still use, as one problem at the
    `remove` entry, naming each place that uses it."""
    users: dict[str, list[Problem]] = {}
    rest = []
    for problem in problems:
        gone = next((name for name in problem.refers if name in removed), None)
        if gone is None:
            rest.append(problem)
        else:
            users.setdefault(gone, []).append(problem)
    at_entries = []
    for gone, found in users.items():
        file, place = removed[gone]
        places = sorted(dict.fromkeys(f"{Path(p.file).name}: {p.where}" for p in found))
        at_entries.append(
            Problem(
                f'"{gone}" is still used by {count(len(places), "field")} of inherited items: {"; ".join(places)}; '
                "remove or change those too",
                file,
                place,
            )
        )
    return at_entries + rest


def _problems_in_the_rest(
    error: ValidationError, raw: dict[str, Any], sources: dict[tuple[str, str], str], source: str
) -> list[Problem]:
    """The cross-item problems of the items whose fields are valid, so that one run reports all.

    Items with field errors are left out, and what refers to them is not reported again; except
    an item whose only errors are unknown keys or unreadable dates: those keys are left out and
    those dates read as day 0, so that the item's other fields are checked too (a bad `end`
    behind the same item's bad `start`), and nothing is reported at the dates read as day 0."""
    broken: dict[str, set[Any]] = {}
    for detail in error.errors():
        loc = detail["loc"]
        if len(loc) >= 2 and loc[0] in (*SECTIONS, "parameters", "variants", "red_flags"):
            broken.setdefault(loc[0], set()).add(loc[1])
        elif loc:
            return []  # a top-level field is wrong: nothing else can be checked reliably
    # An item mended where it can be: unknown keys left out, unreadable dates read as day 0.
    mended: dict[tuple[str, int], dict[str, Any]] = {}
    unmendable: set[tuple[str, int]] = set()
    guessed: set[str] = set()  # the places of the dates read as day 0
    for detail in error.errors():
        loc = detail["loc"]
        items = raw.get(str(loc[0]))
        if loc[0] not in SECTIONS or not isinstance(items, list) or not isinstance(loc[1], int):
            continue
        item = items[loc[1]] if loc[1] < len(items) else None
        if not isinstance(item, dict) or len(loc) != 3:
            unmendable.add((loc[0], loc[1]))
            continue
        fix = mended.setdefault((loc[0], loc[1]), dict(item))
        if detail["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            fix.pop(str(loc[2]), None)
        elif loc[2] in _DATES and detail["type"] == "time_expr":
            fix[str(loc[2])] = "day 0"
            guessed.add(place(loc[0], str(item.get("id")), str(loc[2])))
        else:
            unmendable.add((loc[0], loc[1]))
    for (section, position), fix in mended.items():
        if (section, position) not in unmendable:
            raw = {**raw, section: [fix if i == position else x for i, x in enumerate(raw[section])]}
            broken[section].discard(position)
    rest = dict(raw)
    dropped: set[str] = set()
    for key, positions in broken.items():
        if isinstance(raw.get(key), list):
            dropped |= {str(x.get("id")) for i, x in enumerate(raw[key]) if i in positions and isinstance(x, dict)}
            rest[key] = [x for i, x in enumerate(raw[key]) if i not in positions]
        elif isinstance(raw.get(key), dict):
            dropped |= {str(name) for name in positions}
            rest[key] = {k: v for k, v in raw[key].items() if k not in positions}
    try:
        protocol = adapter().validate_python(rest)
    except ValidationError:
        return []
    protocol = located(protocol, source, sources)
    return [p for p in check_protocol(protocol) if not dropped.intersection(p.refers) and p.where not in guessed]


#: The fields of an item that hold a date (a time expression).
_DATES = ("start", "end", "at")


def _explain(
    error: ValidationError, raw: dict[str, Any], sources: dict[tuple[str, str], str], source: str
) -> list[Problem]:
    """Pydantic's errors in a surgeon's words: file, item, field, what was expected."""
    problems = []
    details = error.errors()
    # A typo'd key ("titel") also makes its real key missing: report the typo alone.
    misspelled = {
        (*d["loc"][:-1], match)
        for d in details
        if d["type"] in ("extra_forbidden", "unexpected_keyword_argument")
        for match in difflib.get_close_matches(str(d["loc"][-1]), _keys_at(list(d["loc"][:-1])), n=1, cutoff=0.6)
    }
    for detail in details:
        loc = list(detail["loc"])
        if detail["type"] == "missing" and tuple(loc) in misspelled:
            continue
        file = source
        place: list[str] = []
        model: type = Protocol
        data: Any = raw
        for i, part in enumerate(loc):
            if isinstance(part, int):
                item = data[part] if isinstance(data, list) and part < len(data) else None
                if i == 1 and isinstance(item, dict) and isinstance(item.get("id"), str):
                    place[-1] += f"[id={item['id']}]"
                    file = sources.get((str(loc[0]), item["id"]), source)
                else:
                    place[-1] += f"[{part}]"
                data = item
            else:
                place.append(str(part))
                data = data.get(part) if isinstance(data, dict) else None
            model = _model_at(loc[: i + 1]) or model
        problems.append(Problem(_message(detail, model, loc), file, ".".join(place)))
    return problems


def _model_at(loc: list[Any]) -> type | None:
    """The model that owns the keys at a location, for "did you mean" on an unknown key."""
    shape = tuple("#" if isinstance(p, int) else p for p in loc)
    if len(shape) == 2 and shape[0] in _SECTION_MODELS and shape[1] == "#":
        return _SECTION_MODELS[shape[0]]
    if shape[-1:] == ("dose",) and len(shape) == 3:
        return Dose
    if len(shape) == 2 and shape[0] == "parameters":
        return Parameter
    if len(shape) == 2 and shape[0] == "variants":
        return Variant
    if shape == ("red_flags", "#"):
        return RedFlag
    if shape == ("not_before", "#"):
        return NotBefore
    if shape == ("steps", "#"):
        return Step
    if shape == ("conflicts", "#"):
        return Conflict
    return None


def _keys_at(loc: list[Any]) -> list[str]:
    model = _model_at(loc) if loc else Protocol
    return _file_keys(model) if model else []


def _file_keys(model: type) -> list[str]:
    """The keys a protocol file may use for this model (fields the loader sets are not among them)."""
    return [f.name for f in dataclasses.fields(model) if f.name not in LOADER_FIELDS]


def _message(detail: ErrorDetails, model: type, loc: list[Any]) -> str:
    kind, given = detail["type"], detail.get("input")
    field = str(loc[-1]) if loc else ""
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        keys = _file_keys(model)
        if model not in (None, Protocol) and field in _file_keys(Protocol):
            return (
                f'unknown key "{field}" here; it is a key of the whole file: TOML puts every key after a '
                "[table] or [[list]] header into it, so write it above the first header"
            )
        return f'unknown key "{field}"' + (did_you_mean(field, keys) or f"; expected one of {quoted_choices(keys)}")
    if kind == "missing":
        return f'missing the required key "{field}"'
    if kind == "string_pattern_mismatch":
        if "times" in loc:
            return f'"{given}" is not a time of day; expected {_NAMED_SLOTS} or a clock time like "07:30"'
        return f'"{given}" is not a valid id; use lower-case letters, digits and hyphens, like "brace-off"'
    if kind == "literal_error":
        choices = [c.strip(" '") for c in detail["ctx"]["expected"].replace(" or ", ",").split(",")]
        return f'"{given}" is not one of {quoted_choices(choices)}{did_you_mean(str(given), choices)}'
    if kind in ("time_expr", "parameter_value"):
        return str(detail["msg"])
    if kind == "value_error":  # raised by a model's own check (__post_init__)
        return str(detail["ctx"]["error"]) if "ctx" in detail else detail["msg"].removeprefix("Value error, ")
    if kind in ("too_short", "too_long") and "window" in loc:
        return "a window is two time expressions: [first day, last day]"
    return (
        f"{detail['msg'].rstrip('.').lower()}, got {given!r}"
        if given is not None and not isinstance(given, dict)
        else detail["msg"]
    )
