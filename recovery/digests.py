"""SHA-256, the one digest the program makes: cache keys and entries, calendar UIDs.

From Python's own implementation rather than through `hashlib`: `import hashlib` loads OpenSSL's
library, about 2.5 ms of every command (`python -X importtime`), and a digest of a few kilobytes
gains nothing from it. The digests are the same bytes either way (tests/test_cache.py checks).
Where the interpreter was built without its own SHA-256, `hashlib` is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hashlib import sha256
else:
    try:  # Python 3.12 and later
        from _sha2 import sha256
    except ImportError:  # pragma: no cover - depends on the Python version
        try:  # Python 3.11
            from _sha256 import sha256
        except ImportError:
            from hashlib import sha256

__all__ = ["sha256"]
