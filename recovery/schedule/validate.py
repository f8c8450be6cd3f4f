"""`validate`: everything the program checks in a protocol file, as one answer.

A protocol is read and checked key by key (`protocol.loader`), laid out on the trial plans and
proved coherent (`schedule.trial`), then its numbers are checked for sources
(`protocol.review`). With a cache, the answer for a protocol this code has checked before is
the one found then.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from dataclasses import replace
from pathlib import Path
from typing import Any

from recovery.cache import Cache
from recovery.errors import Problem, RecoveryError
from recovery.protocol.loader import load
from recovery.protocol.model import Protocol
from recovery.protocol.review import untagged_numbers, without_pictures
from recovery.records import record
from recovery.schedule.trial import coherence_problems, trial_problems
from recovery.schedule.zones import TZDATA_VERSION


@record
class Findings:
    """What `validate` found in a protocol: errors (it cannot be used) and warnings (a number
    without a source, which `strict` makes an error)."""

    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    #: What the coherence proof could not try in full (see `coherence_plans`): said, not hidden.
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the protocol can be used as it is."""
        return not self.errors


def validate(reference: str | Path, strict: bool = False, cache: Cache | None = None) -> Findings:
    """Check one protocol (a name or a path) as `recovery validate` does, reading it once: its keys
    and cross-item checks, its layouts on the trial plans, its coherence, then its sources
    (warnings, or errors when `strict`). Problems always carry the file they are in. With a
    `cache`, the answer for a protocol this code has checked before is the one found then (see
    `_answer_key`): the trial dates are fixed, so it could only be the same."""
    try:
        protocol = load(reference, cache=cache)
    except RecoveryError as error:
        return Findings(errors=tuple(p if p.file else replace(p, file=str(reference)) for p in error.problems))
    entry = _answer_key(protocol) if cache is not None else ""
    kept = cache.get(ANSWER, entry) if cache is not None else None
    found = _findings_from(kept) if kept is not None else None
    if found is None:
        found = _check(protocol)
        if cache is not None:
            cache.put(ANSWER, entry, _findings_data(found))
    if not found.errors:
        found = _with_translations(protocol, found, cache)
    if strict and not found.errors:
        return Findings(errors=found.warnings, notes=found.notes)
    return found


def _with_translations(protocol: Protocol, found: Findings, cache: Cache | None) -> Findings:
    """The findings with those of the protocol's translation files (read each time, not kept: a
    translator changes them apart from the protocol, and checking them takes a few milliseconds)."""
    from recovery.language import LANGUAGES, SOURCE
    from recovery.protocol.translations import check

    errors, warnings, notes = list(found.errors), list(found.warnings), list(found.notes)
    for language in LANGUAGES:
        if language != SOURCE:
            wrong, doubtful, said = check(protocol, language, cache)
            errors += wrong
            warnings += doubtful
            notes += said
    return Findings(errors=tuple(errors), warnings=tuple(warnings), notes=tuple(notes))


def _check(protocol: Protocol) -> Findings:
    """What `validate` finds in a loaded protocol: the trial layouts' problems, else the coherence
    proof's (a layout that is broken moves the days every comparison reads: its contradictions
    would be consequences), else the sources review's warnings."""
    gaps: dict[str, Problem] = {}
    errors = trial_problems(protocol, gaps)
    if errors:
        return Findings(errors=tuple(errors))
    contradictions, notes = coherence_problems(protocol)
    if contradictions:
        return Findings(errors=tuple(contradictions), notes=tuple(notes))
    reviewed = untagged_numbers(protocol) + without_pictures(protocol) + list(gaps.values())
    return Findings(warnings=tuple(reviewed), notes=tuple(notes))


#: The kind of the cache's entries that hold validate's answer for one protocol.
ANSWER = "validated"


def _answer_key(protocol: Protocol) -> str:
    """The key of validate's answer: the protocol's data and where each item came from (messages
    name the file), the code that lays out and checks plans, and the zone data the trial dates use."""
    import json

    from recovery import __version__
    from recovery.cache import digest
    from recovery.protocol import plain

    folders = [Path(__file__).parent, Path(plain.__file__).parent]
    code = [module.read_bytes() for folder in folders for module in sorted(folder.glob("*.py"))]
    placed = [protocol.source, protocol.family, *(item.source for _, item in protocol.items())]
    data = json.dumps([plain.to_data(protocol), placed], sort_keys=True, default=str, ensure_ascii=False)
    return digest(__version__.encode(), TZDATA_VERSION.encode(), *code, data.encode())


def _findings_data(findings: Findings) -> dict[str, Any]:
    names = [f.name for f in dataclass_fields(Problem)]
    kept = {
        key: [{name: getattr(p, name) for name in names} for p in getattr(findings, key)]
        for key in ("errors", "warnings")
    }
    return {**kept, "notes": list(findings.notes)}


def _findings_from(data: Any) -> Findings | None:
    """Findings kept by `_findings_data`, or None when the entry is not of that shape."""
    try:
        made = {
            key: tuple(Problem(**{**p, "refers": tuple(p.get("refers", ()))}) for p in data[key])
            for key in ("errors", "warnings")
        }
        notes = tuple(str(note) for note in data["notes"])
    except (TypeError, KeyError, AttributeError):
        return None
    return Findings(errors=made["errors"], warnings=made["warnings"], notes=notes)
