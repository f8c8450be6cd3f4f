"""Helpers that let tests read like the behaviour they check: real files, the real command line.

Golden files (tests/golden/) pin whole outputs. When an output changes on purpose, run
`pytest --update-golden`: the files are rewritten and the end of the run shows each diff.
"""

from __future__ import annotations

import difflib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from hypothesis import settings
from starlette.testclient import TestClient

from recovery.cli import main
from recovery.serve.store import Store, connect

# Property tests: a small, repeatable sample in CI; more at a developer's desk; HYPOTHESIS_PROFILE=full for a soak.
settings.register_profile("ci", max_examples=20, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("full", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

HERE = Path(__file__).parent
PROTOCOLS = HERE / "protocols"
GOLDEN = HERE / "golden"
#: The red flag every protocol needs (one the patient calls the emergency number for), for test files made in code.
RED_FLAG = '[[red_flags]]\nsign = "Chest pain"\naction = "Call your local emergency number now."\nemergency = true\n'
BUNDLED = HERE.parent / "protocols"
#: The plan most command-line tests lay out: a surgery on 1 March 2027 in Berlin (`LEFT`: on the left leg).
PLAN = ("--surgery-date", "2027-03-01", "--timezone", "Europe/Berlin")
LEFT = (*PLAN, "--side", "left")


def protocol_file(name: str) -> str:
    """The path of a test protocol under tests/protocols/."""
    path = PROTOCOLS / f"{name}.toml"
    assert path.is_file(), path
    return str(path)


def copied(name: str, folder: Path, *changes: tuple[str, str], as_name: str = "") -> Path:
    """A copy of tests/protocols/<name>.toml in `folder`, to be edited by a test, with each
    (old, new) text of `changes` replaced (each must be there)."""
    text = (PROTOCOLS / f"{name}.toml").read_text()
    for old, new in changes:
        assert old in text, (name, old)
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (as_name or f"{name}.toml")
    path.write_text(text)
    return path


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
    """Run the command line as a user would (optionally in folder `cwd`), keeping stdout and stderr apart."""
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


def blanks(protocol: str) -> list[str]:
    """`--set` options that fill a template's blanks (parameters without a default) at their minimum."""
    from recovery import load
    from recovery.schedule.trial import blanks_filled

    return [part for name, value in blanks_filled(load(protocol)).items() for part in ("--set", f"{name}={value}")]


EPOCH = "1795000000"  # a fixed generation time (2026-11-18), for byte-identical output


def generate(tmp_path: Path, *args: str, epoch: str = EPOCH) -> bytes:
    """Run `recovery generate` into a file and return the file's bytes."""
    out = tmp_path / "plan.ics"
    result = run("generate", *args, "-o", str(out), env={"SOURCE_DATE_EPOCH": epoch})
    assert result.exit_code == 0, result.stderr
    return out.read_bytes()


def vtimezone_text(zone: str, first: date, last: date) -> str:
    """The VTIMEZONE the writer makes for these days, as the text of a file (CRLF lines)."""
    from recovery.writers.vtimezone import vtimezone

    return "\r\n".join(vtimezone(zone, first, last)) + "\r\n"


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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the files under tests/golden/ from the current output and show what changed",
    )


_golden_diffs: list[str] = []


class Golden:
    """Compares an output with its golden file, or (with --update-golden) rewrites the file."""

    def __init__(self, update: bool):
        self.update = update

    def check(self, name: str, data: bytes) -> None:
        path = GOLDEN / name
        old = path.read_bytes() if path.exists() else b""
        if data == old:
            return
        diff = "".join(
            difflib.unified_diff(
                old.decode().splitlines(keepends=True),
                data.decode().splitlines(keepends=True),
                f"tests/golden/{name} (before)",
                f"tests/golden/{name} (now)",
            )
        ).replace("\r\n", "\n")
        if self.update:
            path.write_bytes(data)
            _golden_diffs.append(diff)
            return
        pytest.fail(f"{name} differs from its golden file; if intended, run `pytest --update-golden`:\n{diff[:6000]}")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(bool(request.config.getoption("--update-golden")))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _golden_diffs:
        terminalreporter.section("golden files rewritten")
        for diff in _golden_diffs:
            terminalreporter.write(diff)


def installed_package_is_tested() -> bool:
    """Whether this run must use the installed package, not the checkout (CI sets RECOVERY_TEST_INSTALLED=1)."""
    return os.environ.get("RECOVERY_TEST_INSTALLED") == "1"


# ---------------------------------------------------------------- a real server and a real browser

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
#: Screenshots that tests take, kept for a person to look at (CI keeps them with its log).
ARTIFACTS = Path(os.environ.get("RECOVERY_TEST_ARTIFACTS", HERE.parent / "test-artifacts"))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    from recovery.serve import store as serving

    database = f"sqlite:///{tmp_path / 'recovery.db'}"
    engine = serving.connect(database)
    serving.upgrade(engine)
    serving.Store(engine).add_user("ana@clinic.example", "correct horse battery staple")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "recovery", "serve", "--port", str(port), "--database", database],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    # Wait until the server answers (or has stopped), not for a fixed time: on a busy machine its
    # start-up took more than the 10 s this waited before, and the browser then met a closed port.
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"recovery serve did not start (exit code {process.poll()})")
        time.sleep(0.1)
    yield base
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM is not None, "CI must install Debian's chromium"
    assert DRIVER is not None, "CI must install Debian's chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1000",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: object, name: str, prefix: str = "serve") -> Path:
    """A screenshot of the browser's window, kept as ARTIFACTS/<prefix>-<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{prefix}-{name}.png"
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    assert path.stat().st_size > 5_000
    return path


# ---------------------------------------------------------------- the server, in process

#: The public address the server's tests give it, and the databases they run on: SQLite, and
#: PostgreSQL when $RECOVERY_TEST_POSTGRES names one (CI starts it).
BASE = "http://clinic.test"
DATABASES = ["sqlite", *(["postgresql"] if os.environ.get("RECOVERY_TEST_POSTGRES") else [])]


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'recovery.db'}"
    from sqlalchemy import text

    url = os.environ["RECOVERY_TEST_POSTGRES"]
    with connect(url).begin() as connection:  # a clean database for each test
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    return url


@pytest.fixture
def client(database: str) -> TestClient:
    from recovery.serve.app import create_app

    return TestClient(create_app(database, secret_key="test-secret", base_url=BASE), base_url=BASE)


@pytest.fixture
def store(client: TestClient) -> Store:
    found: Store = client.app.state.store  # type: ignore[attr-defined]
    return found


@pytest.fixture
def key(store: Store) -> dict[str, str]:
    return {"Authorization": f"Bearer {store.add_api_key('ehr')}"}
