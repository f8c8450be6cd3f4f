"""Writing a result to a file: whole or not at all, and never over something that is not a file.

Every command that writes a file goes through `write_file`, so each of them refuses the same
things and leaves nothing half-written: the data goes to a temporary file beside the target,
is flushed to disk, and replaces the target in one rename.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from recovery.errors import OutputError


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
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
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
    except BaseException:  # interrupted (Ctrl-C, a signal): no temporary file is left behind
        Path(temporary).unlink(missing_ok=True)
        raise
