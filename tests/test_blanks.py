"""Blanks a clinician fills in for each patient: a parameter without a default, as in the
bundled hamstring-syndrome template, whose seed sheet leaves every dose blank ("Hold for ____
seconds. Repeat ____ times") and whose nerve gliding a clinician must dose. No calendar, agenda,
handout, batch row or server plan is made until each blank is set; set, its value is in the
patient's words."""

from __future__ import annotations

from pathlib import Path

import icalendar
import pytest
from starlette.testclient import TestClient

from recovery import Plan, build, load
from recovery.errors import PlanError
from recovery.schedule.trial import blanks_filled
from recovery.serve.app import create_app

from conftest import EPOCH, run

TEMPLATE = "hamstring-syndrome"
BLANKS = ("stretch_seconds", "stretch_repeats", "glide_repeats")
PLAN = ("--protocol", TEMPLATE, "--start-date", "2027-01-04", "--timezone", "Europe/London")
SET = ("--set", "stretch_seconds=45", "--set", "stretch_repeats=3", "--set", "glide_repeats=10")


def test_the_template_validates_strictly_with_its_blanks_at_both_bounds() -> None:
    result = run("validate", "--strict", TEMPLATE)
    assert result.exit_code == 0, result.output
    assert blanks_filled(load(TEMPLATE)) == {"stretch_seconds": "30", "stretch_repeats": "1", "glide_repeats": "1"}


@pytest.mark.parametrize("command", [("generate",), ("generate", "--format", "json"), ("agenda",), ("handout",)])
def test_nothing_is_made_until_every_blank_is_set(tmp_path: Path, command: tuple[str, ...]) -> None:
    out = tmp_path / "out"
    args = (*command, *PLAN, *(("-o", str(out)) if command != ("agenda",) else ()))
    result = run(*args, "--set", "stretch_seconds=45")
    assert result.exit_code != 0
    assert not out.exists()  # no partial file
    assert "Traceback" not in result.output
    for name in ("stretch_repeats", "glide_repeats"):
        assert f"--set {name}=…: a blank to fill in for each patient" in result.stderr
    assert "stretch_seconds=…" not in result.stderr  # the one that is set is not asked for


def test_a_blank_keeps_its_bounds(tmp_path: Path) -> None:
    result = run("generate", *PLAN, *SET, "--set", "stretch_seconds=20", "-o", str(tmp_path / "x.ics"))
    assert result.exit_code != 0
    assert "stretch_seconds=20: 20 is below the minimum 30" in result.stderr  # the sheet: at least 30 seconds


def test_set_blanks_are_in_the_patients_calendar(tmp_path: Path) -> None:
    out = tmp_path / "plan.ics"
    result = run("generate", *PLAN, *SET, "-o", str(out), env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code == 0, result.output
    events = icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    texts = " ".join(str(e.get("DESCRIPTION", "")).replace("\n", " ") for e in events)
    assert "Hold 45 seconds, then lower slowly. Do it 3 times." in texts
    assert "Do it 10 times, gently: stop before it tingles." in texts
    assert "{" not in texts  # no placeholder left
    check = {str(e["SUMMARY"]): e["DTSTART"].dt.isoformat() for e in events if "not better" in str(e["SUMMARY"])}
    assert check == {
        "See your clinician if the leg is worse, or not better": "2027-01-18",  # the sheet: 2 weeks
        "Book: See your clinician if the leg is worse, or not better": "2027-01-11",
    }
    assert "surgery" not in texts.lower()  # day 0 is the first visit


def test_the_library_says_which_blanks_are_missing() -> None:
    with pytest.raises(PlanError) as raised:
        build(load(TEMPLATE), Plan.from_json({"surgery_date": "2027-01-04"}))
    assert sorted(p.detail for p in raised.value.problems) == sorted(f"{name}=…" for name in BLANKS)


def test_a_blank_needs_its_bounds(tmp_path: Path) -> None:
    text = (Path(load(TEMPLATE).source)).read_text(encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace("min = 1      # CLINIC\nmax = 10     # CLINIC\n", ""), encoding="utf-8")
    result = run("validate", str(broken))
    assert result.exit_code != 0
    assert "parameters.stretch_repeats: has no default, so it is a whole number the clinician sets" in result.stderr


def test_a_clinic_batch_row_without_a_blank_is_refused(tmp_path: Path) -> None:
    sheet = tmp_path / "patients.csv"
    sheet.write_text(
        "start-date,protocol,timezone,set,output\n"
        "2027-01-04,hamstring-syndrome,Europe/London,stretch_seconds=40 stretch_repeats=2 glide_repeats=8,p1.ics\n"
        "2027-01-04,hamstring-syndrome,Europe/London,stretch_seconds=40,p2.ics\n",
        encoding="utf-8",
    )
    result = run("batch", str(sheet), "--out-dir", str(tmp_path / "out"), "--jobs", "1")
    assert result.exit_code != 0
    assert "glide_repeats=…" in result.stderr
    assert "patients.csv:3: set: stretch_repeats=…" in result.stderr  # the row, the column, the blank


def test_the_server_asks_for_each_blank(tmp_path: Path) -> None:
    client = TestClient(
        create_app(f"sqlite:///{tmp_path / 'r.db'}", base_url="http://clinic.test"), base_url="http://clinic.test"
    )
    key = {"Authorization": f"Bearer {client.app.state.store.add_api_key('ehr')}"}  # type: ignore[attr-defined]
    plan = {"protocol": TEMPLATE, "start_date": "2027-01-04", "timezone": "Europe/London", "plan_id": "H-1"}
    refused = client.post("/api/plans", json=plan, headers=key)
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"set"}
    assert len(refused.json()["errors"]) == 3
    made = client.post(
        "/api/plans",
        json={**plan, "set": {"stretch_seconds": "40", "stretch_repeats": "2", "glide_repeats": "8"}},
        headers=key,
    )
    assert made.status_code == 201, made.text
