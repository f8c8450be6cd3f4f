"""The web application: pages for clinicians and patients, the calendar feed and the JSON API.

Starlette rather than FastAPI: the plan schema already validates requests and words its errors
as the command line does (a 422 lists `{"field", "message"}` in those words), so FastAPI's own
request models would be a second, differently worded copy; the OpenAPI document is written from
the plan schema's fields instead. The pages are server-rendered (Jinja2, escaped) and work
without JavaScript; the Content-Security-Policy allows no script at all.

Work that takes long (an argon2 check, laying a plan out for a page) runs in a thread, so that
the feeds of other patients are not kept waiting. A process keeps no state of its own: sessions
and everything else are in the database (cookies are signed with $RECOVERY_SECRET_KEY, shared by
every process), so several processes or machines can serve one PostgreSQL database.

This module puts the application together (`create_app`); its parts: `guard` (headers and bounds
on every request), `web` (what pages and the API share), `pages` (the feed, the patient's and
the clinicians' pages), `api` (the JSON API and its OpenAPI document), `store` (the database).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from recovery.errors import GoneError, NotFoundError
from recovery.serve import DEFAULT_DATABASE
from recovery.serve.api import (
    api_actuals,
    api_check_in,
    api_check_ins,
    api_create,
    api_decision,
    api_delete,
    api_find,
    api_plan,
    api_token,
    openapi,
)
from recovery.serve.guard import Guard, Static, redact, security_headers, with_security_headers
from recovery.serve.pages import (
    create_plan_form,
    decide_form,
    feed,
    feed_form,
    login,
    login_page,
    logout,
    new_plan_page,
    not_there,
    patient_calendar,
    patient_check_in,
    patient_handout,
    patient_page,
    plan_handout,
    plan_page,
    plans_page,
    record_form,
)
from recovery.serve.store import SESSION_LIFETIME, Store, connect, upgrade
from recovery.serve.web import HERE, LOOPBACK, _store, _templates, log


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
        Route("/p/{token}/check-in", patient_check_in, methods=["POST"]),
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
        Route("/plans/{id}/decide", decide_form, methods=["POST"]),
        Route("/api/openapi.json", openapi),
        Route("/api/plans", api_create, methods=["POST"]),
        Route("/api/plans", api_find, methods=["GET"]),
        Route("/api/plans/{id}", api_plan, methods=["GET"]),
        Route("/api/plans/{id}", api_delete, methods=["DELETE"]),
        Route("/api/plans/{id}/actuals", api_actuals, methods=["POST"]),
        Route("/api/plans/{id}/feed-token", api_token, methods=["POST"]),
        Route("/api/plans/{id}/check-ins", api_check_ins, methods=["GET"]),
        Route("/api/plans/{id}/check-ins", api_check_in, methods=["POST"]),
        Route("/api/plans/{id}/decision", api_decision, methods=["POST"]),
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
    handlers: dict[Any, Any] = {500: server_error, NotFoundError: not_there, GoneError: not_there}
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
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
    """uvicorn's logging, with tokens kept out of the access log and each error message written
    at most once a minute (`OncePerInterval`)."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = json.loads(json.dumps(LOGGING_CONFIG))
    config["filters"] = {
        "redact": {"()": "recovery.serve.guard.RedactTokens"},
        "once": {"()": "recovery.serve.guard.OncePerInterval"},
    }
    config["handlers"]["access"]["filters"] = ["redact"]
    config["handlers"]["default"]["filters"] = ["once"]
    return config
