"""The cache of validated protocols changes nothing but speed."""

import os
import subprocess
import sys
from datetime import date

import pytest

from recovery import Plan, ProtocolError, build, load
from recovery.protocol import cache

from conftest import HERE, RED_FLAG, generate


def test_a_cached_protocol_equals_a_validated_one(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path))
    validated = load("proximal-hamstring-repair", use_cache=False)
    first = load("proximal-hamstring-repair")  # validates and writes the entry
    assert len(list(tmp_path.glob("*.json"))) == 1
    cached = load("proximal-hamstring-repair")  # read back without the validator
    assert cached == first == validated
    assert [item.source for _, item in cached.items()] == [item.source for _, item in validated.items()]
    plan = Plan(date(2027, 3, 1), "Europe/Berlin")
    assert build(cached, plan) == build(validated, plan)


def test_a_warm_cache_gives_the_same_calendar(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "cache"))
    args = ("--surgery-date", "2027-03-01", "--timezone", "America/New_York")
    assert generate(tmp_path, *args) == generate(tmp_path, *args)
    monkeypatch.setenv("RECOVERY_CACHE_DIR", "")
    assert not cache.folder()
    assert generate(tmp_path, *args) == generate(tmp_path, *args)


def test_a_corrupt_entry_is_ignored_and_validated_anew(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path))
    expected = load("achilles-tendon-repair")
    for entry in tmp_path.glob("*.json"):
        entry.write_text('{"id": "achilles-tendon-repair", "phases": [{"start": 3}]}')
    assert load("achilles-tendon-repair") == expected


def test_an_edited_file_is_never_taken_from_the_cache(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "clinic.toml"
    path.write_text(
        'id = "c"\ntitle = "C"\nversion = "1"\n[[phases]]\nid = "p"\ntitle = "P"\nstart = "day 0"\nend = "2 weeks"\n'
        + RED_FLAG
    )
    assert load(path).phases[0].title == "P"
    path.write_text(path.read_text().replace('end = "2 weeks"', 'end = "2 fortnights"'))
    with pytest.raises(ProtocolError, match="fortnights"):
        load(path)


def test_generate_with_a_warm_cache_does_not_import_the_validator(tmp_path) -> None:
    env = {**os.environ, "RECOVERY_CACHE_DIR": str(tmp_path / "cache"), "SOURCE_DATE_EPOCH": "1795000000"}
    script = (
        "import sys; from recovery.cli import main\n"
        "try:\n    main(['generate', '--surgery-date', '2027-03-01', '--timezone', 'UTC', '-o', sys.argv[1]])\n"
        "except SystemExit:\n    pass\n"
        "print('pydantic' in sys.modules)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "plan.ics")],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=HERE.parent,
        )
        for _ in range(2)
    ]
    assert [r.stdout.split()[-1] for r in runs] == ["True", "False"]
