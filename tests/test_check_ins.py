"""Check-ins in the living plan: the patient answers from their page (or a clinic system through
the API), the stage's rule reads the answers, and the plan and its feed follow.

Time is the plan's own: the server asks `plan_today` what day it is for a plan, and these tests
answer for it, one simulated day after another (the check-in limit per hour is the wall clock's,
and is raised where a test sends weeks of answers in a second). Each simulated day the feed is
imported by UID into the model of a subscribed calendar (`UidCalendar`), which must then hold
exactly the current plan as its revision would be written afresh.
"""

from __future__ import annotations

import gzip
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient
from test_calendar_updates import UidCalendar
from test_serve import PASSWORD, post_login

from recovery import Plan, build, load, to_ics
from recovery.serve import pages
from recovery.serve import store as storing
from recovery.serve.store import RULE, Store
from recovery.writers.ics import PAGE_LINK, with_page_link

from conftest import BASE, occurrences, strict_occurrences

COURSE = "proximal-hamstring-tendinopathy"
FIRST_VISIT = date(2027, 1, 4)
PLAN = {"protocol": COURSE, "start_date": FIRST_VISIT.isoformat(), "timezone": "Europe/London", "plan_id": "T-1"}
GOOD = {"done": "yes", "pain": "2", "morning": "same"}


class Clock:
    """The day it is for every plan, as the test says."""

    def __init__(self, day: date):
        self.day = day

    def __call__(self, options: dict[str, Any]) -> date:
        return self.day

    def next(self) -> date:
        self.day += timedelta(1)
        return self.day


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    found = Clock(FIRST_VISIT)
    monkeypatch.setattr(storing, "plan_today", found)
    monkeypatch.setattr(pages, "plan_today", found)
    monkeypatch.setattr(storing, "LOOK_AGAIN_SECONDS", 0.0)
    return found


@pytest.fixture
def weeks_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Weeks of simulated answers are sent within a second of the wall clock."""
    monkeypatch.setattr(storing, "CHECK_IN_LIMIT", 10_000)


def make(client: TestClient, key: dict[str, str], **changes: Any) -> tuple[str, str]:
    """A plan made by the clinic's system: (its id, the patient's token)."""
    response = client.post("/api/plans", json={**PLAN, **changes}, headers=key)
    assert response.status_code == 201, response.text
    made = response.json()
    return made["id"], made["feed_url"].rsplit("/", 1)[1].removesuffix(".ics")


def check_in(client: TestClient, token: str, **answers: str) -> Any:
    """The patient's form, sent from their page as a browser sends it."""
    return client.post(f"/p/{token}/check-in", data=answers, headers={"Origin": BASE}, follow_redirects=False)


def clinician(client: TestClient, store: Store) -> str:
    """A clinician logged in: the session's CSRF token."""
    store.add_user("ana@clinic.example", PASSWORD)
    response = post_login(client, {"email": "ana@clinic.example", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)  # type: ignore[union-attr]


def said(client: TestClient, key: dict[str, str], plan: str) -> dict[str, Any]:
    response = client.get(f"/api/plans/{plan}/check-ins", headers=key)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def follow(client: TestClient, key: dict[str, str], plan: str, token: str, phone: UidCalendar, tmp_path: Path) -> bytes:
    """The feed polled and imported by UID; the phone must then hold exactly the current revision,
    written afresh with this patient's link."""
    polled = client.get(f"/feed/{token}.ics")
    assert polled.status_code == 200
    file = tmp_path / "polled.ics"
    file.write_bytes(polled.content)
    phone.import_file(file)
    options = client.get(f"/api/plans/{plan}", headers=key).json()["options"]
    fresh = tmp_path / "fresh.ics"
    written = to_ics(build(load(COURSE), Plan.from_json(options)), page=True)
    fresh.write_bytes(with_page_link(written, f"{BASE}/p/{token}#check-in"))
    expected = UidCalendar().import_file(fresh).shown()
    assert phone.shown() == expected, differences(phone.shown(), expected)
    return polled.content


def differences(held: dict[str, tuple[str, ...]], expected: dict[str, tuple[str, ...]]) -> list[str]:
    """What the phone holds that a fresh import would not, and the other way round (the message)."""
    lines = []
    for uid in sorted(set(held) | set(expected)):
        ours, theirs = set(held.get(uid, ())), set(expected.get(uid, ()))
        lines += [f"held {uid}: {line}" for line in sorted(ours - theirs)]
        lines += [f"fresh {uid}: {line}" for line in sorted(theirs - ours)]
    return lines


def summaries(calendar: bytes) -> set[str]:
    return {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(calendar).walk("VEVENT")}


# ---------------------------------------------------------------- the whole course, as a clinic meets it


def test_three_weeks_of_check_ins_from_the_phone_move_the_plan_and_its_calendar(
    client: TestClient, store: Store, key: dict[str, str], clock: Clock, tmp_path: Path, weeks_at_once: None
) -> None:
    """Done when: a patient with proximal hamstring tendinopathy checks in from the phone for three
    weeks; the plan holds until the rule's earliest day, the clinician confirms the proposal on the
    plan's page, and the subscribed calendar follows each step."""
    plan, token = make(client, key)
    csrf = clinician(client, store)
    phone = UidCalendar()
    before = follow(client, key, plan, token, phone, tmp_path)
    assert not any("Slow strength" in s for s in summaries(before))  # stage 2's exercise: not yet
    seen = []
    for day in range(21):
        answered = check_in(client, token, **{**GOOD, "pain": str(2 + day % 3)})
        assert answered.status_code == 303
        assert answered.headers["location"].endswith("?sent=1#check-in")
        page = client.get(f"/p/{token}").text
        assert "Thank you" not in page
        assert 'value="yes" checked' in page
        verdict = said(client, key, plan)["verdict"]
        seen.append(verdict["action"])
        if clock.day < FIRST_VISIT + timedelta(14):
            assert verdict["action"] == "hold"  # never before the stage's earliest day
        if verdict["action"] == "advance":
            assert verdict == {**verdict, "to": "start-stage-2", "proposes": True}
            plan_page = client.get(f"/plans/{plan}").text
            assert "Confirm: " in plan_page
            assert '<svg class="chart"' in plan_page
            confirmed = client.post(
                f"/plans/{plan}/decide",
                data={"csrf": csrf, "action": "advance", "stage": "start-stage-2"},
                follow_redirects=False,
            )
            assert confirmed.status_code == 303, confirmed.text
        calendar = follow(client, key, plan, token, phone, tmp_path)
        clock.next()
    assert seen[:14] == ["hold"] * 14
    assert seen[14] == "advance"
    assert set(seen[15:]) == {"hold"}
    options = client.get(f"/api/plans/{plan}", headers=key).json()["options"]
    assert options["actual"] == {"start-stage-2": (FIRST_VISIT + timedelta(14)).isoformat()}
    assert any("Slow strength" in s for s in summaries(calendar))  # stage 2's exercise, from its real day
    # Every reader reads the last revision alike, and its sessions lead to this patient's check-in.
    assert strict_occurrences(calendar) == occurrences(calendar)
    unfolded = calendar.replace(b"\r\n ", b"")
    assert f"{BASE}/p/{token}#check-in".encode() in unfolded
    assert PAGE_LINK.encode() not in unfolded
    revisions, audit = store.history(plan)
    assert [r.who for r in revisions] == ["user:ana@clinic.example", "api:ehr"]
    assert sum(a.action == "check-in" for a in audit) == 21


def test_the_stored_calendar_holds_no_token(client: TestClient, store: Store, key: dict[str, str]) -> None:
    plan, token = make(client, key)
    _row, revision = store.plan(plan)
    stored = gzip.decompress(revision.calendar)
    assert PAGE_LINK.encode() in stored.replace(b"\r\n ", b"")
    assert token.encode() not in stored
    served = client.get(f"/feed/{token}.ics", headers={"Accept-Encoding": "gzip"})
    assert token.encode() in served.content.replace(b"\r\n ", b"")
    # A surgical course has no stages: its feed is served as stored, with no check-in link.
    _other, other_token = make(client, key, protocol="proximal-hamstring-repair", plan_id="S-1")
    plain = client.get(f"/feed/{other_token}.ics").content
    assert b"check-in" not in plain.replace(b"\r\n ", b"")
    assert b"Check in" not in client.get(f"/p/{other_token}").content


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_/.:#", min_size=1, max_size=160))
def test_the_link_goes_in_without_breaking_a_line(link: str) -> None:
    """Every line stays within 75 octets, and unfolds to the stored text with the link in place."""
    schedule = build(load(COURSE), Plan(surgery_date=FIRST_VISIT, timezone="Europe/London"))
    stored = to_ics(schedule, page=True)
    linked = with_page_link(stored, link)
    assert all(len(line) <= 75 for line in linked.split(b"\r\n"))
    assert linked.replace(b"\r\n ", b"") == stored.replace(b"\r\n ", b"").replace(PAGE_LINK.encode(), link.encode())


# ---------------------------------------------------------------- who decides


@pytest.fixture
def rule_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, weeks_at_once: None) -> None:
    """The bundled course with each stage's rule deciding by itself (a clinic's own copy)."""
    text = (Path(load(COURSE).source)).read_text(encoding="utf-8")
    text = text.replace('decides = "clinician"', 'decides = "rule"')
    text = re.sub(r"(criteria = \{[^}]*\}[^\n]*\n)(?!decides)", r'\1decides = "rule"\n', text)
    folder = tmp_path / "library"
    folder.mkdir()
    (folder / f"{COURSE}.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("RECOVERY_PROTOCOLS", str(folder))


def test_a_stage_the_rule_decides_begins_by_itself(
    client: TestClient, store: Store, key: dict[str, str], clock: Clock, tmp_path: Path, rule_decides: None
) -> None:
    plan, token = make(client, key)
    phone = UidCalendar()
    for _ in range(15):
        assert check_in(client, token, **GOOD).status_code == 303
        follow(client, key, plan, token, phone, tmp_path)
        clock.next()
    revisions, _audit = store.history(plan)
    assert revisions[0].who == RULE
    assert "start-stage-2 recorded on 2027-01-18" in revisions[0].what
    assert said(client, key, plan)["verdict"]["action"] == "hold"  # the next stage waits for its own days


def flaring_then(
    client: TestClient, key: dict[str, str], plan: str, clock: Clock, answers: list[dict[str, str]]
) -> list[str]:
    """Answers through the clinic's API, one a day: what the rule said after each."""
    actions = []
    for answer in answers:
        response = client.post(f"/api/plans/{plan}/check-ins", json=answer, headers=key)
        assert response.status_code == 200, response.text
        actions.append(response.json()["verdict"]["action"])
        clock.next()
    return actions


@pytest.mark.parametrize(
    ("patient", "answers", "expected"),
    [
        ("improving", [GOOD] * 16, ["hold"] * 14 + ["advance"] * 2),
        ("plateauing", [{"done": "yes", "pain": "6", "morning": "same"}] * 16, ["hold"] * 16),
        ("never checking in", [], []),
        ("flaring", [{"done": "yes", "pain": "3", "morning": "worse"}] * 16, ["hold"] * 16),
        ("not doing them", [{"done": "no", "morning": "same"}] * 16, ["hold"] * 16),
    ],
)
def test_simulated_patients(
    client: TestClient,
    key: dict[str, str],
    clock: Clock,
    weeks_at_once: None,
    patient: str,
    answers: list[dict[str, str]],
    expected: list[str],
) -> None:
    plan, _ = make(client, key)
    assert flaring_then(client, key, plan, clock, answers) == expected
    if not answers:  # never checking in: after the latest day, the clinic is asked to look
        clock.day = FIRST_VISIT + timedelta(days=100)
        assert said(client, key, plan)["verdict"]["action"] == "review"
        assert [row.plan_id for row in client.app.state.store.plans(attention="review")] == ["T-1"]  # type: ignore[attr-defined]


def test_a_stage_that_goes_worse_proposes_a_step_back(
    client: TestClient, store: Store, key: dict[str, str], clock: Clock, tmp_path: Path, rule_decides: None
) -> None:
    """Stage 3 steps back when it goes worse: the rule proposes it, even where it decides an
    advance by itself, and a clinician's confirmation makes it a revision."""
    plan, token = make(client, key)
    flaring_then(client, key, plan, clock, [GOOD] * 29)  # stage 2 at day 14, stage 3 at day 28
    options = client.get(f"/api/plans/{plan}", headers=key).json()["options"]
    assert set(options["actual"]) == {"start-stage-2", "start-stage-3"}
    worse = {"done": "yes", "pain": "7", "morning": "worse"}
    actions = flaring_then(client, key, plan, clock, [worse] * 5)
    assert actions[-1] == "step-back"
    verdict = said(client, key, plan)["verdict"]
    assert verdict["to"] == "start-stage-3"
    assert verdict["proposes"] is True
    confirmed = client.post(
        f"/api/plans/{plan}/decision", json={"action": "step-back", "stage": "start-stage-3"}, headers=key
    )
    assert confirmed.status_code == 200, confirmed.text
    options = confirmed.json()["options"]
    assert set(options["actual"]) == {"start-stage-2"}
    assert options["actual"]["start-stage-2"] == clock.day.isoformat()
    # The same confirmation again: the check-ins no longer say so (the page was old).
    again = client.post(
        f"/api/plans/{plan}/decision", json={"action": "step-back", "stage": "start-stage-3"}, headers=key
    )
    assert again.status_code == 409
    assert "no longer say" in again.json()["errors"][0]["message"]
    phone = UidCalendar()
    follow(client, key, plan, token, phone, tmp_path)


def test_twice_a_day_the_last_answer_counts_once(
    client: TestClient, store: Store, key: dict[str, str], clock: Clock, weeks_at_once: None
) -> None:
    plan, token = make(client, key)
    assert check_in(client, token, morning="better").status_code == 303  # the morning first
    assert check_in(client, token, done="partly", pain="4").status_code == 303  # the session later
    assert check_in(client, token, done="yes", pain="3").status_code == 303  # changed its mind
    assert store.check_ins(plan) == [storing.CheckIn(FIRST_VISIT, "yes", 3, "better", "")]
    listed = said(client, key, plan)["check_ins"]
    assert listed == [{"day": "2027-01-04", "done": "yes", "pain": 3, "morning": "better", "red_flag": ""}]


# ---------------------------------------------------------------- safety


def test_a_warning_sign_shows_what_to_do_at_once_and_never_advances(
    client: TestClient, store: Store, key: dict[str, str], clock: Clock, weeks_at_once: None
) -> None:
    plan, token = make(client, key, contact="Physio line: 555-0177")
    flaring_then(client, key, plan, clock, [GOOD] * 14)
    assert said(client, key, plan)["verdict"]["action"] == "advance"
    sent = check_in(client, token, red_flag="2")
    assert sent.status_code == 303
    assert sent.headers["location"].endswith("?flag=2#warning")
    page = client.get(sent.headers["location"]).text
    warning = page[page.index('id="warning"') : page.index('id="check-in"')]
    sign, action = build(load(COURSE), Plan(surgery_date=FIRST_VISIT)).red_flags[1]
    assert sign in warning
    assert action in warning
    assert 'href="tel:5550177"' in warning
    assert 'role="alert"' in warning
    assert page.index('id="warning"') < page.index("Add the plan to your calendar")  # first on the page
    verdict = said(client, key, plan)["verdict"]
    assert verdict["action"] == "red-flag"
    assert verdict["red_flag"] == "2"
    assert [row.plan_id for row in store.plans(attention="red-flag")] == ["T-1"]
    refused = client.post(
        f"/api/plans/{plan}/decision", json={"action": "advance", "stage": "start-stage-2"}, headers=key
    )
    assert refused.status_code == 409
    # A later answer that day does not take the sign back, nor do good days within a week.
    check_in(client, token, **GOOD)
    flaring_then(client, key, plan, clock, [GOOD] * 6)
    assert said(client, key, plan)["verdict"]["action"] == "red-flag"


HOSTILE = [
    ({"done": "yes"}, "Please choose how much the exercises hurt"),
    ({"done": "yes", "pain": "11"}, "Please choose how much the exercises hurt"),
    ({"done": "yes", "pain": "-1"}, "Please choose how much the exercises hurt"),
    ({"done": "maybe", "pain": "3"}, "Please say whether you did"),
    ({"morning": "<script>alert(1)</script>"}, "Some answers could not be saved"),
    ({"red_flag": "99"}, "Some answers could not be saved"),
    ({"red_flag": "1; DROP TABLE plans"}, "Some answers could not be saved"),
    ({}, "Please say whether you did"),
]


@pytest.mark.parametrize(("answers", "shown"), HOSTILE)
def test_a_bad_answer_is_refused_in_the_patients_words(
    client: TestClient, store: Store, key: dict[str, str], answers: dict[str, str], shown: str
) -> None:
    plan, token = make(client, key)
    response = check_in(client, token, **answers)
    assert response.status_code == 400
    assert shown in response.text
    assert "<script>alert" not in response.text
    assert store.check_ins(plan) == []


def test_check_ins_are_bounded_and_only_from_the_patients_page(
    client: TestClient, store: Store, key: dict[str, str]
) -> None:
    plan, token = make(client, key)
    elsewhere = client.post(f"/p/{token}/check-in", data=GOOD, headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403
    assert client.post("/p/not-a-token/check-in", data=GOOD, headers={"Origin": BASE}).status_code == 404
    huge = client.post(f"/p/{token}/check-in", content=b"done=yes&pain=" + b"1" * 70_000, headers={"Origin": BASE})
    assert huge.status_code == 413
    for _ in range(storing.CHECK_IN_LIMIT):
        assert check_in(client, token, **GOOD).status_code == 303
    refused = check_in(client, token, done="no")
    assert refused.status_code == 429
    assert "Try again in an hour" in refused.text
    assert store.check_ins(plan)[-1].done == "yes"  # nothing written after the limit
    # A clinic system may not post a day in the future, nor one more than a week back.
    for day in ("2027-01-05", "2026-12-01", "2027-02-30"):
        response = client.post(f"/api/plans/{plan}/check-ins", json={**GOOD, "day": day}, headers=key)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "day"
    deleted = client.delete(f"/api/plans/{plan}", headers=key)
    assert deleted.status_code == 204
    assert check_in(client, token, **GOOD).status_code == 410


def test_the_spanish_page_asks_in_spanish(client: TestClient, key: dict[str, str]) -> None:
    _, token = make(client, key, language="es")
    page = client.get(f"/p/{token}").text
    assert "¿Hizo los ejercicios de hoy?" in page
    assert "¿Una señal de alarma? Toque aquí" in page
    assert "Please" not in check_in(client, token, done="yes").text


# ---------------------------------------------------------------- the clinic's view


def test_the_clinic_sees_a_chart_and_a_list_of_what_the_rules_say(
    client: TestClient, store: Store, key: dict[str, str], clock: Clock, weeks_at_once: None
) -> None:
    plan, _ = make(client, key)
    make(client, key, plan_id="T-2")
    flaring_then(client, key, plan, clock, [GOOD] * 10 + [{"done": "no"}] + [{**GOOD, "pain": "7"}] * 4)
    clinician(client, store)
    page = client.get(f"/plans/{plan}").text
    chart = page[page.index('<svg class="chart"') : page.index("</svg>", page.index('<svg class="chart"'))]
    assert chart.count("<rect") == 15  # 14 days with pain, one grey tick for a day not done
    assert "15 check-ins from" in chart
    assert "pain during the exercises 2 to 7, latest 7" in chart
    assert "<script" not in page.lower()
    listed = client.get("/?attention=hold").text
    assert "T-1" in listed
    assert "T-2" in listed
    assert "T-1" not in client.get("/?attention=advance").text


def test_a_course_without_surgery_does_not_say_operated_on_the_page(client: TestClient, key: dict[str, str]) -> None:
    _, token = make(client, key, side="left")
    page = client.get(f"/p/{token}").text
    assert "the black leg is your left leg, the one being treated" in page
    assert "operated" not in page


def test_a_strain_moves_on_when_the_physio_confirms_and_its_lengthening_days_follow(
    client: TestClient, key: dict[str, str], clock: Clock
) -> None:
    """The bundled strain course: pain of 2 out of 10 holds it in stage 1 (G2's limit); pain-free
    check-ins propose stage 2, the physio confirms it through the API, and the patient's feed then
    holds the Diver every other day and the Glider every third day from that day."""
    plan, token = make(client, key, protocol="hamstring-strain", plan_id="S-1")
    sore = flaring_then(client, key, plan, clock, [{"done": "yes", "pain": "2", "morning": "same"}] * 6)
    assert sore == ["hold"] * 6
    easy = flaring_then(client, key, plan, clock, [{"done": "yes", "pain": "0", "morning": "better"}] * 4)
    assert easy[-1] == "advance"
    verdict = said(client, key, plan)["verdict"]
    assert (verdict["to"], verdict["proposes"]) == ("start-lengthening", True)
    confirmed = client.post(
        f"/api/plans/{plan}/decision", json={"action": "advance", "stage": "start-lengthening"}, headers=key
    )
    assert confirmed.status_code == 200, confirmed.text
    begun = date.fromisoformat(confirmed.json()["options"]["actual"]["start-lengthening"])
    feed = client.get(f"/feed/{token}.ics").content
    evenings = [start for summary, start, _ in strict_occurrences(feed) if "Evening" in summary]
    assert evenings[0].date() == begun  # the first evening of stage 2 is the day it began
    calendar = icalendar.Calendar.from_ical(feed)
    rules = {str(e["SUMMARY"]): dict(e["RRULE"]) for e in calendar.walk("VEVENT") if e.get("RRULE")}
    assert any(rule.get("INTERVAL") == [6] for rule in rules.values())  # the three together every sixth day
    evening = [e for e in calendar.walk("VEVENT") if e.get("RRULE") and e["DTSTART"].dt.date() == begun]
    assert any("The Glider" in str(e["DESCRIPTION"]) and "The Diver" in str(e["DESCRIPTION"]) for e in evening)
