"""The checks that look across a protocol's items: references, cycles, parameters, placeholders.

Pydantic has already checked each key alone (`validation`); these checks need the whole protocol:
an id used twice, a reference to an item or parameter that does not exist, a cycle of references,
a variant that sets an unknown parameter, a text placeholder nobody fills. Every problem is
reported at once, each with its file, item and field.
"""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Callable, Iterable, Iterator

from recovery import pictures
from recovery.errors import Problem, did_you_mean
from recovery.protocol.model import (
    LOADER_FIELDS,
    MAX_NUMBER,
    PLAN_PLACEHOLDERS,
    SCALES,
    Appointment,
    Item,
    Milestone,
    Phase,
    Protocol,
    Routine,
    where,
)
from recovery.protocol.timeexpr import TimeExpr
from recovery.records import record
from recovery.words import quoted_choices

_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")
#: Characters no text may hold: control characters (except tab and line break), DEL and C1
#: controls, and the marks that reorder text (right-to-left overrides and isolates), which can
#: make a text read otherwise than it is written.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def control_character_problems(protocol: Protocol) -> list[Problem]:
    """A control character (ESC, a raw C0 byte, DEL) in any text: strict calendar readers reject the
    file, and a terminal would obey it. Each is reported with its position in the text."""
    problems = []
    for place, text in _all_texts(protocol):
        found = _CONTROL.search(text)
        if found:
            problems.append(
                Problem(
                    f"a control character (U+{ord(found.group()):04X}) at character {found.start() + 1}; "
                    "texts may hold only printable characters, tabs and line breaks (no marks that reorder text)",
                    protocol.source,
                    place,
                )
            )
    return problems


#: Words that say the patient had an operation: a course whose day 0 is not surgery must not use them.
_SURGICAL = re.compile(
    r"\b(after|since|before|from) (your |the )?(surgery|operation)\b|\boperated\b|\bsurgeon|\bsurgical\b"
    r"|\b(wound|stitches|incision|dressing)\b",
    re.IGNORECASE,
)


def day_zero_problems(protocol: Protocol) -> list[Problem]:
    """A text that speaks of an operation in a course whose day 0 is a first visit or an injury
    ("9 weeks after surgery" to a patient who had none); the references may name surgery."""
    if protocol.day_zero == "surgery":
        return []
    event = {"first-visit": "the first visit", "injury": "the injury"}[protocol.day_zero]
    problems = []
    for place, text in _all_texts(protocol):
        if place.startswith(("references", "id", "extends", "remove")):
            continue
        if found := _SURGICAL.search(text):
            problems.append(
                Problem(
                    f'says "{found.group()}", but day 0 of this course is {event} (day_zero = "{protocol.day_zero}"): '
                    "write it without surgery, or set day_zero",
                    protocol.source,
                    place,
                )
            )
    return problems


def _all_texts(value: object, place: str = "") -> list[tuple[str, str]]:
    """(place, text) for every text anywhere in the protocol, with places as a surgeon finds them."""
    if isinstance(value, str):
        return [(place, value)]
    found: list[tuple[str, str]] = []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            if field.name not in LOADER_FIELDS:
                found += _all_texts(getattr(value, field.name), f"{place}.{field.name}" if place else field.name)
    elif isinstance(value, dict):
        for key, entry in value.items():
            found += _all_texts(key, place) + _all_texts(entry, f"{place}.{key}")
    elif isinstance(value, list | tuple):
        for i, entry in enumerate(value):
            label = f"[id={entry.id}]" if isinstance(entry, Item) else f"[{i}]"
            found += _all_texts(entry, f"{place}{label}")
    return found


def check_protocol(protocol: Protocol) -> list[Problem]:
    """Every problem that looks across items (pydantic has already checked each key alone), in the
    order a surgeon reads the file: the rules of the whole file (FILE_RULES), each item's rules
    (ITEM_RULES) item by item, the rules of its lists (LIST_RULES); then the cycles of
    references, unless two items share an id (the graph of references is then not the file's).
    A reference to an unknown item is not in the graph, so it neither hides nor makes a cycle."""
    context = _Context.of(protocol)
    twice = list(_unique_ids(protocol))
    problems = twice + [problem for rule in FILE_RULES if rule is not _unique_ids for problem in rule(protocol)]
    for section, item in protocol.items():
        problems += [problem for rule in ITEM_RULES for problem in rule(context, section, item)]
    problems += [problem for rule in LIST_RULES for problem in rule(protocol)]
    return problems if twice else problems + _check_cycles(protocol)


@record
class _Context:
    """What the item rules look up: the protocol, its items by id, its whole-number parameters, its phases."""

    protocol: Protocol
    items: dict[str, Item]
    numeric: frozenset[str]
    phase_ids: tuple[str, ...]

    @classmethod
    def of(cls, protocol: Protocol) -> _Context:
        items: dict[str, Item] = {}
        for _, item in protocol.items():
            items.setdefault(item.id, item)
        numeric = frozenset(name for name, p in protocol.parameters.items() if type(p.sample) is int)
        return cls(protocol, items, numeric, tuple(p.id for p in protocol.phases))


def _unique_ids(protocol: Protocol) -> Iterator[Problem]:
    seen: dict[str, str] = {}
    for section, item in protocol.items():
        if item.id in seen:
            yield Problem(
                f'the id "{item.id}" is used twice (also in {seen[item.id]}); ids must be unique',
                item.source or protocol.source,
                where(section, item, "id"),
            )
        seen.setdefault(item.id, section)


def _time_expressions(context: _Context, section: str, item: Item) -> Iterator[Problem]:
    """Each time expression counts from an item that exists and has the end it names, with
    parameters that exist and are whole numbers."""
    protocol, items, numeric = context.protocol, context.items, context.numeric
    for key, expr in item.whens():
        place, source = where(section, item, key), item.source or protocol.source
        for name in sorted(expr.parameters):
            if name not in protocol.parameters:
                hint = did_you_mean(name, protocol.parameters)
                message = f'"{expr}" uses the parameter {{{name}}}, which is not defined{hint}'
                yield Problem(message, source, place, refers=(name,))
            elif name not in numeric:
                message = f'"{expr}" uses {{{name}}} as a number, but that parameter is not a whole number'
                yield Problem(message, source, place, refers=(name,))
        for part in expr.parts():
            yield from _anchor_problems(expr, part, items, source, place)


def _anchor_problems(
    expr: TimeExpr, part: TimeExpr, items: dict[str, Item], source: str, place: str
) -> Iterator[Problem]:
    """What is wrong with the item one part of an expression counts from."""
    anchor = part.anchor
    if anchor is None:
        return
    if anchor not in items:
        said = "" if expr.text.strip() == anchor else f'"{expr}": '
        message = f'{said}refers to "{anchor}", which is not an item in this protocol{did_you_mean(anchor, items)}'
        yield Problem(message, source, place, refers=(anchor,))
    elif part.anchor_end and isinstance(items[anchor], Milestone):
        message = f'"{expr}": "{anchor}" is a milestone, a single day with no end; refer to "{anchor}" itself'
        yield Problem(message, source, place, refers=(anchor,))
    elif part.anchor_end and _is_one_day_visit(items[anchor]):
        message = f'"{expr}": the appointment "{anchor}" is on one day; refer to "{anchor}" itself'
        yield Problem(message, source, place, refers=(anchor,))


def _switches(context: _Context, section: str, item: Item) -> Iterator[Problem]:
    """An item's only_if names a parameter (and, with "=value", one of its values)."""
    protocol = context.protocol
    name = item.switch
    if name is None:
        return
    if name not in protocol.parameters:
        hint = did_you_mean(name, protocol.parameters)
        yield Problem(
            f'only_if names "{name}", which is not a parameter{hint}',
            item.source or protocol.source,
            where(section, item, "only_if"),
            refers=(name,),
        )
        return
    assert item.only_if is not None
    _, equals, wanted = item.only_if.partition("=")
    choices = [str(c).lower() for c in (protocol.parameters[name].choices or ())]
    if equals and wanted.strip().lower() not in choices:
        hint = did_you_mean(wanted.strip(), choices)
        yield Problem(
            f'"{wanted.strip()}" is not a choice of {name}'
            + (hint or (f"; its choices are {quoted_choices(choices)}" if choices else f"; {name} has no choices")),
            item.source or protocol.source,
            where(section, item, "only_if"),
        )


def _placeholders_are_known(context: _Context, section: str, item: Item) -> Iterator[Problem]:
    """Every {placeholder} in an item's texts is a parameter or {side}, written plainly."""
    protocol = context.protocol
    for key, text in item.texts():
        for message, name in _placeholder_problems(text, protocol):
            yield Problem(message, item.source or protocol.source, where(section, item, key), refers=(name,))


def _flag_placeholders_are_known(protocol: Protocol) -> Iterator[Problem]:
    """Every {placeholder} in a red flag or a note of what is normal is a parameter or {side}."""
    for i, flag in enumerate(protocol.red_flags):
        for key in ("sign", "action"):
            for message, name in _placeholder_problems(getattr(flag, key), protocol):
                yield Problem(message, protocol.source, f"{flag.place(i)}.{key}", refers=(name,))
    for i, expected in enumerate(protocol.normal):
        for message, name in _placeholder_problems(expected.text, protocol):
            yield Problem(message, protocol.source, f"normal[{i}].text", refers=(name,))
    for i, word in enumerate(protocol.words):
        for key in ("term", "meaning"):
            for message, name in _placeholder_problems(getattr(word, key), protocol):
                yield Problem(message, protocol.source, f"words[{i}].{key}", refers=(name,))


def _phases_named(context: _Context, section: str, item: Item) -> Iterator[Problem]:
    """A routine's `during` and a phase's `overlaps` name phases."""
    protocol, phase_ids = context.protocol, context.phase_ids
    named = [("during", item.during)] if isinstance(item, Routine) and item.during is not None else []
    named += [("overlaps", other) for other in item.overlaps] if isinstance(item, Phase) else []
    for key, name in named:
        if name not in phase_ids:
            yield Problem(
                f'{key} names "{name}", which is not a phase{did_you_mean(name, phase_ids)}',
                item.source or protocol.source,
                where(section, item, key),
                refers=(name,),
            )


def _pictures_are_known(context: _Context, section: str, item: Item) -> Iterator[Problem]:
    """A routine's `pictures` name pictures that exist; a medicine has none."""
    if not isinstance(item, Routine):
        return
    known = sorted(pictures.names())
    for i, name in enumerate(item.pictures):
        if name not in known:
            yield Problem(
                f'"{name}" is not a picture{did_you_mean(name, known)}; `recovery pictures` lists them',
                item.source or context.protocol.source,
                where(section, item, f"pictures[{i}]"),
            )
    if item.medication and item.pictures:
        yield Problem(
            "a medicine reminder shows no exercise picture: remove pictures",
            item.source or context.protocol.source,
            where(section, item, "pictures"),
        )


def _levels_are_known(context: _Context, section: str, item: Item) -> Iterator[Problem]:
    """An item's `needs` and a phase's `permits` name levels of their scales, or choice
    parameters whose every choice is such a level."""
    declared = [("needs", item.needs)] + ([("permits", item.permits)] if isinstance(item, Phase) else [])
    for key, levels in declared:
        for scale, level in levels.items():
            why = level_problem(context.protocol, scale, level)
            if why:
                yield Problem(why, item.source or context.protocol.source, where(section, item, f"{key}.{scale}"))


def level_problem(protocol: Protocol, scale: str, level: str) -> str:
    """Why `level` is not a level of `scale` (a placeholder: a choice parameter whose choices all
    are), or "" when it is."""
    levels = SCALES[scale]
    if level.startswith("{") and level.endswith("}"):
        name = level[1:-1]
        parameter = protocol.parameters.get(name)
        if parameter is None:
            return f'"{level}" is not a parameter{did_you_mean(name, protocol.parameters)}'
        choices = list(parameter.choices or ())
        wrong = [choice for choice in choices if choice not in levels]
        if not choices or wrong:
            return f'"{level}" must be a parameter whose choices are {scale} levels ({_in_order(levels)})' + (
                f'; "{wrong[0]}" is not one' if wrong else ""
            )
        return ""
    if level not in levels:
        return f'"{level}" is not a {scale} level; the levels are {_in_order(levels)}{did_you_mean(level, levels)}'
    return ""


def _in_order(levels: tuple[str, ...]) -> str:
    """A scale's levels as a surgeon reads them: from the most careful to the freest."""
    return "from the most careful, " + ", ".join(f'"{level}"' for level in levels)


def _check_steps(protocol: Protocol, numeric: frozenset[str]) -> list[Problem]:
    """Each of `steps` names a level, levels below it to come from, and a length of time."""
    problems = []
    for step in protocol.steps:
        levels = SCALES[step.scale]
        for key, level in [("level", step.level), *((f"after[{i}]", lower) for i, lower in enumerate(step.after))]:
            why = f'"{level}": name a level itself' if "{" in level else level_problem(protocol, step.scale, level)
            if not why and key != "level" and step.level in levels and levels.index(level) >= levels.index(step.level):
                why = f'"{level}" is not below "{step.level}": a step comes from lower levels'
            if why:
                problems.append(Problem(why, protocol.source, f"{step.place}.{key}"))
        place, expr = f"{step.place}.days", step.days
        if expr.anchors or len(expr.parts()) > 1 or any(term.sign < 0 for term in expr.terms):
            problems.append(
                Problem(
                    f'"{expr}" is not a length of time: write one like "2 weeks" or "{{parameter}} weeks"',
                    protocol.source,
                    place,
                )
            )
        for name in sorted(expr.parameters - numeric):
            hint = did_you_mean(name, protocol.parameters)
            problems.append(
                Problem(
                    f'"{expr}" uses {{{name}}}, which is not a whole-number parameter{hint}', protocol.source, place
                )
            )
    return problems


def _check_coherence_keys(protocol: Protocol) -> list[Problem]:
    """`not_before` names levels and counts from items that exist; `order` names milestones;
    each of `conflicts` names parameters and values they can take."""
    problems = []
    context = _Context.of(protocol)
    for entry in protocol.not_before:
        place = f"{entry.place}.level"
        why = (
            f'"{entry.level}": name a level itself'
            if "{" in entry.level
            else level_problem(protocol, entry.scale, entry.level)
        )
        if why:
            problems.append(Problem(why, protocol.source, place))
        place, expr = f"{entry.place}.at", entry.at
        for name in sorted(expr.parameters - context.numeric):
            hint = did_you_mean(name, protocol.parameters)
            problems.append(
                Problem(
                    f'"{expr}" uses {{{name}}}, which is not a whole-number parameter{hint}', protocol.source, place
                )
            )
        for part in expr.parts():
            problems += _anchor_problems(expr, part, context.items, protocol.source, place)
    problems += _check_steps(protocol, context.numeric)
    milestones = [m.id for m in protocol.milestones]
    for i, ordered in enumerate(protocol.order):
        name = ordered.removeprefix("end of ")
        if name == ordered and name not in milestones:
            problems.append(
                Problem(
                    f'"{name}" is not a milestone{did_you_mean(name, milestones)}',
                    protocol.source,
                    f"order[{i}]",
                    refers=(name,),
                )
            )
        elif name != ordered and name not in context.phase_ids:
            hint = did_you_mean(name, context.phase_ids)
            problems.append(
                Problem(f'"{ordered}": "{name}" is not a phase{hint}', protocol.source, f"order[{i}]", refers=(name,))
            )
    for section, item in protocol.items():
        if isinstance(item, Milestone) and item.recordable is not None:
            place = where(section, item, "recordable[0]")
            for name in sorted(item.recordable[0].parameters - context.numeric):
                hint = did_you_mean(name, protocol.parameters)
                problems.append(
                    Problem(f"uses {{{name}}}, which is not a whole-number parameter{hint}", item.source, place)
                )
            for part in item.recordable[0].parts():
                problems += _anchor_problems(item.recordable[0], part, context.items, item.source, place)
    for i, conflict in enumerate(protocol.conflicts):
        for name, wanted in conflict.set.items():
            place = f"conflicts[{i}].set.{name}"
            parameter = protocol.parameters.get(name)
            if parameter is None:
                problems.append(
                    Problem(
                        f'"{name}" is not a parameter{did_you_mean(name, protocol.parameters)}', protocol.source, place
                    )
                )
                continue
            for value in wanted if isinstance(wanted, list) else [wanted]:
                if wrong := parameter.problems_with(value):
                    problems.append(Problem(wrong, protocol.source, place))
    return problems


def _check_parameters(protocol: Protocol) -> list[Problem]:
    problems: list[Problem] = []
    for name, parameter in protocol.parameters.items():
        place = f"parameters.{name}"
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            problems.append(Problem("a parameter name uses lower-case letters, digits and _", protocol.source, place))
        if name in PLAN_PLACEHOLDERS:
            problems.append(Problem(f'"{name}" is set by the plan and cannot be a parameter', protocol.source, place))
        is_number = type(parameter.sample) is int
        if parameter.blank and (parameter.min is None or parameter.max is None):
            problems.append(
                Problem(
                    "has no default, so it is a whole number the clinician sets for each plan: give its min and max",
                    protocol.source,
                    place,
                )
            )
            continue
        if not is_number and (parameter.min is not None or parameter.max is not None):
            problems.append(Problem("min and max apply only to a whole-number parameter", protocol.source, place))
        if parameter.choices is not None and type(parameter.sample) is not str:
            problems.append(Problem("choices apply only to a text parameter", protocol.source, place))
        for key in parameter.choices if isinstance(parameter.choices, dict) else ():
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", key):
                problems.append(
                    Problem(
                        f'"{key}": a choice\'s name uses lower-case letters, digits, - and _ (it is typed in --set)',
                        protocol.source,
                        f"{place}.choices",
                    )
                )
        for bound in ("min", "max"):
            value = getattr(parameter, bound)
            if value is not None and abs(value) > MAX_NUMBER:
                problems.append(
                    Problem(
                        f"{value} is beyond {MAX_NUMBER:,}, the largest a parameter may hold",
                        protocol.source,
                        f"{place}.{bound}",
                    )
                )
        if parameter.min is not None and parameter.max is not None and parameter.min > parameter.max:
            problems.append(Problem(f"min {parameter.min} is above max {parameter.max}", protocol.source, place))
        elif not parameter.blank and (why := parameter.problems_with(parameter.default)):
            problems.append(Problem(f"the default: {why}", protocol.source, f"{place}.default"))
    for variant_name, variant in protocol.variants.items():
        for name, value in variant.set.items():
            place = f"variants.{variant_name}.set.{name}"
            if name not in protocol.parameters:
                hint = did_you_mean(name, protocol.parameters)
                problems.append(Problem(f'"{name}" is not a parameter{hint}', protocol.source, place))
            elif why := protocol.parameters[name].problems_with(value):
                problems.append(Problem(why, protocol.source, place))
    return problems


def _placeholder_problems(text: str, protocol: Protocol) -> list[tuple[str, str]]:
    """(message, the placeholder's name or "") for each placeholder problem of a text."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return [(f'"{text}": a lone "{{" or "}}"; write {{{{ or }}}} for a literal brace', "")]
    fancy = [
        key
        for _, key, spec, conversion in parts
        if key is not None and (spec or conversion or not _PLAIN.fullmatch(key))
    ]
    if fancy:
        return [
            (f'"{text}": only plain placeholders such as {{side}} are allowed, not "{{{fancy[0]}…}}" with a format', "")
        ]
    names = [key for _, key, _, _ in parts if key is not None]
    known = set(protocol.parameters) | PLAN_PLACEHOLDERS
    return [
        (f'"{{{name}}}" is neither a parameter nor {{side}}{did_you_mean(name, known)}', name)
        for name in names
        if name not in known
    ]


def _check_red_flags(protocol: Protocol) -> list[Problem]:
    """Warning signs are what a calendar must never lose: at least one, and one that says when
    to call the emergency number."""
    if not protocol.red_flags:
        return [
            Problem(
                "a protocol needs red flags: the warning signs and what to do about them", protocol.source, "red_flags"
            )
        ]
    problems = []
    if not any(flag.emergency for flag in protocol.red_flags):
        problems.append(
            Problem(
                "no red flag is marked emergency = true; add the signs for which the patient calls the "
                "emergency number (such as chest pain or sudden shortness of breath)",
                protocol.source,
                "red_flags",
            )
        )
    seen: dict[str, int] = {}
    item_ids = {item.id for _, item in protocol.items()}
    for i, flag in enumerate(protocol.red_flags):
        if flag.id is None:
            continue
        if flag.id in seen or flag.id in item_ids:
            problems.append(
                Problem(f'the id "{flag.id}" is used twice; ids must be unique', protocol.source, f"red_flags[{i}].id")
            )
        seen.setdefault(flag.id, i)
    return problems


def _check_sources(protocol: Protocol) -> list[Problem]:
    """Every tag in `sources` names a reference of the file (or of a protocol it extends)."""
    tags = protocol.reference_tags()
    problems = []
    for place, sources in protocol.cited():
        for tag in sources:
            if tag not in tags:
                known = f"; the tags are {quoted_choices(sorted(tags))}" if tags else ""
                hint = did_you_mean(tag, tags) or known
                problems.append(
                    Problem(
                        f'"{tag}" is not the tag of a reference; references are written "{tag}: author, title, '
                        f'address"{hint}',
                        protocol.source,
                        f"{place}.sources",
                    )
                )
    return problems


def _check_variants(protocol: Protocol) -> list[Problem]:
    """A variant must not leave a step that depends on something it turned off: a routine during a
    hidden phase, a visit at the end of one, a text that shows a parameter set to nothing.

    A hidden milestone is only a day (the brace-off day still ends protection without a brace),
    so items may keep counting from it; a hidden phase or routine is something the patient is
    told not to have.
    """
    problems: dict[tuple[str, str], Problem] = {}
    by_id = {item.id: item for _, item in protocol.items()}
    for variant in (None, *protocol.variants):
        values = protocol.values(variant)
        hidden = {item.id for item in by_id.values() if not item.shown_with(values)}
        named, s = (f'the variant "{variant}"', "s") if variant else ("the defaults", "")
        for section, item in protocol.items():
            if item.id in hidden:
                continue
            anchors = [(key, anchor) for key, expr in item.whens() for anchor in expr.anchors]
            if isinstance(item, Routine) and item.during is not None:
                anchors.append(("during", item.during))
            for key, anchor in anchors:
                other = by_id.get(anchor)
                if anchor in hidden and other is not None and not isinstance(other, Milestone):
                    place = where(section, item, key)
                    problems.setdefault(
                        (place, anchor),
                        Problem(
                            f'refers to "{anchor}", which {named} turn{s} off (only_if = "{other.only_if}"); '
                            f'give this item only_if = "{other.only_if}" too, or refer to something that stays',
                            item.source or protocol.source,
                            place,
                            refers=(anchor,),
                        ),
                    )
            for key, text in item.texts():
                for name in _placeholders(text):
                    parameter = protocol.parameters.get(name)
                    if parameter is not None and values.get(name) in (False, "") and type(parameter.sample) is not int:
                        place = where(section, item, key)
                        problems.setdefault(
                            (place, name),
                            Problem(
                                f'shows {{{name}}}, which {named} set{s} to nothing; give this item only_if = "{name}"',
                                item.source or protocol.source,
                                place,
                                refers=(name,),
                            ),
                        )
    return list(problems.values())


def _placeholders(text: str) -> list[str]:
    try:
        return [key for _, key, _, _ in string.Formatter().parse(text) if key]
    except ValueError:
        return []


def _check_cycles(protocol: Protocol) -> list[Problem]:
    """A reference cycle can never be given a date: report it with every link named."""
    graph = protocol.references_graph
    problems = []
    for cycle in graph.cycles():
        links = [graph.definitions[point].where for point in cycle]
        path = " → ".join([*links, links[0]])
        item = protocol.item(cycle[0][0])
        source = item.source if item is not None else protocol.source
        problems.append(Problem(f"these references form a cycle, so no date can be given: {path}", source, links[0]))
    return problems


def _is_one_day_visit(item: Item) -> bool:
    return isinstance(item, Appointment) and item.window is None


#: The rules of the whole file, then each item's, then those of its lists (see `check_protocol`).
FILE_RULES: tuple[Callable[[Protocol], Iterable[Problem]], ...] = (
    _unique_ids,
    _check_parameters,
    control_character_problems,
    day_zero_problems,
)
ITEM_RULES: tuple[Callable[[_Context, str, Item], Iterable[Problem]], ...] = (
    _time_expressions,
    _switches,
    _placeholders_are_known,
    _phases_named,
    _levels_are_known,
    _pictures_are_known,
)
LIST_RULES: tuple[Callable[[Protocol], Iterable[Problem]], ...] = (
    _flag_placeholders_are_known,
    _check_red_flags,
    _check_sources,
    _check_variants,
    _check_coherence_keys,
)
