"""The problems a protocol file or a patient's plan can have, and the errors that carry them.

Every message names the file, the item and the field, so a surgeon can find the line to change.
The command line maps each error to exit code 1 and prints its problems, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where it is, and what was expected."""

    message: str
    file: str = ""
    where: str = ""  # "phases[id=protection].end", or "line 3, column 5" for TOML syntax

    def __str__(self) -> str:
        place = ": ".join(part for part in (self.file, self.where) if part)
        return f"{place}: {self.message}" if place else self.message


class RecoveryError(Exception):
    """Bad input from a user: reported as its problems with exit code 1, never a traceback."""

    exit_code = 1

    def __init__(self, problems: Iterable[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ProtocolError(RecoveryError):
    """A protocol file cannot be found, read or used."""


class PlanError(RecoveryError):
    """A patient's plan (surgery date, zone, overrides, actual dates) is not usable."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean "x"?)' for the nearest choice, or '' when nothing is near."""
    import difflib  # only an error needs it

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def one_of(choices: Iterable[str]) -> str:
    """A readable list of the valid choices: '"a", "b" or "c"'."""
    quoted = [f'"{c}"' for c in sorted(choices)]
    if not quoted:
        return "(none defined)"
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
