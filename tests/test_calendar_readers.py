"""One reading in every reader: vobject (behind Radicale and many CalDAV servers) and dateutil read
our VTIMEZONEs as the pinned zone data says, in both hemispheres and around both DST changes."""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources

import icalendar
import pytest
import vobject
from dateutil.tz import tzical

from recovery.schedule.zones import TZDATA_VERSION, zone_names
from recovery.schedule.zones import zone as tzdata_zone

from conftest import EPOCH, HERE, generate, occurrences, run, strict_occurrences, vtimezone_text

ZONES = {  # zone: (a surgery date before its spring change, one before its autumn change)
    "Europe/London": ("2027-03-20", "2027-10-20"),
    "Pacific/Auckland": ("2027-09-15", "2027-03-25"),
    "Pacific/Chatham": ("2027-09-15", "2027-03-25"),
    "Africa/Casablanca": ("2027-01-20", "2027-03-01"),
    "Asia/Kolkata": ("2027-03-01", "2027-10-01"),
    "Asia/Tehran": ("2027-03-10", "2027-09-10"),
    "America/New_York": ("2027-03-05", "2027-10-30"),
    "America/Sao_Paulo": ("2027-10-01", "2027-02-10"),
    "Australia/Sydney": ("2027-09-25", "2027-03-28"),
    "America/Mexico_City": ("2027-03-30", "2027-10-25"),
    "Europe/Berlin": ("2027-03-20", "2027-10-25"),
    "Europe/Dublin": ("2027-03-20", "2027-10-25"),
    "America/Santiago": ("2027-08-30", "2027-03-30"),
    "Pacific/Apia": ("2027-03-01", "2027-09-01"),
}


def timed_occurrences_by_vobject(data: bytes) -> list[datetime]:
    calendar = vobject.readOne(data.decode())
    found = []
    for event in calendar.vevent_list:
        start = event.dtstart.value
        if not isinstance(start, datetime):
            continue
        starts = list(event.getrruleset(addRDate=True)) if hasattr(event, "rrule") else [start]
        found += [s.astimezone(UTC) for s in starts]
    return sorted(found)


def timed_occurrences_expected(data: bytes, name: str) -> list[datetime]:
    """Each event's local wall-clock times, placed with the pinned zone data the file was written with."""
    tz = tzdata_zone(name)
    found = []
    for event in icalendar.Calendar.from_ical(data).walk("VEVENT"):
        start = event["DTSTART"].dt
        if not isinstance(start, datetime):
            continue
        rule = event.get("RRULE")
        count = int(rule["COUNT"][0]) if rule else 1
        weekdays = set(rule.get("BYDAY", [])) if rule else set()
        day = start.date()
        while count:
            if not weekdays or day.strftime("%a").upper()[:2] in weekdays:
                found.append(datetime.combine(day, start.time(), tz).astimezone(UTC))
                count -= 1
            day += timedelta(1)
    return sorted(found)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("season", [0, 1], ids=["spring", "autumn"])
def test_every_reader_puts_every_reminder_at_its_local_time(tmp_path, zone: str, season: int) -> None:
    data = generate(tmp_path, "--surgery-date", ZONES[zone][season], "--timezone", zone)
    expected = timed_occurrences_expected(data, zone)
    # vobject reads the file's own VTIMEZONE: the very instants of the pinned zone data.
    assert timed_occurrences_by_vobject(data) == expected
    # icalendar (with recurring-ical-events) and the strict `ical` parser place a known zone name with
    # the machine's zone data, which may be another release: the same local wall-clock times.
    local = sorted(moment.astimezone(tzdata_zone(zone)).replace(tzinfo=None) for moment in expected)
    for reader in (occurrences, strict_occurrences):
        starts = [start for _, start, _ in reader(data) if isinstance(start, datetime)]
        assert {str(start.tzinfo) for start in starts} == {zone}
        assert sorted(start.replace(tzinfo=None) for start in starts) == local


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "Pacific/Chatham", "Europe/London", "Europe/Berlin"])
def test_a_last_sunday_is_written_as_the_last_sunday(zone: str) -> None:
    component = vtimezone_text(zone, date(2027, 3, 1), date(2027, 9, 1))
    assert "BYDAY=-1SU" in component
    assert "BYDAY=4SU" not in component


def test_observances_start_in_1970() -> None:
    component = icalendar.Timezone.from_ical(vtimezone_text("Europe/London", date(2027, 3, 1), date(2027, 9, 1)))
    assert [o["DTSTART"].dt.year for o in component.subcomponents] == [1970, 1970]


def offsets_agree(name: str, first: date, last: date, span: tuple[date, date]) -> None:
    """The VTIMEZONE written for `span`, read by dateutil, gives the pinned zone's offset from `first` to `last`."""
    written = tzical(io.StringIO(vtimezone_text(name, *span))).get()
    real = tzdata_zone(name)
    moments = []
    day = datetime(first.year, first.month, first.day, 12, tzinfo=UTC)
    while day.date() <= last:
        moments.append(day)
        day += timedelta(days=3)
    changes = set()
    moment = datetime(first.year, first.month, first.day, tzinfo=UTC)
    while moment.date() <= last:  # each change of offset, and the second on either side of it
        following = moment + timedelta(days=1)
        if following.astimezone(real).utcoffset() != moment.astimezone(real).utcoffset():
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                same = middle.astimezone(real).utcoffset() == moment.astimezone(real).utcoffset()
                low, high = (middle, high) if same else (low, middle)
            changes |= {high - timedelta(hours=2), high, high + timedelta(hours=1)}  # clear of a repeated hour
        moment = following
    for moment in sorted([*moments, *changes]):
        assert moment.astimezone(written).utcoffset() == moment.astimezone(real).utcoffset(), (name, moment)


def sample(names: list[str], size: int) -> list[str]:
    """All of them with RECOVERY_FULL=1; otherwise the same few every run."""
    if os.environ.get("RECOVERY_FULL") == "1":
        return names
    return sorted(random.Random(20270301).sample(names, size))


RULE_ZONES = sorted(name for name in zone_names() if "/" in name and not name.startswith(("Etc/", "SystemV/")))


@pytest.mark.slow
@pytest.mark.parametrize("name", sample(RULE_ZONES, 30))
def test_every_zone_is_exact_for_plans_over_20_years(name: str) -> None:
    """For surgeries in each of 20 years (a spring and an autumn one, six months each), the written
    VTIMEZONE gives the pinned zone's offset at each change and twice a week over the plan's years."""
    for year in range(2027, 2047, 2 if os.environ.get("RECOVERY_FULL") != "1" else 1):
        for first in (date(year, 3, 1), date(year, 9, 1)):
            last = first + timedelta(days=190)
            offsets_agree(name, date(first.year - 1, 1, 1), date(last.year, 12, 31), (first, last))


@pytest.mark.parametrize("name", ["Pacific/Auckland", "Pacific/Chatham", "Europe/London", "America/New_York"])
def test_the_rule_written_is_the_zones_own_for_20_years(name: str) -> None:
    """Readers apply the rule beyond the plan's months: it must be the zone's rule, not one that fits by chance."""
    offsets_agree(name, date(2027, 1, 1), date(2046, 12, 31), (date(2027, 3, 1), date(2027, 9, 1)))


def test_the_same_command_writes_the_same_file_whatever_zone_files_the_machine_has(tmp_path) -> None:
    """A machine whose own zone files are wrong (here: New York is UTC) still gets the pinned data."""
    fake = tmp_path / "zoneinfo"
    (fake / "America").mkdir(parents=True)
    with resources.as_file(resources.files("tzdata.zoneinfo") / "UTC") as utc:
        shutil.copy(utc, fake / "America" / "New_York")
    args = ["generate", "--surgery-date", "2027-03-01", "--timezone", "America/New_York", "-o", "-"]
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONTZPATH": str(fake), "RECOVERY_CACHE_DIR": ""}
    command = [sys.executable, "-c", "from recovery.cli import main; main(prog_name='recovery')", *args]
    odd_machine = subprocess.run(command, env=env, capture_output=True, check=True, cwd=tmp_path).stdout
    here = run(*args, env={"SOURCE_DATE_EPOCH": EPOCH}).stdout_bytes
    assert odd_machine == here
    assert f"X-RECOVERY-TZDATA:{TZDATA_VERSION}".encode() in here


def test_version_names_the_zone_data() -> None:
    assert f"(time zone data {TZDATA_VERSION})" in run("--version").stdout


@pytest.mark.parametrize(
    ("surgery", "time_of_day", "message"),
    [
        (
            "2027-03-01",
            "morning=02:30",
            "on 2027-03-14 the clocks in America/New_York go forward from 02:00 to 03:00, so 02:30 does not exist that day",
        ),
        (
            "2027-03-01",
            "morning=02:00",  # the first skipped minute itself (was accepted: bisection stopped short of it)
            "on 2027-03-14 the clocks in America/New_York go forward from 02:00 to 03:00, so 02:00 does not exist that day",
        ),
        (
            "2027-10-20",
            "morning=01:30",
            "on 2027-11-07 the clocks in America/New_York go back from 02:00 to 01:00, so 01:30 happens twice that day",
        ),
    ],
)
def test_a_reminder_time_that_is_skipped_or_doubled_is_refused_with_a_safe_one(
    surgery: str, time_of_day: str, message: str
) -> None:
    result = run("generate", "--surgery-date", surgery, "--timezone", "America/New_York", "--time", time_of_day)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "choose another time, such as morning=" in result.stderr


def test_a_series_longer_than_outlook_allows_is_split_and_loses_nothing(tmp_path) -> None:
    import recurring_ical_events

    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "Europe/Berlin",
                    "--protocol", str(HERE / "protocols" / "four-years-of-walks.toml"))  # fmt: skip
    calendar = icalendar.Calendar.from_ical(data)
    counts = [int(e["RRULE"]["COUNT"][0]) for e in calendar.walk("VEVENT") if "RRULE" in e]
    assert max(counts) <= 999
    occurrences = recurring_ical_events.of(calendar).between(date(2027, 1, 1), date(2032, 1, 1))
    walks = sorted(o["DTSTART"].dt for o in occurrences if str(o["SUMMARY"]).startswith("Walk"))
    assert len(walks) == len(set(walks)) == (date(2031, 3, 1) - date(2027, 3, 2)).days
    assert {walk.time() for walk in walks} == {time(8, 0)}


def test_the_largest_plan_the_bundled_bounds_allow_keeps_every_series_under_1000(tmp_path) -> None:
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "UTC", "--set", "return_months=12",
                    "--set", "protection_weeks=10", "--set", "running_weeks=21")  # fmt: skip
    counts = [int(e["RRULE"]["COUNT"][0]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT") if "RRULE" in e]
    assert counts
    assert max(counts) <= 999
