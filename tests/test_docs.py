"""The docs tell the truth: the guide's complete examples validate, the command-line reference is current."""

import re

import pytest

from conftest import HERE, run

GUIDE = HERE.parent / "docs" / "protocol-format.md"
BLOCKS = [
    b for b in re.findall(r"```toml\n(.*?)```", GUIDE.read_text(), re.S) if re.search(r"^(version|extends) = ", b, re.M)
]


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: re.search(r'^id = "(.*)"', b, re.M).group(1))
def test_complete_example_in_the_guide_validates(tmp_path, block: str) -> None:
    path = tmp_path / "example.toml"
    path.write_text(block)
    result = run("validate", "--strict", str(path))
    assert result.exit_code == 0, result.stderr


def test_the_guide_has_both_complete_examples() -> None:
    assert len(BLOCKS) >= 2


def test_the_command_line_reference_is_what_the_commands_print() -> None:
    from cogapp import Cog

    status = Cog().main(["cog", "--check", str(HERE.parent / "docs" / "cli.md")])
    assert status == 0, "docs/cli.md is out of date: run `cog -r docs/cli.md`"


def test_every_command_is_in_the_command_line_reference() -> None:
    from recovery.cli import main

    reference = (HERE.parent / "docs" / "cli.md").read_text()
    assert all(f"## recovery {name}\n" in reference for name in main.commands)


def test_the_library_guide_runs() -> None:
    import doctest

    result = doctest.testfile(
        str(HERE.parent / "docs" / "library.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert result.failed == 0
    assert result.attempted >= 10


DOCUMENTS = [HERE.parent / "README.md", *sorted((HERE.parent / "docs").glob("*.md"))]


def example_commands() -> list[tuple[str, str]]:
    """(document, command line) of every `recovery …` example: in shell blocks, and in each
    command's --help (which docs/cli.md holds)."""
    found = []
    for document in DOCUMENTS:
        for language, body in re.findall(r"```(\w*)\n(.*?)```", document.read_text(), re.S):
            for line in body.splitlines():
                line = line.strip().rpartition("&& ")[2]  # the quick start installs first
                if language in ("sh", "text", "") and re.match(r"([A-Z_]+=\S+ )?recovery ", line):
                    found.append((document.name, line))
    # A server runs until it is stopped, and one on PostgreSQL needs that database: tests/test_serve.py
    # starts `recovery serve` as a process and stops it; the rest run here.
    server = r"([A-Z_]+=\S+ )?recovery serve|recovery db upgrade --database postgres"
    return [(d, line) for d, line in found if not re.match(server, line)]


def test_every_example_command_is_found() -> None:
    assert len(example_commands()) >= 30


@pytest.mark.parametrize(
    ("document", "line"),
    sorted(set(example_commands()), key=lambda example: "--update" in example[1]),  # --update needs plan.ics
    ids=lambda value: value if isinstance(value, str) and value.endswith(".md") else None,
)
def test_every_example_command_runs(
    tmp_path_factory, monkeypatch: pytest.MonkeyPatch, document: str, line: str
) -> None:
    import shlex
    import shutil

    folder = tmp_path_factory.getbasetemp() / "examples-folder"
    if not folder.exists():  # one folder for all of them, as a user's would be
        folder.mkdir()
        (folder / "examples").mkdir()
        shutil.copy(HERE.parent / "examples" / "plans.csv", folder / "examples" / "plans.csv")
        shutil.copy(HERE.parent / "examples" / "check-ins.csv", folder / "examples" / "check-ins.csv")
        shutil.copy(HERE.parent / "examples" / "plans.csv", folder / "plans.csv")
        shutil.copytree(HERE.parent / "protocols", folder / "protocols")
        (folder / "home" / "clinic-protocols").mkdir(parents=True)
        clinic = re.search(r"```toml\n(id = \"clinic-hamstring\".*?)```", (HERE.parent / "README.md").read_text(), re.S)
        assert clinic is not None
        (folder / "my-clinic.toml").write_text(clinic.group(1))
        assert run("generate", "--surgery-date", "2027-03-01", "-o", "plan.ics", cwd=folder).exit_code == 0
    monkeypatch.setenv("HOME", str(folder / "home"))
    words = shlex.split(line, comments=True)
    env = {}
    if "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        env[name] = value.replace("~", str(folder / "home"))
    words = [word.replace("~", str(folder / "home")) for word in words]
    redirect = words.index(">") if ">" in words else None
    target = words[redirect + 1] if redirect is not None else None
    words = words[1:redirect]
    words = [str(path) for word in words for path in (sorted(folder.glob(word)) if "*" in word else [word])]
    result = run(*words, env=env, cwd=folder)
    assert result.exit_code == 0, f"{document}: {line}\n{result.stderr}"
    if target is not None:
        assert result.stdout


def test_the_readme_python_example_runs(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (block,) = re.findall(r"```python\n(.*?)```", (HERE.parent / "README.md").read_text(), re.S)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert bytes(namespace["calendar_bytes"]).startswith(b"BEGIN:VCALENDAR")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_the_readme_clinic_protocol_validates(tmp_path) -> None:
    clinic = re.search(r"```toml\n(id = \"clinic-hamstring\".*?)```", (HERE.parent / "README.md").read_text(), re.S)
    assert clinic is not None
    (tmp_path / "clinic-hamstring.toml").write_text(clinic.group(1))
    result = run("validate", "--strict", str(tmp_path / "clinic-hamstring.toml"))
    assert result.exit_code == 0, result.stderr
