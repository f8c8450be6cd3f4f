"""Sessions, not alarm storms: each time of day is one reminder with one alarm, listing what to do."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import icalendar
import pytest
import recurring_ical_events

from conftest import generate, occurrences, protocol_file, run, strict_occurrences


@pytest.mark.parametrize(
    ("protocol", "variant"),
    [
        ("proximal-hamstring-repair", []),
        ("proximal-hamstring-repair", ["--variant", "accelerated"]),
        ("achilles-tendon-repair", []),
        ("achilles-tendon-repair", ["--variant", "longer-boot"]),
    ],
    ids=["hamstring", "hamstring-accelerated", "achilles", "achilles-longer-boot"],
)
def test_no_day_rings_more_than_three_alarms_besides_medicines(tmp_path, protocol: str, variant: list[str]) -> None:
    """Exercises and care ring at most three times a day; a medicine the surgeon sets has its own."""
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "Europe/Berlin", "--protocol", protocol,
                    "--set", "clot_prevention=as prescribed", *variant)  # fmt: skip
    calendar = icalendar.Calendar.from_ical(data)
    alarms = Counter()
    for occurrence in recurring_ical_events.of(calendar).between(date(2027, 1, 1), date(2029, 1, 1)):
        start = occurrence["DTSTART"].dt
        if isinstance(start, datetime) and occurrence.walk("VALARM") and str(occurrence["SUMMARY"]) != "as prescribed":
            alarms[start.date()] += 1
    assert alarms
    assert max(alarms.values()) <= 3


def test_a_session_lists_each_exercise_with_its_dose_and_one_alarm(tmp_path) -> None:
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "Europe/Berlin")
    morning = next(
        e
        for e in icalendar.Calendar.from_ical(data).walk("VEVENT")
        if str(e["SUMMARY"]).startswith("Morning exercises")
    )
    text = str(morning["DESCRIPTION"])
    for line in ("- Thigh and ankle exercises (15 min)", "- Ice the back of the thigh (20 min)"):
        assert line in text
    assert "Tighten the front of your thigh" in text
    assert "About 35 minutes in all" in text
    assert len(morning.walk("VALARM")) == 1
    assert (morning["DTEND"].dt - morning["DTSTART"].dt).total_seconds() == 35 * 60


def test_the_json_keeps_one_row_per_routine(tmp_path) -> None:
    import json

    from conftest import run

    data = json.loads(run("generate", "--surgery-date", "2027-03-01", "--format", "json", "-o", "-").stdout)
    assert {"early-exercises", "ice", "hamstring-sets", "heel-slides"} <= {row["id"] for row in data["routines"]}


def test_a_session_that_returns_later_gets_new_uids(tmp_path) -> None:
    # The evening is "walk" alone, then "walk" + "stretch", then "walk" alone again: the same session
    # twice, apart. Readers treat a repeated UID as one event, and would drop one of them.
    protocol = protocol_file("session-that-returns")
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "Europe/Berlin", "--protocol", protocol)
    events = [e for e in icalendar.Calendar.from_ical(data).walk("VEVENT") if e.get("RRULE")]
    assert len(events) == 3
    assert len({str(e["UID"]) for e in events}) == 3
    for reader in (occurrences, strict_occurrences):
        timed = [start for _, start, _ in reader(data) if isinstance(start, datetime)]
        assert len(timed) == 10  # days 1-10, one evening reminder each


def test_the_same_routines_on_the_same_days_stay_one_session(tmp_path) -> None:
    # Strength training (Mon, Wed, Fri) and the bike (Tue, Thu, Sat) share the evening from
    # week 12; the bike starting a day later must not cut strength training into two events.
    data = generate(tmp_path, "--surgery-date", "2027-03-05", "--timezone", "America/New_York")
    titles = [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")]
    assert titles.count("Strength training · 30 min") == 1


def test_a_medicine_is_its_own_reminder_with_its_own_words(tmp_path) -> None:
    """Set in a clinic's plan, clot prevention rings as the surgeon wrote it, never as "Evening
    exercises · about 40 minutes"; discreet, it says "Medicine"; the handout gives no minutes."""
    import icalendar

    medicine = "Aspirin 325 mg once a day"
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--set", f"clot_prevention={medicine}")
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    taken = [e for e in events if medicine in str(e.get("DESCRIPTION", ""))]
    assert taken  # cut where the evening session at its minute changes (see the test below)
    for event in taken:
        assert str(event["SUMMARY"]) == medicine
        assert str(event.walk("VALARM")[0]["DESCRIPTION"]).startswith(medicine)
        assert "minutes" not in str(event["DESCRIPTION"])
    assert not any(medicine in str(e.get("DESCRIPTION", "")) for e in events if e not in taken)
    discreet = generate(tmp_path, "--surgery-date", "2027-03-01", "--set", f"clot_prevention={medicine}", "--discreet")
    assert b"SUMMARY:Medicine\r\n" in discreet
    html = tmp_path / "plan.html"
    run("handout", "--surgery-date", "2027-03-01", "--set", f"clot_prevention={medicine}", "-o", str(html))
    row = html.read_text().split(f"<strong>{medicine}</strong>", 1)[1].split("</tr>", 1)[0]
    assert "as prescribed" in row
    assert " min<" not in row
