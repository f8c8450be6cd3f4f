"""Sessions, not alarm storms: each time of day is one reminder with one alarm, listing what to do."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import icalendar
import pytest
import recurring_ical_events

from conftest import generate


@pytest.mark.parametrize(
    ("protocol", "variant"),
    [
        ("proximal-hamstring-repair", []),
        ("proximal-hamstring-repair", ["--variant", "accelerated"]),
        ("achilles-tendon-repair", []),
    ],
    ids=["hamstring", "hamstring-accelerated", "achilles"],
)
def test_no_day_rings_more_than_three_alarms(tmp_path, protocol: str, variant: list[str]) -> None:
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "Europe/Berlin", "--protocol", protocol,
                    "--set", "clot_prevention=as prescribed", *variant)  # fmt: skip
    calendar = icalendar.Calendar.from_ical(data)
    alarms = Counter()
    for occurrence in recurring_ical_events.of(calendar).between(date(2027, 1, 1), date(2029, 1, 1)):
        start = occurrence["DTSTART"].dt
        if isinstance(start, datetime) and occurrence.walk("VALARM"):
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
    for line in ("- Ankle pumps · 3×10 (5 min)", "- Quad sets · 3×10, hold 5 s (5 min)", "- Ice the back of the thigh"):
        assert line in text
    assert "About 40 minutes in all" in text
    assert len(morning.walk("VALARM")) == 1
    assert (morning["DTEND"].dt - morning["DTSTART"].dt).total_seconds() == 40 * 60


def test_the_json_keeps_one_row_per_routine(tmp_path) -> None:
    import json

    from conftest import run

    data = json.loads(run("generate", "--surgery-date", "2027-03-01", "--format", "json", "-o", "-").stdout)
    assert {"ankle-pumps", "quad-sets", "ice"} <= {row["id"] for row in data["routines"]}
