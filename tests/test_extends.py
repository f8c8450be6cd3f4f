"""A clinic's protocol that extends a bundled one lists only its changes."""

import re
from datetime import date
from pathlib import Path

from recovery import Plan, build, load

from conftest import PROTOCOLS, protocol_file, run


def test_clinic_file_shortens_bracing_adds_a_visit_and_removes_an_exercise() -> None:
    base = build(load("proximal-hamstring-repair"), Plan(date(2027, 3, 1)))
    clinic = build(load(protocol_file("clinic-hamstring")), Plan(date(2027, 3, 1)))
    assert clinic.protocol_title == "Proximal hamstring repair (Example Clinic)"
    assert {m.id: clinic.day_number(m.date) for m in clinic.milestones}["brace-off"] == 28
    protection = next(p for p in clinic.phases if p.id == "protection")
    assert clinic.day_number(protection.end) == 28
    visit = next(a for a in clinic.appointments if a.id == "physio-review")
    assert clinic.day_number(visit.first) == 35
    assert "heel-slides" in {r.id for r in base.routines}
    assert "heel-slides" not in {r.id for r in clinic.routines}
    assert len(clinic.references) == len(base.references) + 1  # inherited sources stay, the clinic's is added


def test_show_reflects_every_change_of_the_clinic_file() -> None:
    result = run("show", protocol_file("clinic-hamstring"), "--surgery-date", "2027-03-01")
    assert result.exit_code == 0, result.stderr
    assert "day 28  Mon 2027-03-29  Brace off, if your surgeon agrees" in result.stdout
    assert "day 35  Mon 2027-04-05  Physiotherapy review at the clinic" in result.stdout
    assert "Heel slides" not in result.stdout
    assert "day 0-27  Mon 2027-03-01 - Sun 2027-03-28  Phase 1 · Protection" in result.stdout


def test_merging_an_item_changes_only_the_keys_given() -> None:
    protocol = load(Path(protocol_file("shorter-ice")))
    ice = next(r for r in protocol.routines if r.id == "ice")
    assert ice.times == ["evening"]
    assert ice.title == "Ice the back of the thigh"


def test_removing_an_item_that_is_not_inherited_suggests_the_nearest() -> None:
    path = protocol_file("invalid/remove-a-misspelt-item")
    result = run("validate", path)
    assert result.exit_code == 1
    assert (
        f'{path}: remove[0]: "heel-slide" is not an item of the protocol this one extends; did you mean "heel-slides"?'
        in result.stderr
    )


def test_removing_an_item_others_refer_to_names_the_dangling_reference() -> None:
    path = protocol_file("invalid/remove-an-item-others-use")
    result = run("validate", path)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f'error: {path}: remove[0]: "brace-off" is still used by ')
    assert "proximal-hamstring-repair.toml: milestones[id=crutches-away].at" in line


def test_extends_by_relative_path_and_clinic_library() -> None:
    library = str(PROTOCOLS / "library")
    assert load(Path(protocol_file("extends-by-relative-path"))).title == "Clinic base"
    listed = run("protocols", env={"RECOVERY_PROTOCOLS": library})
    assert "clinic-base" in listed.stdout
    assert "proximal-hamstring-repair" in listed.stdout
    shown = run("show", "clinic-base", env={"RECOVERY_PROTOCOLS": library})
    assert shown.exit_code == 0
    assert shown.stdout.startswith("Clinic base  (clinic-base, version 3)")


def test_a_derived_protocols_red_flags_add_to_the_inherited_ones() -> None:
    inherited = load("proximal-hamstring-repair").red_flags
    flags = load(Path(protocol_file("clinic-red-flags"))).red_flags
    assert len(flags) == len(inherited) + 1
    assert flags[-1].sign == "Stitches coming loose"
    fever = next(flag for flag in flags if flag.id == "fever")
    assert fever.sign == "Fever of 38 °C or higher"
    assert fever.action == "Call your surgical team today."  # merged key by key
    assert any(flag.emergency for flag in flags)


def test_a_red_flag_is_removed_only_by_name() -> None:
    assert "re-rupture" not in {flag.id for flag in load(Path(protocol_file("remove-a-red-flag"))).red_flags}
    result = run("validate", protocol_file("invalid/remove-the-emergency-red-flag"))
    assert result.exit_code == 1
    assert "no red flag is marked emergency = true" in result.stderr


def test_one_cause_gives_one_message() -> None:
    """A phase that ends before it starts: not also every routine during it, nor once per trial date."""
    path = protocol_file("invalid/walking-ends-before-it-starts")
    result = run("validate", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {path}: phases[id=walking].end: ends on day 35, which is not after its start on day 42 "
        "(for a surgery on 2027-01-31 in America/New_York)"
    ]


def test_a_phase_made_longer_is_reported_where_it_was_changed() -> None:
    path = protocol_file("invalid/brace-made-longer")
    result = run("validate", path)
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {path}: phases[id=brace].end: ends after day 97, but phases[id=walking] starts")


def test_removing_an_item_others_use_is_reported_at_the_removal() -> None:
    path = protocol_file("invalid/remove-protection")
    result = run("validate", path)
    (line,) = result.stderr.splitlines()
    assert re.match(
        rf'error: {re.escape(path)}: remove\[0\]: "protection" is still used by \d+ fields of inherited items: ', line
    )
    assert "phases[id=walking].start" in line
