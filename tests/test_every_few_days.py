"""Routines every other day or every third day (Askling's L-protocol doses its exercises so): each
reminder comes on exactly its days, counted from its first day, and each time of day still rings
once, listing what is due that day, in every reader and after an update from a later day."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recovery.schedule.items import Series, sessions_of
from recovery.words import WEEKDAYS, weekday

from conftest import generate, occurrences, protocol_file, run, strict_occurrences

SURGERY = date(2027, 3, 1)


def _due(day: int, start: int, every: int, end: int = 29) -> bool:
    return start <= day < end and (day - start) % every == 0


def test_each_evening_lists_exactly_what_is_due_and_rings_once(tmp_path) -> None:
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "Europe/Berlin",
                    "--protocol", protocol_file("every-few-days"))  # fmt: skip
    calendar = icalendar.Calendar.from_ical(data)
    import recurring_ical_events

    evenings: dict[date, list[icalendar.Event]] = defaultdict(list)
    for event in recurring_ical_events.of(calendar).between(date(2027, 1, 1), date(2028, 1, 1)):
        start = event["DTSTART"].dt
        if isinstance(start, datetime) and start.time() == time(19, 0):
            evenings[start.date()].append(event)
    for n in range(1, 29):
        day = SURGERY + timedelta(n)
        assert len(evenings[day]) == 1, day  # one reminder, one alarm, each evening
        (event,) = evenings[day]
        assert len(event.walk("VALARM")) == 1
        text = str(event["SUMMARY"]) + "\n" + str(event.get("DESCRIPTION", ""))
        assert ("Every other day" in text) == _due(n, 1, 2), day
        assert ("Every third day" in text) == _due(n, 2, 3), day
        assert "Daily one" in text
    assert not evenings[SURGERY + timedelta(29)]
    # the midday walk: days 3, 5, ... 19, and it says so
    walks = [o for o in occurrences(data) if o[0].startswith("Walk")]
    assert [(start.date() - SURGERY).days for _, start, _ in walks] == list(range(3, 20, 2))
    walk = next(e for e in calendar.walk("VEVENT") if str(e["SUMMARY"]).startswith("Walk"))
    assert dict(walk["RRULE"]) == {"FREQ": ["DAILY"], "INTERVAL": [2], "COUNT": [9]}
    assert "every other day until Sat 20 Mar 2027" in str(walk["DESCRIPTION"])


def test_every_reader_expands_the_same_days(tmp_path) -> None:
    import vobject

    from conftest import comparable

    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "Australia/Sydney",
                    "--protocol", protocol_file("every-few-days"))  # fmt: skip
    loose = [comparable(o)[:2] for o in occurrences(data)]
    strict = [comparable(o)[:2] for o in strict_occurrences(data)]
    assert loose == strict
    counted = 0
    for event in vobject.readOne(data.decode()).vevent_list:
        if hasattr(event, "rrule"):
            counted += sum(1 for _ in event.getrruleset())
        else:
            counted += 1
    assert counted == len(loose)


def test_an_update_from_a_later_day_keeps_the_days(tmp_path) -> None:
    """`--start-from` a day between: the every-other-day walk still falls on its own days."""
    out = tmp_path / "later.ics"
    result = run("generate", "--surgery-date", "2027-03-01", "--timezone", "Europe/Berlin",
                 "--protocol", protocol_file("every-few-days"), "--from", "2027-03-07", "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    walks = [o for o in occurrences(out.read_bytes()) if o[0].startswith("Walk")]
    assert [(start.date() - SURGERY).days for _, start, _ in walks] == list(range(7, 20, 2))


def test_spanish_says_every_other_day(tmp_path) -> None:
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--language", "es",
                    "--protocol", protocol_file("every-few-days"))  # fmt: skip
    assert "un día sí y otro no" in data.decode().replace("\r\n ", "").lower()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ('every_days = 2\ntimes = ["midday"]\nweekdays = ["mon"]', "weekdays"),
        ('every_days = 0\ntimes = ["midday"]', "every_days"),
        ('every_days = 15\ntimes = ["midday"]', "every_days"),
    ],
)
def test_a_wrong_interval_is_named(tmp_path, change: str, field: str) -> None:
    text = Path(protocol_file("every-few-days")).read_text().replace('every_days = 2\ntimes = ["midday"]', change)
    path = tmp_path / "p.toml"
    path.write_text(text)
    result = run("validate", str(path))
    assert result.exit_code != 0
    assert "every-few-days" not in result.stdout
    assert "walk" in result.stderr
    assert field in result.stderr
    assert "Traceback" not in result.stderr


@st.composite
def _routines(draw) -> list[Series]:
    made = []
    for n in range(draw(st.integers(1, 4))):
        first = date(2027, 3, 1) + timedelta(draw(st.integers(0, 20)))
        last = first + timedelta(draw(st.integers(0, 40)))
        every = draw(st.sampled_from([1, 1, 2, 3, 4, 7]))
        weekdays = (
            tuple(draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1))) if every == 1 and draw(st.booleans()) else ()
        )
        made.append(Series(id=f"r{n}", slot="evening", title=f"R{n}", time=time(19), first=first, last=last,
                           minutes=5, weekdays=weekdays, every=every))  # fmt: skip
    return made


@given(_routines())
def test_sessions_hold_exactly_the_routines_due_each_day(routines: list[Series]) -> None:
    """Property: on every day, exactly one session rings at the time when anything is due, and it
    lists exactly the routines due that day; its count agrees with its days."""
    sessions = sessions_of(routines)
    day = min(r.first for r in routines) - timedelta(3)
    while day <= max(r.last for r in routines) + timedelta(3):
        due = {r.id for r in routines if r.occurs_on(day)}
        ringing = [s for s in sessions if s.occurs_on(day)]
        if due:
            assert len(ringing) == 1, (day, ringing)
            assert {r.id for r in ringing[0].routines} == due
        else:
            assert not ringing
        day += timedelta(1)
    for session in sessions:
        assert session.occurs_on(session.first)
        assert session.occurs_on(session.last)
        days = [session.first + timedelta(n) for n in range((session.last - session.first).days + 1)]
        assert session.count == sum(session.occurs_on(d) for d in days)
        assert not (session.every > 1 and session.weekdays)
        assert all(weekday(d) in session.weekdays for d in days if session.weekdays and session.occurs_on(d))


@pytest.mark.parametrize(
    "protocol",
    ["hamstring-strain", "proximal-hamstring-tendinopathy", "proximal-hamstring-avulsion-nonoperative"],
)
def test_a_course_without_surgery_never_sends_the_patient_to_a_surgeon(tmp_path, protocol: str) -> None:
    """Whom to ask for a clearance follows day 0: "your care team", in the calendar and the handout,
    before and after a stage is recorded."""
    for actual in ([], ["--actual", "start-lengthening=2027-03-08"] if protocol == "hamstring-strain" else []):
        data = generate(tmp_path, "--start-date", "2027-03-01", "--protocol", protocol, *actual)
        text = data.decode().replace("\r\n ", "").lower()
        assert "surgeon" not in text
        assert "your care team" in text
        if actual:  # stage 2 under way: sport waits for a clearance, asked of the care team
            assert "ask your care team whether you may go back to your sport" in text
    html = tmp_path / "plan.html"
    assert run("handout", "--start-date", "2027-03-01", "--protocol", protocol, "-o", str(html)).exit_code == 0
    assert "surgeon" not in html.read_text().lower()
