"""A cache of validated protocols, so that a file's first use pays for the validator and later ones do not.

An entry is keyed by the hash of the protocol's merged file data (its `extends` chain included),
the package's version and every source file of this subpackage (the model, its checks and this
cache), found by listing the folder, so any change to the code that validates makes a new entry. It holds the
validated protocol as plain JSON, rebuilt into the model's dataclasses without pydantic.
Beside it, `remember` notes each file of the chain by size, modification time and inode, so that
the next use of an unchanged file skips even reading the TOML (`recall` checks every file and
that each `extends` still finds the same file).
Only valid protocols are cached; anything unreadable in the cache is ignored and validated anew.
The folder is $RECOVERY_CACHE_DIR (empty: no cache), else $XDG_CACHE_HOME/recovery or ~/.cache/recovery.
"""

from __future__ import annotations

import dataclasses
import json
import time
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

from recovery.output import cache_folder, code_fingerprint, keep, sha256
from recovery.protocol.model import Protocol
from recovery.protocol.timeexpr import TimeExpr, TimeExprError

#: A file modified less than this long ago is not remembered by its stamp (as git does for "racy"
#: files): file systems keep modification times to a clock tick, and two edits within one tick
#: that keep the size would look the same.
RACY_NS = 2_000_000_000


def _model_fingerprint() -> bytes:
    """The package version and every module that decides whether a protocol is valid."""
    return code_fingerprint("protocol/*.py")


def key(raw: dict[str, Any]) -> str:
    """The entry for merged protocol data under the current model."""
    data = json.dumps(raw, sort_keys=True, default=str, ensure_ascii=False).encode()
    return sha256(_model_fingerprint() + data).hexdigest()


def _stamp(path: Path) -> list[int] | None:
    """What changes when a file is edited or replaced: its size, modification time and inode."""
    try:
        info = path.stat()
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ino]


def _stamp_file(where: Path, path: Path) -> Path:
    name = sha256(_model_fingerprint() + str(path.resolve()).encode()).hexdigest()
    return where / f"files-{name}.json"


def remember(
    path: Path, links: list[tuple[Path, str | None]], entry: str, family: str, sources: dict[tuple[str, str], str]
) -> None:
    """Note that the file at `path` (with the files it extends, `links`, as they are now) is `entry`,
    so that the next use finds it without parsing any of them."""
    where = cache_folder()
    stamps = [_stamp(file) for file, _ in links]
    if where is None or None in stamps:
        return
    if any(time.time_ns() - stamp[1] < RACY_NS for stamp in stamps if stamp is not None):
        return  # changed moments ago: an edit within the same clock tick could keep size and time
    note = {
        "files": [[str(file), stamp, extends] for (file, extends), stamp in zip(links, stamps, strict=True)],
        "entry": entry,
        "family": family,
        "sources": [[section, item, source] for (section, item), source in sources.items()],
    }
    keep(_stamp_file(where, path), json.dumps(note, ensure_ascii=False))


def recall(
    path: Path, resolve: typing.Callable[[Path, str], Path | None]
) -> tuple[str, str, dict[tuple[str, str], str]] | None:
    """(entry, family, which file each item came from) for the file at `path`, when no file of its
    `extends` chain has changed since `remember` and each `extends` still finds the same file
    (`resolve` looks it up as the loader does: a clinic library may now hold another of that name)."""
    where = cache_folder()
    if where is None:
        return None
    try:
        note = json.loads(_stamp_file(where, path).read_text(encoding="utf-8"))
        files = note["files"]
        if Path(files[0][0]).resolve() != path.resolve():
            return None
        for i, (file, stamp, extends) in enumerate(files):
            if _stamp(Path(file)) != stamp:
                return None
            if extends is not None:
                found = resolve(Path(file), extends)
                if found is None or i + 1 >= len(files) or found.resolve() != Path(files[i + 1][0]).resolve():
                    return None
            elif i + 1 != len(files):
                return None
        sources = {(section, item): source for section, item, source in note["sources"]}
        return str(note["entry"]), str(note["family"]), sources
    except (OSError, ValueError, TypeError, KeyError, IndexError):
        return None


def fingerprint(protocol: Protocol, *more: bytes) -> str:
    """A key for an answer about a validated protocol: its data, the code that validated it, and
    `more` (whatever else the answer depends on)."""
    data = json.dumps(to_data(protocol), sort_keys=True, ensure_ascii=False).encode()
    return sha256(b"\0".join([_model_fingerprint(), data, *more])).hexdigest()


def knows(answer: str) -> bool:
    """Whether `note` recorded this answer before."""
    where = cache_folder()
    return where is not None and (where / f"ok-{answer}").is_file()


def note(answer: str) -> None:
    """Record an answer (an empty file is enough); a cache that cannot be written is simply not used."""
    where = cache_folder()
    if where is not None:
        keep(where / f"ok-{answer}", "")


def read(entry: str) -> Protocol | None:
    """The protocol stored under `entry`, or None when there is none (or it cannot be read)."""
    where = cache_folder()
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
    where = cache_folder()
    if where is not None:
        keep(where / f"{entry}.json", json.dumps(to_data(protocol), ensure_ascii=False))


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
        every = [f for f in dataclasses.fields(kind) if f.init]
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
