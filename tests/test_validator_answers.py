"""The validator's answers on every protocol file the tests keep, and on the bundled ones, pinned.

A change to how `validate` proves a file (which plans it lays out, in what order) must not change
what it finds: the golden file holds, per file, each error's place and message and the number of
warnings, as the proof before the change found them.
"""

from __future__ import annotations

import json
from pathlib import Path

from recovery.schedule.validate import validate

from conftest import BUNDLED, PROTOCOLS, Golden, protocol_file, run


def test_validate_finds_the_same_problems_in_every_kept_file(golden: Golden) -> None:
    root = str(PROTOCOLS.parent.parent)
    answers = {}
    files = sorted(PROTOCOLS.rglob("*.toml")) + sorted(BUNDLED.glob("*.toml"))
    assert len(files) > 40
    for path in files:
        findings = validate(path)
        name = str(path.relative_to(PROTOCOLS.parent.parent)) if path.is_relative_to(root) else path.name
        answers[name] = {
            "errors": sorted(f"{p.where} | {p.message}".replace(root + "/", "") for p in findings.errors),
            "warnings": len(findings.warnings),
            "notes": list(findings.notes),
        }
    golden.check("validate-answers.json", (json.dumps(answers, indent=1, sort_keys=True) + "\n").encode())


def test_validate_says_when_values_that_meet_are_not_tried_in_every_combination() -> None:
    # One routine whose start is the latest of seven parameters: see the file.
    path = Path(protocol_file("seven-waits"))
    findings = validate(path)
    assert findings.ok, findings.errors
    assert any("wait_6_weeks" in note and "each was tried alone" in note for note in findings.notes)
    result = run("validate", str(path))
    assert result.exit_code == 0
    assert "note: " in result.stderr
    assert "not every combination" in result.stderr


def test_a_kept_answer_is_the_answer_and_a_changed_file_is_proved_again(tmp_path: Path, monkeypatch) -> None:
    from recovery.cache import Cache
    from recovery.schedule import validate as checking

    cache, warning = Cache.open(tmp_path / "cache")
    assert cache is not None, warning
    source = (BUNDLED / "proximal-hamstring-repair.toml").read_text()
    path = tmp_path / "mine.toml"
    path.write_text(source)
    first = validate(path, cache=cache)
    proved = []
    monkeypatch.setattr(checking, "_check", lambda protocol: proved.append(protocol.id) or checking.Findings())
    assert validate(path, cache=cache) == first  # kept: not proved again
    assert validate(path, strict=True, cache=cache).errors == first.warnings
    assert proved == []
    path.write_text(source.replace("default = 6        # S4", "default = 7        # S4"))
    validate(path, cache=cache)
    assert proved == ["proximal-hamstring-repair"]


def test_a_malformed_kept_answer_is_proved_again_not_believed(tmp_path: Path) -> None:
    # An entry that passes the cache's own checks (it is well-formed JSON with its digest) but is
    # not an answer of this shape: validate works it out again instead of failing or trusting it.
    from recovery.cache import Cache
    from recovery.protocol.loader import load
    from recovery.schedule import validate as checking

    cache, warning = Cache.open(tmp_path / "cache")
    assert cache is not None, warning
    path = tmp_path / "mine.toml"
    path.write_text((BUNDLED / "proximal-hamstring-repair.toml").read_text())
    entry = checking._answer_key(load(path, cache=cache))
    expected = validate(path)
    for planted in ("passed", {"errors": [{"message": "x", "colour": 1}], "warnings": [], "notes": []}, {"errors": 3}):
        cache.put(checking.ANSWER, entry, planted)
        assert validate(path, cache=cache) == expected
