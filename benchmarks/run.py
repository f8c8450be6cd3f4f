"""The project's benchmarks in one table: whole-process time of each command against the floor,
a clinic batch, plans per second in one process, file size, peak memory, and how cost grows with
a protocol's size. Measured, never asserted: these are not tests.

The floor is a Python process that only imports what every run needs
(`python -c "import icalendar, click, dateutil"`). Each command and the floor run in turn
(A B A B …) so that the machine's drift affects both; the ratio is taken pair by pair and its
median reported. Commands run as on a user's machine: bytecode caching on, protocol cache warm
(the first use after install is timed separately, with a cold cache).

    python benchmarks/run.py [--runs 11] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = [sys.executable, "-c", "import icalendar, click, dateutil"]
# icalendar 7 loads its modules on first use: the floor above does not load the value types
# (TEXT, durations) that any program writing a calendar with icalendar uses. This one does.
FLOOR_WRITING = [sys.executable, "-c", "import icalendar, click, dateutil; from icalendar.prop import vText"]
# The program pauses Python's garbage collector while it imports and freezes what it imported
# (recovery/__main__.py), which the plain floor does not. This floor does the same, to show how
# much of a ratio comes from that and how much from the program's own code.
FLOOR_PAUSED = [sys.executable, "-c", "import gc; gc.disable(); import icalendar, click, dateutil; gc.freeze()"]
# The handout renders with Jinja2, which the floor does not import: this is the floor of any
# program that renders a template with it.
FLOOR_TEMPLATE = [sys.executable, "-c", "import icalendar, click, dateutil, jinja2"]
CLI = [sys.executable, str(ROOT / "cli.py")]
PLAN = ["--surgery-date", "2027-03-01", "--timezone", "America/New_York"]


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def paired(command: list[str], env: dict[str, str], runs: int, floor: list[str] = FLOOR) -> tuple[float, float]:
    """(median seconds of the command, median of the pairwise ratios to the floor)."""
    timed(command, env), timed(floor, env)  # warm the file system cache (and the protocol cache)
    times, ratios = [], []
    for _ in range(runs):
        a, b = timed(command, env), timed(floor, env)
        times.append(a)
        ratios.append(a / b)
    return statistics.median(times), statistics.median(ratios)


def batch_file(folder: Path, rows: int) -> Path:
    path = folder / "plans.csv"
    zones = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Pacific/Auckland"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["surgery-date", "protocol", "timezone", "side", "variant"])
        for n in range(rows):
            protocol = "achilles-tendon-repair" if n % 3 == 0 else "proximal-hamstring-repair"
            variant = "accelerated" if n % 5 == 1 and protocol.startswith("proximal") else ""
            day = date(2027, 1, 1) + timedelta(days=n % 700)
            writer.writerow([day.isoformat(), protocol, zones[n % len(zones)], "left" if n % 2 else "right", variant])
    return path


def in_process_rate(seconds: float = 3.0, windows: int = 5) -> float:
    """Plans per second in one process: load once, then build and write .ics bytes per plan.
    The median of `windows` equal windows after one of warm-up (the first plans fill the
    caches), so that a moment when the machine stalls does not decide the figure."""
    sys.path.insert(0, str(ROOT))
    import recovery

    protocol = recovery.load("proximal-hamstring-repair")
    count = 0

    def window(length: float) -> float:
        nonlocal count
        made, start = 0, time.perf_counter()
        while time.perf_counter() - start < length:
            day = date(2027, 1, 1) + timedelta(days=count % 500)
            recovery.to_ics(recovery.build(protocol, recovery.Plan(surgery_date=day, timezone="Europe/Berlin")))
            made, count = made + 1, count + 1
        return made / (time.perf_counter() - start)

    window(seconds / windows)
    return statistics.median(window(seconds / windows) for _ in range(windows))


def synthetic(folder: Path, routines: int, chain: int) -> Path:
    """A protocol of 20 years with `routines` routines and a chain of `chain` references."""
    lines = ['id = "synthetic"', 'title = "Synthetic"', 'version = "1"']
    lines += ["[[milestones]]", 'id = "m0"', 'title = "M0"', 'at = "day 1"']
    for n in range(1, chain + 1):
        lines += ["[[milestones]]", f'id = "m{n}"', f'title = "M{n}"', f'at = "m{n - 1} + 1 day"']
    for n in range(routines):
        lines += ["[[routines]]", f'id = "r{n}"', f'title = "Routine {n}"', f'start = "{n % 30 + 1} days"']
        lines += ['end = "240 months"', f'times = ["{["morning", "midday", "evening"][n % 3]}"]']
        if n % 4 == 0:
            lines.append('weekdays = ["mon", "thu"]')
    lines += [
        "[[red_flags]]",
        'sign = "Chest pain"',
        'action = "Call your local emergency number now."',
        "emergency = true",
    ]
    path = folder / f"synthetic-{routines}-{chain}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def layout_times(paths: list[Path], rounds: int = 7) -> list[float]:
    """Seconds to lay out each protocol in one process (after loading it): the best of `rounds`,
    the protocols taken in turn, so that a moment when the machine stalls hits none of them twice
    and their ratio, which shows whether cost grows linearly, is read at the same speed."""
    sys.path.insert(0, str(ROOT))
    import recovery

    protocols = [recovery.load(path) for path in paths]
    plan = recovery.Plan(surgery_date=date(2027, 3, 1), timezone="Europe/Berlin")
    best = [float("inf")] * len(protocols)
    for _ in range(rounds):
        for n, protocol in enumerate(protocols):
            start = time.process_time()
            recovery.build(protocol, plan)
            best[n] = min(best[n], time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--quick", action="store_true", help="fewer runs and a smaller batch")
    args = parser.parse_args()
    runs = 5 if args.quick else args.runs

    scratch = Path(tempfile.mkdtemp())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(SOURCE_DATE_EPOCH="1795000000", RECOVERY_CACHE_DIR=str(scratch / "cache"), PYTHONPATH=str(ROOT))
    out = scratch / "plan.ics"
    commands = {
        "generate (.ics)": [*CLI, "generate", *PLAN, "-o", str(out)],
        "generate --format json": [*CLI, "generate", *PLAN, "--format", "json", "-o", str(scratch / "plan.json")],
        "handout": [*CLI, "handout", *PLAN, "-o", str(scratch / "plan.html")],
        "validate": [*CLI, "validate", "protocols/proximal-hamstring-repair.toml"],
        "agenda": [*CLI, "agenda", *PLAN, "--on", "2027-03-24"],
        "show": [*CLI, "show", "proximal-hamstring-repair"],
    }
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"runs: {runs} interleaved pairs per command; ratio = median of command/floor per pair")
    print()
    print(f"| {'what':<34} | {'median':>9} | {'ratio to floor':>14} |")
    print(f"|{'-' * 36}|{'-' * 11}|{'-' * 16}|")
    floor = statistics.median(timed(FLOOR, env) for _ in range(runs))
    print(f"| {'floor (import icalendar, click, dateutil)':<34} | {floor * 1000:>6.0f} ms | {'1.00':>14} |")
    for name, command in commands.items():
        seconds, ratio = paired(command, env, runs)
        print(f"| {name:<34} | {seconds * 1000:>6.0f} ms | {ratio:>14.2f} |")
    for name, other in (("floor + icalendar value types", FLOOR_WRITING), ("floor, collector paused", FLOOR_PAUSED)):
        seconds, ratio = paired(commands["generate (.ics)"], env, runs, other)
        other_seconds = statistics.median(timed(other, env) for _ in range(runs))
        print(f"| {name:<34} | {other_seconds * 1000:>6.0f} ms | {'':>14} |")
        print(f"| {'generate (.ics), against that':<34} | {seconds * 1000:>6.0f} ms | {ratio:>14.2f} |")
    seconds, ratio = paired(commands["handout"], env, runs, FLOOR_TEMPLATE)
    print(
        f"| {'floor + jinja2':<34} | {statistics.median(timed(FLOOR_TEMPLATE, env) for _ in range(runs)) * 1000:>6.0f} ms | {'':>14} |"
    )
    print(f"| {'handout, against that':<34} | {seconds * 1000:>6.0f} ms | {ratio:>14.2f} |")
    cold = []
    for _ in range(3):
        shutil.rmtree(scratch / "cache", ignore_errors=True)
        cold.append(timed(commands["generate (.ics)"], env))
    print(f"| {'generate, first use (cold cache)':<34} | {statistics.median(cold) * 1000:>6.0f} ms | "
          f"{statistics.median(cold) / floor:>14.2f} |")  # fmt: skip

    rows = 200 if args.quick else 1000
    plans = batch_file(scratch, rows)
    timed([*CLI, "batch", str(plans), "--out-dir", str(scratch / "batch")], env)  # warm
    start = time.perf_counter()
    subprocess.run([*CLI, "batch", str(plans), "--out-dir", str(scratch / "batch")], check=True, env=env,
                   stdout=subprocess.DEVNULL, cwd=ROOT)  # fmt: skip
    batch_seconds = time.perf_counter() - start
    print()
    print(
        f"batch of {rows} plans (whole process, every core): {batch_seconds:.2f} s = {rows / batch_seconds:.0f} plans/s"
    )
    print(f"in one process (load once, build + .ics bytes): {in_process_rate(1.0 if args.quick else 3.0):.0f} plans/s")
    print(f"file size (hamstring, New York): {out.stat().st_size / 1024:.1f} KB")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory of any command above: {peak:.0f} MiB")
    print()
    print("cost against a protocol's size (20 years of reminders; in one process, after loading; best of 7):")
    print(f"| {'routines':>8} | {'chain of references':>19} | {'lay out':>9} | {'per routine':>11} |")
    print(f"|{'-' * 10}|{'-' * 21}|{'-' * 11}|{'-' * 13}|")
    sizes = ((250, 500), (500, 1000), (1000, 2000))
    for (routines, chain), seconds in zip(
        sizes, layout_times([synthetic(scratch, *size) for size in sizes]), strict=True
    ):
        print(f"| {routines:>8} | {chain:>19} | {seconds * 1000:>6.0f} ms | {seconds / routines * 1e6:>8.0f} µs |")
    print()
    proof_growth(scratch, env, 3 if args.quick else 5)
    shutil.rmtree(scratch, ignore_errors=True)


def proof_growth(scratch: Path, env: dict[str, str], runs: int) -> None:
    """`validate` of the hamstring protocol with N extra parameters and N recordable milestones
    (benchmarks/synthetic_validate.py), whole process, nothing kept in the cache (a surgeon's
    edited file), against the number of comparisons the proof makes."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synthetic_validate import extra_checks

    import recovery
    from recovery.schedule.proof import relations

    cold = {**env, "RECOVERY_CACHE_DIR": ""}
    print("validate against a protocol's size (hamstring + N parameters + N recordable milestones; no cache):")
    print(f"| {'N':>3} | {'compared pairs':>14} | {'validate':>9} | {'per 100 pairs':>13} |")
    print(f"|{'-' * 5}|{'-' * 16}|{'-' * 11}|{'-' * 15}|")
    for extra in (0, 6, 12, 24, 48):
        path = extra_checks(scratch, extra)
        pairs = sum(1 for _ in relations(recovery.load(path)))
        seconds = statistics.median(timed([*CLI, "validate", str(path)], cold) for _ in range(runs))
        print(f"| {extra:>3} | {pairs:>14} | {seconds * 1000:>6.0f} ms | {seconds / pairs * 100 * 1000:>10.0f} ms |")


if __name__ == "__main__":
    main()
