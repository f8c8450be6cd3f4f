"""The layers of docs/architecture.md hold: no module imports from a layer above its own."""

from __future__ import annotations

import ast

import pytest

from conftest import HERE

PACKAGE = HERE.parent / "recovery"
#: Each layer and what it may import from the package (besides itself).
MAY_IMPORT = {
    "base": set(),
    "protocol": {"base"},
    "schedule": {"base", "protocol"},
    "writers": {"base", "schedule"},  # a writer reads only the Schedule
    "serve": {"base", "protocol", "schedule", "writers"},  # the server is a front end, like the command line
    "cli": {"base", "protocol", "schedule", "writers", "serve"},
}
BASE = {"errors", "cache", "digests", "files", "records", "words", "language", "output", "pictures", "__init__"}


def layer(module: str) -> str:
    """The layer of a dotted module name inside the package."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in BASE:
        return "base"
    if parts[0] in ("cli", "__main__", "batch", "options"):
        return "cli"
    return parts[0]


def imports(path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("recovery"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("recovery")}
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_from_its_own_layer_and_those_below(path) -> None:
    name = ".".join(("recovery", *path.relative_to(PACKAGE).with_suffix("").parts))
    own = layer(name)
    if name == "recovery.__init__":
        return  # the package's lazy names point everywhere on purpose
    for imported in imports(path):
        other = layer(imported)
        assert other == own or other in MAY_IMPORT[own], f"{name} ({own}) imports {imported} ({other})"


def test_a_record_s_fields_cannot_be_assigned_to_the_type_checker(tmp_path) -> None:
    """Records are plain dataclasses at run time (recovery/records.py); the type check in CI is what
    keeps them values, so it must refuse an assignment to a field as it would for a frozen one."""
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "assigns.py"
    snippet.write_text(
        "from recovery.protocol.model import Protocol\n"
        "from recovery.schedule.items import Schedule\n\n\n"
        "def change(protocol: Protocol, schedule: Schedule) -> None:\n"
        "    protocol.title = 'another'\n"
        "    schedule.protocol_title = 'another'\n"
    )
    out, _, status = api.run(
        ["--no-incremental", "--follow-imports=silent", "--cache-dir", str(tmp_path), str(snippet)]
    )
    assert status == 1
    assert out.count("is read-only") == 2, out
