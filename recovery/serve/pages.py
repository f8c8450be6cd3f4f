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
from recovery.schedule.response import ACTIONS
from recovery.serve.store import MAX_PLAN_ID, SERVER_NEEDS, digest, plan_today, protocol_named, unpacked
from recovery.serve.web import _errors, _from_elsewhere, _links, _login_required, _page, _store, _user, clinician_form
from recovery.words import marked

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
    if feed.stages:
        calendar = _with_page_link(request, token, feed.etag, calendar)
    if _takes_gzip(request):
        headers["Content-Encoding"] = "gzip"
    else:
        calendar = unpacked(calendar)
    headers["Content-Length"] = str(len(calendar))
    body = b"" if request.method == "HEAD" else calendar
    return Response(body, 200, headers=headers, media_type="text/calendar; charset=utf-8")


def _with_page_link(request: Request, token: str, etag: str, calendar: bytes) -> bytes:
    """The calendar as this link serves it: its sessions lead to this patient's check-in, made
    once per link and calendar in each process (gzip, as stored)."""
    from recovery.serve.store import packed
    from recovery.writers.ics import with_page_link

    key = ("feed", digest(token), etag)
    made = _FEEDS.get(key)
    if made is None:
        made = packed(with_page_link(unpacked(calendar), _links(request, token)["patient_url"] + "#check-in"))
        _FEEDS.put(key, made)
    return bytes(made)


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
    return _patient_page(request, request.path_params["token"])


def _patient_page(request: Request, token: str, status: int = 200, problems: tuple[str, ...] = ()) -> Response:
    """The patient's page; on a plan with stages, its check-in form with today's answers; after a
    warning sign (?flag=N), that sign's action and whom to call, first."""
    store = _store(request)
    row, revision = store.plan_for_token(token)  # 404 or 410: see `not_there`
    from recovery.writers.agenda import agenda

    today = plan_today(revision.options)
    stages = store.protocol_of(revision, row.protocol).has_stages
    answered = store.check_in_on(row.id, today) if stages else None
    flag = request.query_params.get("flag", "")
    said = (answered.done, answered.pain, answered.morning, answered.red_flag) if answered else None
    key = (digest(token), revision.id, today, said)
    kept = _user(request) is None and status == 200 and not flag  # a clinician's view of it is not kept
    if kept and (html := _PATIENT_PAGES.get(key)) is not None:
        return HTMLResponse(html)
    schedule = _schedule(request, row, revision)
    links = _links(request, token)
    flagged = schedule.red_flags[int(flag) - 1] if flag.isdigit() and 0 < int(flag) <= len(schedule.red_flags) else None
    page = _page(
        request,
        "patient.html.j2",
        status,
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
        stages=stages,
        answered=answered,
        red_flags=schedule.red_flags,
        flagged=flagged,
        sent=request.query_params.get("sent") == "1",
        problems=problems,
    )
    if kept and page.status_code == 200:
        _PATIENT_PAGES.put(key, bytes(page.body).decode())
    return page


async def patient_check_in(request: Request) -> Response:
    """A patient's check-in from their page (a form, no script): the link's token is the secret
    that lets it in, and a form sent from another site's page is refused (its Origin or Referer);
    the store bounds how many a link may send (429). Then back to the page (303), which says it is
    saved, or shows a warning sign's action and whom to call at once."""
    token = request.path_params["token"]
    if _from_elsewhere(request):
        return PlainTextResponse("Send this from your plan's own page.", 403)
    form = await request.form()
    answers = {key: str(form.get(key, ""))[:MAX_ANSWER] for key in CHECK_IN_ANSWERS}
    try:
        await run_in_threadpool(_store(request).check_in, answers, token=token)
    except (NotFoundError, GoneError):
        raise  # answered by `not_there`
    except TooManyAttemptsError:
        return PlainTextResponse(
            _patient_words(request, token)("Too many answers in a short time. Try again in an hour."), 429
        )
    except RecoveryError as error:
        w = _patient_words(request, token)
        fields = sorted({(problem.field or problem.where).rpartition(", ")[2] for problem in error.problems})
        return _patient_page(
            request, token, 400, tuple(w(CHECK_IN_PROBLEMS.get(f, CHECK_IN_PROBLEMS[""])) for f in fields)
        )
    flag = answers["red_flag"]
    where = f"?flag={flag}#warning" if flag else "?sent=1#check-in"
    return RedirectResponse(f"/p/{token}{where}", 303)


def _patient_words(request: Request, token: str) -> Any:
    _, revision = _store(request).plan_for_token(token)
    return words(str(revision.options.get("language") or "en"))


#: The answers a check-in form sends, and the longest the server reads of each.
CHECK_IN_ANSWERS, MAX_ANSWER = ("done", "pain", "morning", "red_flag"), 20
#: What the page says of a bad answer, by its field, in the patient's words (the form's own
#: choices cannot be wrong: only a form changed by hand, or a missing pain score, lands here).
CHECK_IN_PROBLEMS = {
    "pain": marked("Please choose how much the exercises hurt, from 0 to 10."),
    "done": marked("Please say whether you did today's exercises."),
    "": marked("Some answers could not be saved. Please choose them again."),
}


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
    """What was made lately for a patient's link, by a key that changes whenever it would: a page,
    by (token digest, revision, day, today's check-in), is the same for a revision all day until
    the patient answers, so it is made once, not on every visit; a feed with the patient's link,
    by (token digest, revision). Bounded (the oldest goes first); a deleted plan or a revoked
    token never reaches it (the lookup before it answers 410 or 404)."""

    def __init__(self, most: int):
        self.most = most
        self.pages: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Any:
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key: tuple[Any, ...], page: Any) -> None:
        with self.lock:
            self.pages[key] = page
            while len(self.pages) > self.most:
                self.pages.popitem(last=False)


#: About 30 KB a page: 1,000 pages hold about 30 MB per process.
_PATIENT_PAGES = _Pages(1_000)
#: Feeds with the patient's link in their sessions (about 9 KB each, gzip): about 9 MB per process.
_FEEDS = _Pages(1_000)


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
    attention = request.query_params.get("attention", "")
    attention = attention if attention in ACTIONS else ""
    plans = _store(request).plans(search, attention=attention)
    return _page(request, "plans.html.j2", plans=plans, q=search, attention=attention, actions=ATTENTION)


#: The rule's answers the clinic's list can be narrowed to, as the list says them.
ATTENTION = {
    "advance": "ready to move on",
    "step-back": "back one stage",
    "red-flag": "warning sign",
    "review": "past the latest day",
    "hold": "stays in the stage",
}


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
                "default": "" if p["set_by_clinician"] else str(p["default"]).lower() if yes_no else str(p["default"]),
                "required": p["set_by_clinician"],  # a blank the clinician fills in for each patient
                "options": [(str(o), str(o)) for o in p["choices"] or (["true", "false"] if yes_no else [])],
                "type": "number" if p["kind"] == "whole number" else "text",
                "min": p["min"],
                "max": p["max"],
            }
        )
    times = [
        {
            "name": slot,
            "description": "",
            "default": default,
            "options": [],
            "type": "time",
            "min": None,
            "max": None,
            "required": False,
        }
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
    protocol = store.protocol_of(revision, row.protocol)
    checking = None
    if protocol.has_stages:
        said, made = store.judge(public_id, plan_today(revision.options))
        if made is not None:  # the rule moved the plan on just now
            return _plan_page(request, public_id, error, status, token, typed)
        checking = _checking(store.check_ins(public_id), said, protocol, plan_today(revision.options))
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
        milestones=[(m.id, m.title) for m in protocol.milestones],
        checking=checking,
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


def _checking(check_ins: list[Any], said: Any, protocol: Any, today: date) -> dict[str, Any]:
    """What a plan's page shows of its check-ins: the chart, what the rule says, and (when it
    proposes a move) the form that confirms it."""
    titles = {m.id: m.title for m in protocol.milestones}
    limits = [m.criteria.pain_at_most for m in protocol.milestones if m.criteria is not None]
    return {
        "chart": _chart(check_ins, today, max(limits, default=10)),
        "said": said,
        "to": titles.get(said.to, said.to),
        "shown": ATTENTION.get(said.action, said.action),
        "confirm": said.action in ("advance", "step-back") and said.proposes,
        "latest": list(reversed(check_ins[-7:])),
    }


#: How many days the clinic's chart of check-ins shows, up to today.
CHART_DAYS = 28


def _chart(check_ins: list[Any], today: date, limit: int) -> str:
    """The last CHART_DAYS days of check-ins as an inline SVG (no script): a bar for each day's
    pain, dark when the next morning was worse, a dashed line at the stage's pain limit, a red
    mark on a day with a warning sign, a grey tick on a day the exercises were not done."""
    from datetime import timedelta

    from markupsafe import Markup, escape

    width, height, left, bottom, step = 560, 200, 28, 24, 19
    first = today - timedelta(CHART_DAYS - 1)
    by_day = {c.day: c for c in check_ins if first <= c.day <= today}

    def y(pain: float) -> float:  # 0-10 over 150 px
        return height - bottom - pain * 15

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" '
        f'aria-labelledby="chart-title"><title id="chart-title">{escape(_chart_words(by_day, first, today))}</title>',
        f'<line x1="{left}" y1="{y(0)}" x2="{width}" y2="{y(0)}" stroke="#889"/>',
        f'<line x1="{left}" y1="{y(limit)}" x2="{width}" y2="{y(limit)}" stroke="#a60" stroke-dasharray="6 4"/>',
        f'<text x="{left - 4}" y="{y(limit) + 4}" text-anchor="end" font-size="11">{limit}</text>',
        f'<text x="{left - 4}" y="{y(10) + 4}" text-anchor="end" font-size="11">10</text>',
        f'<text x="{left - 4}" y="{y(0) + 4}" text-anchor="end" font-size="11">0</text>',
    ]
    after = {c.day - timedelta(1): c.morning for c in by_day.values() if c.morning}
    for n in range(CHART_DAYS):
        day = first + timedelta(n)
        x = left + 4 + n * step
        if n % 7 == 0:
            parts.append(f'<text x="{x}" y="{height - 6}" font-size="11">{day.strftime("%d %b")}</text>')
        found = by_day.get(day)
        if found is None:
            continue
        if found.pain is not None:
            fill = "#a00" if after.get(day) == "worse" else "#357"
            top = y(max(found.pain, 0.2))
            parts.append(f'<rect x="{x}" y="{top}" width="{step - 5}" height="{y(0) - top}" fill="{fill}"/>')
        elif found.done == "no":
            parts.append(f'<rect x="{x}" y="{y(0) - 3}" width="{step - 5}" height="3" fill="#999"/>')
        if found.red_flag:
            parts.append(f'<circle cx="{x + (step - 5) / 2}" cy="{y(10) - 6}" r="6" fill="#c00"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _chart_words(by_day: dict[date, Any], first: date, today: date) -> str:
    """The chart said in words, for a screen reader (its title)."""
    pains = [c.pain for c in by_day.values() if c.pain is not None]
    flags = sum(1 for c in by_day.values() if c.red_flag)
    if not by_day:
        return f"No check-ins from {first.isoformat()} to {today.isoformat()}."
    said = f"{len(by_day)} check-ins from {first.isoformat()} to {today.isoformat()}"
    if pains:
        said += f"; pain during the exercises {min(pains)} to {max(pains)}, latest {pains[-1]}"
    return said + (f"; {flags} warning signs" if flags else "") + "."


@clinician_form
async def decide_form(request: Request, values: dict[str, str], who: str) -> Response:
    """A clinician confirms what the stage's rule proposes: a new revision, or the page again
    with why not (409: the check-ins say something else now)."""
    public_id = request.path_params["id"]
    store = _store(request)
    _, revision = store.plan(public_id)
    try:
        await run_in_threadpool(
            store.decide,
            public_id,
            values.get("action", ""),
            values.get("stage", ""),
            who,
            plan_today(revision.options),
        )
    except (NotFoundError, GoneError):
        raise
    except ConflictError as conflict:
        return _plan_page(request, public_id, str(conflict), 409)
    except RecoveryError as error:
        return _plan_page(request, public_id, "; ".join(e["message"] for e in _errors(error)), 400)
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
