"""The command line as users meet it: help with examples, listings, timelines, the schema."""

import json
import re

import pytest

from recovery.cli import main
from recovery.protocol.validation import json_schema

from conftest import run

COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    for flag in ("--help", "-h"):
        result = run(command, flag)
        assert result.exit_code == 0
        assert "Example" in result.stdout


def test_protocols_lists_the_bundled_protocols() -> None:
    result = run("protocols")
    assert result.exit_code == 0
    assert re.search(r"proximal-hamstring-repair +Proximal hamstring repair \(version 2026.2\)", result.stdout)
    assert "achilles-tendon-repair" in result.stdout
    assert "proximal-hamstring-tendinopathy" in result.stdout


def test_show_without_a_date_counts_days_from_surgery() -> None:
    result = run("show", "proximal-hamstring-repair")
    assert result.exit_code == 0
    assert "day 0-41  Phase 1 · Protection" in result.stdout
    assert "day 42  Brace off, if your surgeon agrees" in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_show_with_a_variant_and_a_parameter() -> None:
    result = run("show", "proximal-hamstring-repair", "--variant", "accelerated", "--set", "return_months=9")
    assert result.exit_code == 0
    assert "Brace on" not in result.stdout
    assert "Variant: accelerated" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["show", "proximal-hamstring-repar"],
            1,
            'unknown protocol "proximal-hamstring-repar"; did you mean "proximal-hamstring-repair"?',
        ),
        (
            ["show", "proximal-hamstring-repair", "--variant", "acelerated"],
            1,
            'unknown variant "acelerated"; did you mean "accelerated"?',
        ),
        (
            ["show", "proximal-hamstring-repair", "--set", "protection_weeks=20"],
            1,
            "--set protection_weeks=20: 20 is above the maximum 10",
        ),
        (
            ["show", "proximal-hamstring-repair", "--set", "protection_week=2"],
            1,
            'unknown parameter; did you mean "protection_weeks"?',
        ),
        (
            ["show", "proximal-hamstring-repair", "--set", "protection_weeks"],
            2,
            '"protection_weeks" should be NAME=VALUE',
        ),
        (
            ["show", "proximal-hamstring-repair", "--surgery-date", "2027-02-30"],
            2,
            '"2027-02-30" is not a day of the calendar',
        ),
        (["show", "proximal-hamstring-repair", "--surgery-date", "1/3/2027"], 2, "write it as YYYY-MM-DD"),
    ],
)
def test_bad_options_get_one_clear_line(args: list[str], code: int, message: str) -> None:
    result = run(*args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_schema_command_prints_the_shipped_schema(tmp_path) -> None:
    from conftest import HERE

    result = run("schema")
    printed = json.loads(result.stdout)
    shipped = json.loads((HERE.parent / "protocols" / "protocol.schema.json").read_text())
    assert printed == shipped == json_schema(), "regenerate with: recovery schema -o protocols/protocol.schema.json"
    assert printed["additionalProperties"] is False
    assert printed["$defs"]["Phase"]["additionalProperties"] is False


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command: str) -> None:
    from conftest import HERE

    assert f"`recovery {command}" in (HERE.parent / "README.md").read_text()


def test_schema_can_be_written_where_an_editor_finds_it(tmp_path) -> None:
    target = tmp_path / "protocol.schema.json"
    result = run("schema", "-o", str(target))
    assert result.exit_code == 0
    assert json.loads(target.read_text()) == json_schema()


@pytest.mark.parametrize("command", [["schema"], ["generate", "--surgery-date", "2027-03-01"]])
def test_an_output_that_is_a_folder_is_one_line_and_exit_1(tmp_path, command: list[str]) -> None:
    result = run(*command, "-o", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot write {tmp_path}: it is a folder\n"


def test_an_output_that_is_a_symbolic_link_is_refused_and_left_alone(tmp_path) -> None:
    target = tmp_path / "real.ics"
    target.write_text("keep me")
    link = tmp_path / "plan.ics"
    link.symlink_to(target)
    result = run("generate", "--surgery-date", "2027-03-01", "-o", str(link))
    assert result.exit_code == 1
    assert f"it is a symbolic link to {target}" in result.stderr
    assert target.read_text() == "keep me"
    assert link.is_symlink()


@pytest.mark.parametrize("command", ["generate", "handout"])
def test_an_empty_output_name_is_a_usage_error(tmp_path, command: str) -> None:
    result = run(command, "--surgery-date", "2027-03-01", "-o", "", cwd=tmp_path)
    assert result.exit_code == 2
    assert "is empty; give a file name, or - for standard output" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timezone", "Europe/Berln"], 'unknown time zone "Europe/Berln"; did you mean'),
        (["--time", "lunch=12:00"], '"lunch" is not a time of day; use "evening", "midday" or "morning"'),
        (["--time", "morning=7.30"], '"7.30" is not a clock time; write HH:MM on the 24-hour clock'),
        (["--actual", "brace-off"], '"brace-off" should be MILESTONE=DATE'),
        (["--set", "=4"], '"=4" should be NAME=VALUE'),
    ],
)
def test_a_malformed_plan_option_is_a_usage_error_in_clicks_words(args: list[str], message: str) -> None:
    result = run("agenda", "--surgery-date", "2027-03-01", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Usage: " in result.stderr


def test_validate_accepts_a_protocol_name_as_show_does() -> None:
    result = run("validate", "proximal-hamstring-repair")
    assert result.exit_code == 0
    assert result.stdout == "ok: proximal-hamstring-repair\n"


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        ("recovery generate --protocol achilles-tendon-repair --variant ", ["longer-boot"]),
        ("recovery generate --actual brace", ["brace-off="]),
        ("recovery generate --set protection_w", ["protection_weeks="]),
        ("recovery agenda --time mor", ["morning="]),
        (
            "recovery show proximal",
            [
                "proximal-hamstring-avulsion-nonoperative",
                "proximal-hamstring-repair",
                "proximal-hamstring-tendinopathy",
            ],
        ),
        ("recovery generate --timezone Europe/Berl", ["Europe/Berlin"]),
    ],
)
def test_the_shell_completes_what_a_plan_can_choose(words: str, offered: list[str]) -> None:
    import os
    import subprocess
    import sys

    from conftest import HERE

    env = {
        **os.environ,
        "_RECOVERY_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
    }
    done = subprocess.run(
        [sys.executable, str(HERE.parent / "cli.py")], env=env, capture_output=True, text=True, timeout=60
    )
    assert [line.split(",", 1)[1] for line in done.stdout.splitlines() if line.startswith("plain,")] == offered


def test_show_names_every_item_by_its_id() -> None:
    result = run("show", "proximal-hamstring-repair", "--surgery-date", "2027-03-01")
    for item_id in ("[protection]", "[brace-off]", "[protection-visit]", "[early-exercises]"):
        assert item_id in result.stdout
