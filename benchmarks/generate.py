"""Time the whole `recovery generate` process against the bare floor, and report the file size.

The floor is a Python process that only imports the libraries every run needs
(`python -c "import icalendar, click, dateutil"`). The ratio of the medians says what the
project itself costs on top. Targets (issue 3): ratio <= 1.5, file < 100 KB.

Both commands run as on a user's machine: bytecode caching on (some machines turn it off with
PYTHONDONTWRITEBYTECODE, which would charge the project for compiling itself on every run), and
after a warm-up, so the protocol cache is filled. The first use of a protocol file, which
validates it, is timed separately.

    python benchmarks/generate.py [--runs 15] [--protocol NAME] [--timezone ZONE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--protocol", default="proximal-hamstring-repair")
    parser.add_argument("--timezone", default="America/New_York")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp())
    out = scratch / "plan.ics"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(SOURCE_DATE_EPOCH="1795000000", RECOVERY_CACHE_DIR=str(scratch / "cache"))
    generate = [sys.executable, "cli.py", "generate", "--surgery-date", "2027-03-01"]
    generate += ["--protocol", args.protocol, "--timezone", args.timezone, "-o", str(out)]
    floor = [sys.executable, "-c", "import icalendar, click, dateutil"]

    first_use = timed(generate, env)  # validates the protocol and fills the cache
    timed(generate, env), timed(floor, env)  # warm the file system cache
    generate_times, floor_times = [], []
    for _ in range(args.runs):  # interleaved, so that machine load affects both alike
        generate_times.append(timed(generate, env))
        floor_times.append(timed(floor, env))
    ratio = statistics.median(generate_times) / statistics.median(floor_times)
    size = out.stat().st_size
    print(f"protocol            {args.protocol} ({args.timezone})")
    print(f"runs                {args.runs}")
    print(f"generate median     {statistics.median(generate_times) * 1000:.0f} ms")
    print(f"floor median        {statistics.median(floor_times) * 1000:.0f} ms")
    print(f"first use           {first_use * 1000:.0f} ms  (validates the protocol, fills the cache)")
    print(f"ratio               {ratio:.2f}  (target <= 1.5)")
    print(f"file size           {size / 1024:.1f} KB  (target < 100 KB)")


if __name__ == "__main__":
    main()
