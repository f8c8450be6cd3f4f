"""Many clinicians logging in at once: the server's memory and the feeds' latency meanwhile.

Makes PLANS plans and LOGINS accounts in a fresh SQLite database, starts `recovery serve
--workers 2` on loopback, and measures feed latency with wrk (50 connections, random plans)
twice: alone, and while LOGINS logins arrive at once, each from its own loopback address
(127.0.0.2, 127.0.0.3, ...: the server's per-address limit counts them apart, as it would
clinicians at their own desks) with the right password, so that every one is hashed. The
server's resident memory (parent and workers) is sampled every 50 ms throughout.

    python benchmarks/logins.py [--logins 120] [--plans 1000] [--seconds 8]

Measured, never asserted: these are not tests.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from serve import DONE, WRK_SCRIPT, free_port, make_plans, memory_mib, wait_for, wrk  # noqa: E402

PASSWORD = "correct horse battery staple 42"


def log_in(base: str, number: int) -> int:
    """One clinician's login from address 127.0.0.(number + 2): the form, then its POST."""
    transport = httpx.HTTPTransport(local_address=f"127.0.0.{number + 2}")
    with httpx.Client(transport=transport, base_url=base, timeout=120) as client:
        form = client.get("/login").text
        token = re.search(r'name="login_csrf" value="([^"]+)"', form)
        assert token is not None
        answer = client.post(
            "/login",
            data={"email": f"clinician{number}@clinic.example", "password": PASSWORD, "login_csrf": token.group(1)},
            headers={"Origin": base},
        )
        return answer.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=120)
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=8)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        database = f"sqlite:///{folder / 'recovery.db'}"
        tokens, etags = make_plans(database, arguments.plans, folder)
        from recovery.serve.store import open_store

        store = open_store(database)
        for number in range(arguments.logins):
            store.add_user(f"clinician{number}@clinic.example", PASSWORD)
        (folder / "tokens").write_text("\n".join(tokens) + "\n")
        (folder / "etags").write_text("\n".join(etags) + "\n")
        script = folder / "feed.lua"
        values = {"tokens": folder / "tokens", "etags": folder / "etags", "conditional": "false", "gzip": "true"}
        script.write_text(WRK_SCRIPT % {**values, "prefix": "/feed/", "suffix": ".ics"} + DONE)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "recovery", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "2", "--database", database, "--base-url", base],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=folder,
        )  # fmt: skip
        peak = [0.0]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                peak[0] = max(peak[0], memory_mib(server.pid))
                time.sleep(0.05)

        try:
            wait_for(f"{base}/healthz")
            resting = memory_mib(server.pid)
            alone = wrk(base, script, arguments.seconds)
            sampler = threading.Thread(target=sample)
            sampler.start()
            started = time.perf_counter()
            with ThreadPoolExecutor(arguments.logins) as pool:
                answers = pool.map(log_in, [base] * arguments.logins, range(arguments.logins))
                during = wrk(base, script, arguments.seconds)
                statuses = list(answers)
            took = time.perf_counter() - started
            sampling.set()
            sampler.join()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    logged_in = sum(1 for status in statuses if status in (200, 303))
    print(f"| what ({arguments.plans:,} plans, 2 workers) | feeds per second | p50 | p99 | server memory |")
    print("|---|---|---|---|---|")
    print(
        f"| feeds alone | {alone['per_second']:,.0f} | {alone['p50_ms']:.1f} ms | {alone['p99_ms']:.1f} ms | {resting:.0f} MiB |"
    )
    print(
        f"| feeds during {arguments.logins} logins at once | {during['per_second']:,.0f} | {during['p50_ms']:.1f} ms | "
        f"{during['p99_ms']:.1f} ms | {peak[0]:.0f} MiB at the peak |"
    )
    print(
        f"\n{logged_in} of {arguments.logins} logins succeeded in {took:.1f} s; feed p99 {during['p99_ms'] / alone['p99_ms']:.2f} × alone"
    )


if __name__ == "__main__":
    main()
