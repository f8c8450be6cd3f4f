"""The program's cache: one folder, owned by the user who runs it, holding plain data it can make again.

Only the program keeps a cache (the command line and `recovery batch`; the library writes
nothing unless its caller hands it a `Cache`). It holds two kinds of entry: a validated protocol
as JSON, which spares a command the validator's start-up (about 80 ms), and the handout's
template as Jinja2 compiles it (about 13 ms of every `handout`).

The folder is trusted only when no one else could have written into it: it is made with mode
0700, and one that belongs to another user or that group or others may write to is not used
(`Cache.open` says why, in one line, and the command still works without it). Every entry is
opened through the folder's own descriptor, never through a symbolic link, only when it is a
regular file of at most `MAX_ENTRY_BYTES`; it is written to a new temporary file (`O_EXCL`,
`O_NOFOLLOW`) and renamed into place, so readers see it whole or not at all. A header line
names each entry's kind, its key (a digest of the file data and code it was made from) and a
digest of its content, and an entry that fails any check or read is ignored and made again.
Nothing is unpickled: a protocol is JSON data; a compiled template is code, which is why it
is kept only in a folder that no one but its owner can write. A disk that is full or read-only turns caching off for the rest of the run and
leaves no temporary file behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from recovery.digests import sha256

#: The largest entry read or written: a protocol file has at most 1 MB of TOML.
MAX_ENTRY_BYTES = 8_000_000
#: The entry format; an entry of another format is ignored.
FORMAT = 1
_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")
_KEY = re.compile(r"[0-9a-f]{64}\Z")
_SUPPORTED = os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY")


def digest(*parts: bytes) -> str:
    """A SHA-256 hex digest of the parts, each ended by a NUL so that no two lists of parts share one."""
    hashed = sha256()
    for part in parts:
        hashed.update(part)
        hashed.update(b"\0")
    return hashed.hexdigest()


def default_folder() -> Path | None:
    """$RECOVERY_CACHE_DIR (empty: no cache), else $XDG_CACHE_HOME/recovery or ~/.cache/recovery."""
    configured = os.environ.get("RECOVERY_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "recovery"


class Cache:
    """An open cache folder. Use `Cache.open`; close it (or use it in a `with`) when done."""

    def __init__(self, folder: Path, descriptor: int):
        self.folder = folder
        self._descriptor = descriptor
        self.writable = True  # False once a write failed: the disk is full or read-only

    @classmethod
    def open(cls, folder: Path | None) -> tuple[Cache | None, str]:
        """(the cache, "") or (None, why it is not used: "" when it is simply off or cannot be made)."""
        if folder is None or not _SUPPORTED:
            return None, ""
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return None, ""  # a read-only disk, a path that is a file: run without a cache
        info = os.fstat(descriptor)
        problem = ""
        if info.st_uid != os.geteuid():
            problem = "it belongs to another user"
        elif info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            problem = "others can write to it (make it private: chmod 700)"
        if problem:
            os.close(descriptor)
            return None, f"the cache folder {folder} is not used: {problem}"
        return cls(folder, descriptor), ""

    def close(self) -> None:
        if self._descriptor >= 0:
            os.close(self._descriptor)
            self._descriptor = -1

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, kind: str, key: str) -> Any:
        """The JSON data kept under (kind, key), or None when there is none, or it fails any check."""
        content = self.get_bytes(kind, key)
        if content is None:
            return None
        try:
            return json.loads(content)
        except (ValueError, RecursionError):
            return None

    def put(self, kind: str, key: str, data: Any) -> None:
        """Keep `data` (plain JSON data) under (kind, key)."""
        self.put_bytes(kind, key, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())

    def get_bytes(self, kind: str, key: str) -> bytes | None:
        """The bytes kept under (kind, key), or None when there are none, or they fail any check."""
        raw = self._read(_file_name(kind, key))
        if raw is None:
            return None
        header_line, newline, content = raw.partition(b"\n")
        try:
            header = json.loads(header_line)
            if (
                not newline
                or header != {"format": FORMAT, "kind": kind, "key": key, "sha256": header.get("sha256")}
                or digest(content) != header["sha256"]
            ):
                return None
        except (ValueError, TypeError, AttributeError, RecursionError):
            return None
        return content

    def put_bytes(self, kind: str, key: str, content: bytes) -> None:
        """Keep `content` under (kind, key); a write that fails turns the cache's writing off."""
        if not self.writable or self._descriptor < 0:
            return
        header = json.dumps({"format": FORMAT, "kind": kind, "key": key, "sha256": digest(content)}).encode()
        entry = header + b"\n" + content
        if len(entry) > MAX_ENTRY_BYTES:
            return
        name = _file_name(kind, key)
        temporary = f".{name}.{os.urandom(8).hex()}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            handle = os.open(temporary, flags, 0o600, dir_fd=self._descriptor)
        except OSError:
            self.writable = False
            return
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(entry)
            os.replace(temporary, name, src_dir_fd=self._descriptor, dst_dir_fd=self._descriptor)
        except OSError:
            self.writable = False
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=self._descriptor)

    def _read(self, name: str) -> bytes | None:
        """An entry's bytes: a regular file (never a link, pipe or device) of at most MAX_ENTRY_BYTES."""
        if self._descriptor < 0:
            return None
        try:
            handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=self._descriptor)
        except OSError:
            return None
        try:
            info = os.fstat(handle)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
                return None
            chunks, size = [], 0
            while chunk := os.read(handle, min(1 << 20, MAX_ENTRY_BYTES + 1 - size)):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_ENTRY_BYTES:
                    return None
            return b"".join(chunks)
        except OSError:
            return None
        finally:
            os.close(handle)


def _file_name(kind: str, key: str) -> str:
    if not _NAME.match(kind) or not _KEY.match(key):
        raise ValueError(f"a cache entry's kind and key must be a name and a SHA-256 digest: {kind!r}, {key!r}")
    return f"{kind}-{key}"
