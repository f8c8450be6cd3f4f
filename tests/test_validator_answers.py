"""The validator's answers on every protocol file the tests keep, and on the bundled ones, pinned.

A change to how `validate` proves a file (which plans it lays out, in what order) must not change
what it finds: the golden file holds, per file, each error's place and message and the number of
warnings, as the proof before the change found them.
"""

from __future__ import annotations

import json
from pathlib import Path

from recovery.schedule.trial import validate

from conftest import BUNDLED, PROTOCOLS, Golden, run


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


def test_validate_says_when_values_that_meet_are_not_tried_in_every_combination(tmp_path: Path) -> None:
    # Three more parameters that meet the bundled four in one comparison each: seven together are
    # more than the proof combines, so it tries each alone and says so instead of staying silent.
    lines = [
        'id = "hamstring-plus-3"',
        f'extends = "{BUNDLED / "proximal-hamstring-repair.toml"}"',
        'title = "Hamstring repair with 3 extra checks"',
        'version = "1"',
        'references = ["B1: a test, not a clinical source"]',
    ]
    for n in range(3):
        lines += [
            f'[parameters.check_{n}_weeks]\ndefault = 8\nmin = 7\nmax = 11\nsources = ["B1"]',
            f'[[milestones]]\nid = "check-{n}"\ntitle = "Check {n}"\nat = "{{check_{n}_weeks}} weeks"\n'
            'recordable = ["7 weeks", "12 weeks"]\nsources = ["B1"]',
            f'[[routines]]\nid = "after-check-{n}"\ntitle = "Exercise {n}"\ndescription = "Slowly."\n'
            f'start = "later of check-{n}, end of protection"\nend = "end of strengthening"\n'
            'needs = { loading = "light" }\ntimes = ["morning"]\nminutes = 5\nsources = ["B1"]',
        ]
    path = tmp_path / "hamstring-plus-3.toml"
    path.write_text("\n\n".join(lines), encoding="utf-8")
    findings = validate(path)
    assert findings.ok
    assert any("check_2_weeks" in note and "each was tried alone" in note for note in findings.notes)
    result = run("validate", str(path))
    assert result.exit_code == 0
    assert "note: " in result.stderr
    assert "not every combination" in result.stderr
