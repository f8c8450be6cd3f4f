"""The docs tell the truth: the guide's complete examples validate, the command-line reference is current."""

import re

import pytest

from conftest import HERE, run

GUIDE = HERE.parent / "docs" / "protocol-format.md"
BLOCKS = [
    b for b in re.findall(r"```toml\n(.*?)```", GUIDE.read_text(), re.S) if re.search(r"^(version|extends) = ", b, re.M)
]


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: re.search(r'^id = "(.*)"', b, re.M).group(1))
def test_complete_example_in_the_guide_validates(tmp_path, block: str) -> None:
    path = tmp_path / "example.toml"
    path.write_text(block)
    result = run("validate", str(path))
    assert result.exit_code == 0, result.stderr


def test_the_guide_has_both_complete_examples() -> None:
    assert len(BLOCKS) >= 2


def test_the_command_line_reference_is_what_the_commands_print() -> None:
    from cogapp import Cog

    status = Cog().main(["cog", "--check", str(HERE.parent / "docs" / "cli.md")])
    assert status == 0, "docs/cli.md is out of date: run `cog -r docs/cli.md`"


def test_every_command_is_in_the_command_line_reference() -> None:
    from recovery.cli import main

    reference = (HERE.parent / "docs" / "cli.md").read_text()
    assert all(f"## recovery {name}\n" in reference for name in main.commands)


def test_the_library_guide_runs() -> None:
    import doctest

    result = doctest.testfile(
        str(HERE.parent / "docs" / "library.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert result.failed == 0
    assert result.attempted >= 10
