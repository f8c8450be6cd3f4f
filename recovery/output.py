"""Writing a result to a file: whole or not at all, and never over something that is not a file;
and the one folder where the program keeps what it can make again (its cache).

Every command that writes a file goes through `write_file`, so each of them refuses the same
things and leaves nothing half-written: the data goes to a temporary file beside the target,
is flushed to disk, and replaces the target in one rename.
"""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from recovery.errors import OutputError

if TYPE_CHECKING:
    from _hashlib import HASH

#: The package's folder, where its modules are.
PACKAGE = Path(__file__).parent


def write_file(path: Path, data: bytes, force: bool = False) -> None:
    """Write `data` to `path` atomically, or raise an OutputError that says why not.

    A read-only file is replaced only with `force`. Its mode bits decide, not os.access(), which
    says yes to root (and this program is often run as root in a clinic's scripts).
    """
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"cannot write {path}: it is a folder")
    if mode is not None and stat.S_ISLNK(mode):
        raise OutputError(f"cannot write {path}: it is a symbolic link to {os.readlink(path)}; give that path instead")
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(f"cannot write {path}: it is not a regular file (a pipe, socket or device)")
    if mode is not None and not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) and not force:
        raise OutputError(f"cannot write {path}: it is read-only; use --force to replace it")
    folder = path.parent if str(path.parent) else Path(".")
    # A new file beside the target (O_EXCL: never one that exists), as tempfile.mkstemp makes it.
    temporary = folder / f".{path.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp"
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {error.strerror}") from None


def remembered(kind: str, key: str, make: Callable[[], str], whole: Callable[[str], bool]) -> str:
    """The text `make()` returns, kept in the cache folder under `kind` and `key` (which must name
    everything the text depends on, the code that makes it included), so the next run reads it.
    A kept text that is not `whole` (a disk that filled up, a hand edit) is made again."""
    where = cache_folder()
    if where is None:
        return make()
    path = where / f"{kind}-{sha256(key.encode()).hexdigest()}.txt"
    try:
        kept = path.read_bytes().decode()  # as written: read_text would turn a CRLF into LF
        if whole(kept):
            return kept
    except (OSError, ValueError):
        pass
    made = make()
    keep(path, made)
    return made


def keep(path: Path, text: str) -> None:
    """Put a text in the cache folder, whole or not at all (also when two processes race); a cache
    that cannot be written is simply not used."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(text.encode())
        os.replace(temporary, path)
    except OSError:
        return


@functools.cache
def code_fingerprint(*modules: str) -> bytes:
    """The package version and the source of these modules (paths in the package, globs allowed):
    a key part for whatever the cache keeps that this code makes, so a new version makes new entries."""
    from recovery import __version__

    digest = sha256(__version__.encode())
    for pattern in modules:
        for module in sorted(PACKAGE.glob(pattern)):
            digest.update(module.relative_to(PACKAGE).as_posix().encode())
            digest.update(module.read_bytes())
    return digest.digest()


def sha256(data: bytes = b"") -> HASH:
    """`hashlib.sha256(data)`: the same hash object and digests (calendar UIDs and cache keys
    depend on them), taken from CPython's built-in implementation where there is one, because
    `import hashlib` loads OpenSSL for every algorithm first: about 5 ms of each command's run."""
    return _sha256()(data)


@functools.cache
def _sha256() -> Callable[[bytes], HASH]:
    import importlib

    for module in ("_sha2", "_sha256"):  # CPython 3.12 and later; CPython 3.11
        try:
            return importlib.import_module(module).sha256  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue
    import hashlib  # another Python: the public module

    return hashlib.sha256


def cache_folder() -> Path | None:
    """Where the program keeps what it can make again (validated protocols, the files they came
    from, passed trial layouts, VTIMEZONEs, clock changes, the handout's compiled template), or
    None when the cache is off: $RECOVERY_CACHE_DIR (empty: off), else $XDG_CACHE_HOME/recovery
    or ~/.cache/recovery."""
    configured = os.environ.get("RECOVERY_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "recovery"
