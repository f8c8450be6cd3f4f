"""`recovery batch`: a clinic's CSV of plans, each row as `generate` would write it."""

from __future__ import annotations

import json
from pathlib import Path

import icalendar
import pytest

from conftest import EPOCH, HERE, run

EXAMPLE = HERE.parent / "examples" / "plans.csv"


def test_the_example_file_writes_every_plan(tmp_path) -> None:
    result = run("batch", str(EXAMPLE), "--out-dir", str(tmp_path / "out"), env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"wrote 4 of 4 plans to {tmp_path / 'out'}\n"
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["berlin-left.ics", "kolkata-right.ics", "new-york-right.ics", "sydney-left.ics"]


def test_a_row_gives_the_same_calendar_as_generate(tmp_path) -> None:
    env = {"SOURCE_DATE_EPOCH": EPOCH}
    run("batch", str(EXAMPLE), "--out-dir", str(tmp_path), env=env)
    single = tmp_path / "single.ics"
    run("generate", "--surgery-date", "2027-04-12", "--timezone", "Australia/Sydney", "--side", "left",
        "--set", "protection_weeks=5", "--set", "return_months=7", "--time", "evening=20:00",
        "--actual", "brace-off=2027-05-20", "-o", str(single), env=env)  # fmt: skip
    assert (tmp_path / "sydney-left.ics").read_bytes() == single.read_bytes()


def test_bad_rows_are_reported_by_line_and_column_and_good_rows_still_written(tmp_path) -> None:
    plans = tmp_path / "plans.csv"
    plans.write_text(
        "surgery-date,timezone,set,time,output\n"
        "2027-03-01,Europe/Berlin,,,good.ics\n"
        "2027-02-30,Europe/Berlin,,,bad-date.ics\n"
        "2027-03-01,Europe/Berln,,,bad-zone.ics\n"
        "2027-03-01,Europe/Berlin,protection_weeks=20,,bad-set.ics\n"
        "2027-03-01,Europe/Berlin,,lunch=12:00,bad-time.ics\n"
        "2027-03-01,Europe/Berlin,,,../escape.ics\n"
        "2027-03-02,Europe/Berlin,,,good.ics\n"
    )
    result = run("batch", str(plans), "--out-dir", str(tmp_path / "out"))
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"error: {plans}:3: surgery-date: ")
    assert errors[1].startswith(f'error: {plans}:4: timezone: unknown time zone "Europe/Berln"')
    assert errors[2] == f"error: {plans}:5: set: protection_weeks=20: 20 is above the maximum 10"
    assert errors[3].startswith(f'error: {plans}:6: time: lunch=12:00: "lunch" is not a time of day')
    assert errors[4].startswith(f'error: {plans}:7: output: "../escape.ics" must be a file name')
    assert errors[5] == f'error: {plans}:8: output: "good.ics" is also the output of line 2'
    assert result.stdout == f"wrote 1 of 7 plans to {tmp_path / 'out'}; 6 failed\n"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good.ics"]


def test_an_unknown_column_is_a_usage_error_with_a_suggestion(tmp_path) -> None:
    plans = tmp_path / "plans.csv"
    plans.write_text("surgery-date,timezon\n2027-03-01,UTC\n")
    result = run("batch", str(plans), "--out-dir", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert 'unknown column "timezon"; did you mean "timezone"?' in result.stderr


def test_many_rows_are_written_by_as_many_processes_as_jobs(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import concurrent.futures

    import recovery.batch

    made = []

    class Recorded(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, max_workers: int) -> None:
            made.append(max_workers)
            super().__init__(max_workers=max_workers)

    monkeypatch.setattr(recovery.batch, "ProcessPoolExecutor", Recorded)
    plans = tmp_path / "plans.csv"
    plans.write_text("surgery-date\n" + "\n".join(f"2027-01-{day:02d}" for day in range(1, 29)) + "\n")
    result = run("batch", str(plans), "--out-dir", str(tmp_path / "out"), "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    assert made == [2]
    assert len(list((tmp_path / "out").iterdir())) == 28


def test_many_rows_in_two_processes_write_every_plan_as_json(tmp_path) -> None:
    plans = tmp_path / "plans.csv"
    rows = [
        f"2027-{month:02d}-{day:02d},Europe/Berlin,{'left' if day % 2 else 'right'}"
        for month in (1, 2)
        for day in range(1, 29)
    ]
    plans.write_text("surgery-date,timezone,side\n" + "\n".join(rows) + "\n")
    result = run("batch", str(plans), "--out-dir", str(tmp_path / "out"), "--format", "json", "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    written = sorted((tmp_path / "out").iterdir())
    assert len(written) == len(rows)
    first = json.loads(written[0].read_text())
    assert first["format"] == "recovery-schedule"


def test_written_calendars_are_readable(tmp_path: Path) -> None:
    result = run("batch", str(EXAMPLE), "--out-dir", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    rows = EXAMPLE.read_text().strip().count("\n")
    written = list(tmp_path.iterdir())
    assert len(written) == rows > 0
    for path in written:
        assert icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")


def test_a_batch_file_whose_path_has_a_colon_reports_its_rows_in_order(tmp_path) -> None:
    folder = tmp_path / "odd:dir"
    folder.mkdir()
    plans = folder / "plans.csv"
    plans.write_text("surgery-date,side,alarm-minutes\n2027-03-01,left,\n2027-02-30,both,-5\n2027-03-01,,\nsoon,,\n")
    result = run("batch", str(plans), "--out-dir", str(tmp_path / "out"))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.splitlines() == [
        f'error: {plans}:3: surgery-date: "2027-02-30" is not a day of the calendar (day is out of range for month)',
        f'error: {plans}:3: side: "both" is not "left" or "right"',
        f'error: {plans}:3: alarm-minutes: "-5" is not a number of minutes from 0 to 1440',
        f'error: {plans}:5: surgery-date: "soon" is not a date; write it as YYYY-MM-DD, e.g. 2027-03-01',
    ]
    assert result.stdout.strip().endswith("wrote 2 of 4 plans to " + str(tmp_path / "out") + "; 2 failed")
