"""The clinical review rule: every number a patient is told comes from a named source.

A protocol can be valid and lay out on every date while a dose, a duration or an angle in it
comes from nowhere. `untagged_numbers` finds each place that states a number (a parameter's
value or bounds, a time such as "6 weeks", a dose, a session's minutes, or a dose, duration or
angle in a text: "20 minutes", "45°", "25%") and has no `sources` naming a tagged reference. A number that no published source gives can
still be kept: tag it with a reference such as "CLINIC: a clinic default; review it before use".

The same review asks for a picture of every exercise (`without_pictures`): a patient follows a
home programme better with one, and a routine that is not a medicine and names none is reported.

`recovery validate` reports these as warnings (errors with `--strict`); they never stop a
calendar from being made, because a surgeon's own file is the surgeon's decision.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator

from recovery.errors import Problem
from recovery.protocol.model import Item, Milestone, Protocol, Routine, where

#: A number with a unit of dose, duration or angle: "20 minutes", "30-90°", "25%", "3 × 10", "6-8 weeks".
_MEASURE = re.compile(
    r"\d+(?:[.,]\d+)?(?:\s*(?:-|–|to|or)\s*\d+(?:[.,]\d+)?)?\s*"
    r"(?:%|°|×|x\b|(?:degree|minute|min|hour|day|week|month|year|second|sec|time|kg|lb|pound|cm|rep|set)s?\b)",
    re.IGNORECASE,
)


def untagged_numbers(protocol: Protocol) -> list[Problem]:
    """A warning for each parameter, variant, item or red flag that states a number without sources."""
    problems = []
    for place, what, sources in _numbers(protocol):
        if not sources:
            problems.append(
                Problem(
                    f'{what} without a source: add sources = ["TAG"], where TAG starts an entry of references',
                    protocol.source,
                    place,
                )
            )
    return problems


def without_pictures(protocol: Protocol) -> list[Problem]:
    """A warning for each exercise or care routine (not a medicine) that names no picture."""
    return [
        Problem(
            'an exercise without a picture: add pictures = ["ID"]; `recovery pictures` lists them',
            item.source or protocol.source,
            where("routines", item, "pictures"),
        )
        for item in protocol.routines
        if not item.medication and not item.pictures
    ]


def _numbers(protocol: Protocol) -> Iterator[tuple[str, str, list[str]]]:
    """(place, the first number found there, its sources) for everything that states a number."""
    for name, parameter in protocol.parameters.items():
        place = f"parameters.{name}"
        if type(parameter.sample) is int:
            yield place, f"the number {parameter.sample}", parameter.sources
        elif number := _first_number([str(parameter.shown(parameter.default)), *_texts(parameter.choices)]):
            yield place, number, parameter.sources
    for name, variant in protocol.variants.items():
        numbers = [str(value) for value in variant.set.values() if type(value) is int or isinstance(value, str)]
        if number := _first_number(numbers):
            yield f"variants.{name}", number, variant.sources
    for section, item in protocol.items():
        if number := _item_number(item):
            yield where(section, item), number, item.sources
    for i, flag in enumerate(protocol.red_flags):
        if number := _first_number([flag.sign, flag.action]):
            yield flag.place(i), number, flag.sources
    for i, expected in enumerate(protocol.normal):
        if number := _first_number([expected.text]):
            yield f"normal[{i}]", number, expected.sources
    for i, word in enumerate(protocol.words):
        if number := _first_number([word.meaning]):
            yield f"words[{i}]", number, word.sources
    for entry in protocol.not_before:
        if any(term.parameter is None and term.number for part in entry.at.parts() for term in part.terms):
            yield entry.place, f'at = "{entry.at}"', entry.sources


def _texts(choices: list[str] | dict[str, str] | None) -> list[str]:
    return list(choices.values()) if isinstance(choices, dict) else list(choices or [])


def _item_number(item: Item) -> str | None:
    for key, expr in item.whens():
        for term in (term for part in expr.parts() for term in part.terms):
            if term.parameter is None and term.number:
                return f'{key} = "{expr}"'
    if isinstance(item, Milestone) and item.criteria is not None:
        return f"criteria (pain at most {item.criteria.pain_at_most} out of 10)"
    if isinstance(item, Milestone) and item.recordable is not None:
        return f'recordable = ["{item.recordable[0]}", "{item.recordable[1]}"]'
    if isinstance(item, Routine):
        if item.dose is not None:
            return "a dose"
        return f"minutes = {item.minutes}"
    return _first_number([text for _, text in item.texts()])


def states_a_measure(value: object) -> bool:
    """Whether a value from a file (a text, or a list of texts) states a dose, duration or angle."""
    texts = (
        [value]
        if isinstance(value, str)
        else [v for v in value if isinstance(v, str)]
        if isinstance(value, list)
        else []
    )
    return _first_number(texts) is not None


def _first_number(texts: list[str]) -> str | None:
    """'"20 minutes"' for the first dose, duration or angle in the texts, outside their placeholders."""
    for text in texts:
        try:
            plain = "".join(literal for literal, _, _, _ in string.Formatter().parse(text))
        except ValueError:
            plain = text
        found = _MEASURE.search(plain)
        if found:
            return f'"{found.group()}"'
    return None
