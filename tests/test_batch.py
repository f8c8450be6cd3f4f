"""`recovery batch`: a clinic's CSV of plans, each row as `generate` would write it."""

from __future__ import annotations

import json
from pathlib import Path

import icalendar
import pytest

from conftest import EPOCH, HERE, run

EXAMPLE = HERE.parent / "examples" / "plans.csv"


def plans_in(folder: Path) -> list[Path]:
    """The plans a batch wrote into a folder (its manifest.csv aside)."""
    return [path for path in folder.iterdir() if path.name != "manifest.csv"]


def test_the_example_file_writes_every_plan(tmp_path) -> None:
    result = run("batch", str(EXAMPLE), "--out-dir", str(tmp_path / "out"), env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out"
    assert result.stdout == f"wrote 4 of 4 plans to {out} (see {out / 'manifest.csv'})\n"
    names = sorted(p.name for p in plans_in(out))
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
    out = tmp_path / "out"
    assert result.stdout == f"wrote 1 of 7 plans to {out}; 6 failed (see {out / 'manifest.csv'})\n"
    assert [p.name for p in plans_in(out)] == ["good.ics"]


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
        def __init__(self, max_workers: int, **more: object) -> None:
            made.append(max_workers)
            super().__init__(max_workers=max_workers, **more)  # type: ignore[arg-type]

    monkeypatch.setattr(recovery.batch, "ProcessPoolExecutor", Recorded)
    plans = tmp_path / "plans.csv"
    plans.write_text("surgery-date\n" + "\n".join(f"2027-01-{day:02d}" for day in range(1, 29)) + "\n")
    result = run("batch", str(plans), "--out-dir", str(tmp_path / "out"), "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    assert made == [2]
    assert len(plans_in(tmp_path / "out")) == 28


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
    written = sorted(plans_in(tmp_path / "out"))
    assert len(written) == len(rows)
    first = json.loads(written[0].read_text())
    assert first["format"] == "recovery-schedule"


def test_written_calendars_are_readable(tmp_path: Path) -> None:
    result = run("batch", str(EXAMPLE), "--out-dir", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    rows = EXAMPLE.read_text().strip().count("\n")
    written = plans_in(tmp_path)
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
    out = tmp_path / "out"
    assert result.stdout == f"wrote 2 of 4 plans to {out}; 2 failed (see {out / 'manifest.csv'})\n"


def test_a_spreadsheets_exports_are_read(tmp_path) -> None:
    """UTF-16 ("Unicode text"), semicolons (a European export), side in any case, protocol paths
    relative to the batch file's own folder."""
    folder = tmp_path / "clinic"
    folder.mkdir()
    (folder / "mine.toml").write_text((HERE.parent / "protocols" / "proximal-hamstring-repair.toml").read_text())
    rows = "surgery-date;side;protocol;output\n2027-03-01;Left;mine.toml;a.ics\n2027-03-02;RIGHT;;b.ics\n"
    (folder / "plans.csv").write_bytes(rows.encode("utf-16"))
    result = run("batch", str(folder / "plans.csv"), "--out-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in plans_in(tmp_path / "out")) == ["a.ics", "b.ics"]


def test_a_file_that_is_not_text_is_refused_in_one_line(tmp_path) -> None:
    (tmp_path / "plans.csv").write_bytes(b"surgery-date\n\xff\xfe\xfa2027\n")
    result = run("batch", str(tmp_path / "plans.csv"), "--out-dir", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert 'not UTF-8 or UTF-16 text (byte 14); save it as "CSV UTF-8"' in result.stderr


def test_outputs_that_would_overwrite_another_row_are_refused(tmp_path) -> None:
    plans = tmp_path / "plans.csv"
    plans.write_text(
        "surgery-date,output\n2027-03-01,\n2027-03-01,proximal-hamstring-repair-2027-03-01-line2.ics\n"
        '2027-03-01,bad\x00name.ics\n2027-03-01,"two\nlines.ics"\n'
    )
    result = run("batch", str(plans), "--out-dir", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "names ending in -line<N>.ics are kept for the rows without an output" in result.stderr
    assert "output: a control character (U+0000) at character 4" in result.stderr
    assert sorted(p.name for p in plans_in(tmp_path / "out")) == ["proximal-hamstring-repair-2027-03-01-line2.ics"]


def test_an_unknown_protocol_names_its_column(tmp_path) -> None:
    plans = tmp_path / "plans.csv"
    plans.write_text("surgery-date,protocol\n2027-03-01,hamstrung\n")
    result = run("batch", str(plans), "--out-dir", str(tmp_path / "out"))
    assert result.stderr.startswith(f'error: {plans}:2: protocol: unknown protocol "hamstrung"')


def test_the_manifest_says_what_became_of_each_row(tmp_path) -> None:
    import csv

    plans = tmp_path / "plans.csv"
    plans.write_text("surgery-date,plan-id,output\n2027-03-01,A1,a.ics\n2027-02-30,B2,b.ics\n")
    run("batch", str(plans), "--out-dir", str(tmp_path / "out"))
    with (tmp_path / "out" / "manifest.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["plan-id"], r["output"], r["status"]) for r in rows] == [
        ("2", "A1", "a.ics", "written"),
        ("3", "B2", "", "failed"),
    ]
    assert rows[1]["message"].startswith('surgery-date: "2027-02-30" is not a day of the calendar')


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_a_stopped_batch_ends_its_workers_and_leaves_no_temporary_file(tmp_path, signal_name: str) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    plans = tmp_path / "plans.csv"
    plans.write_text("surgery-date\n" + "".join("2027-03-01\n" for _ in range(3_000)))
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, str(HERE.parent / "cli.py"), "batch", str(plans), "--out-dir", str(out), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "RECOVERY_CACHE_DIR": ""},
        start_new_session=True,
    )
    while not out.exists() or len(list(out.iterdir())) < 20:
        time.sleep(0.05)
        assert process.poll() is None, process.communicate()
    if signal_name == "SIGINT":
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole group, workers too
    else:
        os.kill(process.pid, signal.SIGTERM)  # a service manager stops the main process
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == (130 if signal_name == "SIGINT" else 143)
    assert "were started" in stdout
    assert not list(out.glob(".*.tmp"))
    written = len(plans_in(out))
    assert 0 < written < 3_000
    manifest_rows = (out / "manifest.csv").read_text().strip().count("\n")
    assert manifest_rows == written
    deadline = time.monotonic() + 30  # the workers end after the main process: wait until they have
    while processes_in_group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_in_group(process.pid) == []


def test_a_stop_between_two_rows_of_a_chunk_leaves_no_plan_out_of_the_manifest(tmp_path) -> None:
    """The race behind a test that failed once: Ctrl-C landing while a chunk's outcomes were being
    taken lost the rest of that chunk from the manifest, though its workers had written their
    files. Here the signal comes from the progress callback, in the middle of a chunk, every time."""
    import os
    import signal

    from recovery.batch import write_batch

    plans = tmp_path / "plans.csv"
    plans.write_text("surgery-date\n" + "".join("2027-03-01\n" for _ in range(400)))
    out = tmp_path / "out"
    taken = 0

    def done(_: object) -> None:
        nonlocal taken
        taken += 1
        if taken == 7:  # chunks hold 50 rows at 2 jobs here: this is inside the first one
            os.kill(os.getpid(), signal.SIGINT)

    report = write_batch(plans, out, jobs=2, done=done)
    assert report.stopped == "interrupted"
    written = len(plans_in(out))
    assert written >= 50  # the whole first chunk, and what the workers finished besides
    assert (out / "manifest.csv").read_text().strip().count("\n") == written == report.written
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def processes_in_group(group: int) -> list[int]:
    """The live processes of a process group, read from /proc."""
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(stat_file.parent.name))
    return found


def test_blank_rows_of_a_spreadsheet_are_skipped_and_said_once(tmp_path) -> None:
    """A spreadsheet saves the empty rows below a table as separators only: they are no plans,
    neither written nor failed (nor are empty cells past the header's columns values), and the
    manifest keeps the file's own separator."""
    rows = "surgery-date;side;output\n2027-03-01;left;a.ics\n;;\n2027-03-02;right;b.ics;\n;;;\n;;\n"
    (tmp_path / "plans.csv").write_text(rows, encoding="utf-8")
    result = run("batch", str(tmp_path / "plans.csv"), "--out-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "wrote 2 of 2 plans" in result.stdout
    assert "failed" not in result.stdout
    assert result.stderr.count("skipped 3 blank rows") == 1
    assert "line 3, 5, 6" in result.stderr
    manifest = (tmp_path / "out" / "manifest.csv").read_text().splitlines()
    assert manifest[0] == "line;plan-id;output;status;message"
    assert manifest[1:] == ["2;;a.ics;written;", "4;;b.ics;written;"]


def test_the_batch_is_one_library_function_the_command_calls(tmp_path) -> None:
    from recovery.batch import write_batch

    rows = "surgery-date,side,output\n2027-03-01,left,a.ics\n2027-02-30,right,b.ics\n,,\n"
    (tmp_path / "plans.csv").write_text(rows, encoding="utf-8")
    counted, seen = [], []
    report = write_batch(tmp_path / "plans.csv", tmp_path / "out", started=counted.append, done=seen.append)
    assert (counted, len(seen)) == ([2], 2)
    assert (report.rows, report.written, report.blank_lines, report.stopped) == (2, 1, (4,), "")
    (problem,) = report.problems
    assert (problem.line, problem.field) == (3, "surgery_date")
    assert (tmp_path / "out" / "a.ics").is_file()
    assert (tmp_path / "out" / "manifest.csv").read_text().splitlines()[2].startswith("3,,,failed,")
