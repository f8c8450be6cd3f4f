"""The command line: parses options, calls the library, formats the result. Nothing more.

Exit codes: 0 success, 1 invalid protocol or plan data, 2 command-line usage.
Errors are one line on stderr (more only to list several problems), never a traceback.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

import click

from recovery import loader
from recovery.errors import Problem, ProtocolError, RecoveryError
from recovery.plan import Plan
from recovery.protocol import json_schema
from recovery.schedule import build

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a RecoveryError into its problems on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RecoveryError as error:
            for problem in error.problems:
                click.echo(f"error: {problem}", err=True)
            sys.exit(error.exit_code)

    return wrapper


class DateType(click.ParamType):
    """A calendar date written as YYYY-MM-DD."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            self.fail(f'"{value}" is not a date; write it as YYYY-MM-DD, e.g. 2027-03-01', param, ctx)
        try:
            return date.fromisoformat(value.strip())
        except ValueError as error:
            self.fail(f'"{value}" is not a day of the calendar ({error})', param, ctx)


DATE = DateType()


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="recovery")
def main() -> None:
    """Turn a surgeon's rehabilitation protocol into a patient's calendar.

    \b
    Examples:
      recovery protocols
      recovery show proximal-hamstring-repair --surgery-date 2027-03-01
      recovery validate my-clinic.toml
    """


@main.command(context_settings=CONTEXT)
def protocols() -> None:
    """List the protocols found, with title, version and file.

    Names are looked up in the folders of $RECOVERY_PROTOCOLS (separated by ":"),
    then among the bundled protocols.

    \b
    Example:
      RECOVERY_PROTOCOLS=~/clinic-protocols recovery protocols
    """
    entries = loader.available()
    width = max((len(e.name) for e in entries), default=0)
    for entry in entries:
        detail = f"{entry.title} (version {entry.version})" if not entry.problem else f"cannot be read: {entry.problem}"
        click.echo(f"{entry.name:<{width}}  {detail}  {entry.path}")


@main.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@reports_errors
def validate(paths: tuple[str, ...]) -> None:
    """Check protocol files and report every problem, not only the first.

    Each file is checked alone and laid out on a calendar with its defaults and with
    each of its variants.

    \b
    Examples:
      recovery validate protocols/*.toml
      recovery validate my-clinic.toml
    """
    failed = []
    for path in paths:
        problems = check_file(path)
        if problems:
            failed.extend(problems)
        else:
            click.echo(f"ok: {path}")
    if failed:
        raise ProtocolError(failed)


def check_file(path: str) -> list[Problem]:
    """Every problem in one protocol file, including those its schedules would have."""
    from pathlib import Path

    try:
        protocol = loader.load(Path(path))
        for variant in (None, *protocol.variants):
            build(protocol, Plan(date.today(), variant=variant))
    except RecoveryError as error:
        return [p if p.file else Problem(p.message, path, p.where) for p in error.problems]
    return []


@main.command(context_settings=CONTEXT)
@click.argument("protocol")
@click.option("--surgery-date", type=DATE, help="Show real dates for a surgery on this day.")
@click.option("--variant", help="Show a variant of the protocol, such as accelerated.")
@click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE", help="Change a parameter (repeatable).")
@reports_errors
def show(protocol: str, surgery_date: date | None, variant: str | None, overrides: tuple[str, ...]) -> None:
    """Show a protocol as a readable timeline in the terminal.

    PROTOCOL is a name (see `recovery protocols`) or a path to a .toml file.
    Without --surgery-date, days are counted from a surgery today.

    \b
    Examples:
      recovery show proximal-hamstring-repair
      recovery show proximal-hamstring-repair --surgery-date 2027-03-01 --variant accelerated
      recovery show my-clinic.toml --set brace_weeks=4
    """
    from recovery.timeline import render

    loaded = loader.load(protocol)
    plan = Plan(surgery_date or date.today(), variant=variant, overrides=parse_assignments(overrides, "--set"))
    click.echo(render(build(loaded, plan), dated=surgery_date is not None), nl=False)


@main.command(context_settings=CONTEXT)
def schema() -> None:
    """Print the JSON Schema of protocol files (for editors and other tools).

    \b
    Example:
      recovery schema > protocol.schema.json
    """
    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


def parse_assignments(values: tuple[str, ...], option: str) -> dict[str, str]:
    """NAME=VALUE pairs from a repeatable option."""
    pairs = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f'"{value}" should be NAME=VALUE', param_hint=option)
        pairs[name.strip()] = text.strip()
    return pairs
