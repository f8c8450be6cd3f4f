"""`generate --format json`: stable data for clinic software, pinned like porcelain output."""

import json
from datetime import date, timedelta

from conftest import HERE, run


def schedule_json(*args: str) -> dict:
    result = run("generate", "--format", "json", "-o", "-", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_json_of_the_bundled_protocol_is_pinned(golden) -> None:
    # If keys change, also raise FORMAT_VERSION and update docs/schedule-json.md.
    result = run(
        "generate", "--surgery-date", "2027-03-01", "--timezone", "America/New_York", "--side", "left",
        "--format", "json", "-o", "-",
    )  # fmt: skip
    golden.check("proximal-hamstring-repair-2027-03-01-new-york.json", result.stdout_bytes)


def test_json_keys_are_the_documented_ones() -> None:
    data = schedule_json("--surgery-date", "2027-03-01", "--timezone", "UTC")
    top = ["format", "format_version", "notice", "protocol", "plan", "first_day", "last_day"]
    top += ["phases", "milestones", "appointments", "routines", "red_flags", "normal", "contact", "words"]
    assert list(data) == top
    assert (data["format"], data["format_version"]) == ("recovery-schedule", 2)
    documented = (HERE.parent / "docs" / "schedule-json.md").read_text()
    keys = set(top) | set(data["plan"]) | set(data["protocol"])
    for section in ("phases", "milestones", "appointments", "routines"):
        keys |= set(data[section][0])
    assert not [key for key in keys if f"`{key}`" not in documented]


def test_json_agrees_with_the_calendar_course() -> None:
    data = schedule_json(
        "--surgery-date", "2027-03-01", "--timezone", "America/New_York", "--actual", "brace-off=2027-04-20"
    )
    protection = next(p for p in data["phases"] if p["id"] == "protection")
    assert (protection["start"], protection["end"], protection["last_day"]) == (
        "2027-03-01",
        "2027-04-20",
        "2027-04-19",
    )
    brace_off = next(m for m in data["milestones"] if m["id"] == "brace-off")
    assert (brace_off["date"], brace_off["day"], brace_off["actual"]) == ("2027-04-20", 50, True)
    assert data["plan"]["actual"] == {"brace-off": "2027-04-20"}
    pumps = [r for r in data["routines"] if r["id"] == "early-exercises"]
    assert [(r["slot"], r["time"]) for r in pumps] == [("morning", "08:00"), ("midday", "13:00"), ("evening", "19:00")]
    first, last = date.fromisoformat(pumps[0]["first_day"]), date.fromisoformat(pumps[0]["last_day"])
    assert pumps[0]["count"] == (last - first).days + 1
    assert last == date(2027, 4, 20) - timedelta(1)
    weekly = next(r for r in data["routines"] if r["id"] == "strength-training")
    assert weekly["weekdays"] == ["mon", "wed", "fri"]
    assert data["red_flags"][0] == {
        "sign": "Chest pain, or sudden shortness of breath or trouble breathing",
        "action": "Call your local emergency number now. This can be a blood clot in the lung.",
    }


def test_json_default_file_name(tmp_path) -> None:
    result = run("generate", "--surgery-date", "2027-03-01", "--timezone", "UTC", "--format", "json", cwd=tmp_path)
    assert result.stdout.strip() == "proximal-hamstring-repair-2027-03-01.json"
    assert json.loads((tmp_path / "proximal-hamstring-repair-2027-03-01.json").read_text())["format_version"] == 2
