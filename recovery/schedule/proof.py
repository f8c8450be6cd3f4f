"""Which values of a plan can change which comparison of the coherence check.

A contradiction (see `coherence`) is an order between two days of a plan: a need that starts
before a permit ends while the permit started before the need ends, a need before its
`not_before` day, a later permit that starts once an earlier one has ended, two milestones the
wrong way round in `order`, a need for a level that starts when a lower one ends, too soon after
the levels that lead up to it began (`steps`). Every day is built from sums, `later of` and anchors, so only the
parameters in its expressions, the choices its items read (their levels, `only_if`) and the
milestones it counts from (recorded or not) can move it. `relations` lists the comparisons a
protocol can make on some plan, and `related` says, for each, which of those values it reads.

The proof in `trial` uses this to try together only the values that meet in one comparison: a
parameter and a recorded milestone that no comparison reads both of cannot make a contradiction
together that neither makes alone, so their combinations are not laid out. This keeps the proof
linear in the number of comparisons for values that do not meet, where trying every combination
is exponential in the number of values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from recovery.protocol.model import SCALES, Item, Milestone, Phase, Protocol
from recovery.protocol.references import Point
from recovery.protocol.timeexpr import TimeExpr
from recovery.records import record

#: A value a plan chooses: ("number", parameter), ("choice", parameter) or ("recorded", milestone).
Variable = tuple[str, str]


@record
class Relation:
    """One comparison the coherence check can make: the days it compares (points, and the
    expression of a `not_before` entry), the items whose levels and presence it reads, and the
    items that must be absent for it to be made (milestones between two in `order`)."""

    days: tuple[Point | TimeExpr, ...]
    items: tuple[Item, ...]
    absent: tuple[Item, ...] = ()


def relations(protocol: Protocol) -> Iterator[Relation]:
    """Every comparison the coherence check could make on some plan of the protocol."""
    needs: list[tuple[Item, str, list[int]]] = []
    permits: list[tuple[Item, str, list[int]]] = []
    for _, item, key, scale, level in protocol.declared_levels:
        (needs if key == "needs" else permits).append((item, scale, _ranks(protocol, scale, level)))
    for need, scale, need_ranks in needs:
        for permit, other, permit_ranks in permits:
            if other == scale and permit is not need and max(need_ranks) > min(permit_ranks):
                yield Relation((*_span(need), *_span(permit)), (need, permit))
        for entry in protocol.not_before:
            if entry.scale == scale and SCALES[scale].index(entry.level) <= max(need_ranks):
                yield Relation((_start(need), entry.at), (need,))
    phase_needs = [(item, scale, ranks) for item, scale, ranks in needs if isinstance(item, Phase)]
    for levels in (permits, phase_needs):
        for earlier, scale, earlier_ranks in levels:
            for later, other, later_ranks in levels:
                if other == scale and later is not earlier and min(later_ranks) < max(earlier_ranks):
                    yield Relation((*_span(earlier), _start(later)), (earlier, later))
    for step in protocol.steps:
        top = SCALES[step.scale].index(step.level)
        leading = {SCALES[step.scale].index(level) for level in step.after}
        on_scale = [(need, ranks) for need, scale, ranks in needs if scale == step.scale]
        through = tuple(need for need, ranks in on_scale if leading.intersection(ranks))
        spans = tuple(point for need in through for point in _span(need))
        for low, low_ranks in on_scale:
            for high, high_ranks in on_scale:
                if high is not low and max(high_ranks) >= top and min(low_ranks) < top:
                    yield Relation((*_span(low), *_span(high), *spans, step.days), (low, high, *through))
    entries = [(entry, protocol.item(entry.removeprefix("end of "))) for entry in protocol.order]
    for i, (before, first) in enumerate(entries):
        for j in range(i + 1, len(entries)):
            after, second = entries[j]
            between = [item for _, item in entries[i + 1 : j] if item is not None]
            if first is None or second is None or not all(_may_be_absent(protocol, item) for item in between):
                break
            yield Relation((_day(after, second), _day(before, first)), (first, second), tuple(between))
            if not between and not _may_be_absent(protocol, second):
                break


def related(protocol: Protocol) -> list[frozenset[Variable]]:
    """For each comparison the protocol can make, the values that can change it: the parameters
    and recorded milestones that move its days, and the choices its items read."""
    found = []
    for relation in relations(protocol):
        variables = set(_moves_any(protocol, relation.days))
        for item in (*relation.items, *relation.absent):
            variables.update(("choice", name) for name in _choices_read(protocol, item))
        for variable in list(variables):
            milestone = protocol.item(variable[1]) if variable[0] == "recorded" else None
            if milestone is not None and milestone.switch:
                variables.add(("choice", milestone.switch))
        found.append(frozenset(variables))
    return found


def counted_from(protocol: Protocol) -> list[frozenset[Variable]]:
    """For each milestone, itself with the values its own day and window move with: a milestone
    recorded on some day moves the window of one counted from it."""
    return [
        frozenset({("recorded", milestone.id), *moves(protocol, _start(milestone))})
        for milestone in protocol.milestones
    ]


def moves(protocol: Protocol, point: Point) -> frozenset[Variable]:
    """The parameters and recorded milestones that move a point's day, through every point it is
    counted from (worked out once per point and protocol)."""
    known = protocol.references_graph.moves
    if point in known:
        return known[point]
    known[point] = frozenset()  # the graph has no cycle; this only guards against a broken file
    graph = protocol.references_graph
    found: set[Variable] = set()
    definition = graph.definitions.get(point)
    if definition is not None:
        if definition.expression is not None:
            found |= _expression_moves(protocol, definition.expression)
        else:
            found |= _moves_any(protocol, definition.anchors)
    item = protocol.item(point[0])
    if isinstance(item, Milestone) and point[1] == "start" and (item.recordable is not None or item.clearance):
        # recorded, the day is anywhere in its window: the window's ends move it too
        found.add(("recorded", item.id))
        found |= _moves_any(protocol, item.recordable or ())
    if point[1] == "end":
        # an end waiting for a clearance lasts to that clearance's latest day
        for kind, name in list(found):
            gate = protocol.item(name) if kind == "recorded" else None
            if isinstance(gate, Milestone) and gate.recordable is not None:
                found |= _expression_moves(protocol, gate.recordable[1])
    known[point] = frozenset(found)
    return known[point]


def _moves_any(protocol: Protocol, days: Iterable[Point | TimeExpr]) -> set[Variable]:
    found: set[Variable] = set()
    for day in days:
        found |= _expression_moves(protocol, day) if isinstance(day, TimeExpr) else moves(protocol, day)
    return found


def _expression_moves(protocol: Protocol, expr: TimeExpr) -> set[Variable]:
    found: set[Variable] = {("number", t.parameter) for part in expr.parts() for t in part.terms if t.parameter}
    for part in expr.parts():
        if part.anchor is not None:
            found |= moves(protocol, (part.anchor, "end" if part.anchor_end else "start"))
    return found


def _start(item: Item) -> Point:
    return (item.id, "start")


def _span(item: Item) -> tuple[Point, Point]:
    return (item.id, "start"), (item.id, "end")


def _day(entry: str, item: Item) -> Point:
    """The point an `order` entry names: a milestone's day, or "end of" a phase."""
    return (item.id, "end") if entry.startswith("end of ") else (item.id, "start")


def _choices_read(protocol: Protocol, item: Item) -> set[str]:
    """The choice parameters an item's levels and presence read."""
    names = {
        level[1:-1] for level in (*item.needs.values(), *getattr(item, "permits", {}).values()) if level.startswith("{")
    }
    if item.switch:
        names.add(item.switch)
    return {name for name in names if name in protocol.parameters and _choice_values(protocol, name)}


def _choice_values(protocol: Protocol, name: str) -> list[Any]:
    parameter = protocol.parameters[name]
    if type(parameter.sample) is bool:
        return [True, False]
    return list(parameter.choices or ())


def _ranks(protocol: Protocol, scale: str, level: str) -> list[int]:
    """Every rank a declared level can have on its scale (a choice's placeholder: any of its values)."""
    if level.startswith("{"):
        values = _choice_values(protocol, level[1:-1])
        return [SCALES[scale].index(str(v)) for v in values if str(v) in SCALES[scale]] or [0]
    return [SCALES[scale].index(level)]


def _may_be_absent(protocol: Protocol, item: Item) -> bool:
    """Whether an item can be left out of a plan: switched off by a choice, or waiting behind a clearance."""
    return bool(item.only_if) or any(kind == "recorded" for kind, _ in moves(protocol, _start(item)))
