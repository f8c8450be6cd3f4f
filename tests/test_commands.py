"""The command line as users meet it: help with examples, listings, timelines, the schema."""

import json

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


def test_protocols_lists_both_bundled_protocols() -> None:
    result = run("protocols")
    assert result.exit_code == 0
    assert "proximal-hamstring-repair  Proximal hamstring repair (version 2026.1)" in result.stdout
    assert "achilles-tendon-repair" in result.stdout


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
