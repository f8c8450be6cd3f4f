"""Synthetic protocols for the coherence proof's growth: the bundled hamstring protocol with N
extra parameters and N extra recordable milestones, each milestone followed by a routine whose
level the proof compares with every phase's. Used by benchmarks/run.py; run alone it writes the
files to a folder:

    python benchmarks/synthetic_validate.py FOLDER 6 12 24 48
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def extra_checks(folder: Path, extra: int) -> Path:
    """A protocol extending the hamstring one with `extra` parameters and recordable milestones."""
    lines = [
        f'id = "hamstring-plus-{extra}"',
        f'extends = "{ROOT / "protocols" / "proximal-hamstring-repair.toml"}"',
        f'title = "Hamstring repair with {extra} extra checks"',
        'version = "1"',
        'references = ["B1: benchmark, not a clinical source"]',
        "",
    ]
    for n in range(extra):
        lines += [
            f"[parameters.check_{n}_weeks]",
            f"default = {8 + n % 3}",
            "min = 7",
            "max = 11",
            'sources = ["B1"]',
            "",
            "[[milestones]]",
            f'id = "check-{n}"',
            f'title = "Check {n}"',
            f'at = "{{check_{n}_weeks}} weeks"',
            'recordable = ["7 weeks", "12 weeks"]',
            'sources = ["B1"]',
            "",
            "[[routines]]",
            f'id = "after-check-{n}"',
            f'title = "Exercise after check {n}"',
            'description = "Do it slowly."',
            f'start = "later of check-{n}, end of protection"',
            'end = "end of strengthening"',
            'needs = { loading = "light" }',
            'times = ["morning"]',
            "minutes = 5",
            'sources = ["B1"]',
            "",
        ]
    path = folder / f"hamstring-plus-{extra}.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for count in sys.argv[2:]:
        print(extra_checks(out, int(count)))
