"""A validated protocol as plain JSON data and back, for the program's cache (`recovery.cache`).

An entry's key is a digest of the package version, the source of every module of this
subpackage (the model, its checks, this module) and the merged file data, so it can only hold
the answer a full check of that data by this code would give. The protocol is rebuilt into the
model's dataclasses from its annotations, without importing pydantic.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

from recovery import __version__
from recovery.cache import Cache, digest
from recovery.protocol.model import LOADER_FIELDS, Protocol
from recovery.protocol.timeexpr import TimeExpr, TimeExprError

#: The kind of the cache's entries that hold a validated protocol.
KIND = "protocol"


@cache
def code() -> bytes:
    """The package version, the source of every module that decides whether a protocol is valid,
    and the pictures it may name."""
    folder = Path(__file__).parent
    parts = [__version__.encode(), (folder.parent / "pictures" / "figures.toml").read_bytes()]
    for module in sorted(folder.glob("*.py")):
        parts += [module.name.encode(), module.read_bytes()]
    return digest(*parts).encode()


def key(raw: dict[str, Any]) -> str:
    """The cache key of merged protocol file data under the current code."""
    return digest(code(), json.dumps(raw, sort_keys=True, default=str, ensure_ascii=False).encode())


def recall(cache: Cache, entry: str) -> Protocol | None:
    """The validated protocol kept under `entry`, or None (none kept, or it cannot be rebuilt)."""
    data = cache.get(KIND, entry)
    if not isinstance(data, dict):
        return None
    try:
        protocol: Protocol = from_data(Protocol, data)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, TimeExprError):
        return None
    return protocol


def keep(cache: Cache, entry: str, protocol: Protocol) -> None:
    """Keep a validated protocol under `entry`."""
    cache.put(KIND, entry, to_data(protocol))


def to_data(value: Any) -> Any:
    """A model object as plain JSON data; time expressions as the text the surgeon wrote."""
    if isinstance(value, TimeExpr):
        return value.text
    if dataclasses.is_dataclass(value):
        return {
            f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name not in LOADER_FIELDS
        }
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {k: to_data(v) for k, v in value.items()}
    return value


def from_data(kind: Any, value: Any) -> Any:
    """Rebuild a model object of type `kind` from `to_data`'s output (already validated once)."""
    return _converter(kind)(value)


@cache
def _converter(kind: Any) -> typing.Callable[[Any], Any]:
    """A function that rebuilds values of type `kind`, worked out once per type from its annotations
    (a protocol holds hundreds of values of a dozen types)."""
    if kind is TimeExpr:
        return TimeExpr.parse
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        every = [f for f in dataclasses.fields(kind) if f.name not in LOADER_FIELDS]
        # The model's annotations are objects, not texts: resolving them (get_type_hints) cost 3 ms a run.
        hints: dict[str, Any] = {f.name: f.type for f in every}
        if any(isinstance(hint, str) for hint in hints.values()):
            hints = typing.get_type_hints(kind)
        fields = {f.name: _converter(hints[f.name]) for f in every}
        return lambda value: kind(**{name: fields[name](v) for name, v in value.items()})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Annotated:
        return _converter(args[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            return _same  # a union of plain values (a number, a text, a list or a table of texts)
        inner = _converter(options[0])
        return lambda value: None if value is None else inner(value)
    if origin is list:
        item = _converter(args[0])
        return lambda value: [item(v) for v in value]
    if origin is tuple:
        items = [_converter(a) for a in args]
        return lambda value: tuple(convert(v) for convert, v in zip(items, value, strict=True))
    if origin is dict:
        entry = _converter(args[1])
        return lambda value: {k: entry(v) for k, v in value.items()}
    return _same


def _same(value: Any) -> Any:
    return value
