"""The clinic's database as it grows: making plans, recording a date, the size of a plan.

Makes PLANS plans in a fresh SQLite database (or --database URL), records a brace-off on
RECORD of them (each a new revision, made over the stored calendar before it), and prints the
time per plan, the p50 and p90 of recording a date, and the database's size per plan with what
that comes to at 100,000 plans (SQLite only: the file's size).

    python benchmarks/store.py [--plans 3000] [--record 200] [--database URL]

Measured, never asserted: these are not tests.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recovery.serve.store import open_store  # noqa: E402

PLAN = {"surgery_date": "2027-03-01", "timezone": "Europe/Berlin", "side": "left"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plans", type=int, default=3000)
    parser.add_argument("--record", type=int, default=200)
    parser.add_argument("--database", default="")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        path = Path(temporary) / "recovery.db"
        store = open_store(arguments.database or f"sqlite:///{path}")
        started = time.perf_counter()
        made = [store.create_plan({**PLAN, "plan_id": f"P-{n}"}, "bench") for n in range(arguments.plans)]
        per_plan = (time.perf_counter() - started) / arguments.plans
        times = []
        for plan in made[: arguments.record]:
            started = time.perf_counter()
            store.record(plan.public_id, "brace-off", "2027-04-15", "bench")
            times.append(time.perf_counter() - started)
        times.sort()
        print(f"making a plan: {per_plan * 1000:.1f} ms")
        print(
            f"recording a date: p50 {times[len(times) // 2] * 1000:.1f} ms, p90 {times[len(times) * 9 // 10] * 1000:.1f} ms"
        )
        if not arguments.database:
            size = path.stat().st_size
            print(
                f"database: {size / 1e6:.1f} MB for {arguments.plans:,} plans ({size / arguments.plans / 1e3:.1f} KB a plan; "
                f"100,000 plans: about {size / arguments.plans * 1e5 / 1e9:.2f} GB)"
            )


if __name__ == "__main__":
    main()
