"""Which values of a plan can change which comparison of the coherence check.

A contradiction (see `coherence`) is an order between two days of a plan: a need that starts
before a permit ends while the permit started before the need ends, a need before its
`not_before` day, a later permit that starts once an earlier one has ended, two milestones the
wrong way round in `order`. Every day is built from sums, `later of` and anchors, so only the
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
from dataclasses import dataclass
from typing import Any

from recovery.protocol.model import SCALES, Item, Milestone, Protocol
from recovery.protocol.references import Point
from recovery.protocol.timeexpr import TimeExpr

#: A value a plan chooses: ("number", parameter), ("choice", parameter) or ("recorded", milestone).
Variable = tuple[str, str]
#: How a variable moves a day: +1 (later with a larger value), -1 (earlier), or both.
Signs = frozenset[int]


@dataclass(frozen=True)
class Relation:
    """One comparison the coherence check makes, as data: `earlier` must not come before `later`
    in any of `orders` for it to hold; `items` are the items whose levels and presence it reads."""

    name: str
    #: (earlier side, later side) pairs: the relation is broken only when, for every pair, the
    #: earlier side's day is before (or on) the later side's day. Each side is a set of points
    #: and expressions whose days it is made of.
    orders: tuple[tuple[tuple[Point | TimeExpr, ...], tuple[Point | TimeExpr, ...]], ...]
    items: tuple[Item, ...]
    #: Items that must be absent for the relation to be compared (milestones between two in `order`).
    absent: tuple[Item, ...] = ()
    #: (item, "needs" or "permits", scale) of each level compared.
    levels: tuple[tuple[Item, str, str], ...] = ()


def relations(protocol: Protocol) -> Iterator[Relation]:
    """Every comparison the coherence check could make on some plan of the protocol."""
    needs: list[tuple[Item, str, list[int]]] = []
    permits: list[tuple[Item, str, list[int]]] = []
    for _, item, key, scale, level in protocol.declared_levels:
        (needs if key == "needs" else permits).append((item, scale, _ranks(protocol, scale, level)))
    for need, scale, need_ranks in needs:
        for permit, other, permit_ranks in permits:
            if other == scale and permit is not need and max(need_ranks) > min(permit_ranks):
                yield Relation(
                    f"{need.id}.needs.{scale} / {permit.id}.permits.{scale}",
                    (((start(need),), (end(permit), start(permit))), ((start(permit),), (end(need), start(need)))),
                    (need, permit),
                    levels=((need, "needs", scale), (permit, "permits", scale)),
                )
        for entry in protocol.not_before:
            if entry.scale == scale and SCALES[scale].index(entry.level) <= max(need_ranks):
                yield Relation(
                    f"{need.id}.needs.{scale} / {entry.place}",
                    (((start(need),), (entry.at,)),),
                    (need,),
                    levels=((need, "needs", scale),),
                )
    for earlier, scale, earlier_ranks in permits:
        for later, other, later_ranks in permits:
            if other == scale and later is not earlier and min(later_ranks) < max(earlier_ranks):
                yield Relation(
                    f"{earlier.id}.permits.{scale} / {later.id}.permits.{scale}",
                    (((end(earlier), start(earlier)), (start(later),)),),
                    (earlier, later),
                    levels=((earlier, "permits", scale), (later, "permits", scale)),
                )
    entries = [(entry, protocol.item(entry.removeprefix("end of "))) for entry in protocol.order]
    for i, (before, first) in enumerate(entries):
        for j in range(i + 1, len(entries)):
            after, second = entries[j]
            between = [item for _, item in entries[i + 1 : j] if item is not None]
            if first is None or second is None or not all(_may_be_absent(protocol, item) for item in between):
                break
            yield Relation(
                f"order {before} / {after}",
                (((_day(after, second),), (_day(before, first),)),),
                (first, second),
                tuple(between),
            )
            if not between and not _may_be_absent(protocol, second):
                break


def start(item: Item) -> Point:
    """An item's first day."""
    return (item.id, "start")


def end(item: Item) -> Point:
    """An item's end."""
    return (item.id, "end")


def _day(entry: str, item: Item) -> Point:
    """The point an `order` entry names: a milestone's day, or "end of" a phase."""
    return end(item) if entry.startswith("end of ") else start(item)


def _depends(protocol: Protocol, side: Iterable[Point | TimeExpr]) -> dict[Variable, Signs]:
    """The variables that move the days of a side, each with the ways it moves them."""
    found: dict[Variable, set[int]] = {}
    for part in side:
        for variable, signs in (
            _expr_depends(protocol, part) if isinstance(part, TimeExpr) else _point_depends(protocol, part)
        ).items():
            found.setdefault(variable, set()).update(signs)
    return {variable: frozenset(signs) for variable, signs in found.items()}


def _expr_depends(protocol: Protocol, expr: TimeExpr) -> dict[Variable, set[int]]:
    found: dict[Variable, set[int]] = {}
    for part in expr.parts():
        for term in part.terms:
            if term.parameter:
                found.setdefault(("number", term.parameter), set()).add(term.sign)
        if part.anchor is not None:
            anchor: Point = (part.anchor, "end" if part.anchor_end else "start")
            for variable, signs in _point_depends(protocol, anchor).items():
                found.setdefault(variable, set()).update(signs)
    return found


def _point_depends(protocol: Protocol, point: Point) -> dict[Variable, set[int]]:
    """A point's variables, through every point it is counted from (memoised per protocol)."""
    memo = _memo(protocol)
    if point in memo:
        return memo[point]
    graph = protocol.references_graph
    found: dict[Variable, set[int]] = {}
    memo[point] = found  # the graph has no cycle; this only guards against a broken file
    definition = graph.definitions.get(point)
    if definition is not None:
        if definition.expression is not None:
            found.update({v: set(s) for v, s in _expr_depends(protocol, definition.expression).items()})
        else:
            for anchor in definition.anchors:
                for variable, signs in _point_depends(protocol, anchor).items():
                    found.setdefault(variable, set()).update(signs)
    item = protocol.item(point[0])
    if isinstance(item, Milestone) and point[1] == "start" and (item.recordable is not None or item.clearance):
        # recorded, the day is anywhere in its window: the window's ends move it too
        found.setdefault(("recorded", item.id), set()).add(1)
        for expr in item.recordable or ():
            for variable, signs in _expr_depends(protocol, expr).items():
                found.setdefault(variable, set()).update(signs)
    if point[1] == "end":
        # an end waiting for a clearance lasts to that clearance's latest day
        for variable, signs in list(found.items()):
            if variable[0] == "recorded":
                gate = protocol.item(variable[1])
                if isinstance(gate, Milestone) and gate.recordable is not None:
                    for v, s in _expr_depends(protocol, gate.recordable[1]).items():
                        found.setdefault(v, set()).update(s | signs)
    return found


def _memo(protocol: Protocol) -> dict[Point, dict[Variable, set[int]]]:
    graph = protocol.references_graph
    memo: dict[Point, dict[Variable, set[int]]] | None = getattr(graph, "_proof_depends", None)
    if memo is None:
        memo = {}
        object.__setattr__(graph, "_proof_depends", memo)
    return memo


def _choices_read(protocol: Protocol, item: Item) -> set[str]:
    """The choice parameters an item's levels and presence read."""
    names = {
        level[1:-1] for level in (*item.needs.values(), *getattr(item, "permits", {}).values()) if level.startswith("{")
    }
    if item.only_if:
        names.add(item.only_if)
    return {name for name in names if name in protocol.parameters and _choice_values(protocol, name)}


def _choice_values(protocol: Protocol, name: str) -> list[Any]:
    parameter = protocol.parameters[name]
    if type(parameter.default) is bool:
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
    if item.only_if:
        return True
    return any(variable[0] == "recorded" for variable in _point_depends(protocol, (item.id, "start")))


def related(protocol: Protocol) -> list[frozenset[Variable]]:
    """For each comparison the protocol can make, the values that can change it: the parameters
    and recorded milestones that move its days, and the choices its items read."""
    found = []
    for relation in relations(protocol):
        variables: set[Variable] = set()
        for earlier, later in relation.orders:
            variables.update(_depends(protocol, earlier), _depends(protocol, later))
        for item in (*relation.items, *relation.absent):
            variables.update(("choice", name) for name in _choices_read(protocol, item))
        for variable in list(variables):
            milestone = protocol.item(variable[1]) if variable[0] == "recorded" else None
            if milestone is not None and milestone.only_if:
                variables.add(("choice", milestone.only_if))
        found.append(frozenset(variables))
    return found


def counted_from(protocol: Protocol) -> list[frozenset[Variable]]:
    """For each milestone, itself with the values its own day and window move with: a milestone
    recorded on some day moves the window of one counted from it."""
    return [
        frozenset({("recorded", milestone.id), *_point_depends(protocol, start(milestone))})
        for milestone in protocol.milestones
    ]


def moves(protocol: Protocol, point: Point) -> set[Variable]:
    """The parameters and recorded milestones that move a point's day."""
    return set(_point_depends(protocol, point))
