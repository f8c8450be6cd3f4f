"""`recovery serve` under load: feeds per second (full 200s and 304s), p50/p99 latency at 50
connections, memory; and, side by side in the same run, Radicale serving the same calendar.

Makes PLANS plans in a fresh SQLite database (or --database URL), starts `recovery serve
--workers 2` on loopback, and drives it with wrk (Debian's package) for a bounded time per
figure, each request for a random plan's feed. A minimal Starlette app serving the same calendar
as a fixed body (and a bare 304) under the same uvicorn settings is the ceiling. Radicale (from PyPI, installed into a temporary
virtual environment, never into the project) serves one plan's calendar from its file storage,
and wrk asks it for that one calendar. The load generator shares the machine's cores with the
servers: the figures are what one machine does, client included.

    python benchmarks/serve.py [--plans 10000] [--seconds 10] [--database URL]

Measured, never asserted: these are not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLAN = {"surgery_date": "2027-03-01", "timezone": "Europe/Berlin", "side": "left"}
#: wrk's report of a run: requests, microseconds, p50 and p99 latency (µs), non-2xx/3xx answers.
DONE = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status))
end
"""
#: Each request asks for a random plan's feed; with `conditional`, with that feed's ETag.
WRK_SCRIPT = """
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local etags = {}
for line in io.lines("%(etags)s") do etags[#etags + 1] = line end
local conditional = %(conditional)s
local gzip = %(gzip)s
math.randomseed(os.time())
request = function()
  local i = math.random(#tokens)
  local headers = {}
  if conditional then headers["If-None-Match"] = etags[i] end
  if gzip then headers["Accept-Encoding"] = "gzip" end
  return wrk.format("GET", "%(prefix)s" .. tokens[i] .. "%(suffix)s", headers)
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def memory_mib(pid: int) -> float:
    """The resident memory of a process and its children, in MiB."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, AttributeError):
            continue
        pids += [int(child) for child in children]
    return total / 1024


def wrk(url: str, script: Path, seconds: int, connections: int = 50) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+)", out.stdout)
    assert found is not None, out.stdout
    requests, micros, p50, p99, bad = map(int, found.groups())
    return {"per_second": requests / (micros / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000, "bad": bad}


def make_plans(database: str, count: int, folder: Path) -> tuple[list[str], list[str]]:
    from recovery.serve.store import Store, connect, upgrade

    engine = connect(database)
    upgrade(engine)
    store = Store(engine)
    tokens, etags = [], []
    started = time.perf_counter()
    for number in range(count):
        made = store.create_plan({**PLAN, "plan_id": f"bench-{number}"}, "benchmark")
        assert made.token is not None
        tokens.append(made.token)
        etags.append(store.feed(made.token).etag)
    print(f"made {count} plans in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return tokens, etags


CEILING_APP = """
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

import gzip

BODY = open(%(body)r, "rb").read()
ZIPPED = gzip.compress(BODY, 6, mtime=0)
ETAG = %(etag)r


async def feed(request):
    if request.headers.get("if-none-match") == ETAG:
        return Response(status_code=304, headers={"ETag": ETAG})
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers = {"ETag": ETAG, "Content-Encoding": "gzip"}
        return Response(ZIPPED, headers=headers, media_type="text/calendar; charset=utf-8")
    return Response(BODY, headers={"ETag": ETAG}, media_type="text/calendar; charset=utf-8")


app = Starlette(routes=[Route("/feed/{token}.ics", feed)])
"""


#: The figures measured, for the server and the ceiling alike: (name, conditional, gzip). Calendar
#: services ask for gzip; wrk does not unless told, so both are measured.
FIGURES = (("feed 200", "false", "false"), ("feed 200 gzip", "false", "true"), ("feed 304", "true", "false"))


def ceiling(folder: Path, calendar: bytes, seconds: int) -> dict[str, dict[str, float]]:
    """The ceiling: a minimal Starlette app under the same uvicorn settings as `recovery serve`
    (2 workers, its connection bounds, an access log), serving the same calendar as a fixed body
    (gzip-compressed once, for clients that take gzip) and a bare 304, asked as the feeds are."""
    from recovery.cli import SERVE_LIMITS

    (folder / "body.ics").write_bytes(calendar)
    etag = '"ceiling"'
    (folder / "ceiling_app.py").write_text(CEILING_APP % {"body": str(folder / "body.ics"), "etag": etag})
    (folder / "ceiling-etags").write_text("\n".join(etag for _ in (folder / "tokens").read_text().split()) + "\n")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "ceiling_app:app", "--port", str(port), "--workers", "2",
         "--no-server-header", "--limit-concurrency", str(SERVE_LIMITS["connections"]),
         "--timeout-keep-alive", str(SERVE_LIMITS["keep_alive_seconds"])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder,
    )  # fmt: skip
    results = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/feed/x.ics")
        for name, conditional, zipped in FIGURES:
            name = name.replace("feed", "ceiling")
            script = folder / f"ceiling-{name.replace(' ', '-')}.lua"
            values = {
                "tokens": folder / "tokens", "etags": folder / "ceiling-etags", "conditional": conditional, "gzip": zipped,
                "prefix": "/feed/", "suffix": ".ics",
            }  # fmt: skip
            script.write_text(WRK_SCRIPT % values + DONE)
            results[name] = wrk(base, script, seconds)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    return results


def radicale(folder: Path, calendar: bytes, seconds: int) -> dict[str, float]:
    """Radicale serving the same calendar from its file storage, asked for it whole."""
    venv = folder / "radicale-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([venv / "bin" / "pip", "install", "-q", "radicale>=3.2,<4"], check=True, capture_output=True)
    collection = folder / "radicale" / "collection-root" / "bench" / "plan"
    collection.mkdir(parents=True)
    (collection / ".Radicale.props").write_text(json.dumps({"tag": "VCALENDAR"}))
    import icalendar

    parsed = icalendar.Calendar.from_ical(calendar)
    zones = [c for c in parsed.subcomponents if c.name == "VTIMEZONE"]
    for number, event in enumerate(parsed.walk("VEVENT")):
        item = icalendar.Calendar()
        item.add("prodid", "-//bench//EN")
        item.add("version", "2.0")
        for zone in zones:
            item.add_component(zone)
        item.add_component(event)
        (collection / f"{number}.ics").write_bytes(item.to_ical())
    port = free_port()
    config = folder / "radicale.conf"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = none\n[storage]\nfilesystem_folder = {folder / 'radicale'}\n"
        f"[rights]\ntype = from_file\nfile = {folder / 'rights'}\n[logging]\nlevel = warning\n"
    )
    (folder / "rights").write_text("[everyone]\nuser: .*\ncollection: .*\npermissions: RrWw\n")
    process = subprocess.Popen(
        [venv / "bin" / "python", "-m", "radicale", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/bench/plan/"
        wait_for(url)
        size = len(httpx.get(url).content)
        script = folder / "radicale.lua"
        script.write_text('request = function() return wrk.format("GET", "/bench/plan/") end\n' + DONE)
        result = wrk(f"http://127.0.0.1:{port}", script, seconds)
        result["bytes"] = size
        result["memory_mib"] = memory_mib(process.pid)
        return result
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--database", default="")
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        database = arguments.database or f"sqlite:///{folder / 'recovery.db'}"
        tokens, etags = make_plans(database, arguments.plans, folder)
        (folder / "tokens").write_text("\n".join(tokens) + "\n")
        (folder / "etags").write_text("\n".join(etags) + "\n")
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen(
            [sys.executable, "-m", "recovery", "serve", "--port", str(port), "--workers", "2", "--database", database],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=folder,
        )  # fmt: skip
        results: dict[str, dict[str, float]] = {}
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/healthz")
            calendar = httpx.get(f"{base}/feed/{tokens[0]}.ics").content
            for name, conditional, zipped in FIGURES:
                script = folder / f"{name.replace(' ', '-')}.lua"
                values = {
                    "tokens": folder / "tokens",
                    "etags": folder / "etags",
                    "conditional": conditional,
                    "gzip": zipped,
                    "prefix": "/feed/",
                    "suffix": ".ics",
                }
                script.write_text(WRK_SCRIPT % values + DONE)
                results[name] = wrk(base, script, arguments.seconds)
            # The patient's page: made once per revision and day, then served as made.
            script = folder / "page.lua"
            values = {"tokens": folder / "tokens", "etags": folder / "etags", "conditional": "false", "gzip": "false"}
            script.write_text(WRK_SCRIPT % {**values, "prefix": "/p/", "suffix": ""} + DONE)
            results["patient page, first views"] = wrk(base, script, arguments.seconds)
            # 100 patients who look again the same day: each page was made already in both workers
            (folder / "tokens-100").write_text("\n".join(tokens[:100]) + "\n")
            for token in tokens[:100] * 4:
                httpx.get(f"{base}/p/{token}")
            again = {**values, "tokens": folder / "tokens-100", "prefix": "/p/", "suffix": ""}
            script.write_text(WRK_SCRIPT % again + DONE)
            results["patient page, seen before"] = wrk(base, script, arguments.seconds)
            results["feed 200"]["bytes"] = len(calendar)
            results["feed 200"]["memory_mib"] = memory_mib(server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        results |= ceiling(folder, calendar, arguments.seconds)
        results["Radicale, the same calendar"] = radicale(folder, calendar, arguments.seconds)
    print(
        f"| what ({arguments.plans:,} plans, 2 workers, 50 connections, {arguments.seconds} s each) | per second | p50 | p99 | errors | memory |"
    )
    print("|---|---|---|---|---|---|")
    for name, result in results.items():
        memory = f"{result['memory_mib']:.0f} MiB" if "memory_mib" in result else ""
        print(
            f"| {name} | {result['per_second']:,.0f} | {result['p50_ms']:.1f} ms | {result['p99_ms']:.1f} ms | "
            f"{result['bad']:.0f} | {memory} |"
        )
    ratio = results["feed 200"]["per_second"] / results["Radicale, the same calendar"]["per_second"]
    print(f"\nfull feeds: {ratio:.1f} × Radicale's rate for the same calendar")
    pages = [
        f"{results[f'patient page, {kind}']['per_second']:,.0f}/s {kind}" for kind in ("first views", "seen before")
    ]
    print(f"patient pages: {', '.join(pages)} (goal: 1,000/s)")
    for name, _, _ in FIGURES:
        share = results[name]["per_second"] / results[name.replace("feed", "ceiling")]["per_second"]
        print(f"{name}: {share:.2f} × the ceiling's (a minimal Starlette app, same uvicorn settings)")


if __name__ == "__main__":
    main()
