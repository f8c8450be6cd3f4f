"""The library as a Python developer meets it: named, typed, documented."""

import inspect
import os
import subprocess
import sys
import textwrap

import recovery

from conftest import HERE


def test_the_package_names_its_api() -> None:
    names = set(dir(recovery))
    assert {"load", "build", "Plan", "to_ics", "to_json", "to_handout", "agenda", "validate", "Cache"} <= names
    assert "import_module" not in names
    for name in recovery.__all__:
        assert getattr(recovery, name) is not None


def test_plan_shows_its_fields_in_help() -> None:
    signature = str(inspect.signature(recovery.Plan))
    assert signature.startswith("(surgery_date: 'date', timezone: 'str' = 'UTC'")


def test_a_type_checker_sees_the_api_types(tmp_path) -> None:
    """mypy --strict, on a program that uses the library, knows what each call returns."""
    program = tmp_path / "clinic.py"
    program.write_text(
        textwrap.dedent(
            """
            import recovery

            protocol = recovery.load("proximal-hamstring-repair")
            plan = recovery.Plan.from_json({"surgery_date": "2027-03-01"})
            schedule = recovery.build(protocol, plan)
            reveal_type(protocol)
            reveal_type(schedule)
            reveal_type(recovery.to_ics(schedule))
            reveal_type(recovery.validate("proximal-hamstring-repair"))
            """
        )
    )
    # Installed (as CI tests it), mypy reads the package's py.typed; in a checkout, its sources.
    env = {"PATH": "/usr/bin:/bin"} if os.environ.get("RECOVERY_TEST_INSTALLED") else {"MYPYPATH": str(HERE.parent)}
    config = HERE.parent / "pyproject.toml"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", str(config), str(program)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    revealed = [line.split("Revealed type is ")[1] for line in done.stdout.splitlines() if "Revealed type" in line]
    assert revealed == [
        '"recovery.protocol.model.Protocol"',
        '"recovery.schedule.items.Schedule"',
        '"bytes"',
        '"recovery.schedule.validate.Findings"',
    ], done.stdout
