"""The bundled protocols: valid, true to the clinical reference, and every source tag listed."""

import re
from datetime import date, timedelta

import pytest

from recovery import Plan, build, load

from conftest import BUNDLED, run

SURGERY = date(2027, 3, 1)


def day(n: int) -> date:
    return SURGERY + timedelta(days=n)


@pytest.mark.parametrize("path", sorted(BUNDLED.glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_protocol_validates_with_every_variant(path) -> None:
    result = run("validate", str(path))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("path", sorted(BUNDLED.glob("*.toml")), ids=lambda p: p.stem)
def test_the_schema_line_of_a_bundled_file_finds_the_shipped_schema(path) -> None:
    # "./protocol.schema.json" resolves beside the file both in a checkout and where it is installed
    first = path.read_text().splitlines()[0]
    assert first == "#:schema ./protocol.schema.json"
    assert (path.parent / "protocol.schema.json").is_file()


@pytest.mark.parametrize("path", sorted(BUNDLED.glob("*.toml")), ids=lambda p: p.stem)
def test_every_source_tag_in_a_bundled_file_is_in_its_references(path) -> None:
    protocol = load(path)
    listed = {ref.split(":", 1)[0] for ref in protocol.references}
    cited = set(re.findall(r"(?<![\w./-])([HLAGKR]\d{1,2})\b", path.read_text()))
    assert cited, "a bundled protocol cites its sources"
    assert cited <= listed, f"cited but not in references: {sorted(cited - listed)}"


@pytest.mark.parametrize("path", sorted(BUNDLED.glob("*.toml")), ids=lambda p: p.stem)
def test_bundled_protocol_sets_no_medication(path) -> None:
    protocol = load(path)
    assert protocol.parameters["clot_prevention"].default == ""
    schedule = build(protocol, Plan(SURGERY))
    assert "clot-prevention" not in {r.id for r in schedule.routines}


def test_hamstring_standard_course_matches_the_clinical_reference() -> None:
    schedule = build(load("proximal-hamstring-repair"), Plan(SURGERY, side="left"))
    phases = {p.id: p for p in schedule.phases}
    assert (phases["protection"].start, phases["protection"].end) == (day(0), day(42))
    assert (phases["brace"].start, phases["brace"].end) == (day(0), day(42))
    assert "Toe-touch" in phases["protection"].weight_bearing
    precautions = " ".join(phases["protection"].precautions)
    for words in ("hip with the left knee straight", "No active hamstring", "sitting"):
        assert words in precautions
    # Driving is a gate: the restriction lasts until the day the patient is cleared is recorded.
    assert (phases["no-driving"].start, phases["no-driving"].end) == (day(0), date(2027, 9, 2))
    assert "opioid" in phases["no-driving"].precautions[0]
    milestones = {m.id: m.date for m in schedule.milestones}
    assert milestones["brace-off"] == day(42)
    assert [milestones[k] for k in ("wb-25", "wb-50", "wb-75", "full-weight-bearing")] == [
        day(42),
        day(46),
        day(50),
        day(54),
    ]
    assert milestones["walk-jog"] == day(16 * 7)  # the earliest day to ask about running: about 4 months
    assert milestones["return-to-sport"] == date(2027, 9, 1)  # 6 calendar months
    assert milestones["cleared-to-drive"] == day(42)
    assert "running" not in phases  # not before the patient is cleared
    visits = {a.id: (a.first, a.last) for a in schedule.appointments}
    assert visits["wound-check"] == (day(10), day(14))
    assert visits["follow-up-6-weeks"] == (day(42), day(42))
    assert visits["follow-up-3-months"][0] == date(2027, 6, 1)
    assert visits["follow-up-6-months"][0] == date(2027, 9, 1)
    ice = [r for r in schedule.routines if r.id == "ice"]
    assert {r.slot for r in ice} == {"morning", "midday", "evening"}
    assert all(r.first == day(1) and r.last == day(41) for r in ice)
    flags = " ".join(sign for sign, _ in schedule.red_flags)
    for sign in ("Chest pain", "calf", "38.3 °C", "Wound", "numbness", "Pain that keeps rising"):
        assert sign in flags


def test_hamstring_accelerated_variant_has_no_brace_and_no_graded_steps() -> None:
    schedule = build(load("proximal-hamstring-repair"), Plan(SURGERY, variant="accelerated"))
    assert "brace" not in {p.id for p in schedule.phases}
    assert not {"brace-off", "wb-25", "wb-50", "wb-75"} & {m.id for m in schedule.milestones}
    protection = next(p for p in schedule.phases if p.id == "protection")
    assert protection.weight_bearing.startswith("As tolerated")
    walking = next(p for p in schedule.phases if p.id == "walking")
    assert "wean off the crutches" not in walking.weight_bearing  # crutches stopped at about 2 weeks


def test_achilles_course_matches_the_clinical_reference() -> None:
    schedule = build(load("achilles-tendon-repair"), Plan(SURGERY, actuals={"jogging": day(84)}))
    phases = {p.id: (schedule.day_number(p.start), schedule.day_number(p.end)) for p in schedule.phases}
    assert phases == {"splint": (0, 14), "boot": (14, 42), "shoe": (42, 84), "return": (84, 184)}
    not_cleared = build(load("achilles-tendon-repair"), Plan(SURGERY))
    assert "return" not in {p.id for p in not_cleared.phases}  # jogging waits for the clearance
    milestones = {m.id: schedule.day_number(m.date) for m in schedule.milestones}
    assert milestones["first-wedge-out"] == 28
    assert milestones["boot-off"] == 42
    assert milestones["dorsiflexion-10"] == 56
    assert milestones["dorsiflexion-20"] == 70
    strength = next(r for r in schedule.routines if r.id == "calf-strength")
    assert strength.weekdays == ("mon", "wed", "fri")
