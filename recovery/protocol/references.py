"""The graph of references between items' dates, built once per protocol and used by everything.

Every item has a start and an end (for a milestone or a one-day visit, the end is its start).
Each of these points is defined by one thing: a time expression counted from the surgery day, a
time expression counted from other points ("brace-off + 2 weeks", "end of protection", "later of
12 weeks, end of walking"), or another point itself (a routine that runs `during` a phase starts
and ends with it). The consistency checks ask the graph for cycles; the scheduler asks it for an
order in which each point comes after the points it depends on. Both walks are depth-first and
iterative: a chain of thousands of references costs no recursion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import field
from functools import cached_property
from typing import Literal, Protocol

from recovery.errors import place
from recovery.protocol.timeexpr import TimeExpr
from recovery.records import record

#: Which end of an item a point is.
End = Literal["start", "end"]
#: One date of one item: (item id, "start" or "end").
Point = tuple[str, End]


class Dated(Protocol):
    """What the graph needs of an item (phases, milestones, routines and appointments all have it)."""

    @property
    def id(self) -> str: ...

    def whens(self) -> Iterator[tuple[str, TimeExpr]]:
        """(field, expression) for each date the item's file gives."""
        ...

    def same_days(self) -> Iterator[tuple[End, Point, str]]:
        """(end, other point, field) for each end that is the same day as another point."""
        ...


_END_FIELDS = ("end", "window[1]")


@record
class Definition:
    """How one point's date is found, and where the file says so (`phases[id=x].end`)."""

    where: str
    expression: TimeExpr | None = None  # None: the same day as its one anchor
    anchors: tuple[Point, ...] = ()  # the points it is counted from; none: the surgery day


@record
class ReferenceGraph:
    """Each point's definition, and the order in which the points can be given dates."""

    definitions: dict[Point, Definition]
    #: `order()` by the points given: the same few sets recur (each plan's recorded milestones).
    _orders: dict[frozenset[Point], list[Point]] = field(default_factory=dict, compare=False, repr=False)
    #: What moves each point's day (`schedule.proof.moves`), worked out once per graph.
    moves: dict[Point, frozenset[tuple[str, str]]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, items: Iterable[tuple[str, Dated]]) -> ReferenceGraph:
        """The graph of (section, item) pairs, in file order."""
        definitions: dict[Point, Definition] = {}
        for section, item in items:
            for key, expression in item.whens():
                point: Point = (item.id, "end" if key in _END_FIELDS else "start")
                anchors = tuple(
                    (part.anchor, "end" if part.anchor_end else "start")
                    for part in expression.parts()
                    if part.anchor is not None
                )
                definitions[point] = Definition(place(section, item.id, key), expression, anchors)  # type: ignore[arg-type]
            for end, other, key in item.same_days():
                definitions[(item.id, end)] = Definition(place(section, item.id, key), anchors=(other,))
        return cls(definitions)

    def depends_on(self, point: Point) -> tuple[Point, ...]:
        """The points whose dates this one is counted from, those defined in this protocol."""
        definition = self.definitions.get(point)
        if definition is None:
            return ()
        return tuple(anchor for anchor in definition.anchors if anchor in self.definitions)

    def cycles(self) -> list[list[Point]]:
        """Every cycle of references, each listed once from the point first met in file order."""
        found: list[list[Point]] = []
        done: set[Point] = set()
        for first in self.definitions:
            if first in done:
                continue
            path, on_path = [first], {first}
            pending = [iter(self.depends_on(first))]
            while pending:
                following = next(pending[-1], None)
                if following is None:
                    point = path.pop()
                    on_path.discard(point)
                    done.add(point)
                    pending.pop()
                elif following in on_path:
                    found.append(path[path.index(following) :])
                elif following not in done:
                    path.append(following)
                    on_path.add(following)
                    pending.append(iter(self.depends_on(following)))
        return found

    @cached_property
    def plain_order(self) -> list[Point]:
        """`order()` for a plan that gives no dates: the same for every such plan, found once."""
        return self.order()

    def order(self, given: Iterable[Point] = ()) -> list[Point]:
        """Every point after the points it depends on (a depth-first walk, without recursion).
        Points in `given` (dates known from the plan, such as a milestone that really happened)
        depend on nothing. There must be no cycle."""
        known = frozenset(given)
        if known in self._orders:
            return self._orders[known]
        placed: set[Point] = set()
        ordered: list[Point] = []
        for first in self.definitions:
            if first in placed:
                continue
            path, on_path = [first], {first}
            pending = [iter(() if first in known else self.depends_on(first))]
            while pending:
                following = next(pending[-1], None)
                if following is None:
                    point = path.pop()
                    on_path.discard(point)
                    pending.pop()
                    placed.add(point)
                    ordered.append(point)
                elif following not in placed:
                    if following in on_path:
                        raise ValueError(f"a cycle of references through {following}")  # ruled out by the checks
                    path.append(following)
                    on_path.add(following)
                    pending.append(iter(() if following in known else self.depends_on(following)))
        self._orders[known] = ordered
        return ordered
