"""Broken protocol files: each gets a precise message (file, item, field), exit 1, no traceback."""

import pytest

from conftest import protocol_file, run


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
            'overlaps phases[id=protection] (days 0-41 and 35-83); if that is intended, add overlaps = ["protection"]',
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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'id = "x"\ntitle = "x"\nversion = "1"\n[parameters.weeks]\ndefault = 6\nmin = 8\n',
            "parameters.weeks.default: the default: 6 is below the minimum 8",
        ),
        (
            'id = "x"\ntitle = "x"\nversion = "1"\n[parameters.kind]\ndefault = "hip"\nchoices = ["knee"]\n',
            'parameters.kind.default: the default: "hip" is not one of "knee"',
        ),
        (
            'id = "x"\ntitle = "x"\nversion = "1"\n[parameters.w]\ndefault = 1.5\n',
            "parameters.w.default: expected a whole number, a text in quotes, or true/false",
        ),
        (
            'id = "x"\ntitle = "x"\nversion = "1"\n[[milestones]]\nid = "a"\ntitle = "{sid}"\nat = "day 1"\n',
            'milestones[id=a].title: "{sid}" is neither a parameter nor {side}; did you mean "side"?',
        ),
        (
            'id = "x"\ntitle = "x"\nversion = "1"\n[[milestones]]\nid = "a"\ntitle = "A"\nat = "{weeks} weeks"\n',
            'milestones[id=a].at: "{weeks} weeks" uses the parameter {weeks}, which is not defined',
        ),
        (
            'id = "x"\ntitle = "x"\nversion = "1"\n[[milestones]]\nid = "a"\ntitle = "A"\nat = "day 1"\n[[milestones]]\nid = "a"\ntitle = "B"\nat = "day 2"\n',
            'milestones[id=a].id: the id "a" is used twice',
        ),
        (
            'id = "x"\ntitle = "x"\nversion = "1"\n[[routines]]\nid = "r"\ntitle = "R"\ntimes = ["morning"]\n',
            'routines[id=r]: needs "during" = a phase id, or both "start" and "end"',
        ),
        (
            'id = "x"\ntitle = "x"\nversion = "1"\n[[routines]]\nid = "r"\ntitle = "R"\nstart = "day 1"\nend = "day 3"\ntimes = ["morning"]\nweekdays = ["sun"]\n',
            "routines[id=r].start: has no occurrence between day 1 and day 3",
        ),
        (
            'id = "x"\ntitle = "x"\nversion = "1"\n[[routines]]\nid = "r"\ntitle = "R"\nduring = "rehab"\ntimes = ["morning"]\n[[phases]]\nid = "rehab-1"\ntitle = "P"\nstart = "day 0"\nend = "day 9"\n',
            'routines[id=r].during: during names "rehab", which is not a phase; did you mean "rehab-1"?',
        ),
        (
            'id = "x"\ntitle = "x"\nversion = "1"\n[[appointments]]\nid = "v"\ntitle = "V"\nwindow = ["day 9", "day 3"]\n',
            "appointments[id=v].window: the window's last day (day 3) is before its first (day 9)",
        ),
        (
            'id = "x"\ntitle = "x"\nversion = "1"\n[[appointments]]\nid = "v"\ntitle = "V"\n',
            'appointments[id=v]: needs either "at" or "window", not both',
        ),
        (
            'id = "X Y"\ntitle = "x"\nversion = "1"\n',
            'id: "X Y" is not a valid id; use lower-case letters, digits and hyphens',
        ),
        ('title = "x"\nversion = "1"\n', 'id: missing the required key "id"'),
    ],
)
def test_field_and_cross_item_problems(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text(text)
    result = run("validate", str(path))
    assert result.exit_code == 1, result.output
    assert f"error: {path}: {message}" in result.stderr
    assert "Traceback" not in result.output


def test_field_and_cross_item_problems_come_in_the_same_run() -> None:
    result = run("validate", protocol_file("problems-of-every-kind"))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3, result.stderr
    assert 'phases[id=protection].titel: unknown key "titel"; did you mean "title"?' in lines[0]
    assert 'milestones[id=brace-off].title: "{sid}" is neither a parameter nor {side}' in lines[1]
    assert 'appointments[id=review].at: "brace-of + 1 week": refers to "brace-of"' in lines[2]


def test_a_reference_to_a_broken_item_is_not_reported_twice(tmp_path) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text(
        'id = "x"\ntitle = "x"\nversion = "1"\n'
        '[[phases]]\nid = "protection"\ntitle = "P"\nstart = "day 0"\nend = "6 wekes"\n'
        '[[milestones]]\nid = "m"\ntitle = "M"\nat = "end of protection"\n'
    )
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f'error: {path}: phases[id=protection].end: "6 wekes": unknown unit "wekes"; expected days, weeks or months; did you mean "weeks"?'
    ]


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
