"""One patient's plan, declared once: the surgery date and every choice that turns a protocol into dates.

`FIELDS` declares each choice a plan holds (its name, type, default, conversion, check and help).
Everything else comes from it: the library's `Plan`, which takes plain values (ISO dates,
"07:30", numbers, booleans, strings for choices) and refuses others with a `PlanError` naming the
field; the command line's options (`recovery.options`); the batch file's columns; the plan's JSON
form (`Plan.to_json`, `Plan.from_json`), which the server's API uses.

A Plan holds only what the patient or clinic chose. It holds no name or other identifying data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import date, time
from typing import Any

from recovery.errors import PlanError, Problem, did_you_mean
from recovery.language import LANGUAGES
from recovery.records import record
from recovery.schedule.zones import check_timezone, machine_timezone
from recovery.words import CLOCK_PATTERN, CONTROL_CHARACTER, SIDES, SLOTS, printable, quoted_choices

#: The protocol a plan uses when it names none.
DEFAULT_PROTOCOL = "proximal-hamstring-repair"
#: Dates a plan may hold: the years calendars are written for.
FIRST_YEAR, LAST_YEAR = 1900, 2200
#: The longest text a plan's field holds (a calendar's name, a plan id).
MAX_TEXT = 200
#: How many entries a field of NAME=VALUE pairs may hold.
MAX_PAIRS = 100


class BadValueError(ValueError):
    """A value a field does not take; the message says what was expected."""


# ---- Conversions: a plain value (or one already converted) becomes the field's value, or BadValueError.


def to_date(value: Any) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):
        day = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError as error:
            raise BadValueError(f'"{value.strip()}" is not a day of the calendar ({error})') from None
    else:
        raise BadValueError(f"{_shown(value)} is not a date; write it as YYYY-MM-DD, e.g. 2027-03-01")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadValueError(f'"{day}": dates from {FIRST_YEAR} to {LAST_YEAR} are supported')
    return day


def to_clock_time(value: Any) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, str) and re.fullmatch(CLOCK_PATTERN, value.strip()):
        return time.fromisoformat(value.strip())
    raise BadValueError(f"{_shown(value)} is not a clock time; write HH:MM on the 24-hour clock, e.g. 07:30")


def to_zone(value: Any) -> str:
    if not isinstance(value, str):
        raise BadValueError(f'{_shown(value)} is not a time zone; use an IANA name such as "Europe/Berlin"')
    try:
        return check_timezone(value.strip())
    except PlanError as error:
        raise BadValueError(error.problems[0].message) from None


def to_text(value: Any) -> str:
    if not isinstance(value, str):
        raise BadValueError(f"{_shown(value)} is not text")
    found = CONTROL_CHARACTER.search(value)
    if found:
        raise BadValueError(f"a control character (U+{ord(found.group()):04X}) at character {found.start() + 1}")
    if len(value) > MAX_TEXT:
        raise BadValueError(f"{len(value):,} characters; at most {MAX_TEXT:,}")
    return value


def to_yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("", "no", "false", "0"):
        return False
    if isinstance(value, str) and value.strip().lower() in ("yes", "true", "1"):
        return True
    raise BadValueError(f"{_shown(value)} is not yes or no")


def to_minutes(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1440:
        return value
    raise BadValueError(f"{_shown(value)} is not a number of minutes from 0 to 1440")


def to_parameter_value(value: Any) -> str:
    """A parameter's value as typed (the protocol parses it): 5, true and "5" all become text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return to_text(value).strip()


def to_country(value: Any) -> str:
    """An ISO 3166 country code (US, GB), upper-cased, or "none"."""
    if isinstance(value, str) and value.strip().lower() == "none":
        return "none"
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{2}", value.strip()):
        return value.strip().upper()
    raise BadValueError(f'{_shown(value)} is not a two-letter country code (such as US or GB) or "none"')


def to_name(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", value.strip()):
        return value.strip()
    raise BadValueError(f"{_shown(value)} is not a milestone's id")


def choice(*choices: str) -> Callable[[Any], str]:
    def to_choice(value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        raise BadValueError(f"{_shown(value)} is not {quoted_choices(choices)}")

    return to_choice


def optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """None (or an empty text) stays None; anything else is converted."""

    def to_optional(value: Any) -> Any:
        return None if value is None or value == "" else convert(value)

    return to_optional


def _shown(value: Any) -> str:
    """A value in a message: as typed, in quotes, with control characters escaped."""
    text = value if isinstance(value, str) else repr(value)
    text = printable(text)
    text = text[:60] + ("…" if len(text) > 60 else "")
    return f'"{text}"' if isinstance(value, str) else text


# ---- The declaration.


@record
class Field:
    """One choice of a plan. `name` is its option without dashes, its batch column, and its JSON
    key with "_" for "-"; `attribute` is its name on `Plan`."""

    name: str
    attribute: str
    convert: Callable[[Any], Any]  # one value, plain or already converted
    help: str
    metavar: str = "TEXT"
    #: NAME=VALUE pairs (--set, --time, --actual): `convert` converts each value; `names` lists
    #: the names allowed, when they are fixed.
    pairs: bool = False
    names: tuple[str, ...] = ()
    names_are: str = "a name"  # what the names are, for a message: "a time of day"
    #: Other names of the same field (an option, a batch column, a JSON key with "_" for "-"):
    #: "start-date" for "surgery-date", for a course that does not begin with surgery.
    aliases: tuple[str, ...] = ()
    #: Several values (--confirm a --confirm b; a batch cell "a b"; a JSON list), each converted.
    many: bool = False
    flag: bool = False
    #: Only a calendar file has it (an alarm, a calendar's name, the plan's identity in a calendar).
    calendar_only: bool = False
    #: The label the clinic's new-plan form (`recovery serve`) gives it; "": the form does not ask.
    form: str = ""
    #: Whether a plan must give it (the dataclass has no default for it), and whether it may be
    #: left out as None (its default); both set by `FIELDS`.
    required: bool = False
    nullable: bool = False

    @property
    def key(self) -> str:
        """The field's key in the plan's JSON form."""
        return self.name.replace("-", "_")

    @property
    def kind(self) -> str:
        """What sort of value it takes: "yes/no", "pairs", "names", "choice" (one of `names`),
        "date", "number" or "text"; a form's input and a JSON schema follow from it."""
        if self.flag:
            return "yes/no"
        if self.pairs:
            return "pairs"
        if self.many:
            return "names"
        if self.names:
            return "choice"
        return {"YYYY-MM-DD": "date", "MINUTES": "number"}.get(self.metavar, "text")

    @property
    def json_schema(self) -> dict[str, Any]:
        """The field in the plan's JSON form, as JSON Schema (the server's OpenAPI document)."""
        kinds: dict[str, dict[str, Any]] = {
            "yes/no": {"type": "boolean"},
            "pairs": {"type": "object", "additionalProperties": {"type": "string"}},
            "names": {"type": "array", "items": {"type": "string"}},
            "choice": {"enum": list(self.names)},
            "date": {"type": "string", "format": "date"},
            "number": {"type": "integer"},
        }
        schema = dict(kinds.get(self.kind, {"type": "string"}))
        if self.pairs and self.names:
            schema["propertyNames"] = {"enum": list(self.names)}
        if self.nullable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        return {**schema, "description": self.help}

    def value_of(self, value: Any) -> Any:
        """The field's value from a plain value, or a PlanError naming the field (every bad entry)."""
        if self.many:
            values = value.replace(",", " ").split() if isinstance(value, str) else value
            if not isinstance(values, list | tuple) or len(values) > MAX_PAIRS:
                raise PlanError([Problem(f"{_shown(value)} is not a list of names", field=self.attribute)])
            try:
                return tuple(dict.fromkeys(self.convert(v) for v in values))
            except BadValueError as error:
                raise PlanError([Problem(str(error), field=self.attribute)]) from None
        if not self.pairs:
            try:
                return self.convert(value)
            except BadValueError as error:
                raise PlanError([Problem(str(error), field=self.attribute)]) from None
        converted, problems = {}, []
        for name, text in _pairs(value, self.attribute, self.metavar):
            try:
                if self.names and name not in self.names:
                    raise BadValueError(f'"{name}" is not {self.names_are}; use {quoted_choices(self.names)}')
                converted[name] = self.convert(text)
            except BadValueError as error:
                problems.append(Problem(str(error), field=self.attribute, detail=f"{name}={text}"))
        if problems:
            raise PlanError(problems)
        return converted


def _pairs(value: Any, attribute: str, metavar: str) -> list[tuple[str, Any]]:
    """NAME=VALUE pairs from a mapping, a list of "NAME=VALUE" texts or (name, value) pairs, or one
    text of "NAME=VALUE" separated by spaces (a batch file's cell)."""
    if isinstance(value, str):
        value = value.split()
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, Iterable):
        items = []
        for entry in value:
            if isinstance(entry, str):
                name, sep, text = entry.partition("=")
                if not sep or not name.strip():
                    raise PlanError([Problem(f"{_shown(entry)} should be {metavar}", field=attribute)])
                items.append((name.strip(), text.strip()))
            elif isinstance(entry, tuple | list) and len(entry) == 2:
                items.append((entry[0], entry[1]))
            else:
                raise PlanError([Problem(f"{_shown(entry)} should be {metavar}", field=attribute)])
    else:
        raise PlanError([Problem(f"{_shown(value)} should be {metavar} pairs", field=attribute)])
    if len(items) > MAX_PAIRS:
        raise PlanError([Problem(f"{len(items):,} entries; at most {MAX_PAIRS}", field=attribute)])
    for name, _ in items:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise PlanError([Problem(f"{_shown(name)} is not a name", field=attribute)])
    return items


def _declared(name: str, convert: Callable[[Any], Any], help: str, metavar: str = "TEXT", **more: Any) -> Any:
    """A `Plan` field declared with what every front end needs of it (see `Field`): `default` or
    `default_factory` go to the dataclass, the rest to the Field that `FIELDS` lists."""
    defaults = {key: more.pop(key) for key in ("default", "default_factory") if key in more}
    return field(**defaults, metadata={_FIELD: Field(name, "", convert, help, metavar, **more)})


_FIELD = "recovery.plan"


@dataclass(frozen=True)
class Plan:
    """What one patient's calendar is built from; every field takes plain values. Each field is
    declared here once, with its option, batch column, JSON key, help and conversion (`FIELDS`
    lists them, in this order, for the command line, batch files, the JSON form and the server)."""

    surgery_date: date = _declared(
        "surgery-date",
        to_date,
        "The day of surgery (day 0); for a course without surgery, its first day (the first visit or the injury, "
        "as the protocol says), also written --start-date.",
        "YYYY-MM-DD",
        form="Surgery date (or first visit)",
        aliases=("start-date",),
    )
    # the command line and batch default to this machine's zone instead
    timezone: str = _declared(
        "timezone",
        to_zone,
        "IANA time zone of the reminders, e.g. Europe/Berlin. [default: this machine's]",
        "ZONE",
        form="Time zone (the patient's, an IANA name)",
        default="UTC",
    )
    side: str | None = _declared(
        "side",
        optional(choice(*SIDES)),
        "The operated side, used in the texts.",
        "[left|right]",
        names=SIDES,
        names_are="a side",
        form="Operated side",
        default=None,
    )
    country: str | None = _declared(
        "country",
        optional(to_country),
        "The patient's country (ISO code such as US or GB): visits avoid its public holidays. "
        '"none": no holidays. [default: the country of the time zone]',
        "CODE",
        form="Country, for public holidays (two letters; empty: the time zone's)",
        default=None,
    )
    variant: str | None = _declared(
        "variant", optional(to_text), "A variant of the protocol, such as accelerated.", form="Variant", default=None
    )
    overrides: dict[str, str] = _declared(  # parameter name → value as typed
        "set",
        to_parameter_value,
        "Change a parameter (repeatable).",
        "NAME=VALUE",
        pairs=True,
        form="Parameters",
        default_factory=dict,
    )
    slot_times: dict[str, time] = _declared(  # given ones replace the defaults
        "time",
        to_clock_time,
        "Clock time of a named slot: morning (08:00), midday (13:00), evening (19:00). Repeatable.",
        "SLOT=HH:MM",
        pairs=True,
        names=tuple(SLOTS),
        names_are="a time of day",
        form="Reminder times",
        default_factory=lambda: dict(SLOTS),
    )
    actuals: dict[str, date] = _declared(  # milestone id → the day it happened
        "actual",
        to_date,
        "The day a milestone really happened; what depends on it moves (repeatable).",
        "MILESTONE=DATE",
        pairs=True,
        default_factory=dict,
    )
    start_from: date | None = _declared(  # skip what is before this day (a patient who starts late)
        "from", optional(to_date), "Leave out what is before this day (a late start).", "YYYY-MM-DD", default=None
    )
    discreet: bool = _declared(
        "discreet",
        to_yes_no,
        "Titles say nothing medical (details stay inside each event or page).",
        flag=True,
        form="Discreet titles (no medical words in the calendar's titles)",
        default=False,
    )
    language: str = _declared(
        "language",
        choice(*LANGUAGES),
        "The language of everything the patient reads: en (English) or es (Spanish). [default: en]",
        "[en|es]",
        names=tuple(LANGUAGES),
        names_are="a language",
        form="Language of the patient's calendar, page and handout",
        default="en",
    )
    large_print: bool = _declared(
        "large-print",
        to_yes_no,
        "Large print: the handout and the patient's page in text of 18 pt or more, one column, larger pictures.",
        flag=True,
        form="Large print (handout and patient page)",
        default=False,
    )
    confirmed: tuple[str, ...] = _declared(
        "confirm",
        to_name,
        "A milestone whose --actual date is outside the days the protocol expects, recorded so on purpose (repeatable).",
        "MILESTONE",
        many=True,
        default=(),
    )
    contact: str | None = _declared(
        "contact",
        optional(to_text),
        "Whom to call: the surgical team's numbers (top of every view, and in each red flag). "
        "[default: the protocol's]",
        form="Whom to call (shown with every red flag)",
        default=None,
    )
    alarm_minutes: int = _declared(
        "alarm-minutes",
        to_minutes,
        "Alarm this many minutes before each reminder. [default: 0]",
        "MINUTES",
        calendar_only=True,
        default=0,
    )
    calendar_name: str | None = _declared(
        "calendar-name",
        optional(to_text),
        "The calendar's name. [default: Recovery: <protocol title>]",
        calendar_only=True,
        default=None,
    )
    plan_id: str = _declared(  # never identifying data
        "plan-id",
        to_text,
        "Tells apart two plans meant for one calendar (e.g. left and right leg). Never a name.",
        calendar_only=True,
        form="Plan id (the clinic's own id; never a name)",
        default="",
    )

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for declared in FIELDS:
            try:
                value = declared.value_of(getattr(self, declared.attribute))
            except PlanError as error:
                problems += error.problems
                continue
            if declared.attribute == "slot_times":
                value = {**SLOTS, **value}
            # The documented way for a frozen dataclass to keep what __post_init__ converted.
            object.__setattr__(self, declared.attribute, value)
        if problems:
            raise PlanError(problems)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, machine_zone: bool = False) -> Plan:
        """A Plan from its JSON form (keys as `Field.key`: "surgery_date", "set", "time", …); with
        `machine_zone`, a plan without a zone takes this machine's, as the command line does."""
        known = {f.key: f for f in FIELDS}
        for declared in FIELDS:  # another name of a field is the field ("start_date": "surgery_date")
            for alias in declared.aliases:
                alias_key = alias.replace("-", "_")
                if alias_key in data:
                    if declared.key in data and data[declared.key] not in (None, ""):
                        raise PlanError(
                            [
                                Problem(
                                    f'"{alias_key}" and "{declared.key}" are the same field: give one',
                                    field=declared.key,
                                )
                            ]
                        )
                    data = {**{k: v for k, v in data.items() if k != alias_key}, declared.key: data[alias_key]}
        problems = [
            Problem(f'unknown field "{key}"' + did_you_mean(str(key), known), field=str(key))
            for key in data
            if key not in known
        ]
        if "surgery_date" not in data or data["surgery_date"] in (None, ""):
            problems.append(Problem("missing; write it as YYYY-MM-DD", field="surgery_date"))
        if problems:
            raise PlanError(problems)
        values = {known[key].attribute: value for key, value in data.items() if value is not None}
        if machine_zone and not values.get("timezone"):
            values["timezone"] = machine_timezone()
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """The plan's JSON form: what `from_json` takes back."""
        data: dict[str, Any] = {}
        for declared in FIELDS:
            value = getattr(self, declared.attribute)
            if isinstance(value, dict):
                value = {name: v.isoformat() if isinstance(v, date | time) else v for name, v in value.items()}
                if declared.attribute == "slot_times":
                    value = {name: v[:5] for name, v in value.items()}
            elif isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            data[declared.key] = value
        return data


#: Every field of a plan, in the order the command line shows them (see `Field`).
FIELDS: tuple[Field, ...] = tuple(
    replace(
        f.metadata[_FIELD],
        attribute=f.name,
        required=f.default is MISSING and f.default_factory is MISSING,
        nullable=f.default is None,
    )
    for f in dataclass_fields(Plan)
)
BY_NAME = {f.name: f for f in FIELDS}
BY_ATTRIBUTE = {f.attribute: f for f in FIELDS}


def updated(earlier: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """A plan's JSON form from the choices an earlier calendar recorded (`earlier`) and those given
    now (`given`, only what was given): a given choice replaces the earlier one, a given NAME=VALUE
    pair replaces the earlier pair of that name (a pair given as None drops it), and everything
    not given stays as it was."""
    merged: dict[str, Any] = {}
    for declared in FIELDS:
        key = declared.key
        if key in given and declared.pairs:
            before = earlier.get(key)
            pairs = {**(before if isinstance(before, dict) else {}), **given[key]}
            merged[key] = {name: value for name, value in pairs.items() if value is not None}
        elif key in given:
            merged[key] = given[key]
        elif key in earlier:
            merged[key] = earlier[key]
    return merged


def changes(before: Plan, after: Plan) -> list[tuple[Field, str, str]]:
    """(field, value before, value after) for each choice that differs, in the fields' order;
    a NAME=VALUE field is compared pair by pair ("brace-off=2027-04-20")."""
    old, new = before.to_json(), after.to_json()
    found = []
    for declared in FIELDS:
        a, b = old[declared.key], new[declared.key]
        if declared.pairs:
            for name in dict.fromkeys([*a, *b]):
                if a.get(name) != b.get(name):
                    found.append((declared, _pair(name, a.get(name)), _pair(name, b.get(name))))
        elif a != b:
            found.append((declared, _value(a), _value(b)))
    return found


def _pair(name: str, value: Any) -> str:
    return f"{name}={value}" if value is not None else f"{name} (none)"


def _value(value: Any) -> str:
    return "(none)" if value in (None, "") else str(value).lower() if isinstance(value, bool) else str(value)


def default_output_name(protocol_id: str, plan: Plan, extension: str, suffix: str = "") -> str:
    """<protocol>-<surgery date><suffix>.<extension>, "plan" for the protocol when discreet (or when
    the id is not a plain name, so that a name can never lead outside the folder)."""
    name = protocol_id if not plan.discreet and re.fullmatch(r"[a-z0-9][a-z0-9-]*", protocol_id) else "plan"
    return f"{name}-{plan.surgery_date.isoformat()}{suffix}.{extension}"
