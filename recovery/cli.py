"""The command line: parses options, calls the library, formats the result. Nothing more.

Exit codes: 0 success, 1 invalid protocol or plan data, 2 command-line usage (70: a bug).
Errors are one line on stderr (more only to list several problems), never a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import date, time
from pathlib import Path
from typing import Any

import click

from recovery import loader
from recovery.errors import PlanError, Problem, ProtocolError, RecoveryError
from recovery.plan import Plan, check_timezone, machine_timezone
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
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # usage errors: click prints them and exits with 2
        except Exception as error:  # a bug: one line for the user, the traceback for developers
            if os.environ.get("RECOVERY_DEBUG"):
                raise
            click.echo(f"error: internal error ({type(error).__name__}: {error}); please report it", err=True)
            click.echo("       (set RECOVERY_DEBUG=1 to see the details)", err=True)
            sys.exit(70)

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
    try:
        protocol = loader.load(Path(path), use_cache=False)
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
@click.option("--html", is_flag=True, help="Write the handout's picture of the course as HTML instead (see -o).")
@click.option("-o", "--output", metavar="FILE", help="With --html: where to write; - for standard output.")
@reports_errors
def show(
    protocol: str,
    surgery_date: date | None,
    variant: str | None,
    overrides: tuple[str, ...],
    html: bool,
    output: str | None,
) -> None:
    """Show a protocol as a readable timeline in the terminal.

    PROTOCOL is a name (see `recovery protocols`) or a path to a .toml file.
    Without --surgery-date, days are counted from a surgery today.

    \b
    Examples:
      recovery show proximal-hamstring-repair
      recovery show proximal-hamstring-repair --surgery-date 2027-03-01 --variant accelerated
      recovery show my-clinic.toml --set protection_weeks=4
      recovery show proximal-hamstring-repair --html -o preview.html
    """
    loaded = loader.load(protocol)
    plan = Plan(surgery_date or date.today(), variant=variant, overrides=parse_assignments(overrides, "--set"))
    schedule = build(loaded, plan)
    if html:
        from recovery.handout import render as render_html

        write_output(
            output, render_html(schedule, dated=surgery_date is not None).encode(), f"{loaded.id}-preview.html"
        )
        return
    if output:
        raise click.UsageError("-o goes with --html; the timeline is printed to the terminal")
    from recovery.timeline import render

    click.echo(render(schedule, dated=surgery_date is not None), nl=False)


@main.command(context_settings=CONTEXT)
def schema() -> None:
    """Print the JSON Schema of protocol files (for editors and other tools).

    \b
    Example:
      recovery schema > protocol.schema.json
    """
    from recovery.validation import json_schema

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


def plan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that describe one patient's plan, shared by every command that makes one."""
    options = [
        click.option("--surgery-date", type=DATE, required=True, help="The day of surgery (day 0)."),
        click.option(
            "--protocol",
            default="proximal-hamstring-repair",
            show_default=True,
            help="A protocol name (see `recovery protocols`) or a path to a .toml file.",
        ),
        click.option(
            "--timezone", help="IANA time zone of the reminders, e.g. Europe/Berlin. [default: this machine's]"
        ),
        click.option("--side", type=click.Choice(["left", "right"]), help="The operated side, used in the texts."),
        click.option("--variant", help="A variant of the protocol, such as accelerated."),
        click.option(
            "--set", "overrides", multiple=True, metavar="NAME=VALUE", help="Change a parameter (repeatable)."
        ),
        click.option(
            "--time",
            "times",
            multiple=True,
            metavar="SLOT=HH:MM",
            help="Clock time of a named slot: morning (08:00), midday (13:00), evening (19:00). Repeatable.",
        ),
        click.option(
            "--actual",
            "actuals",
            multiple=True,
            metavar="MILESTONE=DATE",
            help="The day a milestone really happened; what depends on it moves (repeatable).",
        ),
        click.option("--from", "start_from", type=DATE, help="Leave out what is before this day (a late start)."),
        click.option(
            "--alarm-minutes",
            type=click.IntRange(0, 1440),
            default=0,
            show_default=True,
            help="Alarm this many minutes before each reminder.",
        ),
        click.option("--calendar-name", help="The calendar's name. [default: Recovery: <protocol title>]"),
        click.option(
            "--discreet", is_flag=True, help="Titles and alarms say nothing medical (details stay inside each event)."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def make_plan(options: dict[str, Any]) -> tuple[Any, Plan]:
    """The protocol and the Plan described by the plan options."""
    from recovery.plan import DEFAULT_SLOT_TIMES

    protocol = loader.load(options["protocol"])
    slot_times = dict(DEFAULT_SLOT_TIMES)
    for slot, text in parse_assignments(options["times"], "--time").items():
        if slot not in slot_times:
            raise PlanError(f"--time {slot}: unknown time of day; use {', '.join(slot_times)}")
        if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", text):
            raise click.BadParameter(f'"{text}" is not a clock time; write HH:MM, e.g. 07:30', param_hint="--time")
        slot_times[slot] = time.fromisoformat(text.zfill(5))
    actuals = {
        name: DATE.convert(text, None, None) for name, text in parse_assignments(options["actuals"], "--actual").items()
    }
    plan = Plan(
        surgery_date=options["surgery_date"],
        timezone=check_timezone(options["timezone"]) if options["timezone"] else machine_timezone(),
        side=options["side"],
        variant=options["variant"],
        overrides=parse_assignments(options["overrides"], "--set"),
        slot_times=slot_times,
        alarm_minutes=options["alarm_minutes"],
        calendar_name=options["calendar_name"],
        discreet=options["discreet"],
        start_from=options["start_from"],
        actuals=actuals,
    )
    return protocol, plan


@main.command(context_settings=CONTEXT)
@plan_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["ics", "json"]),
    default="ics",
    show_default=True,
    help="ics: a calendar file; json: the schedule as data for other software (docs/schedule-json.md).",
)
@click.option(
    "-o", "--output", metavar="FILE", help="Where to write; - for standard output. [default: ./<protocol>-<date>.ics]"
)
@reports_errors
def generate(output: str | None, output_format: str, **options: Any) -> None:
    """Write a patient's calendar (.ics) from a surgery date and a protocol.

    Import the file into a new, dedicated calendar on the phone (see the README).
    Regenerating with the same options gives the same events, so an import replaces
    the old ones; the surgery date can be corrected the same way.

    \b
    Examples:
      recovery generate --surgery-date 2027-03-01 --timezone America/New_York
      recovery generate --surgery-date 2027-03-01 --side left --time morning=07:30 -o plan.ics
      recovery generate --surgery-date 2027-03-01 --actual brace-off=2027-04-20 --from 2027-04-20
      recovery generate --surgery-date 2027-03-01 --protocol my-clinic.toml --variant accelerated -o -
      recovery generate --surgery-date 2027-03-01 --format json -o schedule.json
    """
    protocol, plan = make_plan(options)
    schedule = build(protocol, plan)
    if output_format == "json":
        from recovery.schedule_json import write
    else:
        from recovery.ics import write
    name = f"{'plan' if plan.discreet else protocol.id}-{plan.surgery_date.isoformat()}.{output_format}"
    write_output(output, write(schedule), name)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all: a temporary file beside it, then a rename."""
    import tempfile

    if path.is_dir():
        raise PlanError(f"cannot write {path}: it is a folder")
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise PlanError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise PlanError(f"cannot write {path}: {error.strerror}") from None


@main.command(context_settings=CONTEXT)
@plan_options
@click.option("--on", "day", type=DATE, help="The day to show. [default: today]")
@click.option("--week", is_flag=True, help="Show the 7 days from that day.")
@reports_errors
def agenda(day: date | None, week: bool, **options: Any) -> None:
    """What the patient may do today (or this week), and what comes next.

    Shows the day after surgery, the current phase with its weight bearing, brace and
    precautions, the reminders due with times and doses, and the next milestones and
    visits with how far away they are.

    \b
    Examples:
      recovery agenda --surgery-date 2027-03-01
      recovery agenda --surgery-date 2027-03-01 --on 2027-03-24 --side left
      recovery agenda --surgery-date 2027-03-01 --week --time morning=07:00
    """
    from recovery.agenda import render

    protocol, plan = make_plan(options)
    text = render(build(protocol, plan), day or date.today(), week=week, color=sys.stdout.isatty())
    click.echo(text, nl=False)


@main.command(context_settings=CONTEXT)
@plan_options
@click.option(
    "-o", "--output", metavar="FILE", help="Where to write; - for standard output. [default: ./<protocol>-<date>.html]"
)
@reports_errors
def handout(output: str | None, **options: Any) -> None:
    """Write a printable patient handout (one HTML file) with a timeline of the course.

    It prints on A4 or US Letter and reads on a phone; it needs no network.

    \b
    Examples:
      recovery handout --surgery-date 2027-03-01 -o plan.html
      recovery handout --surgery-date 2027-03-01 --side left --variant accelerated -o plan.html
    """
    from recovery.handout import render

    protocol, plan = make_plan(options)
    data = render(build(protocol, plan), dated=True, today=date.today()).encode()
    write_output(output, data, f"{'plan' if plan.discreet else protocol.id}-{plan.surgery_date.isoformat()}.html")


def write_output(output: str | None, data: bytes, default_name: str) -> None:
    """Write to standard output (-), to the given file, or to the default name, and say where."""
    if output == "-":
        click.echo(data, nl=False)
        return
    path = Path(output) if output else Path(default_name)
    write_atomically(path, data)
    click.echo(str(path))
