"""What every answer of the server carries and every request is held to: security headers
(no-store on pages, HSTS over HTTPS), a bound on request bodies, static files that cannot fail,
and tokens kept out of the access log."""

from __future__ import annotations

import logging
import re
import threading
import time

from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The largest request body the application reads (the API's 413 above it).
MAX_BODY = 64 * 1024


#: Everything a page may load: its own style sheet and pictures, nothing else, and no script.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


#: Sent over HTTPS (`secure_cookies`): browsers use HTTPS only for this site from then on, for a year.
HSTS = (b"strict-transport-security", b"max-age=31536000")


#: Pages no cache may keep (a shared computer's browser, a proxy): a clinician's pages and a
#: patient's page and handout. Feeds say `private` themselves and keep their ETag.
NO_STORE = (b"cache-control", b"no-store")


#: The paths that are neither a clinician's page nor a patient's: feeds, the API, static files, health.
STORED_MAY_BE = ("/feed/", "/api/", "/static/", "/healthz")


#: What the access log shows instead of a token in a path.
TOKEN_PATH = re.compile(r"/(feed|p)/[^/\s?]+")


def redact(path: str) -> str:
    """A path as logs may show it: `/feed/TOKEN.ics` → `/feed/…`."""
    return TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/…", path)


class RedactTokens(logging.Filter):
    """Keeps feed and patient tokens out of uvicorn's access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


class OncePerInterval(logging.Filter):
    """Lets one record of each message through per INTERVAL seconds and counts the rest, so
    that a flood of the same error (1,100 half-open connections: "Invalid HTTP request", "Too
    many open files") writes a line every minute instead of 140 MB in 30 s. The next line of a
    message says how many were left out since."""

    INTERVAL = 60.0
    #: At most this many messages are remembered (the oldest is forgotten first).
    MOST = 1_000

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self.seen: dict[tuple[str, int], tuple[float, int]] = {}
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (str(record.msg), record.levelno)
        now = time.monotonic()
        with self.lock:
            last, left_out = self.seen.get(key, (-self.INTERVAL, 0))
            if now - last < self.INTERVAL:
                self.seen[key] = (last, left_out + 1)
                return False
            self.seen.pop(key, None)
            self.seen[key] = (now, 0)
            while len(self.seen) > self.MOST:
                self.seen.pop(next(iter(self.seen)))
        if left_out:
            record.msg = f"{record.msg} (and {left_out:,} more like it in the last {self.INTERVAL:.0f} s)"
        return True


class Guard:
    """ASGI middleware: security headers on every response (no-store on pages, HSTS over HTTPS),
    and no request body over MAX_BODY (refused with 413 before the application reads it).

    It runs inside Starlette's own error middleware, so a 500 gets its headers from
    `server_error`, which adds them the same way (`with_security_headers`)."""

    def __init__(self, app: ASGIApp, https: bool = False):
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"], self.https)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(list(message.get("headers", [])), extra)
            await send(message)

        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            await _too_large(scope, receive, with_headers)
            return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise _BodyTooLargeError()
            return message

        try:
            await self.app(scope, bounded, with_headers)
        except _BodyTooLargeError:
            await _too_large(scope, receive, with_headers)


def security_headers(path: str, https: bool) -> list[tuple[bytes, bytes]]:
    """The headers every response to `path` carries."""
    headers = list(SECURITY_HEADERS)
    if https:
        headers.append(HSTS)
    if not path.startswith(STORED_MAY_BE):
        headers.append(NO_STORE)
    return headers


def with_security_headers(
    headers: list[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """A response's headers with each of `extra` that it does not set itself."""
    present = {name.lower() for name, _ in headers}
    return headers + [(name, value) for name, value in extra if name not in present]


class _BodyTooLargeError(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"errors": [{"field": "", "message": f"the request is over {MAX_BODY // 1024} KB"}]}, 413)
    await response(scope, receive, send)


class Static(StaticFiles):
    """The server's own CSS and pictures; a path that no file can have (a NUL byte, one too long)
    is not found, not an error."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except (ValueError, OSError):
            return PlainTextResponse("Not found.", 404)
