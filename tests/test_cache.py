"""The cache of validated protocols changes nothing but speed."""

import os
import subprocess
import sys
from datetime import date

import pytest

from recovery import Plan, ProtocolError, build, load
from recovery.output import cache_folder

from conftest import HERE, RED_FLAG, generate


def test_a_cached_protocol_equals_a_validated_one(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path))
    validated = load("proximal-hamstring-repair", use_cache=False)
    first = load("proximal-hamstring-repair")  # validates and writes the entry
    assert len([entry for entry in tmp_path.glob("*.json") if not entry.name.startswith("files-")]) == 1
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
    assert not cache_folder()
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


def test_generate_with_a_warm_cache_imports_neither_the_validator_nor_openssl(tmp_path) -> None:
    env = {**os.environ, "RECOVERY_CACHE_DIR": str(tmp_path / "cache"), "SOURCE_DATE_EPOCH": "1795000000"}
    script = (
        "import sys; from recovery.cli import main\n"
        "try:\n    main(['generate', '--surgery-date', '2027-03-01', '--timezone', 'UTC', '-o', sys.argv[1]])\n"
        "except SystemExit:\n    pass\n"
        "print(','.join(sorted({'pydantic', '_hashlib'} & set(sys.modules))) or '-')\n"
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
    first, warm = (r.stdout.split()[-1] for r in runs)
    assert "pydantic" in first
    assert warm == "-"


def _aged(*paths) -> None:
    """Files last changed a minute ago, as files are when a patient's calendar is made."""
    for path in paths:
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns - 60 * 10**9))


def test_an_unchanged_file_is_not_even_parsed_again(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recovery.protocol import loader

    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "hamstring.toml"
    path.write_bytes((HERE.parent / "protocols" / "proximal-hamstring-repair.toml").read_bytes())
    _aged(path)
    expected = load(path)
    monkeypatch.setattr(loader, "_read", lambda path: pytest.fail(f"parsed {path} again"))
    again = load(path)
    assert again == expected
    assert [item.source for _, item in again.items()] == [item.source for _, item in expected.items()]
    assert again.family == expected.family


def test_a_changed_file_or_a_new_parent_of_the_same_name_is_read_again(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "cache"))
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    base = (
        'id = "base"\ntitle = "Base {}"\nversion = "1"\n'
        '[[phases]]\nid = "p"\ntitle = "P"\nstart = "day 0"\nend = "2 weeks"\n' + RED_FLAG
    )
    (first / "base.toml").write_text(base.format("one"))
    child = tmp_path / "child.toml"
    child.write_text('id = "child"\nextends = "base"\n')
    _aged(first / "base.toml", child)
    monkeypatch.setenv("RECOVERY_PROTOCOLS", str(first))
    assert load(child).title == "Base one"
    assert load(child).title == "Base one"  # from the stamps
    (second / "base.toml").write_text(base.format("two"))  # a clinic library that now comes first
    _aged(second / "base.toml")
    monkeypatch.setenv("RECOVERY_PROTOCOLS", os.pathsep.join([str(second), str(first)]))
    assert load(child).title == "Base two"
    (second / "base.toml").write_text(base.format("six"))  # same size, edited: a new modification time
    assert load(child).title == "Base six"


def test_validate_lays_out_a_protocol_that_passed_only_once(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recovery.schedule import trial

    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "clinic.toml"
    good = 'id = "c"\ntitle = "C"\nversion = "1"\n[[phases]]\nid = "p"\ntitle = "P"\nstart = "day 0"\nend = "2 weeks"\n'
    path.write_text(good + RED_FLAG)
    assert trial.check(str(path)) == []
    monkeypatch.setattr(trial, "trial_problems", lambda protocol: pytest.fail("laid out again"))
    assert trial.check(str(path)) == []  # the same data and code: the same answer
    monkeypatch.undo()
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "cache"))
    # a change that fails only on some trial dates is found: failures are never taken from the cache
    path.write_text(
        good.replace(
            'end = "2 weeks"', 'end = "2 weeks"\n[[milestones]]\nid = "m"\ntitle = "M"\nat = "1 month - 30 days"'
        )
        + RED_FLAG
    )
    problems = trial.check(str(path))
    assert problems
    assert "milestones[id=m]" in problems[0].where
    assert trial.check(str(path)) == problems


def test_a_kept_vtimezone_is_used_only_when_whole(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recovery.writers import ics

    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "cache"))
    args = ("--surgery-date", "2027-03-01", "--timezone", "Australia/Sydney")
    ics._vtimezone_lines.cache_clear()  # each run below starts as a new process would
    first = generate(tmp_path, *args)
    [kept] = (tmp_path / "cache").glob("vtimezone-*.txt")
    assert kept.read_bytes().replace(b"\r\n", b"") in first.replace(b"\r\n", b"")
    ics._vtimezone_lines.cache_clear()
    with monkeypatch.context() as patch:
        patch.setattr(ics, "vtimezone", None)  # read back, not made again
        assert generate(tmp_path, *args) == first
    kept.write_text("")  # a disk that filled up
    ics._vtimezone_lines.cache_clear()
    assert generate(tmp_path, *args) == first
    assert kept.read_text().startswith("BEGIN:VTIMEZONE")


@pytest.mark.parametrize("name", ["America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Europe/Dublin"])
def test_kept_clock_changes_are_the_ones_worked_out(tmp_path, monkeypatch: pytest.MonkeyPatch, name) -> None:
    from recovery.schedule import zones

    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "cache"))
    zones.clock_changes.cache_clear()  # each call below starts as a new process would
    worked_out = zones.clock_changes(name, 2027)
    assert worked_out == tuple(zones._clock_changes(name, 2027))
    zones.clock_changes.cache_clear()
    with monkeypatch.context() as patch:
        patch.setattr(zones, "_clock_changes", None)  # read back, not worked out again
        assert zones.clock_changes(name, 2027) == worked_out
    [kept] = (tmp_path / "cache").glob("clock-changes-*.txt")
    for torn in ("[", "[1, 2]", '[["2027-13-01", "02:00:00", "03:00:00", true]]'):  # a full disk, a hand edit
        kept.write_text(torn)
        zones.clock_changes.cache_clear()
        assert zones.clock_changes(name, 2027) == worked_out
    zones.clock_changes.cache_clear()


def test_sha256_gives_hashlibs_digests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Calendar UIDs are SHA-256 digests: a different digest would double every event on re-import."""
    import hashlib
    import sys

    from recovery import output

    def same() -> None:
        for data in (b"", b"ice-morning", "Knöchel".encode() * 1000):
            assert output.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
        growing = output.sha256()
        growing.update(b"brace")
        growing.update(b"-off")
        assert growing.digest() == hashlib.sha256(b"brace-off").digest()

    same()
    output._sha256.cache_clear()
    monkeypatch.setitem(sys.modules, "_sha2", None)  # a Python without CPython's built-in modules
    monkeypatch.setitem(sys.modules, "_sha256", None)
    same()
    output._sha256.cache_clear()
