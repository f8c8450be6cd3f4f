"""The package as a user installs it: everything it needs is inside it, nothing comes from the checkout.

CI installs the built wheel into a fresh virtual environment and sets RECOVERY_TEST_INSTALLED=1,
so that these tests fail when a module, a bundled protocol, the schema or a template is missing
from the wheel. Run from a checkout without that variable, they are skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import recovery
from recovery.protocol import loader

from conftest import HERE, installed_package_is_tested, run

pytestmark = pytest.mark.skipif(
    not installed_package_is_tested(), reason="set RECOVERY_TEST_INSTALLED=1 to test an installed wheel (CI does)"
)
PACKAGE = Path(recovery.__file__).resolve().parent


def test_the_package_under_test_is_the_installed_one() -> None:
    assert (HERE.parent / "recovery").resolve() != PACKAGE, f"tests imported the checkout: {PACKAGE}"
    assert "site-packages" in PACKAGE.parts


def test_bundled_protocols_and_their_schema_are_inside_the_package() -> None:
    bundled = loader.bundled_folder()
    assert bundled.parent == PACKAGE
    shipped = sorted(p.name for p in bundled.iterdir() if p.suffix in (".toml", ".json"))
    in_checkout = sorted(p.name for p in (HERE.parent / "protocols").iterdir() if p.suffix in (".toml", ".json"))
    assert shipped == in_checkout


def test_every_module_and_template_of_the_checkout_is_installed() -> None:
    wanted = {p.relative_to(HERE.parent / "recovery") for p in (HERE.parent / "recovery").rglob("*") if p.is_file()}
    wanted = {p for p in wanted if p.suffix in (".py", ".j2")}
    installed = {p.relative_to(PACKAGE) for p in PACKAGE.rglob("*") if p.is_file()}
    assert wanted <= installed, sorted(map(str, wanted - installed))


def test_the_main_job_works_from_the_installed_package(tmp_path) -> None:
    result = run("generate", "--surgery-date", "2027-03-01", "--timezone", "America/New_York", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "proximal-hamstring-repair-2027-03-01.ics").is_file()
    handout = run("handout", "--surgery-date", "2027-03-01", "--timezone", "UTC", "-o", "-")
    assert handout.exit_code == 0, handout.stderr
