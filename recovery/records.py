"""`record`, the decorator of the program's value classes: a dataclass that the type checker
treats as frozen and that Python builds without the frozen machinery.

A protocol, its items and the schedule made from it are values: nothing changes a field once an
object is made (`dataclasses.replace` makes a new one). `mypy --strict`, run in CI, refuses any
assignment to a field of a record, as it does for `@dataclass(frozen=True)`. At run time a record
is a plain dataclass, because Python 3.11 writes a frozen dataclass's `__setattr__` and
`__delattr__` from source and compiles them for every class at import: for the 40 classes that a
command loads, 9 ms of every run (`generate` took 1.17 times the import floor with them, see the
commit that made this module). Records compare by value and, not being frozen, are not hashable.
`Plan`, which library users make and may keep in sets, stays a frozen dataclass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, dataclass_transform, overload

T = TypeVar("T")


@overload
def record(cls: type[T], /) -> type[T]: ...
@overload
def record(*, kw_only: bool = False) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T] | None = None, /, *, kw_only: bool = False) -> type[T] | Callable[[type[T]], type[T]]:
    """@record or @record(kw_only=True) on a class: see the module's docstring."""

    def made(kind: type[T]) -> type[T]:
        return dataclass(kind, kw_only=kw_only)

    return made if cls is None else made(cls)
