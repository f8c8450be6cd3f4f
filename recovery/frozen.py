"""Frozen value classes that cost nothing to define: `@frozen` is `@dataclass(frozen=True)`
without generated code.

Every model, schedule and error value in recovery is a frozen dataclass. On Python 3.11 the
standard decorator writes the source of six methods per class (`__init__`, `__repr__`,
`__eq__`, `__hash__`, `__setattr__`, `__delattr__`) and compiles each with `exec`: about 0.85 ms
a class, 24 ms for the 29 classes a `recovery generate` run imports, which was a third of the
command's own time. `@frozen` lets `dataclasses` do what is cheap (collect the fields, so
`fields`, `replace`, `asdict` and pydantic work as before) and gives the class shared methods
that read those fields instead of compiled ones.

Behaviour is the standard decorator's, field for field: keyword and positional arguments
(`kw_only`), defaults and `default_factory`, `init=False` fields, `__post_init__`, equality and
hashing over the fields with `compare=True` (only between objects of the same class), a repr of
the fields with `repr=True`, and `FrozenInstanceError` on assignment. `tests/test_frozen.py`
holds the two decorators to the same results. `typing.dataclass_transform` tells type checkers
so: mypy checks a `@frozen` class's constructor and read-only fields as for a dataclass.
"""

from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, dataclass, field, fields
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T", bound=type)


@overload
def frozen(cls: T, /) -> T: ...
@overload
def frozen(*, kw_only: bool = False) -> Callable[[T], T]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen(cls: T | None = None, /, *, kw_only: bool = False) -> T | Callable[[T], T]:
    """Make `cls` a frozen dataclass: `@frozen` or `@frozen(kw_only=True)`."""

    def wrap(cls: T) -> T:
        dataclass(init=False, repr=False, eq=False, kw_only=kw_only)(cls)  # fields only: no code to compile
        _give_methods(cls)
        return cls

    return wrap if cls is None else wrap(cls)


def _give_methods(cls: type) -> None:
    every = fields(cls)
    compared = [f.name for f in every if f.compare]
    hashed = [f.name for f in every if (f.compare if f.hash is None else f.hash)]
    methods = {
        "__init__": _initialiser(cls),
        "__repr__": _representer([f.name for f in every if f.repr]),
        "__eq__": _comparer(_values_of(compared)),
        "__hash__": _hasher(_values_of(hashed)),
        "__setattr__": _no_assignment,
        "__delattr__": _no_deletion,
    }
    own = cls.__dict__
    for name, method in methods.items():
        if name in ("__setattr__", "__delattr__") and name in own:
            raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
        # As the standard decorator does, a method the class writes itself is kept; only the
        # __hash__ = None that Python adds to a class defining __eq__ is not the class's own.
        implicit = name == "__hash__" and own.get("__hash__", MISSING) is None and "__eq__" in own
        if name not in own or implicit:
            setattr(cls, name, method)


def _initialiser(cls: type) -> Callable[..., None]:
    every = fields(cls)
    accepted = frozenset(f.name for f in every if f.init)
    positional = tuple(f.name for f in every if f.init and not f.kw_only)
    required = frozenset(f.name for f in every if f.init and f.default is MISSING and f.default_factory is MISSING)
    defaults = {f.name: f.default for f in every if f.default is not MISSING}
    factories = tuple((f.name, f.default_factory) for f in every if f.default_factory is not MISSING)
    post_init = getattr(cls, "__post_init__", None)
    name = cls.__qualname__
    # The common call gives the first k positional fields by position and nothing by keyword: for
    # each k, the defaults and factories of the other fields, or None when one of them is required.
    rest: list[tuple[dict[str, Any], tuple[tuple[str, Any], ...]] | None] = [
        None
        if required.difference(positional[:k])
        else (
            {key: value for key, value in defaults.items() if key not in positional[:k]},
            tuple((key, make) for key, make in factories if key not in positional[:k]),
        )
        for k in range(len(positional) + 1)
    ]

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        if not kwargs and len(args) < len(rest) and (short := rest[len(args)]) is not None:
            values = self.__dict__
            values.update(zip(positional, args, strict=False))
            values.update(short[0])
            for key, make in short[1]:
                values[key] = make()
            if post_init is not None:
                post_init(self)
            return
        if args:
            if len(args) > len(positional):
                raise TypeError(f"{name}() takes {len(positional)} positional arguments but {len(args)} were given")
            given = dict(zip(positional, args, strict=False))
            if kwargs:
                if twice := given.keys() & kwargs.keys():
                    raise TypeError(f"{name}() got multiple values for argument {min(twice)!r}")
                given.update(kwargs)
            kwargs = given
        if not (kwargs.keys() <= accepted and required <= kwargs.keys()):
            if unknown := kwargs.keys() - accepted:
                raise TypeError(f"{name}() got an unexpected keyword argument {min(unknown)!r}")
            missing = ", ".join(repr(n) for n in sorted(required - kwargs.keys()))
            raise TypeError(f"{name}() missing required arguments: {missing}")
        values = self.__dict__
        values.update(defaults)
        values.update(kwargs)
        for key, make in factories:
            if key not in kwargs:
                values[key] = make()
        if post_init is not None:
            post_init(self)

    return init


def _values_of(names: list[str]) -> Callable[[Any], Any]:
    """The compared fields' values as one object (a tuple, or the value of a single field)."""
    return attrgetter(*names) if names else (lambda thing: ())


def _comparer(values: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    def equal(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return equal


def _hasher(values: Callable[[Any], Any]) -> Callable[[Any], int]:
    def hashed(self: Any) -> int:
        return hash(values(self))

    return hashed


def _representer(names: list[str]) -> Callable[[Any], str]:
    def shown(self: Any) -> str:
        values = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{self.__class__.__qualname__}({values})"

    return shown


def _no_assignment(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _no_deletion(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")
