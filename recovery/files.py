"""Reading a file from outside, bounded: opened first, then looked at, then read up to a limit.

A file another person can write may be swapped between a look and an open: for a pipe, whose
read would wait forever (it is opened with O_NONBLOCK, and refused by fstat as not a regular
file), or for a huge file (never more than `limit` bytes are read). Every reader of outside input
that is not a protocol file (a translation, a patient's check-ins) reads through here.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnreadableError(Exception):
    """A file that cannot be read as asked; the message says why, without the path."""


def read_bounded(path: str | Path, limit: int, what: str = "a file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or UnreadableError saying why."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise UnreadableError(f"cannot be read: {error.strerror}") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableError("cannot be read: it is not a regular file")
        if info.st_size > limit:
            raise UnreadableError(f"is {info.st_size:,} bytes; {what} may have at most {limit:,}")
        try:
            content = handle.read(limit + 1)
        except OSError as error:
            raise UnreadableError(f"cannot be read: {error.strerror}") from None
    if len(content) > limit:
        raise UnreadableError(f"is more than {limit:,} bytes; {what} may have no more")
    return content
