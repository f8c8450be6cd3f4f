"""The JSON API for clinic systems (a bearer key) and its OpenAPI document, written from the
plan's field declarations."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from recovery.errors import InputError, NotFoundError, PlanError, Problem, RecoveryError
from recovery.schedule.plan import DEFAULT_PROTOCOL, FIELDS
from recovery.schedule.response import DONE, MORNING
from recovery.serve.store import SERVER_NEEDS
from recovery.serve.web import _errors, _links, _store


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
        raise InputError("the body is not JSON text (UTF-8, without lone surrogates)") from None
    if not isinstance(data, dict):
        raise InputError("the body must be a JSON object")
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
        except RecoveryError as error:  # each kind with its own status: 422, 404, 409, 410
            return JSONResponse({"errors": _errors(error)}, error.http_status)
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


def _check_in_json(check_in: Any) -> dict[str, Any]:
    return {
        "day": check_in.day.isoformat(),
        "done": check_in.done,
        "pain": check_in.pain,
        "morning": check_in.morning,
        "red_flag": check_in.red_flag,
    }


@api_call
async def api_check_ins(request: Request, who: str) -> Response:
    """A plan's check-ins (the latest 800, oldest first) and what its stage's rule says today."""
    from recovery.serve.store import plan_today, verdict_json

    public_id = request.path_params["id"]
    store = _store(request)
    _, revision = store.plan(public_id)
    today = plan_today(revision.options)
    said, _ = await run_in_threadpool(store.judge, public_id, today)
    check_ins = [_check_in_json(c) for c in store.check_ins(public_id)]
    return JSONResponse(
        {"check_ins": check_ins, "verdict": verdict_json(said, today), **_plan_json(request, public_id)}
    )


@api_call
async def api_check_in(request: Request, who: str) -> Response:
    """A check-in a clinic system passes on (a call, a kiosk): the patient's answers for a day."""
    from recovery.schedule.plan import to_date
    from recovery.serve.store import plan_today, verdict_json

    data = await _json(request)
    unknown = sorted(set(data) - {"day", "done", "pain", "morning", "red_flag"})
    if unknown:
        raise PlanError(
            [Problem("unknown answer; the answers are day, done, pain, morning, red_flag", field=unknown[0])]
        )
    try:
        day = to_date(data["day"]) if data.get("day") else None
    except ValueError as error:
        raise PlanError([Problem(str(error), field="day")]) from None
    answers = {key: value for key, value in data.items() if key != "day"}
    if any(
        not isinstance(value, str | int) or isinstance(value, bool) for value in answers.values() if value is not None
    ):
        raise PlanError([Problem("each answer is a string (pain: a whole number)", field="done")])
    said, _ = await run_in_threadpool(
        lambda: _store(request).check_in(answers, public_id=request.path_params["id"], day=day, who=who)
    )
    found = _plan_json(request, request.path_params["id"])
    return JSONResponse({"verdict": verdict_json(said, plan_today(found["options"])), **found})


@api_call
async def api_decision(request: Request, who: str) -> Response:
    """A clinician's confirmation of what the rule proposes: {"action": "advance", "stage": "start-stage-2"}."""
    from recovery.serve.store import plan_today

    data = await _json(request)
    if set(data) != {"action", "stage"} or not all(isinstance(v, str) for v in data.values()):
        raise PlanError('give {"action": "advance" or "step-back", "stage": the stage\'s id as the verdict names it}')
    public_id = request.path_params["id"]
    store = _store(request)
    _, revision = store.plan(public_id)
    await run_in_threadpool(store.decide, public_id, data["action"], data["stage"], who, plan_today(revision.options))
    return JSONResponse(_plan_json(request, public_id))


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
        (401, "no valid API key"), (404, "no such plan"), (410, "the plan was deleted"), (409, "changed at the same moment, or the check-ins say otherwise now"),
        (413, "the body is over 64 KB"), (429, "too many check-ins in an hour"),
        (422, "the plan's fields, each with the command line's words"),
    )}  # fmt: skip
    ok = {"content": {"application/json": {"schema": made}}}
    check_in = {
        "type": "object",
        "properties": {
            "day": {"type": "string", "format": "date"},
            "done": {"enum": list(DONE)},
            "pain": {"type": "integer", "minimum": 0, "maximum": 10},
            "morning": {"enum": list(MORNING)},
            "red_flag": {"type": "string", "description": "the warning sign's number in the plan's list, from 1"},
        },
        "additionalProperties": False,
    }
    decision = {
        "type": "object",
        "properties": {"action": {"enum": ["advance", "step-back"]}, "stage": {"type": "string"}},
        "required": ["action", "stage"],
        "additionalProperties": False,
    }
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
            "/api/plans/{id}/check-ins": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {
                    "summary": "The plan's check-ins and what its stage's rule says today",
                    "responses": {"200": {"description": "check-ins and verdict", **ok}, **errors},
                },
                "post": {
                    "summary": "A patient's answers for a day (today unless given; at most 7 days back)",
                    "requestBody": {"content": {"application/json": {"schema": check_in}}},
                    "responses": {"200": {"description": "what the rule says now", **ok}, **errors},
                },
            },
            "/api/plans/{id}/decision": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "post": {
                    "summary": "Confirm what the stage's rule proposes: a new revision (409 if it says otherwise now)",
                    "requestBody": {"content": {"application/json": {"schema": decision}}},
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
