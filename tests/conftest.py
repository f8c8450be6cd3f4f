"""Helpers that let tests read like the behaviour they check: real files, the real command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from recovery.cli import main

HERE = Path(__file__).parent
PROTOCOLS = HERE / "protocols"
BUNDLED = HERE.parent / "protocols"


def protocol_file(name: str) -> str:
    """The path of a test protocol under tests/protocols/."""
    path = PROTOCOLS / f"{name}.toml"
    assert path.is_file(), path
    return str(path)


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run the command line as a user would, keeping stdout and stderr apart."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture(autouse=True)
def _no_clinic_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own $RECOVERY_PROTOCOLS must not change what the tests see."""
    monkeypatch.delenv("RECOVERY_PROTOCOLS", raising=False)
