"""`@frozen` behaves as `@dataclass(frozen=True)`: the same class written both ways gives the
same objects, the same comparisons and the same errors."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import FrozenInstanceError, dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recovery.frozen import frozen


def both(kw_only: bool = False):
    """The same class, once with the standard decorator and once with ours."""

    def body():
        class Reminder:
            """A reminder."""

            title: str
            days: int = 1
            times: list[str] = field(default_factory=list)
            note: str = field(default="", compare=False)
            source: str = field(default="file", init=False, repr=False)

        return Reminder

    return dataclass(frozen=True, kw_only=kw_only)(body()), frozen(kw_only=kw_only)(body())


STANDARD, OURS = both()
STANDARD_KW, OURS_KW = both(kw_only=True)


def outcome(make):
    """What a constructor call gives: the object's fields, or the error's type and message."""
    try:
        made = make()
    except TypeError:
        return "TypeError"  # the wording differs a little; test_wrong_calls_are_named checks ours
    return dataclasses.asdict(made), made.source


CALLS = [
    lambda cls: cls("Ice"),
    lambda cls: cls("Ice", 3),
    lambda cls: cls("Ice", days=3, times=["morning"]),
    lambda cls: cls(title="Ice", note="n"),
    lambda cls: cls(),
    lambda cls: cls("Ice", title="again"),
    lambda cls: cls("Ice", 3, ["morning"], "n", "extra"),
    lambda cls: cls(title="Ice", colour="red"),
    lambda cls: cls(title="Ice", source="elsewhere"),
]


@pytest.mark.parametrize("call", range(len(CALLS)))
@pytest.mark.parametrize(
    ("standard", "ours"), [(STANDARD, OURS), (STANDARD_KW, OURS_KW)], ids=["positional", "kw_only"]
)
def test_construction_matches_the_standard_decorator(standard, ours, call):
    assert outcome(lambda: CALLS[call](ours)) == outcome(lambda: CALLS[call](standard))


def test_wrong_calls_are_named():
    with pytest.raises(TypeError, match=r"Reminder\(\) missing required arguments: 'title'"):
        OURS()
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        OURS(title="Ice", colour="red")
    with pytest.raises(TypeError, match="multiple values for argument 'title'"):
        OURS("Ice", title="again")
    with pytest.raises(TypeError, match="takes 4 positional arguments but 5 were given"):
        OURS("Ice", 3, ["morning"], "n", "extra")


@given(st.text(max_size=5), st.integers(), st.text(max_size=5), st.text(max_size=5), st.integers(0, 2))
def test_equality_hash_and_repr_match_the_standard_decorator(title, days, note, other_note, kind):
    standard = [STANDARD(title, days, ["a"], note), STANDARD(title, days + kind, ["a"], other_note)]
    ours = [OURS(title, days, ["a"], note), OURS(title, days + kind, ["a"], other_note)]
    assert (ours[0] == ours[1]) == (standard[0] == standard[1])
    assert repr(ours[0]) == repr(standard[0])
    assert ours[0] != standard[0]  # as for dataclasses: only objects of the same class compare equal
    hashable = [OURS_KW(title=title, days=days, times=(), note=n) for n in (note, other_note)]
    assert hash(hashable[0]) == hash(hashable[1])  # `note` has compare=False, so it is not hashed


def test_fields_cannot_be_changed_or_deleted():
    made = OURS("Ice")
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'title'"):
        made.title = "Heat"
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'title'"):
        del made.title
    assert made.title == "Ice"


def test_default_factories_give_each_object_its_own_value():
    first, second = OURS("Ice"), OURS("Ice")
    assert first.times == []
    assert first.times is not second.times


def test_post_init_runs_after_the_fields_are_set():
    @frozen
    class Window:
        first: int
        last: int

        def __post_init__(self) -> None:
            if self.last < self.first:
                raise ValueError("the window ends before it starts")

    assert Window(first=1, last=2).last == 2
    assert Window(1, 2).last == 2
    for call in (lambda: Window(first=2, last=1), lambda: Window(2, 1), lambda: Window(2, last=1)):
        with pytest.raises(ValueError, match="ends before it starts"):
            call()


def test_subclasses_take_their_parents_fields():
    @frozen(kw_only=True)
    class Item:
        id: str
        title: str = ""

    @frozen(kw_only=True)
    class Phase(Item):
        weeks: int

    phase = Phase(id="brace", weeks=6)
    assert (phase.id, phase.title, phase.weeks) == ("brace", "", 6)
    assert [f.name for f in dataclasses.fields(Phase)] == ["id", "title", "weeks"]
    assert phase != Item(id="brace")


@frozen
class Visit:
    """At module level, so that pickle finds the class (batch hands plans to other processes)."""

    week: int
    notes: list[str] = field(default_factory=list)


def test_the_dataclass_tools_work_on_them():
    made = OURS("Ice", 2, ["morning"])
    assert dataclasses.is_dataclass(made)
    assert dataclasses.replace(made, days=5) == OURS("Ice", 5, ["morning"])
    assert dataclasses.astuple(made) == ("Ice", 2, ["morning"], "", "file")
    visit = Visit(6, ["brace off"])
    assert pickle.loads(pickle.dumps(visit)) == visit
    assert copy.deepcopy(visit) == visit
    assert copy.deepcopy(visit).notes is not visit.notes


def test_the_model_is_still_validated_by_pydantic():
    from pydantic import TypeAdapter, ValidationError

    from recovery.protocol.model import Parameter

    adapter = TypeAdapter(Parameter)
    assert adapter.validate_python({"default": 6, "min": 2}).min == 2
    with pytest.raises(ValidationError):
        adapter.validate_python({"default": 6, "colour": "red"})


def test_methods_a_class_writes_itself_are_kept():
    @frozen
    class Dose:
        amount: int

        def __repr__(self) -> str:
            return f"{self.amount} mg"

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Dose) and abs(self.amount - other.amount) < 1

    assert repr(Dose(5)) == "5 mg"
    assert Dose(5) == Dose(5)
    assert hash(Dose(5)) == hash(Dose(5))  # Python's implicit __hash__ = None is replaced, as by dataclass
    with pytest.raises(TypeError, match="Cannot overwrite attribute __setattr__"):

        @frozen
        class Mutable:
            amount: int

            def __setattr__(self, name: str, value: object) -> None: ...
