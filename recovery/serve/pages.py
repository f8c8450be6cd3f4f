"""The server's pages: the calendar feed and the patient's page and handout (by token), and the
clinicians' pages and forms (login, plans, a plan, recording what happened)."""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from recovery.errors import ConflictError, GoneError, NotFoundError, RecoveryError, TooManyAttemptsError
from recovery.language import LANGUAGES, words
from recovery.schedule.plan import BY_ATTRIBUTE, DEFAULT_PROTOCOL, FIELDS, MAX_TEXT
from recovery.serve.store import MAX_PLAN_ID, SERVER_NEEDS, digest, protocol_named, unpacked
from recovery.serve.web import _errors, _from_elsewhere, _links, _login_required, _page, _store, _user, clinician_form

#: The agenda's width on the patient's page: what a phone shows across without wrapping.
PHONE_COLUMNS = 32


def _feed_response(request: Request, token: str, download: bool = False) -> Response:
    conditional = "if-none-match" in request.headers or "if-modified-since" in request.headers
    feed = _store(request).feed(token, with_calendar=not conditional)  # one query either way, mostly
    headers = {
        "ETag": feed.etag,
        "Last-Modified": format_datetime(feed.modified.astimezone(UTC), usegmt=True),
        "Cache-Control": "private, max-age=300",
        "Vary": "Accept-Encoding",
    }
    if download:
        headers["Content-Disposition"] = 'attachment; filename="recovery.ics"'
    if _not_modified(request, feed.etag, feed.modified):
        return Response(status_code=304, headers=headers)
    calendar = _store(request).calendar(feed)  # gzip, as stored
    if _takes_gzip(request):
        headers["Content-Encoding"] = "gzip"
    else:
        calendar = unpacked(calendar)
    headers["Content-Length"] = str(len(calendar))
    body = b"" if request.method == "HEAD" else calendar
    return Response(body, 200, headers=headers, media_type="text/calendar; charset=utf-8")


def _takes_gzip(request: Request) -> bool:
    """Whether the client accepts gzip (RFC 9110: "gzip" or "x-gzip" listed, not with q=0)."""
    for coding in request.headers.get("accept-encoding", "").lower().split(","):
        name, _, parameters = coding.strip().partition(";")
        if name.strip() in ("gzip", "x-gzip", "*"):
            return parameters.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


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


#: What a page says of a plan, feed or link that is not there (404) or that the clinic deleted
#: (410), by the kind of page asked for; the API answers in JSON (`api.checked`).
NOT_THERE = {
    "calendar": ("No such calendar.", "This calendar has been removed by the clinic."),
    "handout": ("No such plan.", "This plan has been removed by the clinic."),
    "plan": ("No such plan.", "This plan was deleted."),
    "patient": ("This link does not work. Ask your clinic for a new one.", "Your clinic has removed this plan."),
}
#: The same for a patient, in Spanish: the page shows both, since it cannot know the plan's language.
NO_ESTA = ("Este enlace no funciona. Pida uno nuevo a su clínica.", "Su clínica ha retirado este plan.")


def not_there(request: Request, error: Exception) -> Response:
    """The server's one answer to NotFoundError (404) and GoneError (410) from any page: the
    patient's page as a page they can read, the rest as plain text."""
    path = request.url.path
    gone = isinstance(error, GoneError)
    if path.startswith("/feed/") or path.endswith(".ics"):
        kind = "calendar"
    elif path.startswith("/p/"):
        kind = "handout" if path.endswith("/handout") else "patient"
    else:
        kind = "plan"
    message = NOT_THERE[kind][gone]
    status = 410 if gone else 404
    if kind == "patient":
        return _page(request, "gone.html.j2", status, patient=True, message=message, mensaje=NO_ESTA[gone])
    return PlainTextResponse(message, status)


def patient_page(request: Request) -> Response:
    token = request.path_params["token"]
    row, revision = _store(request).plan_for_token(token)  # 404 or 410: see `not_there`
    from recovery.writers.agenda import agenda

    today = _today(revision.options)
    key = (digest(token), revision.id, today)
    kept = _user(request) is None  # a clinician's view of it is not kept
    if kept and (html := _PATIENT_PAGES.get(key)) is not None:
        return HTMLResponse(html)
    schedule = _schedule(request, row, revision)
    links = _links(request, token)
    page = _page(
        request,
        "patient.html.j2",
        patient=True,
        links=links,
        qr=_qr(links["patient_url"], schedule.plan.language),
        today=agenda(schedule, today, width=PHONE_COLUMNS),
        sessions=_todays_exercises(schedule, today),
        _=words(schedule.plan.language),
        w=words(schedule.plan.language),
        lang=schedule.plan.language,
        said=schedule.said,
        side=schedule.plan.side,
        large_print=schedule.plan.large_print,
        revision=revision.number,
        discreet=schedule.plan.discreet,
        title=schedule.protocol_title,
        contact=schedule.contact,
        dial=_dial(schedule.contact),
    )
    if kept and page.status_code == 200:
        _PATIENT_PAGES.put(key, bytes(page.body).decode())
    return page


def _todays_exercises(schedule: Any, today: date) -> list[dict[str, Any]]:
    """Today's sessions with a picture of each exercise that has one: [{time, exercises}]. The
    pictures are drawn with the plan's side toward the patient, at a phone's width."""
    from markupsafe import Markup

    from recovery import pictures
    from recovery.words import clock

    found = []
    for session in schedule.sessions:
        if session.medication or not session.occurs_on(today):
            continue
        exercises = [
            {
                "series": series,
                "pictures": [
                    Markup(pictures.draw(name, schedule.plan.side, box=PHONE_PICTURE, language=schedule.plan.language))
                    for name in series.pictures
                ],
            }
            for series in session.routines
            if series.occurs_on(today)
        ]
        if exercises:
            found.append({"time": clock(session.time), "exercises": exercises})
    return found


#: The box of an exercise picture on the patient's page, in CSS pixels (the page is 36rem wide
#: at most); the style sheet lets a picture shrink to a narrower phone.
PHONE_PICTURE = (520, 150)


class _Pages:
    """The patient pages made lately, by (token digest, revision, day): a page is the same for a
    revision all day, so it is made once, not on every visit (bounded; the oldest goes first).
    A new revision, a new token or the next day is a new key; a deleted plan or a revoked token
    never reaches it (the lookup before it answers 410 or 404)."""

    def __init__(self, most: int):
        self.most = most
        self.pages: OrderedDict[tuple[str, int, date], str] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, int, date]) -> str | None:
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key: tuple[str, int, date], page: str) -> None:
        with self.lock:
            self.pages[key] = page
            while len(self.pages) > self.most:
                self.pages.popitem(last=False)


#: About 30 KB a page: 1,000 pages hold about 30 MB per process.
_PATIENT_PAGES = _Pages(1_000)


def _dial(contact: str) -> str:
    """A tel: address for the first phone number in a contact text ("Ward 7: 555-0177" → tel:555-0177), or ""."""
    found = re.search(r"\+?\d[\d ()./-]{4,}\d", contact or "")
    return "tel:" + re.sub(r"[^\d+]", "", found.group()) if found else ""


def patient_handout(request: Request) -> Response:
    token = request.path_params["token"]
    row, revision = _store(request).plan_for_token(token)
    # The wallet card's QR code leads back to the patient's own page (the link the patient has).
    return _handout(request, row, revision, _qr(_links(request, token)["patient_url"]))


def _handout(request: Request, row: Any, revision: Any, page_qr: str = "") -> Response:
    from recovery.writers.handout import to_handout

    html = to_handout(_schedule(request, row, revision), dated=True, page_qr=page_qr)
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


@lru_cache(maxsize=1_000)
def _qr(url: str, language: str = "en") -> str:
    """The link as a QR code, an SVG element to put in the page (no script, no external file).
    Made once per link in each process: it costs about 7 ms (segno tries all eight masks), more
    than the rest of the page; kept in memory only, like the pages themselves."""
    import segno

    w = words(language)
    title = w("QR code of this page's link")
    svg: str = segno.make(url, error="m").svg_inline(scale=6, border=2, title=title)
    return svg


def login_page(request: Request) -> Response:
    return _login_page(request, 200, "")


def _login_page(request: Request, status: int, error: str) -> Response:
    """The login form, with a token of its own: the session cookie (SameSite=Strict) that holds it
    is not sent with a form posted from another site, so such a login is refused."""
    token = request.session.get("login_csrf")
    if not isinstance(token, str):
        token = request.session["login_csrf"] = secrets.token_urlsafe(24)
    return _page(request, "login.html.j2", status, error=error, login_csrf=token)


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
        "language": list(LANGUAGES.items()),
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
    except RecoveryError as error:  # a plan_id in use too (ConflictError, on its field)
        return _new_plan_form(request, protocol, values, _errors(error))
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
    row, revision = store.plan(public_id)
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
    except (NotFoundError, GoneError):
        raise  # answered by `not_there`
    except ConflictError as conflict:
        return _plan_page(request, public_id, str(conflict), 409)
    except RecoveryError as error:
        return _plan_page(request, public_id, "; ".join(e["message"] for e in _errors(error)), 400, typed=values)
    return RedirectResponse(f"/plans/{public_id}", 303)


@clinician_form
async def feed_form(request: Request, values: dict[str, str], who: str) -> Response:
    public_id, action = request.path_params["id"], request.path_params["action"]
    store = _store(request)
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
    return RedirectResponse(f"/plans/{public_id}", 303)


def plan_handout(request: Request) -> Response:
    if (redirect := _login_required(request)) is not None:
        return redirect
    row, revision = _store(request).plan(request.path_params["id"])
    return _handout(request, row, revision)
