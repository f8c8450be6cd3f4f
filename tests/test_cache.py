"""The cache changes nothing but speed, the library writes nothing without one, and no one else's
file in (or around) the cache folder can change a calendar, run code, hang or break a command."""

import errno
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import recovery
from recovery import Plan, ProtocolError, build, load
from recovery.cache import MAX_ENTRY_BYTES, Cache, digest
from recovery.protocol import plain

from conftest import HERE, copied, generate, run

HAMSTRING = "proximal-hamstring-repair"
PLAN_ARGS = ("--surgery-date", "2027-03-01", "--timezone", "America/New_York")


def opened(folder: Path) -> Cache:
    cache, warning = Cache.open(folder)
    assert cache is not None, warning
    return cache


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("protocol-*"))


def test_a_cached_protocol_equals_a_validated_one(tmp_path) -> None:
    validated = load(HAMSTRING)
    with opened(tmp_path / "cache") as cache:
        first = load(HAMSTRING, cache=cache)  # validates and keeps the entry
        assert len(entries(tmp_path / "cache")) == 1
        cached = load(HAMSTRING, cache=cache)  # rebuilt without the validator
    assert cached == first == validated
    assert [item.source for _, item in cached.items()] == [item.source for _, item in validated.items()]
    plan = Plan(date(2027, 3, 1), "Europe/Berlin")
    assert build(cached, plan) == build(validated, plan)


def test_the_library_writes_no_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Used as docs/library.md shows, with every variable that names a cache folder set."""
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    for name in ("proximal-hamstring-repair", "achilles-tendon-repair"):
        protocol = recovery.load(name)
        schedule = recovery.build(protocol, Plan(date(2027, 3, 1), "Australia/Sydney"))
        recovery.to_ics(schedule)
        recovery.to_json(schedule)
        recovery.to_handout(schedule)
        recovery.agenda(schedule, date(2027, 3, 20))
        recovery.validate(name)
    assert list(tmp_path.iterdir()) == []


def test_a_warm_cache_gives_the_same_calendar(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "cache"))
    assert generate(tmp_path, *PLAN_ARGS) == generate(tmp_path, *PLAN_ARGS)
    assert len(entries(tmp_path / "cache")) == 1
    monkeypatch.setenv("RECOVERY_CACHE_DIR", "")
    assert generate(tmp_path, *PLAN_ARGS) == generate(tmp_path, *PLAN_ARGS)


def test_the_folder_is_made_private(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "new" / "cache"))
    generate(tmp_path, *PLAN_ARGS)
    assert (tmp_path / "new" / "cache").stat().st_mode & 0o777 == 0o700
    (entry,) = entries(tmp_path / "new" / "cache")
    assert entry.stat().st_mode & 0o777 == 0o600


def edit_red_flag(entry: Path, keep_digest: bool) -> None:
    """Change the first red flag's action in a kept protocol; with `keep_digest`, as someone who
    knows the format would (the header is made to match the new content)."""
    header, content = entry.read_bytes().split(b"\n", 1)
    data = json.loads(content)
    data["red_flags"][0]["action"] = "Wait a week and see."
    content = json.dumps(data).encode()
    fields = json.loads(header)
    if keep_digest:
        fields["sha256"] = digest(content)
    entry.write_bytes(json.dumps(fields).encode() + b"\n" + content)


def test_an_edited_entry_is_ignored_and_made_again(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "cache"))
    expected = generate(tmp_path, *PLAN_ARGS)
    (entry,) = entries(tmp_path / "cache")
    edit_red_flag(entry, keep_digest=False)
    calendar = generate(tmp_path, *PLAN_ARGS)
    assert calendar == expected
    assert b"Wait a week" not in calendar


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b'{"format": 1}\n{}',
        b'{"id": "achilles-tendon-repair", "phases": [{"start": 3}]}',
        b"\x80\x81 not text",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["empty", "torn", "wrong-header", "old-format", "binary", "deep"],
)
def test_a_broken_entry_is_ignored(tmp_path, content: bytes) -> None:
    with opened(tmp_path / "cache") as cache:
        expected = load(HAMSTRING, cache=cache)
        (entry,) = entries(tmp_path / "cache")
        entry.write_bytes(content)
        assert load(HAMSTRING, cache=cache) == expected


def test_a_well_formed_entry_of_the_wrong_shape_is_validated_anew(tmp_path) -> None:
    with opened(tmp_path / "cache") as cache:
        expected = load(HAMSTRING, cache=cache)
        (entry,) = entries(tmp_path / "cache")
        key = entry.name.removeprefix("protocol-")
        cache.put(plain.KIND, key, {"id": "x", "phases": 5})
        assert load(HAMSTRING, cache=cache) == expected


def test_a_folder_others_can_write_is_not_used(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone else's entry (here, a red flag changed with a matching digest) is never read."""
    folder = tmp_path / "shared-cache"
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(folder))
    expected = generate(tmp_path, *PLAN_ARGS)
    (entry,) = entries(folder)
    edit_red_flag(entry, keep_digest=True)
    folder.chmod(0o777)
    out = tmp_path / "plan.ics"
    result = run("generate", *PLAN_ARGS, "-o", str(out), env={"SOURCE_DATE_EPOCH": "1795000000"})
    assert result.exit_code == 0
    assert (
        result.stderr
        == f"warning: the cache folder {folder} is not used: others can write to it (make it private: chmod 700)\n"
    )
    assert out.read_bytes() == expected


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_of_another_user_is_not_used(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(folder))
    result = run("agenda", *PLAN_ARGS, "--on", "2027-03-20")
    assert result.exit_code == 0
    assert "not used: it belongs to another user" in result.stderr
    assert list(folder.iterdir()) == []


def test_no_template_or_other_code_is_read_from_the_folder(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Jinja2's bytecode cache unpickled what it found; the cache now keeps data only, so a
    planted file (anywhere in the folder) is never loaded."""
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    (folder / "templates").mkdir(mode=0o700)
    marker = tmp_path / "ran"
    payload = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')"
    import pickle

    class Planted:
        def __reduce__(self):  # what unpickling runs
            return (exec, (payload,))

    for name in ("__jinja2_handout.html.j2.cache", "handout.cache"):
        (folder / "templates" / name).write_bytes(pickle.dumps(Planted()))
        (folder / name).write_bytes(pickle.dumps(Planted()))
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(folder))
    for _ in range(2):
        result = run("handout", *PLAN_ARGS, "-o", str(tmp_path / "plan.html"))
        assert result.exit_code == 0, result.stderr
    assert not marker.exists()


def test_a_link_in_the_folder_is_never_followed(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cache"
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(folder))
    expected = generate(tmp_path, *PLAN_ARGS)
    (entry,) = entries(folder)
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    entry.unlink()
    entry.symlink_to(outside)  # a write would go through it; a read would take someone else's file
    assert generate(tmp_path, *PLAN_ARGS) == expected
    assert outside.read_text() == "not yours"
    entry.unlink()
    entry.symlink_to("/dev/zero")  # read through, it would never end
    assert generate(tmp_path, *PLAN_ARGS) == expected


def test_a_pipe_in_the_folder_does_not_hang_a_run(tmp_path) -> None:
    folder = tmp_path / "cache"
    env = {**os.environ, "RECOVERY_CACHE_DIR": str(folder), "SOURCE_DATE_EPOCH": "1795000000"}
    command = [sys.executable, str(HERE.parent / "cli.py"), "generate", *PLAN_ARGS, "-o", "-"]
    expected = subprocess.run(command, env=env, capture_output=True, check=True, timeout=60).stdout
    (entry,) = entries(folder)
    entry.unlink()
    os.mkfifo(entry)
    done = subprocess.run(command, env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected


def test_an_oversized_entry_is_not_read(tmp_path) -> None:
    with opened(tmp_path / "cache") as cache:
        expected = load(HAMSTRING, cache=cache)
        (entry,) = entries(tmp_path / "cache")
        with entry.open("ab") as stream:
            stream.truncate(MAX_ENTRY_BYTES + 1)
        assert load(HAMSTRING, cache=cache) == expected


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS])
def test_a_full_or_read_only_disk_turns_caching_off_and_leaves_nothing(
    tmp_path, monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    import recovery.cache

    real_fdopen = os.fdopen

    class Failing:
        def __init__(self, handle: int):
            self.stream = real_fdopen(handle, "wb")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

        def write(self, data: bytes) -> int:
            self.stream.write(data[:100])
            self.stream.flush()
            raise OSError(error, os.strerror(error))

    monkeypatch.setattr(recovery.cache.os, "fdopen", lambda handle, mode: Failing(handle))
    with opened(tmp_path / "cache") as cache:
        expected = load(HAMSTRING)
        assert load(HAMSTRING, cache=cache) == expected
        assert not cache.writable
        assert list((tmp_path / "cache").iterdir()) == []


def test_a_folder_that_cannot_be_made_means_no_cache(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(tmp_path / "file" / "cache"))
    result = run("agenda", *PLAN_ARGS, "--on", "2027-03-20")
    assert result.exit_code == 0
    assert result.stderr == ""


def test_an_edited_file_is_never_taken_from_the_cache(tmp_path) -> None:
    path = copied("minimal", tmp_path)
    with opened(tmp_path / "cache") as cache:
        assert load(path, cache=cache).phases[0].title == "Rest"
        path.write_text(path.read_text().replace('end = "2 weeks"', 'end = "2 fortnights"'))
        with pytest.raises(ProtocolError, match="fortnights"):
            load(path, cache=cache)


def test_a_changed_parent_is_read_again(tmp_path) -> None:
    base = copied("minimal", tmp_path)
    clinic = copied("extends-minimal", tmp_path)
    with opened(tmp_path / "cache") as cache:
        assert load(clinic, cache=cache).phases[0].title == "Rest"
        base.write_text(base.read_text().replace('title = "Rest"', 'title = "Rest at home"'))
        protocol = load(clinic, cache=cache)
    assert protocol.phases[0].title == "Rest at home"
    assert protocol.family == "minimal"


def test_a_parent_found_by_name_is_found_again(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clinic's file extends a protocol by name; a file of that name put in an earlier search
    folder afterwards is the parent from then on, although neither file of the first run changed."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    copied("minimal", second)
    clinic = copied("extends-minimal-by-name", tmp_path)
    monkeypatch.setenv("RECOVERY_PROTOCOLS", f"{first}{os.pathsep}{second}")
    with opened(tmp_path / "cache") as cache:
        assert load(clinic, cache=cache).phases[0].title == "Rest"
        assert load(clinic, cache=cache).phases[0].title == "Rest"
        copied("minimal", first, ('title = "Rest"', 'title = "Rest in the first folder"'))
        assert load(clinic, cache=cache).phases[0].title == "Rest in the first folder"


def test_an_unchanged_file_is_not_parsed_again(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recovery.protocol import loader

    with opened(tmp_path / "cache") as cache:
        first = load(HAMSTRING, cache=cache)
        monkeypatch.setattr(loader, "_parse", lambda path, content: pytest.fail(f"{path} was parsed again"))
        again = load(HAMSTRING, cache=cache)
    assert again == first
    assert [item.source for _, item in again.items()] == [item.source for _, item in first.items()]


def test_generate_with_a_warm_cache_does_not_import_the_validator(tmp_path) -> None:
    env = {**os.environ, "RECOVERY_CACHE_DIR": str(tmp_path / "cache"), "SOURCE_DATE_EPOCH": "1795000000"}
    script = (
        "import sys; from recovery.cli import main\n"
        "try:\n    main(['generate', '--surgery-date', '2027-03-01', '--timezone', 'UTC', '-o', '-'])\n"
        "except SystemExit:\n    pass\n"
        "print('pydantic' in sys.modules, 'tomllib' in sys.modules, file=sys.stderr)"
    )
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert first.stderr.strip().endswith("True True")
    second = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert second.stderr.strip().endswith("False False")
    assert first.stdout == second.stdout


def test_the_compiled_template_is_kept_and_a_planted_one_in_a_shared_folder_never_runs(tmp_path, monkeypatch) -> None:
    import marshal
    import pickle

    import jinja2.bccache

    folder = tmp_path / "cache"
    monkeypatch.setenv("RECOVERY_CACHE_DIR", str(folder))
    first = run("handout", *PLAN_ARGS, "-o", str(tmp_path / "one.html"))
    assert first.exit_code == 0, first.stderr
    (entry,) = folder.glob("template-*")
    again = run("handout", *PLAN_ARGS, "-o", str(tmp_path / "two.html"))
    assert (tmp_path / "one.html").read_bytes() == (tmp_path / "two.html").read_bytes()
    # Someone else's compiled "template", well formed, with the right key and digest.
    marker = tmp_path / "ran"
    code = compile(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n", "handout.html.j2", "exec")
    header, content = entry.read_bytes().split(b"\n", 1)
    checksum = pickle.loads(content[len(jinja2.bccache.bc_magic) :])
    planted = jinja2.bccache.bc_magic + pickle.dumps(checksum, 2) + marshal.dumps(code)
    fields = json.loads(header)
    fields["sha256"] = digest(planted)
    entry.write_bytes(json.dumps(fields).encode() + b"\n" + planted)
    folder.chmod(0o777)
    result = run("handout", *PLAN_ARGS, "-o", str(tmp_path / "three.html"))
    assert result.exit_code == 0
    assert "not used" in result.stderr
    assert not marker.exists()
    assert again.exit_code == 0


def test_the_program_s_own_sha256_is_hashlib_s() -> None:
    import hashlib

    from recovery.digests import sha256

    for data in (b"", b"x", bytes(range(256)) * 100):
        assert sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
