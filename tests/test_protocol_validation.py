"""Broken protocol files: each gets a precise message (file, item, field), exit 1, no traceback."""

from pathlib import Path

import pytest

from conftest import BUNDLED, PROTOCOLS, protocol_file, run


@pytest.mark.parametrize(
    ("name", "where", "message"),
    [
        ("typo-in-key", "phases[id=rest].titel", 'unknown key "titel"; did you mean "title"?'),
        (
            "dangling-reference",
            "phases[id=protection].end",
            'refers to "brace-of", which is not an item in this protocol; did you mean "brace-off"?',
        ),
        (
            "reference-cycle",
            "phases[id=protection].end",
            "form a cycle, so no date can be given: phases[id=protection].end → milestones[id=brace-off].at → phases[id=protection].end",
        ),
        ("end-before-start", "phases[id=strengthening].end", "ends on day 56, which is not after its start on day 84"),
        ("before-surgery", "milestones[id=pre-op].at", "falls on day -8, before the surgery (day 0)"),
        ("parameter-out-of-bounds", "variants.long.set.brace_weeks", "20 is above the maximum 12"),
        ("unknown-unit", "phases[id=protection].end", 'unknown unit "fortnights"; expected days, weeks or months'),
        (
            "overlapping-phases",
            "phases[id=walking]",
            "overlaps phases[id=protection] (days 0-41 and 35-83); make one end before the other starts, "
            'or add overlaps = ["protection"] if both are meant to run at once',
        ),
        ("toml-syntax-error", "line 6, column 17", "not valid TOML"),
    ],
)
def test_broken_file_is_reported_precisely(name: str, where: str, message: str) -> None:
    path = protocol_file(name)
    result = run("validate", path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"error: {path}: {where}: " in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_every_problem_in_a_file_is_reported_in_one_run() -> None:
    result = run("validate", protocol_file("several-problems"))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3, result.stderr
    assert 'phases[id=protection].end: "6 fortnights": unknown unit' in lines[0]
    assert 'routines[id=ice].times[1]: "noon" is not a time of day' in lines[1]
    assert 'routines[id=ice].minuts: unknown key "minuts"; did you mean "minutes"?' in lines[2]


def test_valid_and_broken_files_together_report_each() -> None:
    result = run("validate", protocol_file("minimal"), protocol_file("unknown-unit"))
    assert result.exit_code == 1
    assert f"ok: {protocol_file('minimal')}" in result.stdout
    assert "unknown-unit.toml" in result.stderr


def test_extends_cycle_names_the_files() -> None:
    result = run("validate", protocol_file("extends-cycle-a"))
    assert result.exit_code == 1
    assert "extends: extends forms a cycle" in result.stderr
    assert "extends-cycle-b.toml" in result.stderr


def test_missing_file_is_one_clear_line() -> None:
    result = run("validate", "no/such/file.toml")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no/such/file.toml: no such protocol file"


INVALID = sorted((PROTOCOLS / "invalid").glob("*.toml"))
#: Every kept file that states what validate says of it: `# expect: valid`, or one `# expect:`
#: line per error, in order ("{bundled}" stands for the bundled protocols' folder).
STATING = sorted(path for path in PROTOCOLS.rglob("*.toml") if "\n# expect: " in "\n" + path.read_text())


def expected_of(path: Path) -> list[str]:
    return [line.removeprefix("# expect: ") for line in path.read_text().splitlines() if line.startswith("# expect: ")]


def test_every_invalid_file_states_what_validate_must_report() -> None:
    assert INVALID
    assert set(INVALID) <= set(STATING)
    assert not any(expected_of(path) == ["valid"] for path in INVALID)


@pytest.mark.parametrize("path", STATING, ids=lambda p: str(p.relative_to(PROTOCOLS).with_suffix("")))
def test_a_kept_file_gets_exactly_the_answer_it_states(path) -> None:
    """Each file under tests/protocols/ that has `# expect:` lines gets just that answer from validate."""
    expected = [line.replace("{bundled}", str(BUNDLED)) for line in expected_of(path)]
    result = run("validate", str(path))
    assert "Traceback" not in result.output
    if expected == ["valid"]:
        assert result.exit_code == 0, result.output
        assert "error:" not in result.stderr
    else:
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines() == [f"error: {path}: {message}" for message in expected]


def test_field_and_cross_item_problems_come_in_the_same_run() -> None:
    result = run("validate", protocol_file("problems-of-every-kind"))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3, result.stderr
    assert 'phases[id=protection].titel: unknown key "titel"; did you mean "title"?' in lines[0]
    assert 'milestones[id=brace-off].title: "{sid}" is neither a parameter nor {side}' in lines[1]
    assert 'appointments[id=review].at: "brace-of + 1 week": refers to "brace-of"' in lines[2]


def test_an_internal_error_is_one_line_not_a_traceback(monkeypatch) -> None:
    from recovery.protocol import loader

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(loader, "load", broken)
    monkeypatch.delenv("RECOVERY_DEBUG", raising=False)
    result = run("show", "proximal-hamstring-repair")
    assert result.exit_code == 70
    assert "error: internal error (RuntimeError: boom); please report it" in result.stderr
    assert "Traceback" not in result.output
