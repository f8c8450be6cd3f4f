"""Coherence: no day of a plan tells the patient two opposite things.

A protocol declares, on four scales (`model.SCALES`: weight bearing, brace, loading, impact),
what each phase permits (`permits`, the most it allows while it runs) and what each item's
instructions need (`needs`, the least they require); the earliest day any item may need a
level (`not_before`, counted from surgery or from a milestone such as a clearance); and the
order its milestones must keep (`order`). `contradictions` compares them on one laid-out plan:

- an item that needs more than a phase running on the same day permits ("Phase 3 · Strength"
  while "Brace on" still says the brace stays on);
- an item that needs a level before its `not_before` day (step-ups before "Walk without crutches");
- a phase that permits or needs less than one that ended before it (crutches for 2 weeks, then
  "stop using the crutches over about 2 weeks" at week 6);
- milestones out of their declared order (a heel wedge out after the boot is off);
- a level reached in one jump, or after too short a time on the levels that lead up to it
  (`steps`: toe-touch one day, full weight without crutches the next).

The scheduler refuses a plan that shows one; `trial` runs it over every variant, parameter bound
and recorded date a protocol allows, so `validate` proves a file coherent before a patient sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from recovery.errors import Problem
from recovery.protocol.model import SCALES, Item, Milestone, Phase, Protocol, Step, where
from recovery.protocol.timeexpr import TimeExpr
from recovery.records import record
from recovery.schedule.dates import apply, in_words


@record
class _Level:
    """One declared level of one item, with the days it holds."""

    section: str
    item: Item
    key: str  # "needs" or "permits"
    scale: str
    level: str
    rank: int  # the level's position on its scale
    start: date
    end: date  # exclusive

    @property
    def place(self) -> str:
        return where(self.section, self.item, f"{self.key}.{self.scale}")

    @property
    def named(self) -> str:
        return f'"{self.item.title}" ({self.item.id})'


def level_of(level: str, values: dict[str, Any]) -> str:
    """A declared level with a choice parameter's placeholder filled in."""
    return str(values[level[1:-1]]) if level.startswith("{") else level


def contradictions(
    protocol: Protocol,
    values: dict[str, Any],
    spans: dict[str, tuple[date, date]],
    day_of: Callable[[TimeExpr], date],
    surgery: date,
    asked: frozenset[str] = frozenset(),
    confirmed: tuple[str, ...] = (),
) -> list[Problem]:
    """Every contradiction between the declared levels of the items in `spans` (id → start, end
    as the schedule lays them out); `day_of` gives the day of a `not_before` expression; `asked`
    are the clearances not recorded yet: a question on their day, not an instruction, so their
    levels are not compared (`trial` lays each out recorded, on its earliest day); `confirmed`
    are the recorded dates a clinician confirmed on purpose: a step does not refuse them (sport
    cleared sooner after jogging than the protocol plans is the surgeon's call)."""
    needs: list[_Level] = []
    permits: list[_Level] = []
    for section, item, key, scale, declared in protocol.declared_levels:
        if item.id in spans and item.id not in asked:
            level = level_of(declared, values)
            start, end = spans[item.id]
            made = _Level(
                section, item, key, scale, level, SCALES[scale].index(level), start, max(end, start + _ONE_DAY)
            )
            (needs if key == "needs" else permits).append(made)
    earliest = [(entry, SCALES[entry.scale].index(entry.level), day_of(entry.at)) for entry in protocol.not_before]
    number = _day_number(surgery)
    by_scale: dict[str, list[_Level]] = {}
    for permit in permits:
        by_scale.setdefault(permit.scale, []).append(permit)
    problems = []
    for need in needs:
        for permit in by_scale.get(need.scale, ()):
            if need.rank > permit.rank and need.item is not permit.item:
                first = max(need.start, permit.start)
                if first < min(need.end, permit.end):
                    problems.append(
                        _problem(
                            need,
                            f"needs {_said(need)} on day {number(first)}, but {permit.named} permits at most "
                            f"{_said(permit)} that day",
                        )
                    )
        for entry, rank, day in earliest:
            if entry.scale == need.scale and rank <= need.rank and need.start < day:
                problems.append(
                    _problem(
                        need,
                        f"needs {_said(need)} from day {number(need.start)}, before day {number(day)} "
                        f'({entry.place}: at = "{entry.at}"'
                        + (f", {in_words(entry.at, protocol, values)}" if entry.at.parameters else "")
                        + ")",
                    )
                )
    for key, levels in (("permits", permits), ("needs", [need for need in needs if isinstance(need.item, Phase)])):
        for earlier in levels:
            for later in levels:
                if later.scale == earlier.scale and later.rank < earlier.rank and later.start >= earlier.end:
                    problems.append(
                        _problem(
                            later,
                            f"{key} {_said(later)} from day {number(later.start)}, less than the {_said(earlier)} "
                            f"{earlier.named} {'permitted' if key == 'permits' else 'needed'} until day {number(earlier.end) - 1}: "
                            "a later phase may not step back",
                        )
                    )
    problems += _out_of_order(protocol, spans, number)
    for step in protocol.steps:
        stepped = [need for need in needs if need.item.id not in confirmed]
        problems += _jumps(step, in_words(step.days, protocol, values), stepped, values, number)
    return problems


def _jumps(
    step: Step, days: str, needs: list[_Level], values: dict[str, Any], number: Callable[[date], int]
) -> list[Problem]:
    """Each day the items first need `step.level` (or more) on its scale without the days before
    having needed one of `step.after` for at least `step.days`: the days are cut where any need
    starts or ends, and each piece holds the most any item needs in it (a piece where no item
    says anything on the scale keeps the level before it)."""
    on_scale = [need for need in needs if need.scale == step.scale]
    if not on_scale:
        return []
    top, leading = SCALES[step.scale].index(step.level), {SCALES[step.scale].index(level) for level in step.after}
    cuts = sorted({day for need in on_scale for day in (need.start, need.end)})
    pieces: list[tuple[date, int]] = []  # (first day, level) of each piece, lowest level -1
    for first, end in pairwise(cuts):
        ranks = [need.rank for need in on_scale if need.start < end and first < need.end]
        level = max(ranks) if ranks else (pieces[-1][1] if pieces else -1)
        if not pieces or pieces[-1][1] != level:
            pieces.append((first, level))
    problems = []
    for i, (day, level) in enumerate(pieces):
        if level < top or (i and pieces[i - 1][1] >= top) or (not i and number(day) <= 0):
            continue  # not a step up (a plan may begin at any level on the day of surgery)
        j = i
        while j and pieces[j - 1][1] in leading:
            j -= 1
        need = next(n for n in on_scale if n.start <= day < n.end and n.rank == level)
        said = f'{step.scale.replace("_", " ")} "{SCALES[step.scale][level]}"'
        before = " or ".join(f'"{level}"' for level in step.after)
        if j == i:
            was = f'"{SCALES[step.scale][pieces[i - 1][1]]}"' if i and pieces[i - 1][1] >= 0 else "nothing"
            problems.append(
                _problem(
                    need,
                    f"needs {said} from day {number(day)}, straight after {was} the day before: "
                    f"{step.place} comes only after at least {days} of {before}",
                )
            )
        elif apply(step.days, pieces[j][0], values) > day:
            problems.append(
                _problem(
                    need,
                    f"needs {said} from day {number(day)}, after only {(day - pieces[j][0]).days} days of {before} "
                    f"(from day {number(pieces[j][0])}): {step.place} asks for at least {days}",
                )
            )
    return problems


def _out_of_order(
    protocol: Protocol, spans: dict[str, tuple[date, date]], number: Callable[[date], int]
) -> list[Problem]:
    """Each pair of neighbours in `order` (of those in the plan) whose days are the wrong way round."""
    days = {}
    for entry in protocol.order:
        name = entry.removeprefix("end of ")
        if name in spans:
            days[entry] = spans[name][1] if entry != name else spans[name][0]
    problems = []
    for before, after in pairwise(days):
        if days[before] > days[after]:
            item = protocol.item(after.removeprefix("end of "))
            assert item is not None
            section = next(section for section, other in protocol.items() if other is item)
            key = "end" if after.startswith("end of ") else "at" if isinstance(item, Milestone) else "start"
            problems.append(
                Problem(
                    f"{after} falls on day {number(days[after])}, before {before} (day {number(days[before])}); "
                    f"the protocol's order puts {before} first",
                    item.source or protocol.source,
                    where(section, item, key),
                    item=item.id,
                )
            )
    return problems


_ONE_DAY = timedelta(1)


def _problem(level: _Level, message: str) -> Problem:
    return Problem(message, level.item.source, level.place, item=level.item.id)


def _said(level: _Level) -> str:
    return f'{level.scale.replace("_", " ")} "{level.level}"'


def _day_number(surgery: date) -> Callable[[date], int]:
    return lambda day: (day - surgery).days
