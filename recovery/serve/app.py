"""The web application: pages for clinicians and patients, the calendar feed and the JSON API.

Starlette rather than FastAPI: the plan schema already validates requests and words its errors
as the command line does (a 422 lists `{"field", "message"}` in those words), so FastAPI's own
request models would be a second, differently worded copy; the OpenAPI document is written from
the plan schema's fields instead. The pages are server-rendered (Jinja2, escaped) and work
without JavaScript; the Content-Security-Policy allows no script at all.

Work that takes long (an argon2 check, laying a plan out) runs in a thread, so that the feeds
of other patients are not kept waiting. A process keeps no state of its own: sessions live in signed cookies (the key from
$RECOVERY_SECRET_KEY, shared by every process), everything else in the database, so several
processes or machines can serve one PostgreSQL database.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recovery.errors import PlanError, Problem, RecoveryError
from recovery.schedule.plan import BY_ATTRIBUTE, DEFAULT_PROTOCOL, FIELDS, MAX_TEXT
from recovery.serve import DEFAULT_DATABASE
from recovery.serve.store import (
    MAX_PLAN_ID,
    SERVER_NEEDS,
    SESSION_LIFETIME,
    ConflictError,
    GoneError,
    NotFoundError,
    Store,
    TooManyAttemptsError,
    connect,
    protocol_named,
    upgrade,
)

log = logging.getLogger("recovery.serve")
HERE = Path(__file__).parent
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
#: The agenda's width on the patient's page: what a phone shows across without wrapping.
PHONE_COLUMNS = 32
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


# ---------------------------------------------------------------- helpers


def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True), auto_reload=False
    )


def _base_url(request: Request) -> str:
    """The configured public address: never the request's Host header, which a client chooses."""
    configured: str = request.app.state.base_url
    return configured.rstrip("/")


def _links(request: Request, token: str) -> dict[str, str]:
    base = _base_url(request)
    feed = f"{base}/feed/{token}.ics"
    webcal = "webcal://" + feed.split("://", 1)[1]
    return {
        "feed_url": feed,
        "patient_url": f"{base}/p/{token}",
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe=""),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?url=" + quote(feed, safe="") + "&name=Recovery",
        "download": f"{base}/p/{token}/calendar.ics",
        "handout": f"{base}/p/{token}/handout",
    }


#: How the server's users make a problem right (`Problem.remedy`), by the plan field it names.
REMEDIES = {"confirmed": ' (send "confirm": true, or tick "the date is right even if unusual")'}


def _errors(error: RecoveryError) -> list[dict[str, str]]:
    """A problem as the API and the forms show it: the field, the message, a remedy in the
    server's words, and a protocol file by its name, never by where the server keeps it."""
    from dataclasses import replace

    shown = []
    for problem in error.problems:
        placed = replace(problem, file=Path(problem.file).name) if problem.file else problem
        remedy = REMEDIES.get(problem.remedy[0], "") if problem.remedy else ""
        shown.append(
            {
                "field": BY_ATTRIBUTE[problem.field].key if problem.field in BY_ATTRIBUTE else problem.field,
                "message": placed.shown(name=lambda _: "", remedy=False) + remedy,
            }
        )
    return shown


def _page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    template = request.app.state.templates.get_template(name)
    user = _user(request)
    html = template.render(user=user, csrf=_csrf(request) if user else "", **values)
    return HTMLResponse(html, status)


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


async def _form(request: Request) -> dict[str, str]:
    """A clinician's form, once its CSRF token is checked (PermissionError otherwise)."""
    form = await request.form()
    values = {key: str(value) for key, value in form.items()}
    expected = request.session.get("csrf")
    if not expected or not secrets.compare_digest(values.get("csrf", ""), str(expected)):
        raise PermissionError("csrf")
    return values


def clinician_form(handler: Any) -> Any:
    """A clinician's POST: logged in (else to the login page) and carrying the session's CSRF
    token (else 403); the handler gets the form's values and who acts."""

    async def checked(request: Request) -> Response:
        if (redirect := _login_required(request)) is not None:
            return redirect
        if _from_elsewhere(request):
            return PlainTextResponse("The form has expired. Go back and try again.", 403)
        try:
            values = await _form(request)
        except PermissionError:
            return PlainTextResponse("The form has expired. Go back and try again.", 403)
        response: Response = await handler(request, values, str(_who(request)))
        return response

    return checked


def _user(request: Request) -> str | None:
    """The logged-in clinician's e-mail address: the session key in the signed cookie must name a
    session the server keeps, not ended, not too old or idle, of a user who still exists."""
    try:
        known: str | None = request.state.user  # looked up once per request
    except AttributeError:
        key = request.session.get("sid")
        known = request.state.user = _store(request).session_user(key) if isinstance(key, str) else None
    return known


def _who(request: Request) -> str | None:
    user = _user(request)
    return f"user:{user}" if user else None


def _login_required(request: Request) -> Response | None:
    if not _user(request):
        request.session.clear()  # an ended session's cookie goes too
        return RedirectResponse("/login", 303)
    return None


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


# ---------------------------------------------------------------- the feed and the patient


def _feed_response(request: Request, token: str, download: bool = False) -> Response:
    try:
        feed = _store(request).feed(token)
    except NotFoundError:
        return PlainTextResponse("No such calendar.", 404)
    except GoneError:
        return PlainTextResponse("This calendar has been removed by the clinic.", 410)
    headers = {
        "ETag": feed.etag,
        "Last-Modified": format_datetime(feed.modified.astimezone(UTC), usegmt=True),
        "Cache-Control": "private, max-age=300",
    }
    if download:
        headers["Content-Disposition"] = 'attachment; filename="recovery.ics"'
    if _not_modified(request, feed.etag, feed.modified):
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else feed.calendar
    headers["Content-Length"] = str(len(feed.calendar))
    return Response(body, 200, headers=headers, media_type="text/calendar; charset=utf-8")


def _not_modified(request: Request, etag: str, modified: datetime) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        return etag in [tag.strip().removeprefix("W/") for tag in match.split(",")] or match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return modified.astimezone(UTC).replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


async def feed(request: Request) -> Response:
    return _feed_response(request, request.path_params["token"])


async def patient_calendar(request: Request) -> Response:
    return _feed_response(request, request.path_params["token"], download=True)


def patient_page(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        row, revision = _store(request).plan_for_token(token)
    except NotFoundError:
        return _page(
            request,
            "gone.html.j2",
            404,
            patient=True,
            message="This link does not work. Ask your clinic for a new one.",
        )
    except GoneError:
        return _page(request, "gone.html.j2", 410, patient=True, message="Your clinic has removed this plan.")
    from recovery.writers.agenda import agenda

    schedule = _schedule(request, row, revision)
    links = _links(request, token)
    return _page(
        request,
        "patient.html.j2",
        patient=True,
        links=links,
        qr=_qr(links["patient_url"]),
        today=agenda(schedule, _today(revision.options), width=PHONE_COLUMNS),
        revision=revision.number,
        discreet=schedule.plan.discreet,
        title=schedule.protocol_title,
        contact=schedule.contact,
        dial=_dial(schedule.contact),
    )


def _dial(contact: str) -> str:
    """A tel: address for the first phone number in a contact text ("Ward 7: 555-0177" → tel:555-0177), or ""."""
    found = re.search(r"\+?\d[\d ()./-]{4,}\d", contact or "")
    return "tel:" + re.sub(r"[^\d+]", "", found.group()) if found else ""


def patient_handout(request: Request) -> Response:
    try:
        row, revision = _store(request).plan_for_token(request.path_params["token"])
    except NotFoundError:
        return PlainTextResponse("No such plan.", 404)
    except GoneError:
        return PlainTextResponse("This plan has been removed by the clinic.", 410)
    return _handout(request, row, revision)


def _handout(request: Request, row: Any, revision: Any) -> Response:
    from recovery.writers.handout import to_handout

    html = to_handout(_schedule(request, row, revision), dated=True)
    # The handout is one self-contained page with its own style sheet inside: its policy allows
    # that style and the timeline's pictures, and still no script.
    policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"
    return HTMLResponse(html, headers={"Content-Security-Policy": policy})


def _schedule(request: Request, row: Any, revision: Any) -> Any:
    """The schedule of a plan's revision: its own choices and the protocol it was made from (the
    feed's calendar was made from the same two), never the file on disk as it is now."""
    from recovery.schedule.build import build
    from recovery.schedule.plan import Plan

    return build(_store(request).protocol_of(revision, row.protocol), Plan.from_json(revision.options))


def _today(options: dict[str, Any]) -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(str(options.get("timezone") or "UTC"))).date()


def _qr(url: str) -> str:
    """The link as a QR code, an SVG element to put in the page (no script, no external file)."""
    import segno

    svg: str = segno.make(url, error="m").svg_inline(scale=6, border=2, title="QR code of this page's link")
    return svg


# ---------------------------------------------------------------- clinicians


def login_page(request: Request) -> Response:
    return _login_page(request, 200, "")


def _login_page(request: Request, status: int, error: str) -> Response:
    """The login form, with a token of its own: the session cookie (SameSite=Strict) that holds it
    is not sent with a form posted from another site, so such a login is refused."""
    token = request.session.get("login_csrf")
    if not isinstance(token, str):
        token = request.session["login_csrf"] = secrets.token_urlsafe(24)
    return _page(request, "login.html.j2", status, error=error, login_csrf=token)


def _from_elsewhere(request: Request) -> bool:
    """Whether a form was sent by a page of another site (its Origin, or else its Referer, is not
    the base URL's): a login from another site would log the browser into someone else's account."""
    from urllib.parse import urlsplit

    sent = request.headers.get("origin") or request.headers.get("referer")
    if not sent or sent == "null":
        return False  # cannot tell (a browser under Referrer-Policy: no-referrer says "null"): the token decides
    ours, theirs = urlsplit(_base_url(request)), urlsplit(sent)
    return (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc) and theirs.hostname not in LOOPBACK


async def login(request: Request) -> Response:
    form = await request.form()
    expected = request.session.get("login_csrf")
    sent_token = str(form.get("login_csrf", ""))
    if _from_elsewhere(request) or not isinstance(expected, str) or not secrets.compare_digest(sent_token, expected):
        return PlainTextResponse("Log in from this site's own page.", 403)
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    address = request.client.host if request.client else ""
    try:
        ok = await run_in_threadpool(_store(request).check_login, email, password, address)
    except TooManyAttemptsError:
        return _login_page(request, 429, "Too many failed attempts. Wait 15 minutes and try again.")
    if not ok:
        return _login_page(request, 401, "That email address and password do not match.")
    key = await run_in_threadpool(_store(request).start_session, email)
    request.session.clear()
    request.session["sid"] = key
    request.session["csrf"] = secrets.token_urlsafe(24)
    return RedirectResponse("/", 303)


@clinician_form
async def logout(request: Request, values: dict[str, str], who: str) -> Response:
    await run_in_threadpool(_store(request).end_session, str(request.session.get("sid", "")))
    request.session.clear()
    return RedirectResponse("/login", 303)


def plans_page(request: Request) -> Response:
    if (redirect := _login_required(request)) is not None:
        return redirect
    search = request.query_params.get("q", "")[:100]
    return _page(request, "plans.html.j2", plans=_store(request).plans(search), q=search)


def new_plan_page(request: Request) -> Response:
    if (redirect := _login_required(request)) is not None:
        return redirect
    return _new_plan_form(request, request.query_params.get("protocol", DEFAULT_PROTOCOL), {}, [])


#: What the new-plan form asks, in the plan's own order: each field whose declaration gives it a label.
FORM_FIELDS = tuple(declared for declared in FIELDS if declared.form)


def _new_plan_form(request: Request, protocol: str, values: dict[str, str], errors: list[dict[str, str]]) -> Response:
    from recovery.protocol.loader import available
    from recovery.protocol.summary import choices
    from recovery.schedule.zones import machine_timezone

    names = sorted(entry.name for entry in available() if not entry.problem)
    if protocol not in names:
        protocol = DEFAULT_PROTOCOL
    listed = choices(protocol_named(protocol))
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(error["field"], []).append(error["message"])
    # A choice's options: the field's own names, or (a variant) the protocol's; "" is no choice.
    options = {
        "side": [("", "not said"), *((side, side) for side in BY_ATTRIBUTE["side"].names)],
        "variant": [("", "the protocol's defaults")]
        + [(name, f"{name}: {variant['description']}") for name, variant in listed["variants"].items()],
    }
    return _page(
        request,
        "new_plan.html.j2",
        400 if errors else 200,
        protocols=names,
        protocol=protocol,
        choices=listed,
        fields=FORM_FIELDS,
        required={declared.key for declared in FORM_FIELDS if declared.required} | set(SERVER_NEEDS),
        options={key: pairs for key, pairs in options.items() if len(pairs) > 1},
        pairs=_pair_inputs(listed),
        longest={"plan_id": MAX_PLAN_ID, "": MAX_TEXT},
        values={"timezone": machine_timezone(), **values},
        errors=by_field,
    )


def _pair_inputs(listed: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The inputs of the form's NAME=VALUE fields, by the field's key: one per parameter of the
    protocol (`set`), one per time of day (`time`), each with the value it has unless changed."""
    parameters = []
    for name, p in listed["parameters"].items():
        yes_no = p["kind"] == "true/false"
        parameters.append(
            {
                "name": name,
                "description": p["description"],
                "default": str(p["default"]).lower() if yes_no else str(p["default"]),
                "options": [(str(o), str(o)) for o in p["choices"] or (["true", "false"] if yes_no else [])],
                "type": "number" if p["kind"] == "whole number" else "text",
                "min": p["min"],
                "max": p["max"],
            }
        )
    times = [
        {"name": slot, "description": "", "default": default, "options": [], "type": "time", "min": None, "max": None}
        for slot, default in listed["times_of_day"].items()
    ]
    return {BY_ATTRIBUTE["overrides"].key: parameters, BY_ATTRIBUTE["slot_times"].key: times}


def _plan_data(values: dict[str, str], listed: dict[str, Any]) -> dict[str, Any]:
    """The plan schema's JSON form from the new-plan form's fields (`FORM_FIELDS`)."""
    data: dict[str, Any] = {"protocol": values.get("protocol") or DEFAULT_PROTOCOL}
    pairs = _pair_inputs(listed)
    for declared in FORM_FIELDS:
        key = declared.key
        if declared.kind == "yes/no":
            data[key] = values.get(key) == "on"
        elif declared.kind == "pairs":
            defaults = {entry["name"]: entry["default"] for entry in pairs[key]}
            given = {name: values.get(f"{key}.{name}", "") for name in defaults}
            data[key] = {name: value for name, value in given.items() if value not in ("", defaults[name])}
        elif values.get(key):
            data[key] = values[key].strip()
    return data


@clinician_form
async def create_plan_form(request: Request, values: dict[str, str], who: str) -> Response:
    from recovery.protocol.summary import choices

    protocol = values.get("protocol") or DEFAULT_PROTOCOL
    try:
        listed = choices(protocol_named(protocol))  # a name of the server's own, or refused unread
        made = await run_in_threadpool(_store(request).create_plan, _plan_data(values, listed), who)
    except RecoveryError as error:
        return _new_plan_form(request, protocol, values, _errors(error))
    except ConflictError as error:
        return _new_plan_form(request, protocol, values, [{"field": "plan_id", "message": str(error)}])
    # The patient's link is shown in this answer, once: it is kept nowhere but as a hash.
    page = _plan_page(request, made.public_id, status=201, token=made.token or "")
    page.headers["Location"] = f"/plans/{made.public_id}"
    return page


def plan_page(request: Request) -> Response:
    if (redirect := _login_required(request)) is not None:
        return redirect
    return _plan_page(request, request.path_params["id"])


def _plan_page(
    request: Request,
    public_id: str,
    error: str = "",
    status: int = 200,
    token: str = "",
    typed: dict[str, str] | None = None,
) -> Response:
    """A plan's page; with `token` (just made), the patient's link and QR code, shown this once;
    with `typed`, the record form as the clinician filled it (after an error)."""
    store = _store(request)
    try:
        row, revision = store.plan(public_id)
    except NotFoundError:
        return PlainTextResponse("No such plan.", 404)
    except GoneError:
        return PlainTextResponse("This plan was deleted.", 410)
    from recovery.writers.timeline import render as timeline

    revisions, audit = store.history(public_id)
    schedule = _schedule(request, row, revision)
    return _page(
        request,
        "plan.html.j2",
        status,
        row=row,
        revision=revision,
        revisions=revisions,
        audit=audit,
        timeline=timeline(schedule, dated=True),
        milestones=[(m.id, m.title) for m in _store(request).protocol_of(revision, row.protocol).milestones],
        recorded=revision.options.get("actual") or {},
        links=_links(request, token) if token else None,
        qr=_qr(_links(request, token)["patient_url"]) if token else "",
        error=error,
        typed=typed or {},
    )


@clinician_form
async def record_form(request: Request, values: dict[str, str], who: str) -> Response:
    public_id = request.path_params["id"]
    try:
        await run_in_threadpool(
            _store(request).record,
            public_id,
            values.get("milestone", ""),
            values.get("date", ""),
            who,
            values.get("confirm") == "on",
        )
    except RecoveryError as error:
        return _plan_page(request, public_id, "; ".join(e["message"] for e in _errors(error)), 400, typed=values)
    except (NotFoundError, GoneError):
        return PlainTextResponse("No such plan.", 404)
    except ConflictError as conflict:
        return _plan_page(request, public_id, str(conflict), 409)
    return RedirectResponse(f"/plans/{public_id}", 303)


@clinician_form
async def feed_form(request: Request, values: dict[str, str], who: str) -> Response:
    public_id, action = request.path_params["id"], request.path_params["action"]
    store = _store(request)
    try:
        if action == "rotate":
            return _plan_page(request, public_id, token=store.rotate_token(public_id, who).token or "")
        if action == "revoke":
            store.revoke_tokens(public_id, who)
        elif action == "delete":
            if values.get("confirmed") != "yes":  # the patient's calendar empties: ask first
                row, _ = store.plan(public_id)
                return _page(request, "delete.html.j2", row=row)
            store.delete_plan(public_id, who)
            return RedirectResponse("/", 303)
        else:
            return PlainTextResponse("No such action.", 404)
    except (NotFoundError, GoneError):
        return PlainTextResponse("No such plan.", 404)
    return RedirectResponse(f"/plans/{public_id}", 303)


def plan_handout(request: Request) -> Response:
    if (redirect := _login_required(request)) is not None:
        return redirect
    try:
        row, revision = _store(request).plan(request.path_params["id"])
    except (NotFoundError, GoneError):
        return PlainTextResponse("No such plan.", 404)
    return _handout(request, row, revision)


# ---------------------------------------------------------------- the JSON API


def _api_caller(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return _store(request).api_caller(key.strip())


def _unauthorized() -> JSONResponse:
    return JSONResponse(
        {"errors": [{"field": "", "message": "a valid API key is needed: Authorization: Bearer KEY"}]},
        401,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body())
        json.dumps(data, ensure_ascii=False).encode()  # a lone surrogate ("\\ud800") is no text
    except (ValueError, RecursionError):
        raise PlanError("the body is not JSON text (UTF-8, without lone surrogates)") from None
    if not isinstance(data, dict):
        raise PlanError("the body must be a JSON object")
    return data


def _plan_json(request: Request, public_id: str, token: str | None = None) -> dict[str, Any]:
    row, revision = _store(request).plan(public_id)
    found: dict[str, Any] = {
        "id": row.public_id,
        "plan_id": row.plan_id,
        "protocol": row.protocol,
        "revision": revision.number,
        "protocol_version": revision.protocol_version,
        "protocol_hash": revision.protocol_hash,
        "options": revision.options,
    }
    if token is not None:
        links = _links(request, token)
        found |= {"feed_url": links["feed_url"], "patient_url": links["patient_url"]}
    return found


def api_call(handler: Any) -> Any:
    """A JSON API request: a valid key (else 401), and each failure answered as the API
    describes it (422 with the command line's words, 404, 409, 410)."""

    async def checked(request: Request) -> Response:
        who = _api_caller(request)
        if who is None:
            return _unauthorized()
        try:
            response: Response = await handler(request, who)
        except RecoveryError as error:
            return JSONResponse({"errors": _errors(error)}, 422)
        except NotFoundError:
            return JSONResponse({"errors": [{"field": "", "message": "no such plan"}]}, 404)
        except GoneError:
            return JSONResponse({"errors": [{"field": "", "message": "this plan was deleted"}]}, 410)
        except ConflictError as error:
            return JSONResponse({"errors": [{"field": "plan_id", "message": str(error)}]}, 409)
        return response

    return checked


@api_call
async def api_find(request: Request, who: str) -> Response:
    """The live plan a clinic knows by its own id: GET /api/plans?plan_id=A-17 (404 if none)."""
    plan_id = request.query_params.get("plan_id", "")
    if not plan_id:
        raise PlanError([Problem("missing: the clinic's id of the plan to find (?plan_id=…)", field="plan_id")])
    found = [row for row in _store(request).plans(plan_id, limit=10) if row.plan_id == plan_id]
    if not found:
        raise NotFoundError()
    return JSONResponse(_plan_json(request, found[0].public_id))


@api_call
async def api_create(request: Request, who: str) -> Response:
    made = await run_in_threadpool(_store(request).create_plan, await _json(request), who)
    assert made.token is not None
    return JSONResponse(_plan_json(request, made.public_id, made.token), 201)


@api_call
async def api_plan(request: Request, who: str) -> Response:
    return JSONResponse(_plan_json(request, request.path_params["id"]))


@api_call
async def api_delete(request: Request, who: str) -> Response:
    _store(request).delete_plan(request.path_params["id"], who)
    return Response(status_code=204)


@api_call
async def api_actuals(request: Request, who: str) -> Response:
    data = await _json(request)
    unknown = set(data) - {"milestone", "date", "confirm"}
    if unknown or not isinstance(data.get("milestone"), str) or not isinstance(data.get("date"), str):
        raise PlanError(
            'give {"milestone": "brace-off", "date": "2027-04-20"} (and "confirm": true to record a date outside its window)'
        )
    record = _store(request).record
    made = await run_in_threadpool(
        record, request.path_params["id"], data["milestone"], data["date"], who, data.get("confirm") is True
    )
    return JSONResponse(_plan_json(request, made.public_id))


@api_call
async def api_token(request: Request, who: str) -> Response:
    made = _store(request).rotate_token(request.path_params["id"], who)
    assert made.token is not None
    return JSONResponse(_plan_json(request, made.public_id, made.token))


def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI 3.1 description, its plan fields written from the plan schema."""
    fields: dict[str, Any] = {
        "protocol": {"type": "string", "description": "A protocol's name", "default": DEFAULT_PROTOCOL}
    }
    for declared in FIELDS:
        fields[declared.key] = declared.json_schema
    plan = {
        "type": "object",
        "properties": fields,
        "required": [declared.key for declared in FIELDS if declared.required] + list(SERVER_NEEDS),
        "additionalProperties": False,
    }
    error = {
        "type": "object",
        "properties": {
            "errors": {
                "type": "array",
                "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}},
            }
        },
    }
    made = {
        "type": "object",
        "properties": {k: {"type": "string"} for k in ("id", "plan_id", "feed_url", "patient_url", "protocol")}
        | {"revision": {"type": "integer"}, "options": {"type": "object"}},
    }
    errors = {str(code): {"description": why, "content": {"application/json": {"schema": error}}} for code, why in (
        (401, "no valid API key"), (404, "no such plan"), (410, "the plan was deleted"), (413, "the body is over 64 KB"),
        (422, "the plan's fields, each with the command line's words"),
    )}  # fmt: skip
    ok = {"content": {"application/json": {"schema": made}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "recovery: a clinic's living plans", "version": "1"},
        "components": {"securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}},
        "security": [{"key": []}],
        "paths": {
            "/api/plans": {
                "post": {
                    "summary": "Make a plan",
                    "requestBody": {"content": {"application/json": {"schema": plan}}},
                    "responses": {"201": {"description": "made", **ok}, **errors},
                },
                "get": {
                    "summary": "Find the live plan a clinic knows by its own id",
                    "parameters": [{"name": "plan_id", "in": "query", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "found", **ok}, **errors},
                },
            },
            "/api/plans/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {"summary": "A plan", "responses": {"200": {"description": "the plan", **ok}, **errors}},
                "delete": {"summary": "Delete a plan", "responses": {"204": {"description": "deleted"}, **errors}},
            },
            "/api/plans/{id}/actuals": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "post": {
                    "summary": "Record the day a milestone or clearance happened",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "milestone": {"type": "string"},
                                        "date": {"type": "string", "format": "date"},
                                        "confirm": {"type": "boolean"},
                                    },
                                    "required": ["milestone", "date"],
                                }
                            }
                        }
                    },
                    "responses": {"200": {"description": "the new revision", **ok}, **errors},
                },
            },
            "/api/plans/{id}/feed-token": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "post": {
                    "summary": "A new feed link; the old one stops working",
                    "responses": {"200": {"description": "new links", **ok}, **errors},
                },
            },
        },
    }


async def healthz(request: Request) -> Response:
    from sqlalchemy import text

    with _store(request).engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return JSONResponse({"ok": True})


async def server_error(request: Request, error: Exception) -> Response:
    log.exception("error while answering %s %s", request.method, redact(request.url.path))
    response = PlainTextResponse("Internal server error.", 500)
    extra = security_headers(request.url.path, request.app.state.https)
    response.raw_headers = with_security_headers(response.raw_headers, extra)
    return response


#: Host names always answered besides the public one, for a health check on the machine itself.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def create_app(
    database: str = DEFAULT_DATABASE,
    secret_key: str | None = None,
    base_url: str = "http://127.0.0.1:8000",
    secure_cookies: bool = False,
    migrate: bool = True,
) -> Starlette:
    """The application for one database. `secret_key` signs the session cookies (every process
    of one site needs the same); `base_url` is the public address every link and QR code uses,
    and a request for any other host (besides LOOPBACK) is refused; `secure_cookies` when served
    over HTTPS (behind a TLS proxy)."""
    from urllib.parse import urlsplit

    from starlette.middleware.trustedhost import TrustedHostMiddleware

    public = urlsplit(base_url)
    if public.scheme not in ("http", "https") or not public.hostname:
        raise ValueError(f"the base URL must be http(s)://HOST[:PORT], not {base_url!r}")
    engine = connect(database)
    if migrate:
        upgrade(engine)
    routes = [
        Route("/healthz", healthz),
        Route("/feed/{token}.ics", feed, methods=["GET", "HEAD"]),
        Route("/p/{token}", patient_page),
        Route("/p/{token}/calendar.ics", patient_calendar, methods=["GET", "HEAD"]),
        Route("/p/{token}/handout", patient_handout),
        Route("/login", login_page),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", plans_page),
        Route("/plans/new", new_plan_page),
        Route("/plans", create_plan_form, methods=["POST"]),
        Route("/plans/{id}", plan_page),
        Route("/plans/{id}/handout", plan_handout),
        Route("/plans/{id}/actuals", record_form, methods=["POST"]),
        Route("/plans/{id}/feed/{action}", feed_form, methods=["POST"]),
        Route("/api/openapi.json", openapi),
        Route("/api/plans", api_create, methods=["POST"]),
        Route("/api/plans", api_find, methods=["GET"]),
        Route("/api/plans/{id}", api_plan, methods=["GET"]),
        Route("/api/plans/{id}", api_delete, methods=["DELETE"]),
        Route("/api/plans/{id}/actuals", api_actuals, methods=["POST"]),
        Route("/api/plans/{id}/feed-token", api_token, methods=["POST"]),
        Mount("/static", Static(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(Guard, https=secure_cookies),
        Middleware(TrustedHostMiddleware, allowed_hosts=sorted({public.hostname, *LOOPBACK})),
        Middleware(
            SessionMiddleware,
            secret_key=secret_key or secrets.token_urlsafe(32),
            session_cookie="recovery_session",
            max_age=int(SESSION_LIFETIME.total_seconds()),  # the server ends it sooner when idle
            same_site="strict",
            https_only=secure_cookies,
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={500: server_error})
    app.state.store = Store(engine)
    app.state.base_url = base_url
    app.state.https = secure_cookies
    app.state.templates = _templates()
    return app


#: The environment `recovery serve` hands its worker processes (each builds the same app).
ENVIRONMENT = ("RECOVERY_DATABASE", "RECOVERY_SECRET_KEY", "RECOVERY_BASE_URL", "RECOVERY_SECURE_COOKIES")


def from_environment() -> Starlette:
    """The app as `recovery serve` configured it, for uvicorn's worker processes (migrations
    were applied once, before the workers started)."""
    import os

    return create_app(
        os.environ.get("RECOVERY_DATABASE", DEFAULT_DATABASE),
        secret_key=os.environ.get("RECOVERY_SECRET_KEY"),
        base_url=os.environ["RECOVERY_BASE_URL"],
        secure_cookies=os.environ.get("RECOVERY_SECURE_COOKIES") == "1",
        migrate=False,
    )


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with tokens kept out of the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = json.loads(json.dumps(LOGGING_CONFIG))
    config["filters"] = {"redact": {"()": "recovery.serve.app.RedactTokens"}}
    config["handlers"]["access"]["filters"] = ["redact"]
    return config
