"""Helpers that let tests read like the behaviour they check: real files, the real command line."""

from __future__ import annotations

from datetime import UTC, date, datetime
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


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
    """Run the command line as a user would (optionally in folder `cwd`), keeping stdout and stderr apart."""
    import os

    if cwd is None:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    before = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(before)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A developer's own $RECOVERY_PROTOCOLS and cache must not change what the tests see."""
    monkeypatch.delenv("RECOVERY_PROTOCOLS", raising=False)
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


EPOCH = "1795000000"  # a fixed generation time (2026-11-18), for byte-identical output


def generate(tmp_path: Path, *args: str, epoch: str = EPOCH) -> bytes:
    """Run `recovery generate` into a file and return the file's bytes."""
    out = tmp_path / "plan.ics"
    result = run("generate", *args, "-o", str(out), env={"SOURCE_DATE_EPOCH": epoch})
    assert result.exit_code == 0, result.stderr
    return out.read_bytes()


def occurrences(data: bytes) -> list[tuple[str, object, str]]:
    """(summary, start, uid) of every occurrence, expanded by recurring-ical-events."""
    import icalendar
    import recurring_ical_events

    calendar = icalendar.Calendar.from_ical(data)
    found = recurring_ical_events.of(calendar).between(date(2000, 1, 1), date(2100, 1, 1))
    return sorted(((str(e["SUMMARY"]), e["DTSTART"].dt, str(e["UID"])) for e in found), key=comparable)


def strict_occurrences(data: bytes) -> list[tuple[str, object, str]]:
    """(summary, start, uid) of every occurrence, expanded by the strict `ical` parser."""
    from ical.calendar_stream import IcsCalendarStream

    calendar = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    return sorted(((e.summary, e.dtstart, e.uid) for e in calendar.timeline), key=comparable)


def comparable(occurrence: tuple[str, object, str]) -> tuple[str, str, str]:
    """An occurrence with its start as a UTC instant (timed) or a date, comparable across readers."""
    summary, start, uid = occurrence
    when = start.astimezone(UTC).isoformat() if isinstance(start, datetime) else start.isoformat()
    return (when, summary, uid)
