"""The .ics file as calendars read it: independent readers agree, and the course is right."""

import io
import re
from datetime import UTC, date, datetime, time, timedelta

import icalendar
import pytest
from dateutil.tz import tzical
from hypothesis import given
from hypothesis import strategies as st

from recovery.schedule import SURGEON_FIRST
from recovery.schedule.zones import zone as tzdata_zone

from conftest import EPOCH, comparable, generate, occurrences, protocol_file, run, strict_occurrences, vtimezone_text

ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "America/Mexico_City"]


def events(data: bytes) -> dict[str, icalendar.Event]:
    """The file's events by summary (first of each)."""
    found = {}
    for event in icalendar.Calendar.from_ical(data).walk("VEVENT"):
        found.setdefault(str(event["SUMMARY"]), event)
    return found


def local_starts(data: bytes, title: str) -> list[datetime]:
    return [start for summary, start, _ in occurrences(data) if summary == title]


def test_course_for_a_new_york_patient_is_right(tmp_path) -> None:
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "America/New_York")
    by_title = events(data)
    protection = by_title["Phase 1 · Protection"]
    assert (protection["DTSTART"].dt, protection["DTEND"].dt) == (date(2027, 3, 1), date(2027, 4, 12))  # DTEND day 42
    assert by_title["Brace off, if your surgeon agrees"]["DTSTART"].dt == date(2027, 4, 12)
    assert by_title["Walk without crutches"]["DTSTART"].dt == date(2027, 4, 26)  # H1: weaned over 2 weeks
    wound = by_title["First surgeon visit: wound check · visit window"]
    assert (wound["DTSTART"].dt, wound["DTEND"].dt) == (date(2027, 3, 11), date(2027, 3, 16))  # days 10-14
    assert "Your stitches dissolve on their own" in str(wound["DESCRIPTION"])
    assert by_title["Surgeon visit: end of protection"]["DTSTART"].dt == date(2027, 4, 12)
    assert by_title["Follow-up visit (3 months)"]["DTSTART"].dt == date(2027, 6, 1)
    assert "Phase 4 · Running" not in by_title  # not before the patient is cleared
    ask = by_title["Earliest day to ask whether you may start to walk and jog"]
    assert ask["DTSTART"].dt == date(2027, 6, 21)  # about 4 months
    assert "What comes after it is not in this calendar until you are cleared" in str(ask["DESCRIPTION"])
    sport = by_title["Earliest day to ask whether you may return to sport"]
    assert sport["DTSTART"].dt == date(2027, 9, 1)
    assert "jumps and landings included, cause you no pain" in str(sport["DESCRIPTION"])
    assert "90%" not in data.decode()  # S3's criteria come from a page about a condition without surgery
    protection_text = str(protection["DESCRIPTION"])
    assert "Day to day:\n- Washing: Keep the dressing on for 2 weeks." in protection_text
    # Morning routines at 08:00 local on both sides of the March 14 DST change.
    pumps = local_starts(data, "Morning exercises · about 35 minutes")  # thigh exercises and ice, to Mar 14
    pumps += local_starts(data, "Thigh and ankle exercises · 15 min")  # then the exercises alone
    around_dst = [s for s in pumps if date(2027, 3, 12) <= s.date() <= date(2027, 3, 16) and s.hour < 12]
    assert [(s.date().day, s.hour, s.minute) for s in around_dst] == [(d, 8, 0) for d in (12, 13, 14, 15, 16)]
    assert [s.utcoffset() for s in around_dst] == [timedelta(hours=-5)] * 2 + [timedelta(hours=-4)] * 3


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("protocol", ["proximal-hamstring-repair", "achilles-tendon-repair"])
def test_independent_readers_agree_occurrence_for_occurrence(tmp_path, zone: str, protocol: str) -> None:
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", zone, "--protocol", protocol)
    lenient = [comparable(o) for o in occurrences(data)]
    strict = [comparable(o) for o in strict_occurrences(data)]
    assert lenient == strict
    assert len(lenient) > 100


@pytest.mark.parametrize(
    ("zone", "surgery"),
    [
        ("America/New_York", "2027-03-01"),  # spring forward on Mar 14
        ("America/New_York", "2027-10-15"),  # fall back on Nov 7
        ("Europe/Berlin", "2027-03-15"),  # Mar 28 and Oct 31
        ("Australia/Sydney", "2027-03-15"),  # southern: DST ends Apr 4
        ("Australia/Sydney", "2027-09-15"),  # southern: DST starts Oct 3
        ("Asia/Kolkata", "2027-03-01"),  # no DST
        ("America/Mexico_City", "2027-03-01"),  # dropped DST in 2022
    ],
)
def test_daily_reminders_stay_at_their_local_time_across_dst(tmp_path, zone: str, surgery: str) -> None:
    data = generate(tmp_path, "--surgery-date", surgery, "--timezone", zone, "--time", "morning=07:30")
    expected = {"morning": time(7, 30), "midday": time(13, 0), "evening": time(19, 0)}
    timed = [o for o in occurrences(data) if isinstance(o[1], datetime)]
    assert timed
    tz = tzdata_zone(zone)
    for summary, start, _ in timed:
        local = start.astimezone(tz)
        assert local.time() in expected.values(), (summary, start)
        assert local.utcoffset() == datetime.combine(local.date(), local.time(), tz).utcoffset()
    strict_local = {o[1].astimezone(tz).time() for o in strict_occurrences(data) if isinstance(o[1], datetime)}
    assert strict_local <= set(expected.values())


@given(
    zone=st.sampled_from(
        [
            *ZONES,
            "Europe/Dublin",
            "America/Santiago",
            "Pacific/Chatham",
            "Africa/Casablanca",
            "Asia/Tehran",
            "Pacific/Apia",
        ]
    ),
    surgery=st.dates(min_value=date(2015, 1, 1), max_value=date(2045, 12, 31)),
)
def test_written_vtimezone_gives_zoneinfo_offsets_around_every_change(zone: str, surgery: date) -> None:
    last = surgery + timedelta(days=200)
    written = tzical(io.StringIO(vtimezone_text(zone, surgery, last))).get()  # an independent reader
    real = tzdata_zone(zone)
    moment = datetime.combine(surgery, time(0), real).astimezone(UTC)
    end = datetime.combine(last + timedelta(1), time(0), real).astimezone(UTC)
    while moment < end:  # every hour of a day whose offset changes; four times a day otherwise
        changes = moment.astimezone(real).utcoffset() != (moment + timedelta(days=1)).astimezone(real).utcoffset()
        for hour in range(0, 24, 1 if changes else 6):
            at = moment + timedelta(hours=hour)
            assert at.astimezone(written).utcoffset() == at.astimezone(real).utcoffset(), at
        moment += timedelta(days=1)


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Europe/Dublin"])
def test_vtimezone_is_in_rule_form(zone: str) -> None:
    component = icalendar.Timezone.from_ical(vtimezone_text(zone, date(2027, 3, 1), date(2027, 9, 1)))
    observances = component.subcomponents
    assert sorted(o.name for o in observances) == ["DAYLIGHT", "STANDARD"]
    for observance in observances:
        assert observance["RRULE"]["FREQ"] == ["YEARLY"]
        assert set(observance["RRULE"]) == {"FREQ", "BYMONTH", "BYDAY"}
        assert "RDATE" not in observance
    daylight = next(o for o in observances if o.name == "DAYLIGHT")
    assert daylight["TZOFFSETTO"].td > daylight["TZOFFSETFROM"].td  # clocks go forward


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/Mexico_City"])
def test_zone_without_dst_has_one_standard_observance(zone: str) -> None:
    component = icalendar.Timezone.from_ical(vtimezone_text(zone, date(2027, 3, 1), date(2027, 9, 1)))
    assert [o.name for o in component.subcomponents] == ["STANDARD"]
    assert "RRULE" not in component.subcomponents[0]


@pytest.mark.parametrize(
    ("surgery", "three_months", "six_months"),
    [
        ("2027-01-31", date(2027, 4, 30), date(2027, 7, 31)),  # month end
        ("2027-08-31", date(2027, 11, 30), date(2028, 2, 29)),  # lands on a leap day
        ("2028-02-29", date(2028, 5, 29), date(2028, 8, 29)),  # surgery on a leap day
        ("2027-12-31", date(2028, 3, 31), date(2028, 6, 30)),  # year end
    ],
)
def test_month_end_and_leap_day_surgery_dates(tmp_path, surgery: str, three_months: date, six_months: date) -> None:
    data = generate(tmp_path, "--surgery-date", surgery, "--timezone", "Europe/Berlin")
    by_title = events(data)
    assert by_title["Follow-up visit (3 months)"]["DTSTART"].dt == three_months
    assert by_title["Earliest day to ask whether you may return to sport"]["DTSTART"].dt == six_months
    day0 = date.fromisoformat(surgery)
    assert by_title["Phase 1 · Protection"]["DTEND"].dt == day0 + timedelta(days=42)


def test_from_in_the_middle_of_a_series_drops_the_past_and_starts_series_that_day(tmp_path) -> None:
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "America/New_York", "--from", "2027-03-20")
    found = occurrences(data)
    assert min(comparable(o)[0][:10] for o in found) >= "2027-03-20"
    sessions = [start for summary, start, _ in found if summary == "Thigh and ankle exercises · 15 min"]
    assert min(sessions) == datetime(2027, 3, 20, 8, 0, tzinfo=tzdata_zone("America/New_York"))
    assert len(sessions) == 3 * (date(2027, 4, 12) - date(2027, 3, 20)).days  # to day 41, three sessions a day
    by_title = events(data)
    assert by_title["Phase 1 · Protection"]["DTSTART"].dt == date(2027, 3, 20)
    assert by_title["Read first: how to use this calendar, and when to call for help"]["DTSTART"].dt == date(
        2027, 3, 20
    )
    assert not any("wound check" in title for title in by_title)  # that window ended on Mar 15


def test_actual_brace_off_moves_everything_that_depends_on_it(tmp_path) -> None:
    data = generate(
        tmp_path, "--surgery-date", "2027-03-01", "--timezone", "Europe/Berlin", "--actual", "brace-off=2027-04-20"
    )
    by_title = events(data)
    assert by_title["Brace off, if your surgeon agrees"]["DTSTART"].dt == date(2027, 4, 20)
    assert "actually happened" in str(by_title["Brace off, if your surgeon agrees"]["DESCRIPTION"])
    assert by_title["Phase 1 · Protection"]["DTEND"].dt == date(2027, 4, 20)
    assert by_title["Brace on"]["DTEND"].dt == date(2027, 4, 20)
    assert by_title["Phase 2 · Walking again, early strength"]["DTSTART"].dt == date(2027, 4, 20)
    assert by_title["Walk without crutches"]["DTSTART"].dt == date(2027, 5, 4)
    phase_one = local_starts(data, "Thigh and ankle exercises · 15 min")
    assert phase_one[-1].date() == date(2027, 4, 19)
    assert by_title["Surgeon visit: end of protection"]["DTSTART"].dt == date(2027, 4, 20)
    assert by_title["Follow-up visit (3 months)"]["DTSTART"].dt == date(2027, 6, 1)  # fixed visits stay


MEDICAL_WORDS = re.compile(
    r"hamstring|achilles|tendon|repair|surg|brace|crutch|weight|wound|ice|exercise|physio|pain|clot|medic|phase|"
    r"recovery|rehab|ankle|quad|glute|bridge|nordic|sport|injur|operat|stitch|visit",
    re.IGNORECASE,
)


@pytest.mark.parametrize("protocol", ["proximal-hamstring-repair", "achilles-tendon-repair"])
def test_discreet_mode_titles_and_alarms_say_nothing_medical(tmp_path, protocol: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        "generate", "--surgery-date", "2027-03-01", "--discreet", "--protocol", protocol, "--timezone", "UTC",
        env={"SOURCE_DATE_EPOCH": EPOCH}, cwd=out,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    written = list(out.iterdir())
    assert [p.name for p in written] == ["plan-2027-03-01.ics"]
    calendar = icalendar.Calendar.from_ical(written[0].read_bytes())
    shown = [str(calendar[key]) for key in ("NAME", "X-WR-CALNAME", "DESCRIPTION", "X-WR-CALDESC")]
    for component in calendar.walk():
        if component.name in ("VEVENT", "VALARM"):
            shown.append(str(component.get("SUMMARY" if component.name == "VEVENT" else "DESCRIPTION")))
            shown.append(str(component["UID"]) if "UID" in component else "")
    assert len(shown) > 20
    assert not [text for text in shown if MEDICAL_WORDS.search(text)]


def test_two_surgery_dates_give_the_same_uids(tmp_path) -> None:
    first = events(generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "UTC"))
    second = events(generate(tmp_path, "--surgery-date", "2027-03-08", "--timezone", "UTC"))
    assert {str(e["UID"]) for e in first.values()} == {str(e["UID"]) for e in second.values()}
    assert len({str(e["UID"]) for e in first.values()}) == len(first)


def test_output_is_byte_identical_and_a_new_plan_has_sequence_0(tmp_path) -> None:
    args = ("--surgery-date", "2027-03-01", "--timezone", "Europe/Berlin")
    once, twice = generate(tmp_path, *args), generate(tmp_path, *args)
    assert once == twice
    later = generate(tmp_path, *args, epoch=str(int(EPOCH) + 3600))
    for data in (once, later):
        assert {int(e["SEQUENCE"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")} == {0}
    assert re.sub(rb"DTSTAMP:\S+", b"", once) == re.sub(rb"DTSTAMP:\S+", b"", later)


def test_golden_calendar_of_the_bundled_protocol(tmp_path, golden) -> None:
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "America/New_York", "--side", "left")
    golden.check("proximal-hamstring-repair-2027-03-01-new-york.ics", data)


def test_every_rule_for_calendar_clients_holds(tmp_path) -> None:
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "Australia/Sydney", "--alarm-minutes", "10")
    assert len(data) < 100_000
    lines = data.split(b"\r\n")
    assert lines[-1] == b""
    assert b"\n" not in b"".join(lines)
    for line in lines:
        assert len(line) <= 75
        line.decode("utf-8")  # folding never splits a character
    calendar = icalendar.Calendar.from_ical(data)
    assert (str(calendar["VERSION"]), str(calendar["CALSCALE"]), str(calendar["METHOD"])) == (
        "2.0",
        "GREGORIAN",
        "PUBLISH",
    )
    assert str(calendar["NAME"]) == str(calendar["X-WR-CALNAME"]) == "Recovery: Proximal hamstring repair (revision 1)"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Australia/Sydney"]
    for event in calendar.walk("VEVENT"):
        assert str(event["TRANSP"]) == "TRANSPARENT"
        assert str(event["X-MICROSOFT-CDO-BUSYSTATUS"]) == "FREE"
        assert SURGEON_FIRST in str(event["DESCRIPTION"])
        for banned in ("RDATE", "EXRULE", "EXDATE", "RECURRENCE-ID"):
            assert banned not in event
        alarms = event.walk("VALARM")
        start = event["DTSTART"]
        if isinstance(start.dt, datetime):
            assert start.params["TZID"] == "Australia/Sydney"
            rule = event["RRULE"]
            assert rule["FREQ"][0] in ("DAILY", "WEEKLY")
            assert "BYHOUR" not in rule
            assert "UNTIL" not in rule
            assert 1 <= rule["COUNT"][0] <= 999
            assert len(alarms) == 1
            assert str(alarms[0]["ACTION"]) == "DISPLAY"
            assert str(alarms[0]["DESCRIPTION"])
            assert alarms[0]["TRIGGER"].dt == timedelta(minutes=-10)
            assert "REPEAT" not in alarms[0]
            assert "RELATED" not in alarms[0]["TRIGGER"].params
        else:
            assert "TZID" not in start.params
            assert start.params.get("VALUE") == "DATE"
            assert event["DTEND"].dt > start.dt
            if str(event["SUMMARY"]).startswith("Book: "):  # a reminder to book: 09:00 on a clinic day
                (alarm,) = alarms
                assert alarm["TRIGGER"].dt == timedelta(hours=9)
                assert start.dt.weekday() < 5
            else:
                assert alarms == []
    assert b"FREQ=HOURLY" not in data
    assert b"RDATE" not in data


def test_titles_say_what_to_do_and_the_first_event_lists_every_red_flag(tmp_path) -> None:
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "UTC", "--side", "right")
    by_title = events(data)
    morning = str(by_title["Morning exercises · about 35 minutes"]["DESCRIPTION"])
    assert "- Thigh and ankle exercises (15 min)" in morning
    assert "- Ice the back of the thigh (20 min)" in morning
    assert "Do not soak the wound in a bath, pool or hot tub for 3 weeks." in morning  # the phase's precautions
    assert "Strength training · 30 min" in by_title  # a session of one routine is called by it
    welcome = str(by_title["Read first: how to use this calendar, and when to call for help"]["DESCRIPTION"])
    assert (
        "Chest pain, or sudden shortness of breath or trouble breathing: Call your local emergency number now"
        in welcome
    )
    assert "A pop or snap at the back of the right thigh" in welcome
    assert "weakness in the right leg" in welcome
    assert welcome.count("\n- ") >= 6 + 3


def test_default_output_path_and_standard_output(tmp_path) -> None:
    result = run("generate", "--surgery-date", "2027-03-01", "--timezone", "UTC", cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stdout.strip() == "proximal-hamstring-repair-2027-03-01.ics"
    assert (tmp_path / "proximal-hamstring-repair-2027-03-01.ics").read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")
    piped = run("generate", "--surgery-date", "2027-03-01", "--timezone", "UTC", "-o", "-")
    assert piped.stdout.startswith("BEGIN:VCALENDAR")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--surgery-date", "2027-02-30"], 2, '"2027-02-30" is not a day of the calendar'),
        (
            ["--surgery-date", "2027-03-01", "--timezone", "Europe/Berln"],
            2,
            'unknown time zone "Europe/Berln"; did you mean',
        ),
        (["--surgery-date", "2027-03-01", "--timezone", "new york"], 2, '"America/New_York"'),
        (["--surgery-date", "2027-03-01", "--protocol", "hamstring"], 1, 'unknown protocol "hamstring"'),
        (["--surgery-date", "2027-03-01", "--variant", "acelerated"], 1, 'did you mean "accelerated"?'),
        (["--surgery-date", "2027-03-01", "--set", "protection_weeks=3"], 1, "3 is below the minimum 4"),
        (["--surgery-date", "2027-03-01", "--set", "brace=maybe"], 1, "--set brace=maybe: expected true or false"),
        (["--surgery-date", "2027-03-01", "--time", "noon=12:00"], 2, '"noon" is not a time of day'),
        (["--surgery-date", "2027-03-01", "--time", "morning=25:00"], 2, "is not a clock time"),
        (["--surgery-date", "2027-03-01", "--actual", "brace-of=2027-04-01"], 1, 'did you mean "brace-off"?'),
        (
            ["--surgery-date", "2027-03-01", "--actual", "brace-off=2027-02-01"],
            1,
            "before day 0, the day of surgery, 2027-03-01",
        ),
        (
            [
                "--start-date",
                "2027-03-01",
                "--protocol",
                "hamstring-strain",
                "--actual",
                "start-lengthening=2027-02-20",
            ],
            1,
            "before day 0, the day of your injury, 2027-03-01",
        ),
        (["--surgery-date", "2027-03-01", "--actual", "brace-off=April"], 2, "write it as YYYY-MM-DD"),
        (["--surgery-date", "2027-03-01", "--from", "2028-06-01"], 1, "nothing is left to schedule"),
        (
            ["--surgery-date", "2027-03-01", "--timezone", "America/New_York", "--time", "morning=02:30"],
            1,
            "02:30 does not exist",
        ),
        (
            ["--surgery-date", "2027-03-01", "--variant", "accelerated", "--actual", "brace-off=2027-04-01"],
            1,
            "not part of this plan",
        ),
        (["--surgery-date", "2027-03-01", "--side", "both"], 2, '"both" is not "left" or "right"'),
    ],
)
def test_bad_options_leave_no_file_behind(tmp_path, args: list[str], code: int, message: str) -> None:
    target = tmp_path / "plan.ics"
    target.write_bytes(b"the previous calendar")
    result = run("generate", *args, "-o", str(target))
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert target.read_bytes() == b"the previous calendar"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.ics"]


def test_a_broken_protocol_file_writes_nothing(tmp_path) -> None:
    result = run(
        "generate", "--surgery-date", "2027-03-01", "--protocol", protocol_file("reference-cycle"), cwd=tmp_path
    )
    assert result.exit_code == 1
    assert "form a cycle" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_calendar_level_texts_are_escaped_and_read_back_whole(tmp_path) -> None:
    import vobject
    from ical.calendar_stream import IcsCalendarStream

    name = "Knee, left; 2nd try"
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "UTC", "--calendar-name", name)
    assert b"X-WR-CALNAME:Knee\\, left\\; 2nd try (revision 1)" in data
    assert b"X-WR-CALDESC:Proximal hamstring repair\\, version" in data
    assert str(vobject.readOne(data.decode()).x_wr_calname.value) == f"{name} (revision 1)"
    assert IcsCalendarStream.calendar_from_ics(data.decode()).prodid.startswith("-//recovery//")


def test_whom_to_call_is_on_every_view_and_every_red_flag(tmp_path) -> None:
    """--contact (or a protocol's contact) tops Read first, the handout and the agenda, ends every
    red flag that is not a call to the emergency number, and the red flags are in every phase's
    event, so they are at hand on any day, not only on day 0."""
    contact = "Surgical team 555-0100, after hours 555-0199"
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--contact", contact)
    calendar = icalendar.Calendar.from_ical(data)
    events = {str(e["SUMMARY"]): str(e["DESCRIPTION"]) for e in calendar.walk("VEVENT")}
    welcome = next(text for title, text in events.items() if title.startswith("Read first"))
    assert welcome.startswith(f"Questions, or a warning sign below: {contact}")
    for title in ("Phase 1 · Protection", "Phase 3 · Strength"):
        assert "RED FLAGS: when to get help" in events[title]
        assert f"Call your surgical team today. Contact: {contact}." in events[title]
    assert "Call your local emergency number now. This can be a blood clot in the lung.\n" in welcome
    agenda = run("agenda", "--surgery-date", "2027-03-01", "--on", "2027-03-10", "--contact", contact).stdout
    assert agenda.splitlines()[2] == f"Questions, or a red flag below: {contact}"
    html = tmp_path / "plan.html"
    run("handout", "--surgery-date", "2027-03-01", "--contact", contact, "-o", str(html))
    assert f"Questions, or a red flag below: {contact}" in html.read_text()


def test_a_clinic_protocol_gives_the_contact_and_a_plan_may_replace_it(tmp_path) -> None:
    clinic = protocol_file("clinic-contact")
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--protocol", clinic)
    assert b"Example Clinic 555-0142" in data
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--protocol", clinic, "--contact", "Ward 7: 555-0177")
    assert b"Example Clinic" not in data
    assert b"Ward 7: 555-0177" in data


def test_booking_reminders_ring_on_a_clinic_day_after_the_surgery(tmp_path) -> None:
    """A visit planned a week after a Friday surgery: its reminder to book is not on the surgery day
    nor on a weekend."""
    data = generate(tmp_path, "--surgery-date", "2027-03-05")
    for event in icalendar.Calendar.from_ical(data).walk("VEVENT"):
        if str(event["SUMMARY"]).startswith("Book: "):
            day = event["DTSTART"].dt
            assert day > date(2027, 3, 5)
            assert day.weekday() < 5
            assert event.walk("VALARM")


@given(
    st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)).map(
        lambda t: t - t % timedelta(seconds=1)
    )
)
def test_durations_are_written_as_icalendar_writes_and_reads_them(value: timedelta) -> None:
    from icalendar.prop import vDuration

    from recovery.writers.values import duration

    written = duration(value)
    assert vDuration.from_ical(written) == value
    assert written == ("PT0S" if not value else vDuration(value).to_ical().decode())


@given(st.integers(min_value=-15 * 3600, max_value=15 * 3600))
def test_utc_offsets_are_written_as_icalendar_writes_and_reads_them(seconds: int) -> None:
    from icalendar.prop import vUTCOffset

    from recovery.writers.values import offset

    value = timedelta(seconds=seconds)
    assert vUTCOffset.from_ical(offset(value)) == value
    assert offset(value) == vUTCOffset(value).to_ical()
