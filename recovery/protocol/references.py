"""The graph of references between items' dates, built once per protocol and used by everything.

Every item has a start and an end (for a milestone or a one-day visit, the end is its start).
Each of these points is defined by exactly one thing: a time expression counted from the surgery
day, a time expression counted from another point ("brace-off + 2 weeks", "end of protection"),
or another point itself (a routine that runs `during` a phase starts and ends with it). So every
point depends on at most one other, and the graph is a set of chains. The consistency checks ask
it for cycles; the scheduler asks it for an order in which each point comes after the point it
depends on. Both walks are iterative: a chain of thousands of references costs no recursion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, Protocol

from recovery.errors import place
from recovery.protocol.timeexpr import TimeExpr

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


@dataclass(frozen=True)
class Definition:
    """How one point's date is found, and where the file says so (`phases[id=x].end`)."""

    where: str
    expression: TimeExpr | None = None  # None: the same day as `anchor`
    anchor: Point | None = None  # None: counted from the surgery day


@dataclass(frozen=True)
class ReferenceGraph:
    """Each point's definition, and the order in which the points can be given dates."""

    definitions: dict[Point, Definition]

    @classmethod
    def of(cls, items: Iterable[tuple[str, Dated]]) -> ReferenceGraph:
        """The graph of (section, item) pairs, in file order."""
        definitions: dict[Point, Definition] = {}
        for section, item in items:
            for field, expression in item.whens():
                point: Point = (item.id, "end" if field in _END_FIELDS else "start")
                anchor: Point | None = None
                if expression.anchor is not None:
                    anchor = (expression.anchor, "end" if expression.anchor_end else "start")
                definitions[point] = Definition(place(section, item.id, field), expression, anchor)
            for end, other, field in item.same_days():
                definitions[(item.id, end)] = Definition(place(section, item.id, field), anchor=other)
        return cls(definitions)

    def depends_on(self, point: Point) -> Point | None:
        """The point whose date this one is counted from, if it is defined in this protocol."""
        definition = self.definitions.get(point)
        if definition is None or definition.anchor not in self.definitions:
            return None
        return definition.anchor

    def cycles(self) -> list[list[Point]]:
        """Every cycle of references, each listed once from the point first met in file order."""
        found: list[list[Point]] = []
        done: set[Point] = set()
        for first in self.definitions:
            path: list[Point] = []
            on_path: set[Point] = set()
            point: Point | None = first
            while point is not None and point not in done and point not in on_path:
                path.append(point)
                on_path.add(point)
                point = self.depends_on(point)
            if point is not None and point in on_path:
                found.append(path[path.index(point) :])
            done.update(path)
        return found

    @cached_property
    def plain_order(self) -> list[Point]:
        """`order()` for a plan that gives no dates: the same for every such plan, found once."""
        return self.order()

    def order(self, given: Iterable[Point] = ()) -> list[Point]:
        """Every point after the one it depends on. Points in `given` (dates known from the plan,
        such as a milestone that really happened) depend on nothing. There must be no cycle."""
        known = set(given)
        placed: set[Point] = set()
        ordered: list[Point] = []
        for first in self.definitions:
            chain: list[Point] = []
            point: Point | None = first
            while point is not None and point not in placed:
                chain.append(point)
                if len(chain) > len(self.definitions):
                    raise ValueError(f"a cycle of references through {first}")  # ruled out by the checks
                point = None if point in known else self.depends_on(point)
            for link in reversed(chain):
                placed.add(link)
                ordered.append(link)
        return ordered
