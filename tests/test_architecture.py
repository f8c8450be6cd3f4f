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
BASE = {"errors", "cache", "words", "output", "__init__"}


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
