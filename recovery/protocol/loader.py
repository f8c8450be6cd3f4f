"""Finding, reading and validating protocol files, including `extends` and `remove`.

A name is looked up in the folders of $RECOVERY_PROTOCOLS (a clinic's library), then in the
bundled protocols; an argument with a "/" or ending in ".toml" is a path. A file that extends
another lists only its changes: items with the same id are merged key by key, `remove` drops
inherited items. Every problem in a file is reported in one ProtocolError.
"""

from __future__ import annotations

import copy
import os
import stat
from dataclasses import field
from pathlib import Path
from typing import Any

from recovery.cache import Cache, digest
from recovery.errors import Problem, ProtocolError, did_you_mean
from recovery.protocol import plain
from recovery.protocol.model import SECTIONS, Protocol, located
from recovery.records import record
from recovery.words import quoted_choices

ENVIRONMENT_VARIABLE = "RECOVERY_PROTOCOLS"
#: A protocol file larger than this is refused: the bundled ones are about 20 KB.
MAX_FILE_BYTES = 1_000_000


def bundled_folder() -> Path:
    """The protocols shipped with the package (or, in a checkout, the repository's protocols/).

    setup.cfg installs the repository's `protocols/` folder as the package `recovery.bundled_protocols`.
    """
    package = Path(__file__).resolve().parent.parent
    installed = package / "bundled_protocols"
    return installed if installed.is_dir() else package.parent / "protocols"


def search_folders() -> list[Path]:
    """Where names are looked up, first match wins: $RECOVERY_PROTOCOLS, then the bundled set."""
    extra = [Path(p) for p in os.environ.get(ENVIRONMENT_VARIABLE, "").split(os.pathsep) if p]
    return [*extra, bundled_folder()]


def is_path(reference: str) -> bool:
    """Whether a protocol argument is a path (has a "/" or ends in .toml) rather than a name."""
    return "/" in reference or os.sep in reference or reference.endswith(".toml")


def find(reference: str, relative_to: Path | None = None) -> Path:
    """The file a protocol name or path refers to."""
    if is_path(reference):
        path = Path(reference).expanduser()
        if relative_to is not None and not path.is_absolute():
            path = relative_to.parent / path
        if _kind(path) is None:
            raise ProtocolError([Problem("no such protocol file", str(path))])
        return path
    for folder in search_folders():
        candidate = folder / f"{reference}.toml"
        if _kind(candidate) is not None:
            return candidate
        if candidate.is_symlink():  # there, but a link that leads nowhere (or round in a loop)
            try:
                candidate.stat()
            except OSError as error:
                raise ProtocolError([Problem(f"cannot be read: {error.strerror}", str(candidate))]) from None
    entries = available()
    by_id = [entry.path for entry in entries if entry.id == reference]
    if by_id:  # a file named otherwise whose id is this name (acl-v2.toml with id = "acl-reconstruction")
        return by_id[0]
    names = [entry.name for entry in entries]
    hint = did_you_mean(reference, names)
    raise ProtocolError(f'unknown protocol "{reference}"{hint or ""} (available: {quoted_choices(names)})')


@record
class Entry:
    """A protocol found in the search folders, as `recovery protocols` lists it."""

    name: str  # the file's name without .toml
    path: Path
    title: str = ""
    version: str = ""
    problem: str = ""
    id: str = ""  # the id the file gives itself


def available() -> list[Entry]:
    """Every protocol that a name can reach, the first of each name only (what cannot be read is
    listed with the reason, and never opened if it is not a regular file)."""
    entries: dict[str, Entry] = {}
    for folder in search_folders():
        try:
            paths = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        except OSError:
            continue
        for path in paths:
            if path.stem in entries:
                continue
            try:
                raw = _read(path)
                entries[path.stem] = Entry(
                    path.stem, path, str(raw.get("title", "")), str(raw.get("version", "")), id=str(raw.get("id", ""))
                )
            except ProtocolError as error:
                entries[path.stem] = Entry(path.stem, path, problem=error.problems[0].message)
    return list(entries.values())


def _kind(path: Path) -> str | None:
    """ "file" for a regular file (through symbolic links), "other" for anything else there, None for nothing."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    return "file" if stat.S_ISREG(mode) else "other"


def load(reference: str | Path, cache: Cache | None = None) -> Protocol:
    """A validated protocol from a name or a path, or a ProtocolError listing every problem.

    Three steps: read the file and the files it extends, merge them, validate the result. With a
    `cache` (the program hands it one; the library alone writes nothing), a file whose merged data
    this code validated before is rebuilt from the cache instead (see `recovery.protocol.plain`);
    when the file and every file it extends are byte for byte what they were then, not even their
    TOML is read again (`_recalled`).
    """
    path = find(str(reference)) if not isinstance(reference, Path) else reference
    if cache is not None and (recalled := _recalled(cache, path)) is not None:
        return recalled
    merged = read_merged(path)
    entry = plain.key(merged.data) if cache is not None else ""
    protocol = plain.recall(cache, entry) if cache is not None else None
    if protocol is None:
        from recovery.protocol.validation import validate  # pydantic is imported only here

        protocol = validate(merged.data, merged.sources, str(path), merged.removed)
        if cache is not None:
            plain.keep(cache, entry, protocol)
    if cache is not None:
        cache.put(FILES_KIND, _files_key(path, merged.digest), _files_entry(merged, entry))
    return located(protocol, str(path), merged.sources, merged.family)


#: The kind of the cache's entries that tie a protocol file's bytes (and those of the files it
#: extends) to the validated protocol's entry: a TOML parse (about 5 ms) saved on every run.
FILES_KIND = "file"


def _files_key(path: Path, file_digest: str) -> str:
    """The key of a file's entry: the code, the path as given and as resolved, and the file's bytes."""
    return digest(plain.code(), str(path).encode(), str(path.resolve()).encode(), file_digest.encode())


def _files_entry(merged: Merged, entry: str) -> dict[str, Any]:
    return {
        "protocol": entry,
        "family": merged.family,
        "extends": [list(link) for link in merged.extends],
        "sources": [[section, item, source] for (section, item), source in merged.sources.items()],
    }


def _recalled(cache: Cache, path: Path) -> Protocol | None:
    """The protocol validated before from these very files, or None: the file's bytes name an
    entry; each file it extends is found again as `read_merged` finds it and must have the same
    bytes (digest) as then; anything else (a changed file, a broken entry) reads the files anew."""
    try:
        data = cache.get(FILES_KIND, _files_key(path, digest(_bytes(path))))
        if not isinstance(data, dict):
            return None
        here = path
        for reference, resolved, file_digest in data["extends"]:
            here = find(reference, relative_to=here)
            if str(here.resolve()) != resolved or digest(_bytes(here)) != file_digest:
                return None
        protocol = plain.recall(cache, data["protocol"])
        if protocol is None:
            return None
        sources = {(section, item): source for section, item, source in data["sources"]}
        return located(protocol, str(path), sources, data["family"])
    except (ProtocolError, OSError, ValueError, TypeError, KeyError):
        return None


@record
class Merged:
    """A protocol file's data with its `extends` chain applied."""

    data: dict[str, Any]
    #: The id of the protocol at the root of the chain: a clinic's version of a bundled protocol
    #: belongs to the bundled one's family (its calendar events keep their identities).
    family: str
    #: (section, item id) → the file the item came from.
    sources: dict[tuple[str, str], str]
    #: The ids a file of the chain removed: id → (that file, "remove[i]").
    removed: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: A digest of the first file's bytes.
    digest: str = ""
    #: The files it extends, in order: (the reference as written, the resolved path, a digest of its bytes).
    extends: tuple[tuple[str, str, str], ...] = ()


#: How many files an `extends` chain may have: a clinic's file on a bundled one is two.
MAX_EXTENDS_DEPTH = 20


def _read(path: Path) -> dict[str, Any]:
    """A protocol file's TOML data."""
    return _parse(path, _bytes(path))


def _bytes(path: Path) -> bytes:
    """A protocol file's bytes; only a regular file of at most MAX_FILE_BYTES is opened."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ProtocolError([Problem("no such protocol file", str(path))]) from None
    except OSError as error:
        raise ProtocolError([Problem(f"cannot be read: {error.strerror}", str(path))]) from None
    if not stat.S_ISREG(info.st_mode):
        raise ProtocolError([Problem("cannot be read: it is not a regular file (a folder, pipe or device)", str(path))])
    if info.st_size > MAX_FILE_BYTES:
        raise ProtocolError(
            [Problem(f"is {info.st_size:,} bytes; a protocol file may have at most {MAX_FILE_BYTES:,}", str(path))]
        )
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ProtocolError([Problem(f"cannot be read: {error.strerror}", str(path))]) from None


def _parse(path: Path, content: bytes) -> dict[str, Any]:
    """A protocol file's bytes as TOML data."""
    import tomllib  # not on the path of a protocol kept in the cache

    if len(content) > MAX_FILE_BYTES:
        raise ProtocolError(
            [Problem(f"is more than {MAX_FILE_BYTES:,} bytes; that is the most a protocol file may have", str(path))]
        )
    try:
        text = content.decode("utf-8-sig")  # a byte-order mark is fine
    except UnicodeDecodeError as error:
        raise ProtocolError([Problem(f"is not UTF-8 text (byte {error.start + 1})", str(path))]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message, _, position = str(error).partition(" (at ")
        where = position.rstrip(")") if position else ""
        raise ProtocolError([Problem(f"not valid TOML: {message}", str(path), where)]) from None
    except RecursionError:
        raise ProtocolError(
            [Problem("arrays or tables are nested too deeply for a protocol file", str(path))]
        ) from None


def read_merged(path: Path, chain: tuple[Path, ...] = ()) -> Merged:
    """The file's data with its `extends` chain applied, and which file each item came from."""
    here = path.resolve()
    if here in chain:
        cycle = " → ".join(str(p) for p in (*chain, here))
        raise ProtocolError([Problem(f"extends forms a cycle: {cycle}", str(path), "extends")])
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ProtocolError(
            [Problem(f"extends more than {MAX_EXTENDS_DEPTH} files in a chain; is it a loop?", str(path), "extends")]
        )
    content = _bytes(path)
    raw = _parse(path, content)
    sources = _sources(raw, str(path))
    parent_ref = raw.pop("extends", None)
    if parent_ref is None:
        if raw.pop("remove", None):
            raise ProtocolError([Problem("remove is only for a protocol that extends another", str(path), "remove")])
        return Merged(raw, str(raw.get("id", "")), sources, digest=digest(content))
    if not isinstance(parent_ref, str):
        raise ProtocolError([Problem("expected the name or path of a protocol, in quotes", str(path), "extends")])
    try:
        parent_path = find(parent_ref, relative_to=path)
    except ProtocolError as error:
        raise ProtocolError([Problem(p.message, str(path), "extends") for p in error.problems]) from None
    parent = read_merged(parent_path, (*chain, here))
    removals = raw.get("remove", [])
    removed = {
        item_id: (str(path), f"remove[{i}]")
        for i, item_id in enumerate(removals if isinstance(removals, list) else [])
        if isinstance(item_id, str)
    }
    merged, problems = _merge(parent.data, raw, str(path))
    if problems:
        raise ProtocolError(problems)
    return Merged(
        merged,
        parent.family,
        {**parent.sources, **sources},
        {**parent.removed, **removed},
        digest(content),
        ((parent_ref, str(parent_path.resolve()), parent.digest), *parent.extends),
    )


def _sources(raw: dict[str, Any], source: str) -> dict[tuple[str, str], str]:
    sources = {}
    for section in SECTIONS:
        for item in raw.get(section, []) if isinstance(raw.get(section), list) else []:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                sources[(section, item["id"])] = source
    return sources


def _merge(parent: dict[str, Any], child: dict[str, Any], source: str) -> tuple[dict[str, Any], list[Problem]]:
    """Apply a child file's changes to its parent's data (both plain TOML data)."""
    merged = copy.deepcopy(parent)
    problems: list[Problem] = []
    removals = child.pop("remove", [])
    inherited = {
        _id_of(item): section
        for section in (*SECTIONS, "red_flags")
        if isinstance(merged.get(section), list)
        for item in merged[section]
        if _id_of(item)
    }
    for i, item_id in enumerate(removals if isinstance(removals, list) else []):
        if not isinstance(item_id, str):
            problems.append(Problem(f"expected an item id in quotes, got {item_id!r}", source, f"remove[{i}]"))
            continue
        if item_id not in inherited:
            hint = did_you_mean(str(item_id), [str(k) for k in inherited])
            problems.append(
                Problem(f'"{item_id}" is not an item of the protocol this one extends{hint}', source, f"remove[{i}]")
            )
            continue
        section = inherited[item_id]
        merged[section] = [
            item for item in merged[section] if not (isinstance(item, dict) and item.get("id") == item_id)
        ]
    if not isinstance(removals, list):
        problems.append(Problem("expected a list of item ids", source, "remove"))

    for key, value in child.items():
        if key in (*SECTIONS, "red_flags") and isinstance(value, list) and isinstance(merged.get(key, []), list):
            by_id = {_id_of(item): item for item in merged.setdefault(key, []) if _id_of(item)}
            for item in value:
                if _id_of(item) in by_id:
                    by_id[item["id"]].update(_vouched(item))
                else:
                    merged[key].append(item)
        elif key in ("parameters", "variants") and isinstance(value, dict):
            table = merged.setdefault(key, {})
            for name, entry in value.items():
                if isinstance(entry, dict) and isinstance(table.get(name), dict):
                    base = table[name]
                    if key == "variants" and isinstance(entry.get("set"), dict) and isinstance(base.get("set"), dict):
                        entry = {**entry, "set": {**base["set"], **entry["set"]}}
                    table[name] = {**base, **_vouched(entry)}
                else:
                    table[name] = entry
        elif key == "references" and isinstance(value, list):
            merged["references"] = merged.get("references", []) + [
                r for r in value if r not in merged.get("references", [])
            ]
        else:
            merged[key] = value
    return merged, problems


#: Keys that hold numbers: the parent's `sources` vouched for the parent's values, not for new ones.
_NUMBERS = frozenset({"default", "min", "max", "choices", "set", "at", "start", "end", "window", "dose", "minutes"})


def _vouched(entry: dict[str, Any]) -> dict[str, Any]:
    """A child's change to an inherited entry. A new number (in a numeric key, or a dose, duration
    or angle in a new text) that brings no `sources` of its own drops the inherited ones, so that
    review asks for them."""
    from recovery.protocol.review import states_a_measure  # only a file that extends another needs it

    if "sources" in entry:
        return entry
    if _NUMBERS & set(entry) or any(states_a_measure(value) for value in entry.values()):
        return {**entry, "sources": []}
    return entry


def _id_of(item: Any) -> str:
    """An item's id in unvalidated file data, or "" when it has none that is a text."""
    return item["id"] if isinstance(item, dict) and isinstance(item.get("id"), str) else ""
