"""The protocol model: what a surgeon's protocol file says, validated, and knowing no dates.

A Protocol holds phases (spans), milestones (single days), routines (recurring reminders) and
appointments (visit windows), each placed by time expressions, plus the parameters and variants
a surgeon adjusts. The model is plain frozen dataclasses: `validation` checks files against it
with pydantic (and generates the JSON Schema from it), while a protocol that was validated
before is rebuilt without importing pydantic at all. The checks that look across items live in
`consistency`; the graph of references between items in `references`.
"""

import re
from collections.abc import Iterator
from dataclasses import field, replace
from functools import cached_property
from typing import Annotated, Any, Literal, TypeVar

from recovery.errors import did_you_mean, place
from recovery.protocol.references import End, Point, ReferenceGraph
from recovery.protocol.timeexpr import ID_PATTERN, TimeExpr, TimeExprError
from recovery.records import record
from recovery.words import CLOCK_PATTERN, SLOTS, quoted_choices

#: The largest whole number a parameter may hold: 100 years counted in days. Larger ones can only
#: be mistakes, and dates built from them would not fit a calendar.
MAX_NUMBER = 36_500
#: Text placeholders that come from the plan rather than from a parameter.
PLAN_PLACEHOLDERS = frozenset({"side"})
#: The lists of items in a protocol file, in the order they are laid out.
SECTIONS = ("phases", "milestones", "routines", "appointments")
#: Unknown keys are errors: a typo must never be ignored silently.
STRICT = {"extra": "forbid"}
#: What a phase permits and an instruction needs, each on a scale from the most careful level to
#: the freest. The coherence check (`schedule.coherence`) compares them day by day.
Scale = Literal["weight_bearing", "brace", "loading", "impact"]  # the keys of SCALES; a test keeps them equal
SCALES: dict[str, tuple[str, ...]] = {
    "weight_bearing": ("none", "toe-touch", "partial", "step-by-step", "as-tolerated", "full"),
    "brace": ("worn", "off"),
    "loading": ("none", "isometric", "light", "moderate", "heavy"),
    "impact": ("none", "jogging", "full"),
}


# ---- Annotations that pydantic reads when it validates or writes the schema (imported lazily).


class Doc:
    """A field's description in the JSON Schema, which editors show while a surgeon types."""

    def __init__(self, text: str):
        self.text = text

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        schema["description"] = self.text
        return schema


class Pattern:
    """A text that must match a regular expression."""

    def __init__(self, regex: str):
        self.regex = regex

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.str_schema(pattern=self.regex)


class Bounds:
    """Limits on a number (`ge`, `le`) or on a list's length (`min_length`)."""

    def __init__(self, **limits: int):
        self.limits = limits

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        schema = handler(source)
        schema.update(self.limits)
        return schema


class _TimeExprField:
    """Time expressions are parsed while the file is validated, so a bad one names its field."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import PydanticCustomError, core_schema

        def parse(value: Any) -> TimeExpr:
            if isinstance(value, TimeExpr):
                return value
            if not isinstance(value, str):
                raise PydanticCustomError("time_expr", 'expected a time expression in quotes, such as "6 weeks"')
            try:
                return TimeExpr.parse(value)
            except TimeExprError as error:
                raise PydanticCustomError("time_expr", "{why}", {"why": str(error)}) from None

        return core_schema.no_info_plain_validator_function(
            parse, serialization=core_schema.plain_serializer_function_ser_schema(str)
        )

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        return {
            "type": "string",
            "description": 'When: "day 10", "6 weeks", "1 month 2 weeks", "{protection_weeks} weeks", '
            '"brace-off + 2 weeks" or "end of protection".',
            "examples": ["day 0", "6 weeks", "brace-off + 2 weeks", "end of protection"],
        }


class _ParameterValue:
    """A parameter's value: a whole number, a text or true/false, and nothing else."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import PydanticCustomError, core_schema

        def check(value: Any) -> bool | int | str:
            if isinstance(value, (bool, int, str)):
                return value
            raise PydanticCustomError("parameter_value", "expected a whole number, a text in quotes, or true/false")

        return core_schema.no_info_plain_validator_function(check)

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        return {"type": ["integer", "string", "boolean"]}


class _NotInFile:
    """A field the loader fills in, which a protocol file cannot set and the schema does not show."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import PydanticCustomError, core_schema

        def refuse(value: Any) -> Any:
            raise PydanticCustomError("extra_forbidden", "Extra inputs are not permitted")

        return core_schema.no_info_plain_validator_function(refuse)

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        from pydantic_core import PydanticOmit

        raise PydanticOmit


When = Annotated[TimeExpr, _TimeExprField()]
Value = Annotated[bool | int | str, _ParameterValue()]
ItemId = Annotated[str, Pattern(f"^{ID_PATTERN}$"), Doc("Lower-case letters, digits and hyphens")]
Text = Annotated[str, Doc("Plain text; {side} and {parameter} are filled in")]
Slot = Annotated[str, Pattern(f"^({'|'.join(SLOTS)}|{CLOCK_PATTERN})$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]  # words.WEEKDAYS; a test keeps them equal
#: Tags of the protocol's `references` that give a thing's numbers: ["H6", "H14"].
Sources = Annotated[
    list[Annotated[str, Pattern(r"^[A-Za-z][A-Za-z0-9-]*$")]],
    Doc('Tags from references (the text before ":") of the sources that give the numbers here'),
]
#: The file an item or protocol came from, recorded by the loader for messages (see `located`).
Source = Annotated[str, _NotInFile()]
#: Levels on the SCALES: {weight_bearing = "toe-touch", loading = "light"}; a level may be a
#: choice parameter's placeholder ("{early_weight_bearing}") whose choices are levels.
Levels = Annotated[
    dict[Scale, str],
    Doc(
        "Levels by scale: "
        + ", ".join(f"{scale} ({', '.join(levels)})" for scale, levels in SCALES.items())
        + '; a level may be a choice parameter such as "{early_weight_bearing}"'
    ),
]


# ---- The model.


@record(kw_only=True)
class Parameter:
    """A value the surgeon adjusts; a plan may override it within its bounds.

    A whole number without a `default` is a blank the clinician fills in for each patient (a
    hold's seconds, a nerve glide's repeats): it needs `min` and `max`, and a plan that does
    not set it is refused. `sample` stands for it where only its kind matters."""

    __pydantic_config__ = STRICT
    default: Annotated[
        Value | None,
        Doc(
            "The value a plan has unless it sets another; leave it out for a blank the clinician must fill in (with min and max)"
        ),
    ] = None
    description: str = ""
    min: int | None = None
    max: int | None = None
    choices: Annotated[
        list[str] | dict[str, str] | None,
        Doc(
            "The allowed values of a text parameter: a list of texts, or a table of short names to the texts "
            "patients read (a plan then sets --set dressing=waterproof)"
        ),
    ] = None
    sources: Sources = field(default_factory=list)

    @property
    def blank(self) -> bool:
        """Whether the clinician must set it for each plan (it has no default)."""
        return self.default is None

    @property
    def sample(self) -> bool | int | str:
        """The default, or for a blank its minimum: a value of the parameter's kind."""
        return self.default if self.default is not None else (self.min if self.min is not None else 0)

    def problems_with(self, value: Any) -> str | None:
        """Why `value` is not allowed for this parameter, or None when it is."""
        expected = type(self.sample)
        if type(value) is not expected:
            kinds = {bool: "true or false", int: "a whole number", str: "a text"}
            return f"expected {kinds[expected]}, got {value!r}"
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
            return f"{value} is beyond the largest number a parameter may hold ({MAX_NUMBER:,})"
        if isinstance(value, int) and self.min is not None and value < self.min:
            return f"{value} is below the minimum {self.min}"
        if isinstance(value, int) and self.max is not None and value > self.max:
            return f"{value} is above the maximum {self.max}"
        if isinstance(value, str) and self.choices is not None and value not in self.choices:
            return f'"{value}" is not one of {quoted_choices(self.choices)}{did_you_mean(value, self.choices)}'
        return None

    def shown(self, value: Any) -> Any:
        """What a patient reads for `value`: a named choice's text, or the value itself."""
        if isinstance(self.choices, dict) and isinstance(value, str):
            return self.choices.get(value, value)
        return value

    def parse(self, text: str) -> bool | int | str:
        """A value typed on the command line, converted to this parameter's kind."""
        if isinstance(self.sample, bool):
            if text.lower() in ("true", "yes", "1", "on"):
                return True
            if text.lower() in ("false", "no", "0", "off"):
                return False
            return text
        if isinstance(self.sample, int) and re.fullmatch(r"-?\d+", text.strip()):
            return int(text)
        return text


@record(kw_only=True)
class Variant:
    """A named set of parameter values, such as an accelerated course."""

    __pydantic_config__ = STRICT
    description: str = ""
    set: dict[str, Value] = field(default_factory=dict)
    sources: Sources = field(default_factory=list)


@record(kw_only=True)
class Item:
    """What every phase, milestone, routine and appointment has."""

    __pydantic_config__ = STRICT
    id: ItemId
    title: Text
    description: Text = ""
    only_if: Annotated[
        str | None,
        Doc('Shown only when this parameter is non-zero, non-empty or true, or ("name=value") has this value'),
    ] = None
    needs: Annotated[
        Levels,
        Doc(
            'The least each scale must allow for this item\'s instructions, e.g. {loading = "light"}: '
            "the coherence check finds days where a phase or `not_before` allows less"
        ),
    ] = field(default_factory=dict)
    sources: Sources = field(default_factory=list)
    source: Source = field(default="", compare=False, repr=False)

    @property
    def switch(self) -> str | None:
        """The parameter `only_if` reads: "brace" of "brace" and of "brace_type=hip"."""
        return self.only_if.partition("=")[0].strip() if self.only_if is not None else None

    def shown_with(self, values: dict[str, Any]) -> bool:
        """Whether the item is part of a plan with these parameter values (see `only_if`)."""
        if self.only_if is None:
            return True
        name, equals, wanted = self.only_if.partition("=")
        value = values.get(name.strip())
        if equals:
            return str(value).lower() == wanted.strip().lower()
        return bool(value)

    def whens(self) -> Iterator[tuple[str, TimeExpr]]:
        """(field name, expression) for each time expression of the item."""
        return iter(())

    def same_days(self) -> Iterator[tuple[End, Point, str]]:
        """(end, other point, field) for each end that falls on the same day as another point."""
        return iter(())

    def texts(self) -> Iterator[tuple[str, str]]:
        """(field name, text) for each text that may hold placeholders."""
        yield "title", self.title
        yield "description", self.description


@record(kw_only=True)
class Phase(Item):
    """A span of the recovery, from `start` (inclusive) to `end` (exclusive)."""

    start: When
    end: When
    weight_bearing: Text = ""
    brace: Text = ""
    precautions: list[Text] = field(default_factory=list)
    goals: list[Text] = field(default_factory=list)
    advice: Annotated[
        list[Text],
        Doc("Day-to-day answers for the phase: sitting, sleeping, washing, stairs, work, and what is normal"),
    ] = field(default_factory=list)
    overlaps: Annotated[list[ItemId], Doc("Phases this one may overlap")] = field(default_factory=list)
    permits: Annotated[
        Levels,
        Doc(
            'The most each scale allows while this phase runs, e.g. {weight_bearing = "toe-touch", '
            'loading = "isometric"}; a later phase never permits less than an earlier one'
        ),
    ] = field(default_factory=dict)

    def whens(self) -> Iterator[tuple[str, TimeExpr]]:
        yield "start", self.start
        yield "end", self.end

    def texts(self) -> Iterator[tuple[str, str]]:
        yield from super().texts()
        yield "weight_bearing", self.weight_bearing
        yield "brace", self.brace
        for i, text in enumerate(self.precautions):
            yield f"precautions[{i}]", text
        for i, text in enumerate(self.goals):
            yield f"goals[{i}]", text
        for i, text in enumerate(self.advice):
            yield f"advice[{i}]", text


#: What day 0 is: the event a course counts from, and so the words its calendar uses ("after
#: surgery", "after your first visit", "after your injury").
DAY_ZERO = ("surgery", "first-visit", "injury")


@record(kw_only=True)
class Criteria:
    """When a stage may begin, by how the patient responds to the exercises: on `sessions` of
    the last `of_last` sessions checked in, pain during them was at most `pain_at_most` out of 10
    and the next morning was `next_morning` ("no-worse": better or as usual; "better"). The
    stage's milestone gives the days: `at` the earliest (so the least time in the stage before),
    `recordable` the latest. The same check-ins the other way round (pain above the limit, or a
    worse next morning, on `sessions` of the last `of_last`) are what `if_worse` acts on."""

    __pydantic_config__ = STRICT
    pain_at_most: Annotated[
        int, Bounds(ge=0, le=10), Doc("The most pain during the exercises, out of 10, of a session that counts")
    ]
    sessions: Annotated[int, Bounds(ge=1, le=28), Doc("How many of the last `of_last` sessions must count")]
    of_last: Annotated[int, Bounds(ge=1, le=28), Doc("How many of the latest sessions are looked at")]
    next_morning: Annotated[
        Literal["no-worse", "better"],
        Doc('How the next morning must be: "no-worse" (better or as usual) or "better"'),
    ] = "no-worse"

    def __post_init__(self) -> None:
        if self.sessions > self.of_last:
            raise ValueError(
                f"asks for {self.sessions} sessions of the last {self.of_last}: sessions must be at most of_last"
            )


@record(kw_only=True)
class Milestone(Item):
    """A single day: a step that is expected, often after criteria are checked.

    With `clearance`, the milestone is a gate: a step the surgeon or physiotherapist must clear
    (running, driving, sport). Its `at` is then the earliest day to ask. Until the plan records
    the day it happened (`--actual ID=DATE`), nothing counted from it starts, and what it ends
    (a "no driving" span) lasts to the end of the calendar.
    """

    at: When
    check: Annotated[list[Text], Doc("Criteria to confirm before this step")] = field(default_factory=list)
    clearance: Annotated[
        Text | None, Doc('Makes it a gate: what the patient asks, e.g. "whether you may start running"')
    ] = None
    recordable: Annotated[
        tuple[When, When] | None,
        Doc(
            "[earliest, latest] day a real date may be recorded (--actual); the latest counts from the surgery "
            'day, the earliest may count from another milestone ("later of 6 weeks, last-wedge-out"); outside, '
            "it is refused unless confirmed (--confirm). A clearance is never recorded before its day"
        ),
    ] = None

    criteria: Annotated[
        Criteria | None,
        Doc(
            "Makes it the start of a stage that begins when the patient's check-ins meet these criteria "
            "(with clearance and recordable: the earliest and latest day)"
        ),
    ] = None
    decides: Annotated[
        Literal["clinician", "rule"],
        Doc('Who moves the plan on when the criteria are met: "clinician" (the rule proposes) or "rule" (by itself)'),
    ] = "clinician"
    if_worse: Annotated[
        Literal["stay", "step-back"],
        Doc('What happens in this stage when the check-ins go the other way: "stay", or "step-back" (always proposed)'),
    ] = "stay"

    def __post_init__(self) -> None:
        if self.criteria is not None and (self.clearance is None or self.recordable is None):
            raise ValueError(
                'a stage with criteria needs "clearance" (what the patient is waiting for, e.g. "whether you may '
                'move on to stage 2") and "recordable" (its earliest and latest day)'
            )
        if self.criteria is None and (self.decides != "clinician" or self.if_worse != "stay"):
            raise ValueError('"decides" and "if_worse" belong to a stage: give it "criteria" too')
        if self.recordable is not None and self.recordable[1].anchors:
            raise ValueError('the latest recordable day counts from the surgery day: write "12 weeks", not an item')
        if self.recordable is not None and self.id in self.recordable[0].anchors:
            raise ValueError("the earliest recordable day cannot count from the milestone itself")

    def whens(self) -> Iterator[tuple[str, TimeExpr]]:
        yield "at", self.at

    def same_days(self) -> Iterator[tuple[End, Point, str]]:
        yield "end", (self.id, "start"), ""  # a single day ends where it starts

    def texts(self) -> Iterator[tuple[str, str]]:
        yield from super().texts()
        for i, text in enumerate(self.check):
            yield f"check[{i}]", text
        if self.clearance is not None:
            yield "clearance", self.clearance


@record(kw_only=True)
class Dose:
    """The blanks of an exercise handout: sets of reps, each held for some seconds."""

    __pydantic_config__ = STRICT
    sets: Annotated[int, Bounds(ge=1, le=20)] | None = None
    reps: Annotated[int, Bounds(ge=1, le=200)] | None = None
    hold_seconds: Annotated[int, Bounds(ge=1, le=600)] | None = None


@record(kw_only=True)
class Routine(Item):
    """A recurring reminder (exercise, ice, wound care) at set times of day."""

    times: Annotated[list[Slot], Bounds(min_length=1), Doc(f"Named slots ({', '.join(SLOTS)}) or clock times (07:30)")]
    during: Annotated[ItemId | None, Doc("A phase: the routine runs for all of it")] = None
    start: When | None = None
    end: When | None = None
    weekdays: Annotated[
        Annotated[list[Weekday], Bounds(min_length=1)] | None,
        Doc("Only on these days of the week (default: every day)"),
    ] = None
    every_days: Annotated[
        int,
        Bounds(ge=1, le=14),
        Doc("Every how many days, counted from the routine's first day: 2 is every other day (default 1)"),
    ] = 1
    dose: Dose | None = None
    pictures: Annotated[
        list[Annotated[str, Bounds(min_length=1, max_length=60)]],
        Bounds(max_length=6),
        Doc("The exercise's pictures, by id (`recovery pictures` lists them), shown beside its dose"),
    ] = field(default_factory=list)
    minutes: Annotated[int, Bounds(ge=1, le=240), Doc("How long one session takes")] = 10
    medication: Annotated[
        bool,
        Doc("A medicine reminder: its own event and alarm, titled exactly as written, never grouped with exercises"),
    ] = False

    def __post_init__(self) -> None:
        if self.during is None and (self.start is None or self.end is None):
            raise ValueError('needs "during" = a phase id, or both "start" and "end"')
        if self.during is not None and (self.start is not None or self.end is not None):
            raise ValueError('has "during" and "start"/"end": use one or the other')
        if self.every_days > 1 and self.weekdays is not None:
            raise ValueError('has "weekdays" and "every_days": use one or the other')

    def whens(self) -> Iterator[tuple[str, TimeExpr]]:
        if self.start is not None:
            yield "start", self.start
        if self.end is not None:
            yield "end", self.end

    def same_days(self) -> Iterator[tuple[End, Point, str]]:
        if self.during is not None:  # runs for all of its phase
            yield "start", (self.during, "start"), "during"
            yield "end", (self.during, "end"), "during"


@record(kw_only=True)
class Appointment(Item):
    """A visit: on a day (`at`), or within a window whose first and last days are both included."""

    at: When | None = None
    window: Annotated[tuple[When, When] | None, Doc("[first day, last day], both included")] = None

    def __post_init__(self) -> None:
        if (self.at is None) == (self.window is None):
            raise ValueError('needs either "at" or "window", not both')

    def whens(self) -> Iterator[tuple[str, TimeExpr]]:
        if self.at is not None:
            yield "at", self.at
        elif self.window is not None:
            yield "window[0]", self.window[0]
            yield "window[1]", self.window[1]

    def same_days(self) -> Iterator[tuple[End, Point, str]]:
        if self.at is not None:
            yield "end", (self.id, "start"), ""


@record(kw_only=True)
class RedFlag:
    """A warning sign and what the patient should do about it.

    A protocol that extends another adds its red flags to the inherited ones (one with the same
    `id` replaces it; `remove = ["id"]` drops it). Every protocol needs at least one flag marked
    `emergency = true`: a sign for which the action is to call the emergency number.
    """

    __pydantic_config__ = STRICT
    sign: Text
    action: Text
    id: Annotated[ItemId | None, Doc("Names the flag, so that a derived protocol can replace or remove it")] = None
    emergency: Annotated[bool, Doc("The action is to call the local emergency number")] = False
    sources: Sources = field(default_factory=list)

    def place(self, index: int) -> str:
        """Where the flag is, as a surgeon finds it: red_flags[id=fever], or red_flags[3] without an id."""
        return f"red_flags[id={self.id}]" if self.id else f"red_flags[{index}]"


@record(kw_only=True)
class Normal:
    """Something expected after surgery that needs no call (numbness for a day after a nerve
    block), shown beside the red flags so that a patient can tell the two apart."""

    __pydantic_config__ = STRICT
    text: Text
    sources: Sources = field(default_factory=list)


@record(kw_only=True)
class Word:
    """A word the plan uses that a patient may not know ("Nordic curls"), explained once in plain
    words; the calendar's Read first, the handout and the JSON list them."""

    __pydantic_config__ = STRICT
    term: Text
    meaning: Text
    sources: Sources = field(default_factory=list)


@record(kw_only=True)
class NotBefore:
    """The earliest day any item may need a level: strength work not before 6 weeks, jogging not
    before the walk-to-jog clearance (`at` may count from a milestone, recorded or not)."""

    __pydantic_config__ = STRICT
    scale: Scale
    level: str
    at: When
    sources: Sources = field(default_factory=list)

    @property
    def place(self) -> str:
        """Where the entry is, as a surgeon finds it: not_before[loading=light]."""
        return f"not_before[{self.scale}={self.level}]"


@record(kw_only=True)
class Step:
    """How a level is reached: only after at least `days` on one of the levels `after`, never
    straight from below them (full weight only after two weeks of weaning off the crutches;
    sport only some weeks after jogging began). The coherence check finds the day a plan's
    items first need `level` and looks at the days just before it."""

    __pydantic_config__ = STRICT
    scale: Scale
    level: str
    after: Annotated[
        list[str], Bounds(min_length=1), Doc("The levels that lead up to `level`, one of which comes first")
    ]
    days: Annotated[When, Doc('How long those levels last at least: "2 weeks", "{sport_after_running_weeks} weeks"')]
    sources: Sources = field(default_factory=list)

    @property
    def place(self) -> str:
        """Where the entry is, as a surgeon finds it: steps[weight_bearing=full]."""
        return f"steps[{self.scale}={self.level}]"


@record(kw_only=True)
class Conflict:
    """Parameter values that cannot be chosen together (as-tolerated weight bearing, then
    step-by-step): a plan that sets them all is refused with `reason`."""

    __pydantic_config__ = STRICT
    set: Annotated[
        dict[str, Value | list[Value]],
        Doc("Parameter values; a list matches any of its values. A plan matching all of them is refused"),
    ]
    reason: Text

    def matches(self, values: dict[str, Any]) -> bool:
        """Whether parameter values are the ones this conflict refuses (a list: any of its values)."""
        return all(values.get(name) in (w if isinstance(w, list) else [w]) for name, w in self.set.items())


@record(kw_only=True)
class Protocol:
    """A whole recovery course for one procedure."""

    __pydantic_config__ = STRICT
    id: ItemId
    title: str
    version: str
    description: str = ""
    references: Annotated[list[str], Doc("Sources for every number in the file")] = field(default_factory=list)
    extends: Annotated[str | None, Doc("A bundled protocol's name or a path to build on")] = None
    remove: Annotated[list[ItemId], Doc("Ids of inherited items to drop")] = field(default_factory=list)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    variants: dict[str, Variant] = field(default_factory=dict)
    phases: list[Phase] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    routines: list[Routine] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    red_flags: list[RedFlag] = field(default_factory=list)
    normal: Annotated[list[Normal], Doc("What is expected and needs no call, shown beside the red flags")] = field(
        default_factory=list
    )
    words: Annotated[list[Word], Doc("Words the texts use, each explained once in plain words")] = field(
        default_factory=list
    )
    not_before: Annotated[
        list[NotBefore], Doc("The earliest day any item may need a level, whatever the parameters and recorded dates")
    ] = field(default_factory=list)
    steps: Annotated[
        list[Step], Doc("How a level is reached: only after some days on the levels below it, never at once")
    ] = field(default_factory=list)
    order: Annotated[
        list[Annotated[str, Pattern(f"^(end of )?{ID_PATTERN}$")]],
        Doc('Milestones (or "end of PHASE") in the order they must happen, whatever the parameters and recorded dates'),
    ] = field(default_factory=list)
    conflicts: Annotated[list[Conflict], Doc("Parameter values that cannot be chosen together")] = field(
        default_factory=list
    )
    contact: Annotated[
        str, Doc("Whom the patient calls, such as the surgical team's numbers by day and after hours")
    ] = ""
    day_zero: Annotated[
        Literal["surgery", "first-visit", "injury"],
        Doc(
            'What day 0 is: "surgery" (the default), "first-visit" or "injury"; the calendar counts from it '
            '("3 weeks after your first visit") and a course without surgery must not speak of one'
        ),
    ] = "surgery"
    clinic_days: Annotated[
        Annotated[list[Weekday], Bounds(min_length=1)],
        Doc("The days the clinic sees patients: visits are placed on them (default Monday to Friday)"),
    ] = field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    source: Source = field(default="", compare=False, repr=False)
    #: The id of the protocol at the root of the `extends` chain (its own id when it extends none):
    #: a clinic's version of a bundled protocol belongs to the bundled one's family.
    family: Source = field(default="", compare=False, repr=False)

    @cached_property
    def references_graph(self) -> ReferenceGraph:
        """How the items' dates depend on each other, built once per protocol."""
        return ReferenceGraph.of(self.items())

    @cached_property
    def declared_levels(self) -> tuple[tuple[str, Item, str, str, str], ...]:
        """(section, item, "needs" or "permits", scale, level) for every level the items declare."""
        found = []
        for section, item in self.items():
            found += [(section, item, "needs", scale, level) for scale, level in item.needs.items()]
            if isinstance(item, Phase):
                found += [(section, item, "permits", scale, level) for scale, level in item.permits.items()]
        return tuple(found)

    @property
    def has_stages(self) -> bool:
        """Whether some step of the course begins when the patient is ready (a milestone with
        `criteria`): its patients check in, and its rule reads their answers."""
        return any(milestone.criteria is not None for milestone in self.milestones)

    def items(self) -> Iterator[tuple[str, Item]]:
        """(section, item) for every item, in file order."""
        for section in SECTIONS:
            for item in getattr(self, section):
                yield section, item

    @cached_property
    def _by_id(self) -> dict[str, Item]:
        found: dict[str, Item] = {}
        for _, item in self.items():
            found.setdefault(item.id, item)
        return found

    def item(self, item_id: str | None) -> Item | None:
        """The item with this id (the first, in file order), or None."""
        return self._by_id.get(item_id) if item_id is not None else None

    def reference_tags(self) -> dict[str, str]:
        """Each tagged reference by its tag: "H6: B. Forsythe MD, …" is cited as "H6"."""
        tags = {}
        for reference in self.references:
            tag, colon, _ = reference.partition(":")
            if colon and re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", tag.strip()):
                tags[tag.strip()] = reference
        return tags

    def cited(self) -> Iterator[tuple[str, list[str]]]:
        """(place, sources) for everything that can cite sources, with places as a surgeon finds them."""
        for name, parameter in self.parameters.items():
            yield f"parameters.{name}", parameter.sources
        for name, variant in self.variants.items():
            yield f"variants.{name}", variant.sources
        for section, item in self.items():
            yield where(section, item), item.sources
        for i, flag in enumerate(self.red_flags):
            yield flag.place(i), flag.sources
        for i, expected in enumerate(self.normal):
            yield f"normal[{i}]", expected.sources
        for i, word in enumerate(self.words):
            yield f"words[{i}]", word.sources
        for entry in self.not_before:
            yield entry.place, entry.sources
        for step in self.steps:
            yield step.place, step.sources

    def shown(self, values: dict[str, Any]) -> dict[str, Any]:
        """The values as texts fill them in: each named choice replaced by the text patients read."""
        return {name: self.parameters[name].shown(v) if name in self.parameters else v for name, v in values.items()}

    def values(self, variant: str | None = None, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Parameter values: defaults, then the variant's, then the plan's overrides."""
        values = {name: p.default for name, p in self.parameters.items()}
        if variant is not None:
            values.update(self.variants[variant].set)
        values.update(overrides or {})
        return values


T = TypeVar("T", Phase, Milestone, Routine, Appointment)
#: The fields the loader fills in (a file cannot set them): which file a thing came from, and
#: the root of the protocol's `extends` chain.
LOADER_FIELDS = frozenset({"source", "family"})


def located(protocol: Protocol, source: str, sources: dict[tuple[str, str], str], family: str = "") -> Protocol:
    """The protocol with the file it came from, each item's file (`sources`: (section, id) → file,
    else `source`) and its family (the root of its `extends` chain; default: its own id)."""

    def placed(section: str, items: list[T]) -> list[T]:
        return [replace(item, source=sources.get((section, item.id), source)) for item in items]

    return replace(
        protocol,
        source=source,
        family=family or protocol.id,
        phases=placed("phases", protocol.phases),
        milestones=placed("milestones", protocol.milestones),
        routines=placed("routines", protocol.routines),
        appointments=placed("appointments", protocol.appointments),
    )


def where(section: str, item: Item, field: str = "") -> str:
    """The place of a field as a surgeon finds it in the file: phases[id=protection].end."""
    return place(section, item.id, field)
