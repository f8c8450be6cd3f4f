"""The guide's complete examples are real protocol files that validate."""

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
