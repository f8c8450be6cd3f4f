"""What can go wrong, by cause: a protocol file, a patient's plan, an output path, or a bug.

Every message names where the problem is (file, item and field for a protocol file; the option
for a plan) and what was expected, so a surgeon or clinic can fix it without reading code. The
command line has one handler that maps each class to its exit code and prints one line per
problem, never a traceback:

======================  =========  ==============================================================
error                   exit code  cause
======================  =========  ==============================================================
``ProtocolError``       1          a protocol file cannot be found, read, validated or laid out
``PlanError``           1          the plan's data (dates, parameters, milestones) cannot be used
``OutputError``         1          the output cannot be written where it was asked for
``InputError``          1          other input: a database URL, an account, an API key, a request body
(any other exception)   70         a bug in recovery: one line asking for a report
======================  =========  ==============================================================

Usage errors (an unknown option, a malformed date) are click's and exit with 2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from recovery.records import record

#: The exit code of an internal error (a bug), from BSD's sysexits.h (EX_SOFTWARE).
INTERNAL_ERROR_EXIT = 70


@record
class Problem:
    """One thing wrong, as data: where it is, what it concerns, and what was expected.

    Each front end words the place its own way (`shown`): the command line names a plan's field
    as its option (`--set`), a batch report as its column (`set`), the library by the attribute
    of `Plan` (`overrides`). Nothing parses a problem's text back.
    """

    message: str
    file: str = ""
    where: str = ""  # "phases[id=protection].end", or "line 3, column 5" for TOML syntax
    item: str = ""  # the id of the protocol's item the problem is in (not shown: `where` names it)
    field: str = ""  # the attribute of a Plan that the problem is in: "overrides", "surgery_date"
    detail: str = ""  # the entry or value concerned: "protection_weeks=20", "brace-off"
    plan: str = ""  # the choices that show it: "with variant accelerated", "for a surgery on 2027-01-31 in UTC"
    line: int = 0  # the line of a batch file
    #: Names of other items or parameters the problem is about (not shown): when one of them is
    #: itself broken, the problem is a consequence and need not be reported again.
    refers: tuple[str, ...] = ()
    #: What the user sets when they mean it after all: (a Plan attribute, its value), such as
    #: ("confirmed", "brace-off"); each front end words it as it words a field.
    remedy: tuple[str, str] | tuple[()] = ()

    def shown(self, name: Callable[[str], str] | None = None, between: str = ": ", remedy: bool = True) -> str:
        """The problem in one line; `name` words a plan field (default: the attribute itself), and
        `between` stands between it and the detail ("overrides: a=1"; the command line's "--set a=1").
        The remedy follows, worded the same way ("--confirm brace-off"), unless `remedy` is False
        (a front end that words it itself)."""
        word = name or str
        subject = word(self.field) if self.field else ""
        if self.detail:
            subject = f"{subject}{between}{self.detail}" if subject else self.detail
        text = self.message
        if self.remedy and remedy:
            text += f": {word(self.remedy[0])}{between}{self.remedy[1]}"
        text += f" ({self.plan})" if self.plan else ""
        return ": ".join([*(part for part in (self.file, self.where, subject) if part), text])

    def __str__(self) -> str:
        return self.shown()


class RecoveryError(Exception):
    """Bad input from a user: reported as its problems with `exit_code` by the command line, with
    `http_status` by the server, never as a traceback."""

    exit_code = 1
    http_status = 422  # the request's content cannot be used
    #: What it says when raised without problems of its own.
    default = "cannot be done"

    def __init__(self, problems: Iterable[Problem] | str | None = None, field: str = ""):
        if problems is None:
            problems = self.default
        if isinstance(problems, str):
            problems = [Problem(problems, field=field)]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ProtocolError(RecoveryError):
    """A protocol file cannot be found, read, validated or laid out on a calendar."""


class PlanError(RecoveryError):
    """A patient's plan (surgery date, overrides, actual dates, times) cannot be used with the protocol."""


class InputError(RecoveryError):
    """Input that is not a plan cannot be used: a database URL, an account's email or password, an
    API key's name, a request's body (the server answers 422)."""


class OutputError(RecoveryError):
    """The result cannot be written where it was asked for."""


# The server's answers about what it keeps (`recovery serve`).


class NotFoundError(RecoveryError):
    """No such plan, user or key, or a revoked or unknown token."""

    http_status = 404
    default = "no such plan"


class GoneError(RecoveryError):
    """The plan behind a feed or page was deleted."""

    http_status = 410
    default = "this plan was deleted"


class ConflictError(RecoveryError):
    """The action clashes with what is kept (a plan_id in use, a change made at the same moment)."""

    http_status = 409


class TooManyAttemptsError(RecoveryError):
    """Too many failed logins lately."""

    http_status = 429
    default = "too many failed attempts: wait 15 minutes and try again"


def place(section: str, item_id: str, field: str = "") -> str:
    """Where a field is, as a surgeon finds it in the file: phases[id=protection].end."""
    return f"{section}[id={item_id}]" + (f".{field}" if field else "")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """'; did you mean "x"?' for the nearest choice, or '' when nothing is near."""
    import difflib  # only a mistake needs it

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""
