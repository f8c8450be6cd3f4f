"""`recovery serve`, in process: every endpoint and page with its errors, on SQLite and (when
$RECOVERY_TEST_POSTGRES names a database, as CI does) on PostgreSQL.

The feed is checked as a subscribed calendar meets it: polled with the validators ICSx⁵ sends
(304 when nothing changed), and after each of 20 recorded changes, imported by UID into the
same model of a calendar as the `--update` tests use, which must then hold exactly the current
plan as `generate` writes it.
"""

from __future__ import annotations

import base64
import json
import os
import re
from contextlib import suppress
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from starlette.testclient import TestClient
from test_calendar_readers import timed_occurrences_by_vobject
from test_calendar_updates import UidCalendar, content

from recovery import Plan, build, load, to_ics
from recovery.cli import SERVE_LIMITS
from recovery.serve.app import create_app
from recovery.serve.guard import redact
from recovery.serve.store import Store, connect, upgrade

from conftest import BASE, DATABASES, occurrences, run, strict_occurrences

PASSWORD = "correct horse battery staple"
PLAN = {"surgery_date": "2027-03-01", "timezone": "Europe/Berlin", "side": "left", "plan_id": "A-17"}


@pytest.fixture(autouse=True)
def _protocol_files_looked_at_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server looks at a protocol file at most once a second; the tests edit files and look at once."""
    from recovery.serve import store as storing

    monkeypatch.setattr(storing, "LOOK_AGAIN_SECONDS", 0.0)


def make(client: TestClient, key: dict[str, str], **changes: object) -> dict[str, object]:
    response = client.post("/api/plans", json={**PLAN, **changes}, headers=key)
    assert response.status_code == 201, response.text
    made: dict[str, object] = response.json()
    return made


def token_of(made: dict[str, object]) -> str:
    return str(made["feed_url"]).rsplit("/", 1)[1].removesuffix(".ics")


# ---------------------------------------------------------------- the API


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"ok": True}


def test_the_api_needs_a_valid_key(client: TestClient, store: Store) -> None:
    assert client.post("/api/plans", json=PLAN).status_code == 401
    assert client.post("/api/plans", json=PLAN, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/plans/x", headers={"Authorization": "Basic abc"}).status_code == 401
    response = client.delete("/api/plans/x")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_plan_made_by_the_api(client: TestClient, key: dict[str, str]) -> None:
    made = make(client, key)
    assert made["plan_id"] == "A-17"
    assert made["revision"] == 1
    assert str(made["feed_url"]).startswith(f"{BASE}/feed/")
    assert str(made["patient_url"]).startswith(f"{BASE}/p/")
    assert len(token_of(made)) >= 22  # at least 128 random bits
    again = client.get(f"/api/plans/{made['id']}", headers=key).json()
    assert again["options"]["side"] == "left"
    assert "feed_url" not in again  # a token is shown once, when it is made
    assert len(again["protocol_hash"]) == 64


def test_api_errors_use_the_command_lines_words(client: TestClient, key: dict[str, str], tmp_path: Path) -> None:
    response = client.post(
        "/api/plans", json={**PLAN, "surgery_date": "2027-02-30", "set": {"protection_weeks": "2"}}, headers=key
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    cli = run("generate", "--surgery-date", "2027-02-30", "-o", str(tmp_path / "x.ics")).stderr
    date_error = next(e for e in errors if e["field"] == "surgery_date")
    assert date_error["message"] in cli  # the same words as the command line's
    response = client.post("/api/plans", json={**PLAN, "sett": {}}, headers=key)
    assert response.json()["errors"] == [{"field": "sett", "message": 'unknown field "sett"; did you mean "set"?'}]
    response = client.post("/api/plans", json={**PLAN, "set": {"protection_weeks": "2"}}, headers=key)
    assert response.json()["errors"] == [{"field": "set", "message": "protection_weeks=2: 2 is below the minimum 4"}]
    assert client.post("/api/plans", content=b"[1", headers=key).status_code == 422
    assert client.post("/api/plans", json=[1], headers=key).status_code == 422
    assert client.post("/api/plans", json={**PLAN, "protocol": "../../etc/passwd"}, headers=key).status_code == 422
    assert (
        client.post("/api/plans", json={k: v for k, v in PLAN.items() if k != "plan_id"}, headers=key).status_code
        == 422
    )


def test_a_plan_id_in_use_is_refused(client: TestClient, key: dict[str, str]) -> None:
    make(client, key)
    assert client.post("/api/plans", json=PLAN, headers=key).status_code == 409


def test_a_body_over_64_kb_is_refused(client: TestClient, key: dict[str, str]) -> None:
    response = client.post("/api/plans", json={**PLAN, "contact": "x" * 70_000}, headers=key)
    assert response.status_code == 413

    def chunks():  # no Content-Length: the body is counted as it arrives
        for _ in range(70):
            yield b"x" * 1024

    assert client.post("/api/plans", content=chunks(), headers=key).status_code == 413


def test_recording_a_milestone_makes_a_revision_that_moves_the_plan(client: TestClient, key: dict[str, str]) -> None:
    made = make(client, key)
    before = client.get(f"/feed/{token_of(made)}.ics").content
    response = client.post(
        f"/api/plans/{made['id']}/actuals", json={"milestone": "brace-off", "date": "2027-04-26"}, headers=key
    )
    assert response.status_code == 200, response.text
    assert response.json()["revision"] == 2
    after = client.get(f"/feed/{token_of(made)}.ics").content
    expected = to_ics(
        build(load("proximal-hamstring-repair"), Plan.from_json({**PLAN, "actual": {"brace-off": "2027-04-26"}})),
        page=True,
    )
    assert events(after) == events(expected)
    assert events(before) != events(after)


def test_recording_a_date_outside_its_window_needs_confirm(client: TestClient, key: dict[str, str]) -> None:
    made = make(client, key)
    path = f"/api/plans/{made['id']}/actuals"
    response = client.post(path, json={"milestone": "brace-off", "date": "2027-03-02"}, headers=key)
    assert response.status_code == 422
    assert "3 weeks to 12 weeks after surgery" in response.json()["errors"][0]["message"]
    response = client.post(path, json={"milestone": "brace-of", "date": "2027-04-02"}, headers=key)
    assert 'did you mean "brace-off"' in response.json()["errors"][0]["message"]
    assert client.post(path, json={"milestone": "brace-off"}, headers=key).status_code == 422
    response = client.post(path, json={"milestone": "brace-off", "date": "2027-06-07", "confirm": True}, headers=key)
    assert response.status_code == 200


def test_a_new_token_stops_the_old_one(client: TestClient, key: dict[str, str]) -> None:
    made = make(client, key)
    old = token_of(made)
    renewed = client.post(f"/api/plans/{made['id']}/feed-token", headers=key).json()
    assert client.get(f"/feed/{old}.ics").status_code == 404
    assert client.get(f"/p/{old}").status_code == 404
    assert client.get(f"/feed/{token_of(renewed)}.ics").status_code == 200


def test_a_deleted_plan_is_gone(client: TestClient, key: dict[str, str]) -> None:
    made = make(client, key)
    assert client.delete(f"/api/plans/{made['id']}", headers=key).status_code == 204
    assert client.get(f"/feed/{token_of(made)}.ics").status_code == 410
    assert client.get(f"/p/{token_of(made)}").status_code == 410
    assert client.get(f"/api/plans/{made['id']}", headers=key).status_code == 410
    assert client.get("/api/plans/nosuchplan", headers=key).status_code == 404
    make(client, key)  # its plan_id is free again


def test_the_openapi_document_describes_the_plan_fields(client: TestClient, key: dict[str, str]) -> None:
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    fields = document["paths"]["/api/plans"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "properties"
    ]
    assert {
        "protocol",
        "surgery_date",
        "timezone",
        "side",
        "variant",
        "set",
        "time",
        "actual",
        "plan_id",
        "discreet",
        "contact",
    } <= set(fields)
    # what it lists is what the API takes: no documented field is refused as unknown, and a
    # field it does not list is
    body = {**dict.fromkeys(fields, "x"), **PLAN}
    answer = client.post("/api/plans", json=body, headers=key).json()
    assert not [e for e in answer.get("errors", ()) if "unknown field" in e["message"]], answer
    answer = client.post("/api/plans", json={**PLAN, "colours": "x"}, headers=key).json()
    assert answer["errors"] == [{"field": "colours", "message": 'unknown field "colours"'}]


def test_the_openapi_plan_schema_takes_the_plans_the_program_writes(client: TestClient) -> None:
    """Every plan's JSON form (`Plan.to_json`, with every field set) is valid under the schema the
    API publishes, and a value of the wrong type is not."""
    import jsonschema

    from recovery import Plan

    document = client.get("/api/openapi.json").json()
    schema = document["paths"]["/api/plans"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    full = Plan(
        surgery_date=date(2027, 3, 1),
        timezone="Australia/Sydney",
        side="left",
        variant="accelerated",
        overrides={"protection_weeks": "5"},
        slot_times={"morning": time(7, 30)},
        actuals={"brace-off": date(2027, 4, 19)},
        start_from=date(2027, 3, 15),
        discreet=True,
        confirmed=("brace-off",),
        contact="Ward 7: 555-0177",
        alarm_minutes=10,
        calendar_name="My knee",
        plan_id="A-1",
    )
    for plan in (full, Plan(surgery_date=date(2027, 3, 1), plan_id="B-2")):
        jsonschema.validate({"protocol": "proximal-hamstring-repair", **plan.to_json()}, schema)
    for wrong in ({"discreet": "yes please"}, {"side": "both"}, {"alarm_minutes": "soon"}, {"time": {"noon": "12:00"}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**full.to_json(), **wrong}, schema)
    with pytest.raises(jsonschema.ValidationError, match="plan_id"):
        jsonschema.validate({"surgery_date": "2027-03-01"}, schema)


# ---------------------------------------------------------------- the feed


def events(data: bytes) -> dict[str, tuple[str, ...]]:
    """Each event by UID as the patient sees it (not what changes with the moment it is written)."""
    return {str(event["UID"]): content(event) for event in icalendar.Calendar.from_ical(data).walk("VEVENT")}


def test_messages_speak_the_servers_words_and_name_no_installed_file(client: TestClient, key: dict[str, str]) -> None:
    """A recorded date outside its window tells an API or form user how to confirm it there (not
    the command line's --confirm); a protocol problem names the protocol file, not where the
    server's package is installed."""
    made = make(client, key)
    early = client.post(
        f"/api/plans/{made['id']}/actuals", json={"milestone": "brace-off", "date": "2027-03-05"}, headers=key
    ).json()
    (message,) = [error["message"] for error in early["errors"]]
    assert message.endswith('confirm it (send "confirm": true, or tick "the date is right even if unusual")')
    assert "--" not in message
    late = {"milestone": "brace-off", "date": "2027-09-01", "confirm": True}
    assert client.post(f"/api/plans/{made['id']}/actuals", json=late, headers=key).status_code == 200
    before = {"milestone": "crutches-away", "date": "2027-03-02", "confirm": True}
    answer = client.post(f"/api/plans/{made['id']}/actuals", json=before, headers=key)
    assert answer.status_code == 422
    (message,) = [error["message"] for error in answer.json()["errors"]]
    assert message.startswith("proximal-hamstring-repair.toml: milestones[id=crutches-away].at: ")
    assert "/" not in message.split(": ")[0]


def test_deleting_a_plan_erases_what_it_said_about_the_patient(
    client: TestClient, key: dict[str, str], store: Store
) -> None:
    from sqlalchemy import text

    made = make(client, key, plan_id="MRN-0042", contact="Ward 7")
    recorded = {"milestone": "brace-off", "date": "2027-04-12"}
    assert client.post(f"/api/plans/{made['id']}/actuals", json=recorded, headers=key).status_code == 200
    assert client.delete(f"/api/plans/{made['id']}", headers=key).status_code in (200, 204)
    assert client.get(f"/feed/{token_of(made)}.ics").status_code == 410
    with store.engine.connect() as connection:
        for table in ("plans", "revisions", "audit", "feed_tokens"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                shown = " ".join(str(value) for value in row)
                for told in ("MRN-0042", "Ward 7", "2027-04-12", "2027-03-01", "proximal-hamstring"):
                    assert told not in shown, (table, told, shown[:300])
        actions = [row[0] for row in connection.execute(text("SELECT action FROM audit ORDER BY id"))]
    assert actions[-1] == "plan-deleted"  # who and when stay


def test_the_patient_page_puts_whom_to_call_and_the_calendar_first(client: TestClient, key: dict[str, str]) -> None:
    page = client.get(f"/p/{token_of(make(client, key, contact='Ward 7: 555-0177'))}").text
    assert '<a class="button" href="tel:5550177">Call Ward 7: 555-0177</a>' in page
    assert page.index("tel:") < page.index("Add the plan to your calendar") < page.index('class="agenda"')


def test_pages_are_made_off_the_event_loop_and_feeds_on_it() -> None:
    """Laying a schedule out for a page takes milliseconds: Starlette runs a page's plain function
    in its thread pool, so feeds never wait behind pages. A feed is one indexed lookup, answered on
    the loop (in the thread pool it waited for threads and connections: 442 feeds/s against 2,213)."""
    import inspect

    from recovery.serve import pages

    for page in (pages.patient_page, pages.patient_handout, pages.plan_page, pages.plan_handout):
        assert not inspect.iscoroutinefunction(page), page.__name__
    assert inspect.iscoroutinefunction(pages.feed)


def test_a_plan_is_found_by_the_clinics_own_id(client: TestClient, key: dict[str, str]) -> None:
    made = make(client, key, plan_id="MRN-7")
    make(client, key, plan_id="MRN-77")
    found = client.get("/api/plans", params={"plan_id": "MRN-7"}, headers=key)
    assert found.status_code == 200
    assert found.json()["id"] == made["id"]
    assert "feed_url" not in found.json()  # the patient's link is shown once, when made
    assert client.get("/api/plans", params={"plan_id": "MRN-8"}, headers=key).status_code == 404
    assert client.get("/api/plans", params={"plan_id": "MRN-7"}).status_code == 401
    document = client.get("/api/openapi.json").json()
    assert document["paths"]["/api/plans"]["get"]["parameters"][0]["name"] == "plan_id"


def test_a_feed_carries_only_what_the_calendar_shows(client: TestClient, key: dict[str, str]) -> None:
    """Feeds go to Google, Apple and Microsoft: not the plan's choices (its JSON, with the clinic's
    plan id, the contact and recorded dates), which the server keeps in its own database."""
    made = make(client, key, plan_id="CLINIC-ID-4711", contact="Ward 7")
    first = client.post(
        f"/api/plans/{made['id']}/actuals", json={"milestone": "brace-off", "date": "2027-04-12"}, headers=key
    )
    assert first.status_code == 200, first.text
    feed = client.get(f"/feed/{token_of(made)}.ics").content
    calendar = icalendar.Calendar.from_ical(feed)
    assert "X-RECOVERY-OPTIONS" not in calendar
    assert b"CLINIC-ID-4711" not in feed
    assert b"2027-04-12" not in feed  # the date shows as an event, not as data
    assert b"20270412" in feed
    again = client.post(
        f"/api/plans/{made['id']}/actuals", json={"milestone": "brace-off", "date": "2027-04-19"}, headers=key
    )
    assert again.status_code == 200, again.text  # a revision is still made from the previous one


def test_the_feed_has_its_headers_and_refresh_interval(client: TestClient, key: dict[str, str]) -> None:
    made = make(client, key)
    response = client.get(f"/feed/{token_of(made)}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"].startswith("private")
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])
    assert response.headers["last-modified"].endswith("GMT")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["REFRESH-INTERVAL"].dt) == "1:00:00"
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    head = client.head(f"/feed/{token_of(made)}.ics")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == response.headers["etag"]
    assert client.get("/feed/unknown.ics").status_code == 404


def test_the_feed_answers_304_to_its_validators(client: TestClient, key: dict[str, str]) -> None:
    made = make(client, key)
    path = f"/feed/{token_of(made)}.ics"
    first = client.get(path)
    assert client.get(path, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    assert client.get(path, headers={"If-None-Match": f'"other", {first.headers["etag"]}'}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": first.headers["last-modified"]}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": "garbage"}).status_code == 200


def test_the_feed_is_sent_compressed_as_it_is_stored_and_plain_to_clients_without_gzip(
    client: TestClient, key: dict[str, str], store: Store
) -> None:
    """Stored gzip-compressed (about a fifth of the text); a client that takes gzip gets those
    bytes with Content-Encoding, one that does not (or refuses it with q=0) gets the text; both
    are the same calendar, with the same ETag, and caches are told it varies."""
    import gzip

    from sqlalchemy import select

    from recovery.serve.store import Revision

    made = make(client, key)
    path = f"/feed/{token_of(made)}.ics"
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    refused = client.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert "content-encoding" not in refused.headers
    assert zipped.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    assert zipped.headers["etag"] == plain.headers["etag"]
    assert zipped.content == plain.content == refused.content  # httpx undoes the gzip
    assert plain.content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert int(zipped.headers["content-length"]) < len(plain.content) / 3
    with store.session() as session:
        stored = session.scalar(select(Revision.calendar))
    assert stored is not None
    assert gzip.decompress(stored) == plain.content
    assert client.get(path, headers={"If-None-Match": zipped.headers["etag"]}).headers["vary"] == "Accept-Encoding"


def test_a_replaced_revision_keeps_what_made_it_and_not_its_calendar(
    client: TestClient, key: dict[str, str], store: Store
) -> None:
    from sqlalchemy import select

    from recovery.serve.store import Revision

    made = make(client, key)
    for day in ("2027-04-26", "2027-04-27"):
        recorded = client.post(
            f"/api/plans/{made['id']}/actuals", json={"milestone": "brace-off", "date": day}, headers=key
        )
        assert recorded.status_code == 200, recorded.text
    with store.session() as session:
        rows = session.execute(
            select(Revision.number, Revision.calendar, Revision.options, Revision.protocol_hash)
        ).all()
    by_number = {row.number: row for row in sorted(rows)}
    assert [bool(by_number[n].calendar) for n in (1, 2, 3)] == [False, False, True]
    assert by_number[2].options["actual"] == {"brace-off": "2027-04-26"}
    assert all(len(row.protocol_hash) == 64 for row in rows)
    sequences = {str(e["UID"]): int(e.get("SEQUENCE", 0)) for e in icalendar.Calendar.from_ical(
        client.get(f"/feed/{token_of(made)}.ics").content
    ).walk("VEVENT")}  # fmt: skip
    assert max(sequences.values()) == 2  # each revision was made over the one before it


def test_the_migration_compacts_calendars_stored_before_it(tmp_path: Path) -> None:
    """A database of the previous version (0003): its calendars are compressed and only each
    plan's current one is kept; its feeds still serve the same text."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import select, update

    from recovery.serve import store as storing
    from recovery.serve.store import Revision, unpacked

    def migrate(to: str) -> None:
        config = Config()
        config.set_main_option("script_location", str(Path(storing.__file__).with_name("migrations")))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if to != "head" else command.upgrade)(config, to)

    url = f"sqlite:///{tmp_path / 'old.db'}"
    client = TestClient(create_app(url, secret_key="test-secret", base_url=BASE), base_url=BASE)
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    key = {"Authorization": f"Bearer {store.add_api_key('ehr')}"}
    made = make(client, key)
    client.post(f"/api/plans/{made['id']}/actuals", json={"milestone": "brace-off", "date": "2027-04-26"}, headers=key)
    served = client.get(f"/feed/{token_of(made)}.ics").content
    engine = connect(url)
    with store.session() as session:  # as 0003 stored them: the text, for every revision
        for revision in session.scalars(select(Revision)).all():
            text = unpacked(revision.calendar) or served
            session.execute(update(Revision).where(Revision.id == revision.id).values(calendar=text))
    migrate("0003")
    migrate("head")
    with store.session() as session:
        calendars = {r.number: r.calendar for r in session.scalars(select(Revision)).all()}
    assert calendars[1] == b""
    assert calendars[2].startswith(b"\x1f\x8b")
    assert client.get(f"/feed/{token_of(made)}.ics").content == served


def test_a_patient_page_is_made_once_per_revision_and_day(
    client: TestClient, key: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from recovery.serve import pages

    made = make(client, key)
    page = str(made["patient_url"]).removeprefix(BASE)
    made_pages = []
    real = pages._schedule
    monkeypatch.setattr(pages, "_schedule", lambda *a: made_pages.append(1) or real(*a))
    first = client.get(page)
    again = client.get(page)
    assert first.status_code == again.status_code == 200
    assert first.text == again.text
    assert len(made_pages) == 1
    recorded = client.post(
        f"/api/plans/{made['id']}/actuals", json={"milestone": "brace-off", "date": "2027-04-26"}, headers=key
    )
    assert recorded.status_code == 200
    after = client.get(page)
    assert len(made_pages) == 2  # a new revision is a new page
    assert after.text != first.text
    assert after.headers["cache-control"] == first.headers["cache-control"] == "no-store"
    client.delete(f"/api/plans/{made['id']}", headers=key)
    assert client.get(page).status_code == 410  # never from the memo


def test_a_feed_polled_through_20_changes_holds_exactly_the_current_plan(
    client: TestClient, key: dict[str, str], tmp_path: Path
) -> None:
    made = make(client, key)
    path = f"/feed/{token_of(made)}.ics"
    phone = UidCalendar()
    etag = ""
    protocol = load("proximal-hamstring-repair")
    surgery = date(2027, 3, 1)
    for change in range(21):
        if change:  # a new brace-off day each time, within its window
            day = surgery + timedelta(days=22 + change * 3)
            response = client.post(
                f"/api/plans/{made['id']}/actuals", json={"milestone": "brace-off", "date": str(day)}, headers=key
            )
            assert response.status_code == 200
        polled = client.get(path, headers={"If-None-Match": etag} if etag else {})
        assert polled.status_code == 200
        assert client.get(path, headers={"If-None-Match": polled.headers["etag"]}).status_code == 304
        etag = polled.headers["etag"]
        file = tmp_path / f"revision-{change}.ics"
        file.write_bytes(polled.content)
        phone.import_file(file)
        options = client.get(f"/api/plans/{made['id']}", headers=key).json()["options"]
        fresh = tmp_path / "fresh.ics"
        fresh.write_bytes(to_ics(build(protocol, Plan.from_json(options)), page=True))
        assert phone.shown() == UidCalendar().import_file(fresh).shown()
        # Every reader reads this revision alike.
        expanded = occurrences(polled.content)
        assert strict_occurrences(polled.content) == expanded
        timed = sorted(start.astimezone(UTC) for _, start, _ in expanded if isinstance(start, datetime))
        assert timed_occurrences_by_vobject(polled.content) == timed


# ---------------------------------------------------------------- pages


def post_login(client: TestClient, data: dict[str, str], **more: Any) -> Any:
    """A login as a browser makes it: the login page first (its form's token), then the form."""
    token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={**data, "login_csrf": token}, **more)


def log_in(client: TestClient, store: Store, email: str = "ana@clinic.example") -> str:
    store.add_user(email, PASSWORD)
    response = post_login(client, {"email": email, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get("/").text
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_a_session_is_the_servers_and_ends_for_every_copy_of_its_cookie(
    client: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attacks on a clinician's login: a copied cookie after logout, a signed cookie for a user
    who does not exist, a session past its lifetime or idle too long, the patient's link in a cookie."""
    from itsdangerous import TimestampSigner

    from recovery.serve import store as storing

    csrf = log_in(client, store)
    copied = dict(client.cookies)
    assert client.get("/", follow_redirects=False).status_code == 200
    made = client.post("/plans", data={"csrf": csrf, "plan_id": "S-1", "surgery_date": "2027-03-01"})
    assert made.status_code == 201
    token = re.search(r"/p/([A-Za-z0-9_-]+)", made.text).group(1)  # type: ignore[union-attr]
    assert token not in b64decode_cookie(client.cookies["recovery_session"])  # the link is in the page only
    client.post("/logout", data={"csrf": csrf})
    thief = TestClient(client.app, base_url=BASE, cookies=copied)
    assert thief.get("/", follow_redirects=False).status_code == 303  # logged out everywhere
    assert thief.post(made.headers["location"] + "/actuals", data={"csrf": csrf, "milestone": "brace-off",
                      "date": "2027-04-12"}, follow_redirects=False).headers["location"] == "/login"  # fmt: skip
    # a cookie signed with the site's key, for a user who never existed (the old cookie format)
    forged = TimestampSigner("test-secret").sign(base64.b64encode(json.dumps({"user": "eve@x", "csrf": "c"}).encode()))
    stranger = TestClient(client.app, base_url=BASE, cookies={"recovery_session": forged.decode()})
    assert stranger.get("/", follow_redirects=False).status_code == 303
    signed = TimestampSigner("test-secret").sign(  # the same forgery with a real session's key does log in:
        base64.b64encode(json.dumps({"sid": store.start_session("ana@clinic.example")}).encode())
    )  # so the cookie above was well signed, and refused for what it says
    assert (
        TestClient(client.app, base_url=BASE, cookies={"recovery_session": signed.decode()})
        .get("/", follow_redirects=False)
        .status_code
        == 200
    )
    # a session ends after its lifetime however busy it is, and when idle
    log_in(client, store, "bo@clinic.example")
    assert client.get("/", follow_redirects=False).status_code == 200
    later = storing.now() + storing.SESSION_IDLE + timedelta(minutes=1)
    monkeypatch.setattr(storing, "now", lambda: later)
    assert client.get("/", follow_redirects=False).status_code == 303
    log_in(client, store, "cy@clinic.example")
    start, answers = later, []
    for step in range(1, 16):  # a request every 50 minutes: never idle, but 12.5 hours in all
        monkeypatch.setattr(storing, "now", lambda step=step: start + timedelta(minutes=50 * step))
        answers.append(client.get("/", follow_redirects=False).status_code)
    assert answers == [200] * 14 + [303]  # 11 h 40 min: still in; 12 h 30 min: over


def test_accounts_are_managed_from_the_command_line_and_end_their_sessions(
    client: TestClient, store: Store, database: str, tmp_path: Path
) -> None:
    """A weak or overlong password is refused (never truncated); a new password and a removed
    user end every session; a revoked or rotated API key stops working."""
    from click.testing import CliRunner

    from recovery.cli import main

    def cli(*args: str, given: str = "") -> tuple[int, str]:
        result = CliRunner().invoke(main, [*args, "--database", database], input=given)
        return result.exit_code, result.output

    for weak in ("password1234", "qwertyuiop12", "ana@clinic.example"):
        assert cli("users", "add", "ana@clinic.example", "--password-stdin", given=weak)[0] == 1, weak
    code, said = cli("users", "add", "ana@clinic.example", "--password-stdin", given="x" * 1025)
    assert code == 1
    assert "longer than 1,024 characters" in said
    assert cli("users", "list")[1].startswith("no users yet")
    assert cli("users", "add", "ana@clinic.example", "--password-stdin", given=PASSWORD)[0] == 0
    assert not client.post(
        "/login", data={"email": "ana@clinic.example", "password": PASSWORD + "x" * 2000}
    ).is_redirect
    post_login(client, {"email": "ana@clinic.example", "password": PASSWORD})
    assert client.get("/", follow_redirects=False).status_code == 200
    assert "1 open session" in cli("users", "list")[1]
    assert cli("users", "password", "ana@clinic.example", "--password-stdin", given="violet tram lantern 93")[0] == 0
    assert client.get("/", follow_redirects=False).status_code == 303  # the old session ended
    post_login(client, {"email": "ana@clinic.example", "password": "violet tram lantern 93"})
    assert client.get("/", follow_redirects=False).status_code == 200
    assert cli("users", "remove", "ana@clinic.example")[0] == 0
    assert client.get("/", follow_redirects=False).status_code == 303
    assert cli("users", "remove", "ana@clinic.example") == (1, "error: no user ana@clinic.example\n")
    old = store.add_api_key("ehr")
    code, said = cli("api-keys", "rotate", "ehr")
    new = said.splitlines()[0]
    assert code == 0
    assert new.startswith("rk_")
    assert client.post("/api/plans", json=PLAN, headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.post("/api/plans", json=PLAN, headers={"Authorization": f"Bearer {new}"}).status_code == 201
    assert cli("api-keys", "revoke", "ehr")[0] == 0
    assert client.post("/api/plans", json=PLAN, headers={"Authorization": f"Bearer {new}"}).status_code == 401
    assert "ehr\tmade " in cli("api-keys", "list")[1]


def b64decode_cookie(cookie: str) -> str:
    """The JSON a Starlette session cookie carries (its first part, before the signature)."""
    payload = cookie.split(".")[0]
    return base64.b64decode(payload + "=" * (-len(payload) % 4)).decode()


def test_pages_need_a_login(client: TestClient) -> None:
    for path in ("/", "/plans/new", "/plans/abc"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"


def test_a_wrong_password_and_then_throttling(client: TestClient, store: Store) -> None:
    store.add_user("ana@clinic.example", PASSWORD)
    for _ in range(5):
        assert post_login(client, {"email": "ana@clinic.example", "password": "wrong"}).status_code == 401
    response = post_login(client, {"email": "ana@clinic.example", "password": PASSWORD})
    assert response.status_code == 429  # even the right password waits now
    assert "Too many failed attempts" in response.text


def test_a_login_from_another_site_is_refused(client: TestClient, store: Store) -> None:
    """Login CSRF: a page elsewhere that posts the attacker's own address and password would log
    the clinician's browser into the attacker's account."""
    store.add_user("eve@clinic.example", PASSWORD)
    login = {"email": "eve@clinic.example", "password": PASSWORD}
    for header in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/page"}):
        answer = post_login(client, login, headers=header, follow_redirects=False)
        assert answer.status_code == 403
        assert '"sid"' not in b64decode_cookie(client.cookies["recovery_session"])  # no one is logged in
    # a page elsewhere under Referrer-Policy: no-referrer (Origin: null): its browser does not
    # send the session cookie (SameSite=Strict), so the form's token matches nothing
    elsewhere = TestClient(client.app, base_url=BASE)
    token = re.search(r'name="login_csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    blind = elsewhere.post("/login", data={**login, "login_csrf": token}, headers={"Origin": "null"})
    assert blind.status_code == 403
    own = post_login(client, login, headers={"Origin": BASE}, follow_redirects=False)
    assert own.status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)  # type: ignore[union-attr]
    forged = client.post("/logout", data={"csrf": csrf}, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403


def test_guesses_made_at_once_count_each_other(store: Store) -> None:
    """64 wrong guesses at the same moment: at most 5 are checked (the count was read before any
    was written down, and 18 got through)."""
    from concurrent.futures import ThreadPoolExecutor

    from recovery.serve.store import TooManyAttemptsError

    store.add_user("ana@clinic.example", PASSWORD)

    def guess(n: int) -> str:
        try:
            return "checked" if not store.check_login("ana@clinic.example", f"wrong {n}", "10.0.0.9") else "in"
        except TooManyAttemptsError:
            return "refused"

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(guess, range(64)))
    assert answers.count("in") == 0
    assert answers.count("checked") <= 5
    assert answers.count("refused") >= 59


def test_one_address_cannot_spray_many_accounts_nor_lock_out_another(store: Store) -> None:
    from recovery.serve.store import TooManyAttemptsError

    for n in range(30):
        store.add_user(f"user{n}@clinic.example", PASSWORD)
    refused = 0
    for n in range(30):  # one wrong guess for each account, from one machine
        try:
            store.check_login(f"user{n}@clinic.example", "wrong", "203.0.113.7")
        except TooManyAttemptsError:
            refused += 1
    assert refused == 10  # the 21st and later
    for _ in range(8):  # someone else guesses user0's password from elsewhere
        with suppress(TooManyAttemptsError):
            store.check_login("user0@clinic.example", "wrong", "198.51.100.4")
    assert store.check_login("user0@clinic.example", PASSWORD, "192.0.2.1")  # the clinician still gets in


def test_only_a_few_passwords_are_hashed_at_once(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """120 logins at once grew the server from 117 MB to 1.1 GB: argon2id took 64 MiB each. Now
    each process checks one at a time, on the same thread (benchmarks/logins.py measures it)."""
    import threading
    import time as clock
    from concurrent.futures import ThreadPoolExecutor

    from argon2 import PasswordHasher

    from recovery.serve.store import HASHING_AT_ONCE

    store.add_user("ana@clinic.example", PASSWORD)
    busy, most, lock = 0, 0, threading.Lock()
    real = PasswordHasher.verify

    def counted(self: PasswordHasher, hashed: str, password: str) -> bool:
        nonlocal busy, most
        with lock:
            busy += 1
            most = max(most, busy)
        try:
            clock.sleep(0.01)  # long enough for the others to arrive
            return real(self, hashed, password)
        finally:
            with lock:
                busy -= 1

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    with ThreadPoolExecutor(40) as pool:
        list(pool.map(lambda n: store.check_login(f"u{n}@clinic.example", "x", f"10.1.{n}.1"), range(40)))
    assert most == HASHING_AT_ONCE == 1
    names: set[str] = set()
    monkeypatch.setattr(
        PasswordHasher, "verify", lambda self, h, p: names.add(threading.current_thread().name) or real(self, h, p)
    )
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: store.check_login(f"v{n}@clinic.example", "x", f"10.2.{n}.1"), range(8)))
    assert len(names) == 1
    assert names.pop().startswith("password")


def test_a_clinician_makes_a_plan_records_a_clearance_and_rotates_the_link(client: TestClient, store: Store) -> None:
    csrf = log_in(client, store)
    form = {
        "csrf": csrf, "protocol": "proximal-hamstring-repair", "plan_id": "B-2", "surgery_date": "2027-03-01",
        "timezone": "Europe/Berlin", "side": "right", "set.protection_weeks": "6", "time.morning": "07:30",
    }  # fmt: skip
    response = client.post("/plans", data=form, follow_redirects=False)
    assert response.status_code == 201  # the page itself: the patient's link is shown in it, once
    page = response
    assert "The patient's link" in page.text
    patient_url = re.search(r'href="(http://clinic.test/p/[^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert "<svg" in page.text  # the QR code
    plan_path = response.headers["location"]
    assert "The patient's link" not in client.get(plan_path).text.split("Record what happened")[0]  # shown once
    recorded = client.post(
        f"{plan_path}/actuals", data={"csrf": csrf, "milestone": "cleared-to-drive", "date": "2027-04-28"}
    )
    assert recorded.status_code == 200
    assert "cleared-to-drive recorded on 2027-04-28" in recorded.text
    bad = client.post(
        f"{plan_path}/actuals", data={"csrf": csrf, "milestone": "cleared-to-drive", "date": "2027-03-05"}
    )
    assert bad.status_code == 400
    assert "before the earliest day to ask" in bad.text
    patient = client.get(patient_url)
    assert patient.status_code == 200
    assert "webcal://clinic.test/feed/" in patient.text
    assert "ICSx⁵" in patient.text
    rotated = client.post(f"{plan_path}/feed/rotate", data={"csrf": csrf}, follow_redirects=True)
    assert "The patient's link" in rotated.text
    assert client.get(patient_url).status_code == 404


def test_deleting_asks_first_and_a_refused_date_keeps_what_was_typed(client: TestClient, store: Store) -> None:
    csrf = log_in(client, store)
    made = client.post("/plans", data={"csrf": csrf, "plan_id": "D-9", "surgery_date": "2027-03-01"})
    path = made.headers["location"]
    bad = client.post(f"{path}/actuals", data={"csrf": csrf, "milestone": "cleared-to-drive", "date": "2027-03-05"})
    assert bad.status_code == 400
    assert '<option value="cleared-to-drive" selected>' in bad.text
    assert 'value="2027-03-05"' in bad.text
    asked = client.post(f"{path}/feed/delete", data={"csrf": csrf})
    assert asked.status_code == 200
    assert "Delete plan D-9?" in asked.text
    assert client.get(path).status_code == 200  # still there
    deleted = client.post(f"{path}/feed/delete", data={"csrf": csrf, "confirmed": "yes"}, follow_redirects=False)
    assert deleted.status_code == 303
    assert client.get(path).status_code == 410


def test_forms_without_the_csrf_token_are_refused(client: TestClient, store: Store) -> None:
    log_in(client, store)
    response = client.post(
        "/plans", data={"protocol": "proximal-hamstring-repair", "plan_id": "C", "surgery_date": "2027-03-01"}
    )
    assert response.status_code == 403
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403


@pytest.mark.parametrize("named", ["{secret}", "../../{stem}", "{stem}", "proximal-hamstring-repair/../../x"])
def test_a_protocol_is_only_ever_one_of_the_servers_own(
    client: TestClient, store: Store, key: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named: str
) -> None:
    """The new-plan form and the API name a protocol; a path, or a name no file of the server's
    folders has, is refused before any file is read, and nothing of such a file is echoed."""
    from recovery.protocol import loader

    secret = tmp_path / "elsewhere" / "secret.toml"
    secret.parent.mkdir()
    secret.write_text('id = "the-secret-id"\ntitle = "Secret"\n')
    name = named.format(secret=secret, stem=secret.stem)
    read: list[str] = []
    real = loader._bytes
    monkeypatch.setattr(loader, "_bytes", lambda path: read.append(str(path)) or real(path))
    csrf = log_in(client, store)
    form = client.post("/plans", data={"csrf": csrf, "protocol": name, "plan_id": "X-1", "surgery_date": "2027-03-01"})
    api = client.post("/api/plans", json={**PLAN, "protocol": name}, headers=key)
    assert form.status_code == 400
    assert api.status_code == 422
    for answer in (form.text, api.text):
        assert "the-secret-id" not in answer
        assert "Secret" not in answer
    assert not [path for path in read if "secret" in path or "elsewhere" in path]


def test_what_no_file_can_hold_is_a_client_error_with_the_security_headers(database: str) -> None:
    """Found by an attacker without an account: a NUL byte in a static path and a lone surrogate
    in JSON were 500s; errors (413, 500) carried none of the security headers."""
    app = create_app(database, secret_key="test-secret", base_url=BASE)
    client = TestClient(app, base_url=BASE, raise_server_exceptions=False)
    key = {"Authorization": f"Bearer {app.state.store.add_api_key('ehr')}", "content-type": "application/json"}
    answers = {
        "nul": client.get("/static/app.css%00"),
        "long": client.get("/static/" + "a" * 5000),
        "surrogate": client.post(
            "/api/plans", content=b'{"surgery_date": "2027-03-01", "plan_id": "\\ud800"}', headers=key
        ),
        "surrogate in a text": client.post(
            "/api/plans", content=b'{"surgery_date": "2027-03-01", "plan_id": "A", "contact": "x\\udfff"}', headers=key
        ),
        "too large": client.post("/api/plans", content=b"x" * 2_000_000, headers=key),
    }
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "nul": 404, "long": 404, "surrogate": 422, "surrogate in a text": 422, "too large": 413,
    }  # fmt: skip
    for name, answer in answers.items():
        assert answer.headers.get("content-security-policy", "").startswith("default-src 'none'"), name
        assert answer.headers["x-content-type-options"] == "nosniff", name


def test_a_server_error_carries_the_security_headers(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from recovery.serve import pages

    app = create_app(database, secret_key="test-secret", base_url="https://clinic.test", secure_cookies=True)
    client = TestClient(app, base_url="https://clinic.test", raise_server_exceptions=False)
    monkeypatch.setattr(pages, "_login_required", lambda request: 1 / 0)
    answer = client.get("/plans/new")
    assert answer.status_code == 500
    assert answer.text == "Internal server error."
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["strict-transport-security"] == "max-age=31536000"


def test_a_new_database_file_is_private(tmp_path: Path) -> None:
    import os
    import stat

    before = os.umask(0o022)  # what most systems give: new files readable by everyone
    try:
        path = tmp_path / "new.db"
        store = Store(connect(f"sqlite:///{path}"))
        upgrade(store.engine)
        store.add_api_key("ehr")  # written: the WAL files exist now too
    finally:
        os.umask(before)
    for made in [path, *tmp_path.glob("new.db-*")]:
        assert stat.S_IMODE(made.stat().st_mode) == 0o600, made


def test_links_come_from_the_base_url_and_other_hosts_are_refused(database: str) -> None:
    app = create_app(database, secret_key="test-secret", base_url="https://plans.clinic.example")
    key = {"Authorization": f"Bearer {app.state.store.add_api_key('ehr')}"}
    for host in ("http://evil.example", "http://plans.clinic.example.evil.example"):
        forged = TestClient(app, base_url=host)
        assert forged.post("/api/plans", json=PLAN, headers=key).status_code == 400
        assert forged.get("/plans/").status_code == 400  # the trailing-slash redirect too
        assert forged.get("/login").headers["x-frame-options"] == "DENY"  # refused with the headers
    local = TestClient(app, base_url="http://127.0.0.1:8000")  # a health check on the machine itself
    assert local.get("/healthz").status_code == 200
    made = local.post("/api/plans", json=PLAN, headers=key).json()
    assert str(made["feed_url"]).startswith("https://plans.clinic.example/feed/")
    assert str(made["patient_url"]).startswith("https://plans.clinic.example/p/")
    with pytest.raises(ValueError, match="base URL"):
        create_app(database, base_url="plans.clinic.example")


def test_pages_are_never_stored_and_https_is_remembered(database: str, key: dict[str, str]) -> None:
    plain = TestClient(create_app(database, secret_key="test-secret", base_url=BASE), base_url=BASE)
    assert "strict-transport-security" not in plain.get("/login").headers
    app = create_app(database, secret_key="test-secret", base_url="https://clinic.test", secure_cookies=True)
    client = TestClient(app, base_url="https://clinic.test")
    made = make(client, {"Authorization": f"Bearer {app.state.store.add_api_key('ehr2')}"})
    token = token_of(made)
    for path in ("/login", f"/p/{token}", f"/p/{token}/handout"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "no-store", path
        assert answer.headers["strict-transport-security"] == "max-age=31536000", path
    assert client.get(f"/feed/{token}.ics").headers["cache-control"].startswith("private")


def test_form_errors_are_shown_next_to_their_field(client: TestClient, store: Store) -> None:
    csrf = log_in(client, store)
    response = client.post(
        "/plans",
        data={
            "csrf": csrf,
            "protocol": "proximal-hamstring-repair",
            "plan_id": "D",
            "surgery_date": "2027-02-30",
            "timezone": "Europe/Berlin",
        },
    )
    assert response.status_code == 400
    assert re.search(r'name="surgery_date"[^>]*>\s*</label><span class="error" role="alert">', response.text)


def test_every_value_is_escaped(client: TestClient, store: Store, key: dict[str, str]) -> None:
    made = make(client, key, plan_id="<script>alert(1)</script>", contact="<b>555</b>")
    csrf = log_in(client, store)
    assert csrf
    page = client.get(f"/plans/{made['id']}").text
    listing = client.get("/").text
    patient = client.get(f"/p/{token_of(made)}").text
    for html in (page, listing, patient):
        assert "<script>" not in html
    assert "&lt;script&gt;" in page


def test_every_page_has_a_policy_with_no_script(client: TestClient, key: dict[str, str]) -> None:
    made = make(client, key)
    for path in ("/login", f"/p/{token_of(made)}", f"/p/{token_of(made)}/handout"):
        response = client.get(path)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "script" not in policy.replace("default-src 'none'", "")
        assert "<script" not in response.text
        assert response.headers["x-content-type-options"] == "nosniff"


def test_the_session_cookie_is_httponly_and_samesite(client: TestClient, store: Store) -> None:
    store.add_user("ana@clinic.example", PASSWORD)
    response = post_login(client, {"email": "ana@clinic.example", "password": PASSWORD}, follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def test_secrets_are_stored_only_as_hashes(client: TestClient, store: Store, database: str) -> None:
    from sqlalchemy import text

    from recovery.serve.store import Base

    api_key = store.add_api_key("ehr")
    store.add_user("ana@clinic.example", PASSWORD)
    made = make(client, {"Authorization": f"Bearer {api_key}"})
    with store.engine.connect() as connection:
        stored = repr([list(connection.execute(text(f"SELECT * FROM {table}"))) for table in Base.metadata.tables])
    if database.startswith("sqlite"):
        path = Path(database.removeprefix("sqlite:///"))
        stored += repr([p.read_bytes() for p in path.parent.glob(path.name + "*")])  # the file and its WAL
    for secret in (api_key, PASSWORD, token_of(made)):
        assert secret not in stored
    assert "argon2id" in stored


def test_tokens_are_kept_out_of_logs() -> None:
    assert redact("/feed/AbC-123_x.ics") == "/feed/…"
    assert redact("/p/AbC-123_x/handout") == "/p/…/handout"
    assert redact("GET /feed/abc.ics?x=1 HTTP/1.1") == "GET /feed/…?x=1 HTTP/1.1"
    assert redact("/plans/abc") == "/plans/abc"


def test_a_500_says_only_that(database: str) -> None:
    app = create_app(database, secret_key="s", base_url=BASE)

    def broken(*args: object) -> None:
        raise RuntimeError("secret detail")

    app.state.store.plans = broken  # type: ignore[attr-defined]
    client = TestClient(app, base_url=BASE, raise_server_exceptions=False)
    store: Store = app.state.store  # type: ignore[attr-defined]
    store.add_user("ana@clinic.example", PASSWORD)
    post_login(client, {"email": "ana@clinic.example", "password": PASSWORD})
    response = client.get("/")
    assert response.status_code == 500
    assert response.text == "Internal server error."


# ---------------------------------------------------------------- the command line


def test_users_and_api_keys_from_the_command_line(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'r.db'}"
    added = run("users", "add", "Ana@Clinic.example", "--password-stdin", "--database", database, env={})
    assert added.exit_code == 1  # no password on standard input: too short
    from click.testing import CliRunner

    from recovery.cli import main

    result = CliRunner().invoke(
        main, ["users", "add", "ana@clinic.example", "--password-stdin", "--database", database], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(
        main, ["users", "add", "ana@clinic.example", "--password-stdin", "--database", database], input=PASSWORD
    )
    assert again.exit_code == 1
    assert "exists already" in again.output
    key = run("api-keys", "add", "ehr", "--database", database)
    assert key.exit_code == 0
    assert key.stdout.startswith("rk_")
    assert Store(connect(database)).api_caller(key.stdout.strip()) == "api:ehr"
    assert run("db", "upgrade", "--database", database).stdout == "the database is up to date\n"


def test_postgresql_is_tested_in_ci() -> None:
    if not os.environ.get("CI"):
        pytest.skip("CI runs the server tests on PostgreSQL (.ci/run starts it); set RECOVERY_TEST_POSTGRES here")
    assert os.environ.get("RECOVERY_TEST_POSTGRES"), "CI must run the server tests on PostgreSQL too (see .ci/run)"
    assert DATABASES == ["sqlite", "postgresql"]


def test_the_server_process_starts_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """`recovery serve` as a clinic starts it: migrations, a feed, tokens kept out of the access
    log, and a clean stop on SIGTERM, even while a client trickles a request that never ends."""
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    database = f"sqlite:///{tmp_path / 'recovery.db'}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = Store(connect(database))
    from recovery.serve.store import upgrade

    upgrade(store.engine)
    token = store.create_plan(PLAN, "test").token
    process = subprocess.Popen(
        [sys.executable, "-m", "recovery", "serve", "--port", str(port), "--database", database],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/feed/{token}.ics").status_code == 200
        # a client that never finishes its request: its body trickles in, a byte now and then
        trickling = socket.create_connection(("127.0.0.1", port))
        trickling.sendall(b"POST /api/plans HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 60000\r\n\r\n{")
        idle = socket.create_connection(("127.0.0.1", port))  # and one that says nothing at all
        import threading

        done = threading.Event()

        def trickle() -> None:
            while not done.wait(0.3):
                with suppress(OSError):
                    trickling.sendall(b" ")

        threading.Thread(target=trickle, daemon=True).start()
        time.sleep(1)  # a few bytes have come in (nothing to wait on: the server answers nothing yet)
        # many connections that say nothing (half-open, as a slow-client attack makes them):
        # beyond the server's bound it answers 503 at once instead of running out of files
        crowd = [socket.create_connection(("127.0.0.1", port)) for _ in range(SERVE_LIMITS["connections"] + 5)]
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 503
        for quiet in crowd:
            quiet.close()
    finally:
        process.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        output, _ = process.communicate(timeout=60)
        stopped = time.monotonic() - stopping
    done.set()
    trickling.close()
    idle.close()
    log = output.decode()
    assert stopped < 20, (stopped, log[-500:])  # the graceful shutdown waits 10 s for them, not for ever
    # uvicorn finishes the requests under way, shuts the application down, then ends by the
    # signal it was sent (as a process stopped by SIGTERM should).
    assert process.returncode in (0, -signal.SIGTERM), log
    assert "Application shutdown complete" in log
    assert "GET /feed/… HTTP/1.1" in log
    assert str(token) not in log


def clinic_protocol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled hamstring protocol as a clinic's own, clinic-hamstring, in the server's protocol folder."""
    library = tmp_path / "library"
    library.mkdir()
    source = (Path(__file__).parent.parent / "protocols" / "proximal-hamstring-repair.toml").read_text()
    clinic = library / "clinic-hamstring.toml"
    clinic.write_text(source.replace('id = "proximal-hamstring-repair"', 'id = "clinic-hamstring"', 1))
    monkeypatch.setenv("RECOVERY_PROTOCOLS", str(library))
    return clinic


def test_a_changed_protocol_file_is_a_new_revision(
    client: TestClient, store: Store, key: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = clinic_protocol(tmp_path, monkeypatch)
    made = make(client, key, protocol="clinic-hamstring")
    assert store.refresh_protocols() == []  # nothing changed
    clinic.write_text(clinic.read_text().replace('version = "2026.2"', 'version = "2026.3"', 1))
    (revised,) = store.refresh_protocols()
    assert revised.revision == 2
    plan = client.get(f"/api/plans/{made['id']}", headers=key).json()
    assert plan["protocol_version"] == "2026.3"
    revisions, _ = store.history(str(made["id"]))
    assert revisions[0].what == "protocol clinic-hamstring changed from version 2026.2 to 2026.3"
    assert b"version 2026.3" in client.get(f"/feed/{token_of(made)}.ics").content.replace(b"\r\n ", b"")


def test_everything_a_patient_sees_comes_from_one_revision(
    client: TestClient, store: Store, key: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The protocol file is edited while the server runs: the plan follows it with a new revision
    (no restart), and its feed, page and handout all come from that one revision."""
    clinic = clinic_protocol(tmp_path, monkeypatch)
    source = clinic.read_text()
    made = make(client, key, protocol="clinic-hamstring")
    token = token_of(made)
    old, new = "Phase 1 · Protection", "Phase 1 · Guarded"
    assert old in source

    def seen() -> dict[str, bool]:
        feed = client.get(f"/feed/{token}.ics").content.replace(b"\r\n ", b"").decode()
        page = client.get(f"/p/{token}").text
        handout = client.get(f"/p/{token}/handout").text
        return {"feed": new in feed, "page": new in page, "handout": new in handout}

    assert seen() == {"feed": False, "page": False, "handout": False}
    _, first = store.plan(str(made["id"]))
    from recovery.serve import store as storing

    monkeypatch.setattr(storing, "LOOK_AGAIN_SECONDS", 3600.0)  # a file looked at a moment ago
    store.plan(str(made["id"]))
    clinic.write_text(clinic.read_text().replace(old, new))
    assert seen() == {"feed": False, "page": False, "handout": False}  # not looked at again yet
    monkeypatch.setattr(storing, "LOOK_AGAIN_SECONDS", 0.0)

    monkeypatch.setattr(storing, "_SNAPSHOTS", {})  # as in a process that starts now
    # the first revision is still made from the protocol it was made from, not from the file
    assert [p.title for p in store.protocol_of(first, "clinic-hamstring").phases if p.id == "protection"] == [old]
    # the next look at the plan (any of them) makes its revision from the new file, without a
    # restart, and all three show it; the plan's history says why
    assert seen() == {"feed": True, "page": True, "handout": True}
    revisions, _ = store.history(str(made["id"]))
    assert [r.number for r in revisions] == [2, 1]
    assert revisions[0].what == "protocol clinic-hamstring 2026.2 changed (same version, new content)"
    assert store.refresh_protocols() == []  # nothing left to follow
    clinic.write_text(clinic.read_text().replace(new, "Phase 1 · Careful"))
    from click.testing import CliRunner

    from recovery.cli import main

    database = store.engine.url.render_as_string(hide_password=False)
    followed = CliRunner().invoke(main, ["db", "follow-protocols", "--database", database])
    assert followed.exit_code == 0, followed.output
    assert followed.output.startswith("A-17\trevision 3\n")


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    for url, words in (
        ("bogus://x", "is not a database URL"),
        (f"sqlite:///{tmp_path}/no/such/folder/r.db", "cannot open the database"),
        ("postgresql+psycopg://someone:hunter2hunter2@127.0.0.1:1/x", "cannot open the database"),
    ):
        result = run("db", "upgrade", "--database", url)
        assert result.exit_code == 1
        (line,) = result.stderr.splitlines()
        assert line.startswith("error: --database ")
        assert words in line
        assert "hunter2" not in line  # a password in the URL is never shown


def test_a_refused_user_or_key_makes_no_database(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from recovery.cli import main

    database = tmp_path / "r.db"
    short = CliRunner().invoke(
        main, ["users", "add", "a@b.example", "--password-stdin", "--database", f"sqlite:///{database}"], input="short"
    )
    assert short.exit_code == 1
    assert "too short" in short.output
    assert run("api-keys", "add", "", "--database", f"sqlite:///{database}").exit_code == 1
    assert not database.exists()


def test_changes_made_at_the_same_moment_all_land(store: Store) -> None:
    """Twelve dates recorded at once, from eight threads: twelve revisions, numbered without a gap."""
    from concurrent.futures import ThreadPoolExecutor

    made = store.create_plan(PLAN, "test")

    def record(day: int) -> int:
        return store.record(made.public_id, "brace-off", f"2027-04-{10 + day:02d}", "test").revision

    with ThreadPoolExecutor(8) as pool:
        revisions = sorted(pool.map(record, range(12)))
    assert revisions == list(range(2, 14))
    history, _ = store.history(made.public_id)
    assert [r.number for r in history] == list(range(13, 0, -1))


def test_every_page_answers_a_missing_or_deleted_plan_in_one_way(
    client: TestClient, key: dict[str, str], store: Store
) -> None:
    """NotFoundError and GoneError are answered by one handler keyed by class: 404 and 410, the
    patient's page as a page, the rest as plain text, for feeds, pages, handouts and plan pages."""
    made = make(client, key)
    token = token_of(made)
    log_in(client, store)
    paths = [
        f"/feed/{token}.ics",
        f"/p/{token}",
        f"/p/{token}/handout",
        f"/p/{token}/calendar.ics",
        f"/plans/{made['id']}",
    ]
    assert all(client.get(path).status_code == 200 for path in paths)
    client.delete(f"/api/plans/{made['id']}", headers=key)
    gone = {path: client.get(path) for path in paths}
    assert {path: r.status_code for path, r in gone.items()} == dict.fromkeys(paths, 410)
    assert "text/html" in gone[f"/p/{token}"].headers["content-type"]
    assert "Your clinic has removed this plan." in gone[f"/p/{token}"].text
    assert gone[f"/plans/{made['id']}"].text == "This plan was deleted."
    assert gone[f"/feed/{token}.ics"].text == "This calendar has been removed by the clinic."
    missing = ["/feed/" + "x" * 43 + ".ics", "/p/" + "x" * 43, "/p/" + "x" * 43 + "/handout", "/plans/nosuchplan"]
    assert [client.get(path).status_code for path in missing] == [404] * 4
    assert all("Traceback" not in client.get(path).text for path in missing)


def test_a_password_hashed_with_other_parameters_is_hashed_again_at_login(client: TestClient, store: Store) -> None:
    """Hashes made before the parameters changed (argon2-cffi's defaults: 64 MiB) still log in,
    and are made again with the server's (OWASP's 19 MiB, 2 passes, 1 lane)."""
    from argon2 import PasswordHasher
    from sqlalchemy import select, update

    from recovery.serve.store import ARGON2_MEMORY_KIB, User

    store.add_user("old@clinic.example", PASSWORD)
    with store.session() as session:
        session.execute(update(User).values(password_hash=PasswordHasher().hash(PASSWORD)))
    assert store.check_login("old@clinic.example", PASSWORD, "127.0.0.1")
    with store.session() as session:
        hashed = session.scalar(select(User.password_hash))
    assert hashed is not None
    assert f"m={ARGON2_MEMORY_KIB},t=2,p=1" in hashed
    assert store.check_login("old@clinic.example", PASSWORD, "127.0.0.1")
    assert not store.check_login("old@clinic.example", PASSWORD + "x", "127.0.0.1")


def test_the_clinic_s_form_offers_the_patient_s_language_and_large_print(client: TestClient, store: Store) -> None:
    csrf = log_in(client, store)
    form_page = client.get("/plans/new").text
    assert 'name="language"' in form_page
    assert 'name="large_print"' in form_page
    form = {
        "csrf": csrf, "protocol": "achilles-tendon-repair", "plan_id": "E-1", "surgery_date": "2027-03-01",
        "timezone": "America/Chicago", "side": "left", "language": "es", "large_print": "on",
    }  # fmt: skip
    response = client.post("/plans", data=form, follow_redirects=False)
    assert response.status_code == 201, response.text
    patient_url = re.search(r'href="(http://clinic.test/p/[^"]+)"', response.text).group(1)  # type: ignore[union-attr]
    page = client.get(patient_url).text
    assert '<html lang="es">' in page
    assert 'class="patient large"' in page
    handout = client.get(patient_url + "/handout").text
    assert '<html lang="es" class="large">' in handout
    assert "Reparación del tendón de Aquiles" in handout
