"""A cache of validated protocols, so that a file's first use pays for the validator and later ones do not.

An entry is keyed by the hash of the protocol's merged file data (its `extends` chain included),
the package's version and every source file of this subpackage (the model, its checks and this
cache), found by listing the folder, so any change to the code that validates makes a new entry. It holds the
validated protocol as plain JSON, rebuilt into the model's dataclasses without pydantic.
Only valid protocols are cached; anything unreadable in the cache is ignored and validated anew.
The folder is $RECOVERY_CACHE_DIR (empty: no cache), else $XDG_CACHE_HOME/recovery or ~/.cache/recovery.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

from recovery.output import cache_folder
from recovery.protocol.model import Protocol
from recovery.protocol.timeexpr import TimeExpr, TimeExprError


def folder() -> Path | None:
    """Where entries are kept, or None when the cache is turned off."""
    return cache_folder()


@cache
def _model_fingerprint() -> bytes:
    """The package version and the hash of every module that decides whether a protocol is valid."""
    from recovery import __version__

    digest = hashlib.sha256(__version__.encode())
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.name.encode())
        digest.update(module.read_bytes())
    return digest.digest()


def key(raw: dict[str, Any]) -> str:
    """The entry for merged protocol data under the current model."""
    data = json.dumps(raw, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.sha256(_model_fingerprint() + data).hexdigest()


def read(entry: str) -> Protocol | None:
    """The protocol stored under `entry`, or None when there is none (or it cannot be read)."""
    where = folder()
    if where is None:
        return None
    try:
        data = json.loads((where / f"{entry}.json").read_text(encoding="utf-8"))
        protocol: Protocol = from_data(Protocol, data)
        return protocol
    except (OSError, ValueError, TypeError, KeyError, AttributeError, TimeExprError):
        return None


def write(entry: str, protocol: Protocol) -> None:
    """Store a validated protocol; a cache that cannot be written is simply not used."""
    import tempfile

    where = folder()
    if where is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=where, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(to_data(protocol), stream, ensure_ascii=False)
        os.replace(temporary, where / f"{entry}.json")
    except OSError:
        return


def to_data(value: Any) -> Any:
    """A model object as plain JSON data; time expressions as the text the surgeon wrote."""
    if isinstance(value, TimeExpr):
        return value.text
    if dataclasses.is_dataclass(value):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {k: to_data(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_data(kind: Any, value: Any) -> Any:
    """Rebuild a model object of type `kind` from `to_data`'s output (already validated once)."""
    if kind is TimeExpr:
        return TimeExpr.parse(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        return kind(**{name: from_data(hints[name], v) for name, v in value.items()})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in args if a is not type(None)]
        return from_data(options[0], value) if len(options) == 1 else value
    if origin is list:
        return [from_data(args[0], v) for v in value]
    if origin is tuple:
        return tuple(from_data(a, v) for a, v in zip(args, value, strict=True))
    if origin is dict:
        return {k: from_data(args[1], v) for k, v in value.items()}
    return value
