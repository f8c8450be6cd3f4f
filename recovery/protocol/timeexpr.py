"""Time expressions: when an item happens, as written in a protocol file.

Day 0 is the surgery day. An expression is an offset from day 0 ("6 weeks", "day 10",
"1 month 2 weeks", "{protection_weeks} weeks") or from another item ("brace-off + 2 weeks",
"end of protection - 3 days"). "week N" means the same as "N weeks": day 7N, the day on which
N whole weeks have passed. Months are calendar months (Jan 31 + 1 month = Feb 28 or 29).
"later of 12 weeks, end of walking" is the later of several such days: a step that waits for
another (strength work not before 12 weeks, and not before the walking phase is over).

This module only reads expressions; it knows no dates. The scheduler applies them.
"""

from __future__ import annotations

import re

from recovery.errors import did_you_mean
from recovery.records import record

#: The largest number an expression may hold: 100 years counted in days.
MAX_AMOUNT = 36_500
UNITS = {"day": "days", "days": "days", "week": "weeks", "weeks": "weeks", "month": "months", "months": "months"}
RESERVED = {"day", "days", "week", "weeks", "month", "months", "end", "of"}
ID_PATTERN = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
_TOKEN = re.compile(
    rf"\s*(?:(?P<param>\{{[^}}]*\}})|(?P<number>\d+)|(?P<word>{ID_PATTERN}|[A-Za-z_][\w-]*)|(?P<sign>[+-])|(?P<bad>\S+))"
)


class TimeExprError(ValueError):
    """The text is not a time expression; the message says what was expected."""


@record
class Term:
    """One signed amount of one unit: "+ 2 weeks", "{protection_weeks} weeks"."""

    sign: int  # +1 or -1
    unit: str  # "days", "weeks" or "months"
    number: int = 0
    parameter: str | None = None  # the amount is this parameter's value

    def amount(self, values: dict[str, object]) -> int:
        """The signed number of units, with a parameter's value filled in."""
        value = self.number if self.parameter is None else values[self.parameter]
        if not isinstance(value, int):  # the consistency checks allow only whole-number parameters here
            raise TypeError(f"{{{self.parameter}}} is not a whole number: {value!r}")
        return self.sign * value


@record
class TimeExpr:
    """A parsed time expression: an anchor (surgery day or an item) plus signed terms."""

    text: str
    anchor: str | None = None  # None: the surgery day; otherwise an item id
    anchor_end: bool = False  # "end of ID"
    terms: tuple[Term, ...] = ()
    #: For "later of A, B": the expressions A and B (each simple); empty for a simple expression.
    alternatives: tuple[TimeExpr, ...] = ()

    def __str__(self) -> str:
        return self.text

    def parts(self) -> tuple[TimeExpr, ...]:
        """The simple expressions whose latest day this one names: itself, or those of "later of"."""
        return self.alternatives or (self,)

    @property
    def anchors(self) -> tuple[str, ...]:
        """The items this expression counts from."""
        return tuple(part.anchor for part in self.parts() if part.anchor is not None)

    @property
    def parameters(self) -> set[str]:
        return {t.parameter for part in self.parts() for t in part.terms if t.parameter}

    @classmethod
    def parse(cls, text: str) -> TimeExpr:
        later = re.match(r"\s*later\s+of\b(.*)", text)
        if later is None:
            return _Parser(text).parse()
        pieces = [piece.strip() for piece in later.group(1).split(",")]
        if len(pieces) < 2 or not all(pieces):
            raise TimeExprError(f'"{text}": write "later of A, B", with two or more days separated by commas')
        alternatives = []
        for piece in pieces:
            if re.match(r"\s*later\s+of\b", piece):
                raise TimeExprError(f'"{text}": "later of" cannot hold another "later of"')
            try:
                alternatives.append(_Parser(piece).parse())
            except TimeExprError as error:
                raise TimeExprError(f'"{text}": {str(error).split(": ", 1)[1]} (in "{piece}")') from None
        return cls(text, alternatives=tuple(alternatives))


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup
            if kind is not None:
                self.tokens.append((kind, match.group(kind)))
        self.pos = 0

    def fail(self, why: str) -> TimeExprError:
        return TimeExprError(f'"{self.text}": {why}')

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.fail("ends too early; expected a number or a {parameter}")
        self.pos += 1
        return token

    def parse(self) -> TimeExpr:
        if not self.tokens:
            raise self.fail('is empty; expected for example "day 0", "6 weeks" or "brace-off + 2 weeks"')
        anchor, anchor_end, terms = None, False, []
        kind, value = self.tokens[0]
        if kind == "bad":
            raise self.fail(f'"{value}" is not understood')
        if kind == "word" and value in ("day", "week"):
            self.take()
            amount = self.amount()
            terms.append(Term(+1, UNITS[value], *amount))
        elif kind in ("number", "param"):
            terms.extend(self.duration(+1))
        elif kind == "word":
            self.take()
            if value == "end":
                nxt = self.peek()
                if nxt != ("word", "of"):
                    raise self.fail('"end" must be followed by "of ITEM", as in "end of protection"')
                self.take()
                kind, value = self.take()
                anchor_end = True
            if kind != "word" or value in RESERVED or not re.fullmatch(ID_PATTERN, value):
                raise self.fail(f'"{value}" is not an item id (lower-case letters, digits and hyphens)')
            following = self.peek()
            if following is not None and following[0] == "word" and following[1] in UNITS:
                raise self.fail(
                    f'write the amount in digits, as in "6 {following[1]}" ("{value}" is read as an item id)'
                )
            anchor = value
        else:
            raise self.fail(f'cannot start with "{value}"; expected "day N", "N weeks" or an item id')
        while self.peek() is not None:
            kind, value = self.take()
            if kind != "sign":
                raise self.fail(f'unexpected "{value}"; expected "+" or "-" before another amount')
            terms.extend(self.duration(+1 if value == "+" else -1))
        return TimeExpr(self.text, anchor, anchor_end, tuple(terms))

    def amount(self) -> tuple[int, str | None]:
        kind, value = self.take()
        if kind == "number":
            if len(value) > 5 or int(value) > MAX_AMOUNT:
                raise self.fail(f"{value} is more than {MAX_AMOUNT:,}, the largest amount an expression may use")
            return int(value), None
        if kind == "param":
            name = value[1:-1].strip()
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                raise self.fail(f'"{value}" is not a parameter name (lower-case letters, digits and _)')
            return 0, name
        raise self.fail(f'expected a number or a {{parameter}}, found "{value}"')

    def duration(self, sign: int) -> list[Term]:
        """One or more "N unit" pairs: "2 weeks", "1 month 2 weeks"."""
        terms = []
        while True:
            number, parameter = self.amount()
            _, unit = self.take() if self.peek() else ("", "")
            if unit not in UNITS:
                if not unit:
                    raise self.fail("a number needs a unit: days, weeks or months")
                hint = did_you_mean(unit, UNITS)
                raise self.fail(f'unknown unit "{unit}"; expected days, weeks or months{hint}')
            terms.append(Term(sign, UNITS[unit], number, parameter))
            if self.peek() is None or self.peek()[0] not in ("number", "param"):  # type: ignore[index]
                return terms
