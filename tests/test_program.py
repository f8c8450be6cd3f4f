"""The program (`recovery`, `python -m recovery`, `python cli.py`) pauses the garbage collector
while it imports and freezes what it imported; a program importing recovery as a library does
not have its collector touched."""

from __future__ import annotations

import subprocess
import sys

from conftest import HERE


def python(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True, cwd=HERE.parent
    )
    return done.stdout.strip()


def test_importing_the_library_leaves_the_garbage_collector_alone() -> None:
    script = (  # CPython 3.12 starts with some objects frozen already
        "import gc; before = gc.get_freeze_count()\n"
        "import recovery, recovery.cli\nprint(gc.isenabled(), gc.get_freeze_count() == before)"
    )
    assert python(script) == "True True"


def test_the_program_freezes_what_it_imported_and_still_collects() -> None:
    script = (
        "import gc, sys\nfrom recovery.__main__ import run\nsys.argv = ['recovery', '--version']\n"
        "try:\n    run()\nexcept SystemExit:\n    print(gc.isenabled(), gc.get_freeze_count() > 10_000)\n"
    )
    assert python(script).splitlines()[-1] == "True True"


def test_python_m_recovery_and_the_checkout_script_run_the_program() -> None:
    for command in ([sys.executable, "-m", "recovery", "--version"], [sys.executable, "cli.py", "--version"]):
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=HERE.parent)
        assert done.stdout.startswith("recovery ")
