"""What the server's pages and its API share: a request's store and logged-in clinician, links
built from the configured base URL, problems in the server's words, the pages' templates."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from recovery.errors import RecoveryError
from recovery.schedule.plan import BY_ATTRIBUTE
from recovery.serve.store import Store

log = logging.getLogger("recovery.serve")


HERE = Path(__file__).parent


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
        "check_in": f"{base}/p/{token}/check-in",
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


def _from_elsewhere(request: Request) -> bool:
    """Whether a form was sent by a page of another site (its Origin, or else its Referer, is not
    the base URL's): a login from another site would log the browser into someone else's account."""
    from urllib.parse import urlsplit

    sent = request.headers.get("origin") or request.headers.get("referer")
    if not sent or sent == "null":
        return False  # cannot tell (a browser under Referrer-Policy: no-referrer says "null"): the token decides
    ours, theirs = urlsplit(_base_url(request)), urlsplit(sent)
    return (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc) and theirs.hostname not in LOOPBACK


#: Host names always answered besides the public one, for a health check on the machine itself.
LOOPBACK = ("127.0.0.1", "localhost", "::1")
