"""The command line: parses options, calls the library, formats the result. Nothing more.

Each command imports the writer it needs when it runs, so that one command does not pay for
another's (icalendar's components, Jinja2, pydantic, the batch's process pool).

Option values are checked by click parameter types (a malformed date, clock time or zone is a
usage error, exit 2, in click's words); what needs the protocol to judge (an unknown parameter
or milestone) is a data error from the library, exit 1. One handler, on the command group,
turns every library error into its exit code and one line per problem (see `recovery.errors`).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from recovery.cache import Cache, default_folder
from recovery.errors import INTERNAL_ERROR_EXIT, PlanError, Problem, ProtocolError, RecoveryError, did_you_mean
from recovery.files import UnreadableError, read_bounded
from recovery.options import DATE, PATH_TEXT, PROTOCOL, plan_option
from recovery.output import write_file
from recovery.protocol import Protocol, loader
from recovery.schedule import Plan, build
from recovery.schedule.build import holidays_of
from recovery.schedule.items import Schedule
from recovery.schedule.plan import BY_ATTRIBUTE, DEFAULT_PROTOCOL, FIELDS, changes, default_output_name, updated
from recovery.schedule.zones import TZDATA_VERSION, zone
from recovery.serve import DEFAULT_DATABASE
from recovery.words import count, printable

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
F = TypeVar("F", bound=Callable[..., Any])


class RecoveryGroup(click.Group):
    """The command group, with the one handler that maps errors to exit codes and one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RecoveryError as error:
            for problem in error.problems:
                click.echo(f"error: {printable(problem.shown(option_name, between=' '))}", err=True)
            ctx.exit(error.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # usage errors: click prints them and exits with 2
        except BrokenPipeError:  # the reader went away (`recovery protocols | head -1`): nothing to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except Exception as error:  # a bug: one line for the user, the traceback for developers
            if os.environ.get("RECOVERY_DEBUG"):
                raise
            click.echo(f"error: internal error ({type(error).__name__}: {error}); please report it", err=True)
            click.echo("       (set RECOVERY_DEBUG=1 to see the details)", err=True)
            ctx.exit(INTERNAL_ERROR_EXIT)


DISCREET = plan_option("discreet")
LARGE_PRINT = plan_option("large-print")
FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["ics", "json"]),
    default="ics",
    show_default=True,
    help="ics: a calendar file; json: the schedule as data for other software (docs/schedule-json.md).",
)
BATCH_FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["ics", "json", "html"]),
    default="ics",
    show_default=True,
    help="ics: calendar files; json: schedules as data (docs/schedule-json.md); html: printable handouts.",
)
FORCE = click.option("--force", is_flag=True, help="Replace the output file even if it is read-only.")


def scheduled(protocol: Protocol, plan: Plan) -> Schedule:
    """The plan laid out, its visits off the public holidays kept in the program's cache."""
    cache = program_cache()
    return build(protocol, plan, days_off=holidays_of(plan, cache) if protocol.appointments else {}, cache=cache)


def program_cache() -> Cache | None:
    """The program's cache folder (see `recovery.cache`), opened once per command; a folder that
    is not safe to use is reported in one warning line and the command runs without it."""
    context = click.get_current_context().find_root()
    if "cache" not in context.meta:
        cache, warning = Cache.open(default_folder())
        if warning:
            click.echo(f"warning: {printable(warning)}", err=True)
        if cache is not None:
            context.call_on_close(cache.close)
        context.meta["cache"] = cache
    found: Cache | None = context.meta["cache"]
    return found


def option_name(attribute: str) -> str:
    """A plan's field as the command line names it: overrides → --set."""
    return f"--{BY_ATTRIBUTE[attribute].name}" if attribute in BY_ATTRIBUTE else attribute


def output_option(help: str) -> Callable[[F], F]:
    """-o/--output FILE: where a command writes ("-" for standard output; "" is refused)."""
    return click.option("-o", "--output", metavar="FILE", type=PATH_TEXT, callback=not_empty, help=help)


def not_empty(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An output path given as "" is a mistake, not a request for the default name."""
    if value is not None and not value.strip():
        raise click.BadParameter("is empty; give a file name, or - for standard output")
    return value


# ---- The commands.


@click.group(cls=RecoveryGroup, context_settings=CONTEXT)
@click.version_option(package_name="recovery", message=f"%(prog)s %(version)s (time zone data {TZDATA_VERSION})")
def main() -> None:
    """Turn a surgeon's rehabilitation protocol into a patient's calendar.

    \b
    Examples:
      recovery generate --surgery-date 2027-03-01 --timezone America/New_York
      recovery protocols
      recovery show proximal-hamstring-repair --surgery-date 2027-03-01
      recovery validate my-clinic.toml

    Exit codes: 0 success, 1 invalid protocol or plan data (or an output that cannot be
    written), 2 command-line usage, 70 an internal error (a bug: please report it).
    """


@main.command(context_settings=CONTEXT)
def protocols() -> None:
    """List the protocols found, with title, version and file.

    Names are looked up in the folders of $RECOVERY_PROTOCOLS (separated by ":"),
    then among the bundled protocols: a file's name without .toml, or the id the file
    gives itself. Each file is checked; one that is not valid says so.

    \b
    Example:
      RECOVERY_PROTOCOLS=~/clinic-protocols recovery protocols
    """
    entries = loader.available()
    width = max((len(e.name) for e in entries), default=0)
    for entry in entries:
        detail = entry.problem or f"{entry.title} (version {entry.version})"
        if not entry.problem:
            try:
                loader.load(entry.path, cache=program_cache())
            except ProtocolError as error:
                detail = f"INVALID ({count(len(error.problems), 'problem')}; see recovery validate {entry.path})"
        click.echo(printable(f"{entry.name:<{width}}  {detail}  {entry.path}"))


@main.command(context_settings=CONTEXT)
@click.argument("protocols", nargs=-1, required=True, metavar="PROTOCOL...", type=PROTOCOL)
@click.option("--strict", is_flag=True, help="Treat warnings (a number without a source) as errors.")
def validate(protocols: tuple[str, ...], strict: bool) -> None:
    """Check protocol files and report every problem, not only the first.

    PROTOCOL is a path to a .toml file or a protocol name (see `recovery protocols`).
    Each one is checked key by key, then laid out with its defaults and with each of
    its variants for a fixed set of surgery dates and zones (month ends, 29 February,
    a year boundary, daylight-saving changes in both hemispheres), so the result is
    the same on every day it is run.

    A valid file is then reviewed: a number (a time, a dose, a duration, an angle, a
    parameter's bounds) whose item has no `sources` naming one of the file's
    references is reported as a warning, or as an error with --strict.

    \b
    Examples:
      recovery validate protocols/*.toml
      recovery validate --strict my-clinic.toml
      recovery validate proximal-hamstring-repair
    """

    from recovery.schedule.validate import validate as validate_protocol

    failed: list[Problem] = []
    for reference in protocols:
        findings = validate_protocol(reference, strict=strict, cache=program_cache())
        failed.extend(findings.errors)
        for warning in findings.warnings:
            click.echo(f"warning: {printable(str(warning))}", err=True)
        for note in findings.notes:
            click.echo(f"note: {reference}: {printable(note)}", err=True)
        if findings.ok:
            warnings = len(findings.warnings)
            click.echo(f"ok: {reference}" + (f" ({count(warnings, 'warning')})" if warnings else ""))
    if failed:
        raise ProtocolError(failed)


@main.command(context_settings=CONTEXT)
@click.argument("picture", required=False, metavar="[PICTURE]")
@click.option(
    "--side",
    type=click.Choice(["left", "right"]),
    help="Draw the figure with this side toward the reader (the operated leg is the near one).",
)
@FORCE
@output_option("With PICTURE: where to write the SVG file; - for stdout. [default: ./<picture>.svg]")
def pictures(picture: str | None, side: str | None, force: bool, output: str | None) -> None:
    """List the exercise pictures a protocol may name, or write one as an SVG file.

    A routine names its pictures by id: pictures = ["heel-slide"]. Each picture is the
    project's own line drawing (licence CC BY 4.0); its alt text is what it shows.

    \b
    Examples:
      recovery pictures
      recovery pictures heel-slide --side left -o heel-slide.svg
    """
    from recovery import pictures as drawn

    known = drawn.catalogue()
    if picture is None:
        if output:
            raise click.UsageError("-o goes with a PICTURE to write")
        width = max(len(name) for name in known)
        for name, entry in known.items():
            click.echo(f"{name:<{width}}  {entry.alt}")
        click.echo(
            f"\n{count(len(known), 'picture')}; licence {next(iter(known.values())).licence}, by {next(iter(known.values())).author}"
        )
        return
    if picture not in known:
        raise click.BadParameter(
            f'"{printable(picture)}" is not a picture{did_you_mean(picture, sorted(known))}; `recovery pictures` lists them',
            param_hint="PICTURE",
        )
    write_output(output, drawn.standalone(picture, side).encode(), f"{picture}.svg", force)


@main.command(context_settings=CONTEXT)
@click.argument("protocol", type=PROTOCOL)
@click.option("--surgery-date", type=DATE, help="Show real dates for a surgery on this day.")
@plan_option("variant")
@plan_option("set")
@click.option("--html", is_flag=True, help="Write the handout's picture of the course as HTML instead (see -o).")
@click.option(
    "--parameters",
    "listing",
    is_flag=True,
    help="List what a plan can choose: parameters with bounds, variants, milestones for --actual, times of day.",
)
@click.option("--json", "as_json", is_flag=True, help="With --parameters: print JSON.")
@FORCE
@output_option("With --html: where to write; - for stdout.")
def show(
    protocol: str,
    surgery_date: date | None,
    variant: str | None,
    overrides: tuple[tuple[str, str], ...],
    html: bool,
    listing: bool,
    as_json: bool,
    force: bool,
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
      recovery show proximal-hamstring-repair --parameters
    """
    if output and not html:
        raise click.UsageError("-o goes with --html; the timeline is printed to the terminal")
    if as_json and not listing:
        raise click.UsageError("--json goes with --parameters")
    loaded = loader.load(protocol, cache=program_cache())
    if listing:
        from recovery.protocol.summary import choices

        listed = choices(loaded)
        click.echo(json.dumps(listed, indent=2, ensure_ascii=False) if as_json else format_choices(listed))
        return
    schedule = build(loaded, Plan(surgery_date or date.today(), variant=variant, overrides=dict(overrides)))
    if html:
        from recovery.writers.handout import to_handout as render_html

        data = render_html(schedule, dated=surgery_date is not None, cache=program_cache()).encode()
        write_output(output, data, f"{loaded.id}-preview.html", force)
        return

    from recovery.writers.timeline import render as render_timeline

    click.echo(render_timeline(schedule, dated=surgery_date is not None), nl=False)


@main.command(context_settings=CONTEXT)
@output_option("Write the schema to FILE instead of stdout.")
@FORCE
def schema(output: str | None, force: bool) -> None:
    """Print the JSON Schema of protocol files (for editors and other tools).

    Editors that read a `#:schema` first line (Taplo, Even Better TOML) complete and
    check protocol files with it: save the schema beside your protocols and start each
    file with `#:schema ./protocol.schema.json`.

    \b
    Examples:
      recovery schema -o ~/clinic-protocols/protocol.schema.json
      recovery schema > protocol.schema.json
    """
    from recovery.protocol.validation import json_schema

    data = (json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n").encode()
    write_output(output or "-", data, "protocol.schema.json", force)


def format_choices(data: dict[str, Any]) -> str:
    """The protocol's choices as text for a terminal."""
    lines = [f"{data['title']} ({data['protocol']}, version {data['version']})", "", "Parameters (--set NAME=VALUE)"]
    for name, p in data["parameters"].items():
        bounds = ""
        if p["min"] is not None or p["max"] is not None:
            bounds = f", {p['min'] if p['min'] is not None else '…'} to {p['max'] if p['max'] is not None else '…'}"
        named = p["choices"] if isinstance(p["choices"], dict) else {}
        if p["choices"]:
            bounds = ", one of: " + " | ".join(p["choices"])
        default = (
            "(set for each patient)" if p["set_by_clinician"] else p["default"] if p["default"] != "" else "(empty)"
        )
        lines.append(
            f"  {name} = {str(default).lower() if isinstance(default, bool) else default}  ({p['kind']}{bounds})"
        )
        if p["description"]:
            lines.append(f"      {p['description']}")
        lines += [f"      {key}: {text}" for key, text in named.items()]
    lines += ["", "Variants (--variant NAME)"]
    lines += [f"  {name}: {v['description']}" for name, v in data["variants"].items()] or ["  (none)"]
    lines += ["", "Milestones (--actual NAME=DATE)"]
    lines += [
        f"  {name}: {m['title']}" + (f"  (a clearance: ask {m['clearance']})" if m["clearance"] else "")
        for name, m in data["milestones"].items()
    ] or ["  (none)"]
    lines += ["", "Times of day (--time NAME=HH:MM)"]
    lines += [f"  {slot} (default {at})" for slot, at in data["times_of_day"].items()]
    return "\n".join(lines)


def plan_options(command: F) -> F:
    """The options that describe one patient's plan (from the plan's declaration), shared by every
    command that makes one."""
    options = [
        click.option(
            "--protocol",
            type=PROTOCOL,
            default=DEFAULT_PROTOCOL,
            show_default=True,
            help="A protocol name (see `recovery protocols`) or a path to a .toml file.",
        ),
        *(plan_option(f.name, required=f.name == "surgery-date") for f in FIELDS if not (f.calendar_only or f.flag)),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def calendar_options(command: F) -> F:
    """The options that only a calendar file has: its alarms, its name, the plan's identity in it."""
    for field in reversed([f for f in FIELDS if f.calendar_only]):
        command = plan_option(field.name)(command)
    return command


def chosen(options: dict[str, Any], typed_only: bool = False) -> dict[str, Any]:
    """The plan's choices among a command's options, in the plan's JSON form (keys as `Field.key`):
    every one that has a value, or with `typed_only`, those typed on this command line."""
    context = click.get_current_context()
    return {
        f.key: dict(value) if f.pairs else list(value) if f.many else value
        for f in FIELDS
        if f.attribute in options
        for value in [options[f.attribute]]
        if (context.get_parameter_source(f.attribute) == ParameterSource.COMMANDLINE)
        or (not typed_only and value is not None and value != ())
    }


def make_plan(options: dict[str, Any]) -> tuple[Protocol, Plan]:
    """The protocol and the Plan described by the plan options (already converted by their fields)."""
    values = chosen(options)
    forgotten = [
        Problem(
            "no value: NAME= only forgets what an earlier calendar recorded (with --update)",
            field=f.attribute,
            detail=f"{name}=",
        )
        for f in FIELDS
        if f.pairs
        for name, value in values.get(f.key, {}).items()
        if value is None
    ]
    if forgotten:
        raise PlanError(forgotten)
    protocol = loader.load(options["protocol"], cache=program_cache())
    return protocol, Plan.from_json(values, machine_zone=True)


@main.command(context_settings=CONTEXT)
@plan_options
@calendar_options
@DISCREET
@LARGE_PRINT
@FORCE
@FORMAT
@output_option("Where to write; - for standard output. [default: ./<protocol>-<date>.ics]")
@click.option(
    "--update",
    "previous",
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False),
    help="The calendar file the patient imported before: the new file replaces it (changed events "
    "updated, removed ones cancelled).",
)
def generate(output: str | None, output_format: str, previous: str | None, force: bool, **options: Any) -> None:
    """Write a patient's calendar (.ics) from a surgery date and a protocol.

    Import the file into a new, dedicated calendar on the phone (see the README).
    When the surgeon changes something, write a new file. On a phone, the patient
    deletes the old calendar and imports the new file into a new one (the README says
    how). For calendars that import by UID (a CalDAV server, a clinic system), --update
    with the file written last gives a file that replaces the old plan event by event; it
    keeps the earlier file's choices unless this command changes them, and says which
    changed (see docs/calendar-output.md for what each calendar app does).

    Shell completion (protocols, zones, variants, parameters, milestones): add
    eval "$(_RECOVERY_COMPLETE=bash_source recovery)" to ~/.bashrc (zsh: zsh_source,
    fish: fish_source).

    \b
    Examples:
      recovery generate --surgery-date 2027-03-01 --timezone America/New_York
      recovery generate --surgery-date 2027-03-01 --side left --time morning=07:30 -o plan.ics
      recovery generate --surgery-date 2027-03-01 --actual brace-off=2027-04-20 --update plan.ics -o plan-2.ics
      recovery generate --surgery-date 2027-03-01 --protocol my-clinic.toml --variant accelerated -o -
      recovery generate --surgery-date 2027-03-01 --format json -o schedule.json
    """
    if previous is not None and output_format != "ics":
        raise click.UsageError("--update goes with --format ics: it replaces a calendar file")
    if previous is None:
        protocol, plan = make_plan(options)
        earlier = None
    else:
        from recovery.writers.previous import read_previous

        earlier = read_previous(read_calendar_file(Path(previous)), previous)
        protocol, plan = updated_plan(options, earlier.options, f"--update {previous}", earlier.revision)
    schedule = scheduled(protocol, plan)
    if output_format == "json":
        from recovery.writers.schedule_json import to_json as write_json

        data = write_json(schedule)
    else:
        from recovery.writers import ics

        data = ics.to_ics(schedule, previous=earlier)
    write_output(output, data, default_output_name(protocol.id, plan, output_format), force)


def updated_plan(
    options: dict[str, Any], recorded: dict[str, Any], source: str, revision: int
) -> tuple[Protocol, Plan]:
    """The plan for `--update`: the choices the previous calendar recorded, with those given on
    this command line in their place; what changed is said on standard error, one line."""
    given = chosen(options, typed_only=True)
    if not recorded:  # a calendar from before options were recorded: the command line alone
        return make_plan(options)
    try:
        before = Plan.from_json(recorded, machine_zone=True)
    except PlanError as error:
        raise PlanError(
            [
                replace(p, message=f"{source}: its recorded {option_name(p.field)}: {p.message}", field="")
                for p in error.problems
            ]
        ) from None
    protocol = loader.load(options["protocol"], cache=program_cache())
    plan = Plan.from_json(updated(recorded, given), machine_zone=True)
    differences = changes(before, plan)
    defaults = Plan(before.surgery_date).to_json()  # a choice left at its default is not worth a word
    kept = [
        f"--{f.name}"
        for f in FIELDS
        if f.key in recorded
        and f.key not in given
        and recorded[f.key] not in (None, "", {}, [], False)
        and (recorded[f.key] != defaults.get(f.key) or f.name == "timezone")
    ]
    shown = ", ".join(f"--{f.name} {old} → {new}" for f, old, new in differences) or "none"
    note = f"note: changed from revision {revision}: {shown}" + (f"; kept: {' '.join(kept)}" if kept else "")
    click.echo(printable(note), err=True)
    return protocol, plan


@main.command(context_settings=CONTEXT)
@plan_options
@click.option("--on", "day", type=DATE, help="The day to show. [default: today in the plan's time zone]")
@click.option("--week", is_flag=True, help="Show the 7 days from that day.")
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
    from recovery.writers.agenda import agenda as render_agenda

    protocol, plan = make_plan(options)
    today = day or datetime.now(zone(plan.timezone)).date()
    click.echo(render_agenda(scheduled(protocol, plan), today, week=week, color=sys.stdout.isatty()), nl=False)


#: The most bytes a file of check-ins may have (a year of daily rows is about 15 KB).
MAX_CHECK_IN_BYTES = 1_000_000


@main.command(context_settings=CONTEXT)
@plan_options
@click.option(
    "--check-ins",
    "check_ins",
    type=PATH_TEXT,
    required=True,
    help="A CSV file of the patient's check-ins, one row a day: day,done,pain,morning[,red_flag].",
)
@click.option("--on", "day", type=DATE, help="The day to judge. [default: today in the plan's time zone]")
def progress(check_ins: str, day: date | None, **options: Any) -> None:
    """What a stage's rule says from the patient's check-ins: move on, hold, step back, or call.

    For a course whose stages begin when pain and function allow (a protocol's milestones
    with criteria). Each row of the file is one day: done (yes, partly, no), pain during
    the exercises (0-10), how this morning was compared with usual (better, same, worse),
    and, when the patient reported a warning sign, the red flag's id. The answer says
    what the rule found and, to act on it, the --actual to add to the plan.

    \b
    Examples:
      recovery progress --protocol proximal-hamstring-tendinopathy --start-date 2027-03-01 --check-ins examples/check-ins.csv
      recovery progress --protocol proximal-hamstring-tendinopathy --start-date 2027-03-01 --on 2027-04-10 --actual start-stage-2=2027-03-20 --check-ins examples/check-ins.csv
    """
    from recovery.schedule.response import read_check_ins, verdict

    protocol, plan = make_plan(options)
    today = day or datetime.now(zone(plan.timezone)).date()
    schedule = scheduled(protocol, plan)
    try:
        content = read_bounded(check_ins, MAX_CHECK_IN_BYTES, "a file of check-ins")
    except UnreadableError as error:
        raise PlanError([Problem(str(error), check_ins)]) from None
    said = verdict(schedule, read_check_ins(content, check_ins), today)
    for line in render_verdict(protocol, schedule, said, today):
        click.echo(printable(line))


def render_verdict(protocol: Protocol, schedule: Schedule, said: Any, today: date) -> list[str]:
    """A verdict as the physio reads it: the stage, what the rule says, why, and what to record."""
    days = {day.id: day for day in schedule.milestones}
    current = next((p for p in schedule.phases if p.holds(today) and p.until_ready), None)
    lines = [f"{today.isoformat()} · {schedule.protocol_title}"]
    if current is not None:
        lines.append(f"In: {current.title}")
    headline = {
        "advance": "move on to the next stage" + (" (a clinician confirms)" if said.proposes else ""),
        "hold": "stay at this stage",
        "step-back": "step back one stage (a clinician confirms)",
        "red-flag": "a warning sign was reported: call the patient; the plan does not move on",
        "review": "review the plan: the next stage is late",
        "none": "nothing to decide: no stage waits on check-ins",
    }[said.action]
    lines.append(f"Rule: {headline}")
    if said.to and said.action in ("advance", "hold", "review") and (upcoming := days.get(said.to)) is not None:
        item = protocol.item(said.to)
        expected = f", expected by {upcoming.latest.isoformat()}" if upcoming.latest is not None else ""
        title = item.title if item is not None else said.to
        lines.append(f"Next: {title} (earliest {upcoming.date.isoformat()}{expected})")
    lines += [f"  {reason}" for reason in said.reasons]
    flag = next((f for f in protocol.red_flags if said.red_flag and f.id == said.red_flag), None)
    if flag is not None:
        lines.append(f"  {flag.sign}: {flag.action}")
    if said.action == "advance":
        lines.append(f"To record it: --actual {said.to}={today.isoformat()}")
    elif said.action == "step-back":
        lines.append(f"To record it: leave out --actual {said.to}=… (the stage before it goes on)")
    return lines


@main.command(context_settings=CONTEXT)
@plan_options
@DISCREET
@LARGE_PRINT
@FORCE
@click.option("--sources", is_flag=True, help="Add a last page for the clinician: the protocol's sources.")
@output_option("Where to write; - for standard output. [default: ./<protocol>-<date>.html]")
def handout(output: str | None, force: bool, sources: bool, **options: Any) -> None:
    """Write a printable patient handout (one HTML file) with a timeline of the course.

    It prints on A4 or US Letter (four pages for the bundled protocols) and reads on a
    phone; it needs no network. The protocol's sources are left out of the patient's
    copy; --sources adds them on a page of their own, for the clinician.

    \b
    Examples:
      recovery handout --surgery-date 2027-03-01 -o plan.html
      recovery handout --surgery-date 2027-03-01 --side left --variant accelerated -o plan.html
      recovery handout --surgery-date 2027-03-01 --sources -o plan-for-the-clinic.html
      recovery handout --surgery-date 2027-03-01 --large-print -o plan-large.html
    """
    from recovery.writers.handout import to_handout

    protocol, plan = make_plan(options)
    today = datetime.now(zone(plan.timezone)).date()
    data = to_handout(
        scheduled(protocol, plan), dated=True, today=today, cache=program_cache(), sources=sources
    ).encode()
    write_output(output, data, default_output_name(protocol.id, plan, "html"), force)


MAX_CALENDAR_BYTES = 20_000_000


def read_calendar_file(path: Path) -> bytes:
    """The bytes of a calendar file given to --update: a regular file of sane size, or a PlanError."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise PlanError(f"--update {path}: it is not a regular file")
        if info.st_size > MAX_CALENDAR_BYTES:
            raise PlanError(f"--update {path}: {info.st_size:,} bytes is too large for a plan's calendar")
        return path.read_bytes()
    except OSError as error:
        raise PlanError(f"--update {path}: cannot be read ({error.strerror})") from None


def write_output(output: str | None, data: bytes, default_name: str, force: bool = False) -> None:
    """Write to standard output (-), to the given file, or to the default name, and say where."""
    if output == "-":
        click.echo(data, nl=False)
        return
    path = Path(output) if output else Path(default_name)
    write_file(path, data, force)
    click.echo(str(path))


@main.command(context_settings=CONTEXT)
@click.argument("plans", type=click.Path(dir_okay=False, path_type=Path), metavar="PLANS.csv")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The folder the calendars are written to (made if missing).",
)
@BATCH_FORMAT
@click.option(
    "--jobs", type=click.IntRange(1, 64), default=os.cpu_count() or 1, help="Processes to use. [default: every core]"
)
@FORCE
def batch(plans: Path, out_dir: Path, output_format: str, jobs: int, force: bool) -> None:
    """Write many patients' calendars from one CSV file, one plan per row.

    The header names each column after a long option of `recovery generate`, without
    its dashes: surgery-date (required), protocol, timezone, side, country, variant, set,
    time, actual, from, discreet, large-print, confirm, contact, alarm-minutes,
    calendar-name, plan-id, output. The columns
    set, time and actual hold NAME=VALUE pairs separated by spaces. No names or other
    identifying data are needed. Every bad row is reported as FILE:LINE: column: problem,
    the good rows are still written, and the exit code is 1 when any row failed.

    \b
    Examples:
      recovery batch examples/plans.csv --out-dir calendars
      recovery batch plans.csv --out-dir schedules --format json --jobs 2
      recovery batch plans.csv --out-dir handouts --format html
    """
    from recovery import batch as batches

    program_cache()  # warns, once, about a cache folder that is not safe to use
    with contextlib.ExitStack() as shown_while:
        bars: list[Any] = []

        def started(count_of_rows: int) -> None:  # the file is read: show the progress from now on
            out = sys.stderr if sys.stderr.isatty() else shown_while.enter_context(open(os.devnull, "w"))
            bars.append(
                shown_while.enter_context(click.progressbar(length=count_of_rows, label="Writing plans", file=out))
            )

        report = batches.write_batch(
            plans, out_dir, output_format, force, jobs, started=started, done=lambda _: bars[0].update(1)
        )
    if report.blank_lines:
        lines = ", ".join(map(str, report.blank_lines[:5])) + (", …" if len(report.blank_lines) > 5 else "")
        click.echo(f"skipped {count(len(report.blank_lines), 'blank row')} of {plans} (line {lines})", err=True)
    for problem in report.problems:
        click.echo(f"error: {printable(f'{plans}:{problem.line}: {problem.shown(batches.column_name)}')}", err=True)
    summary = f"wrote {report.written} of {report.rows} plans to {out_dir}"
    if report.problems:
        summary += f"; {len({p.line for p in report.problems})} failed"
    if report.stopped:
        summary += f"; {report.stopped} before {report.rows - len(report.outcomes)} were started"
    click.echo(summary + f" (see {out_dir / 'manifest.csv'})")
    if report.stopped:
        sys.exit(130 if report.stopped == "interrupted" else 143)
    if report.problems:
        sys.exit(1)


# ---- The living plan (pip install 'recovery[serve]').

DATABASE = click.option(
    "--database",
    metavar="URL",
    default=DEFAULT_DATABASE,
    show_default=True,
    envvar="RECOVERY_DATABASE",
    help="The database: sqlite:///FILE, or postgresql+psycopg://USER@HOST/NAME.",
)


def _serving() -> Any:
    """The server's modules, or a one-line error naming the extra to install."""
    try:
        from recovery.serve import app, store
    except ImportError as missing:
        raise click.ClickException(
            f"the server needs its extra packages ({missing.name} is missing): pip install 'recovery[serve]'"
        ) from None
    return app, store


#: The server's bounds on its clients (see `serve`).
SERVE_LIMITS = {"connections": 500, "keep_alive_seconds": 5, "shutdown_seconds": 10}


@main.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="The port.")
@DATABASE
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Processes serving requests.")
@click.option(
    "--base-url",
    default="",
    metavar="URL",
    help="The public address links and QR codes use; requests for other hosts are refused "
    "[default: http://HOST:PORT, what it listens on].",
)
@click.option(
    "--secure-cookies/--no-secure-cookies",
    default=False,
    help="Send the session cookie over HTTPS only (behind a TLS proxy; see docs/serve.md).",
)
def serve(host: str, port: int, database: str, workers: int, base_url: str, secure_cookies: bool) -> None:
    """Serve the clinic's living plans: pages, patient links, calendar feeds and the JSON API.

    Applies the database's migrations first. Sessions are signed with $RECOVERY_SECRET_KEY;
    without it, a new key is made at each start (everyone logs in again after a restart).

    \b
    Examples:
      recovery serve
      recovery serve --port 8080 --base-url https://plans.clinic.example --secure-cookies
      recovery serve --database postgresql+psycopg://recovery@localhost/recovery --workers 4
    """
    import secrets

    import uvicorn

    app, store = _serving()
    if not base_url:
        if host in ("0.0.0.0", "::", ""):
            raise click.UsageError(
                "--base-url: give the public address patients' links use when listening on every address"
            )
        base_url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    store.open_store(database)  # migrations, once, before the workers start; plans follow their
    # protocol files when they are looked at, so starting takes as long with 100,000 plans as with one
    os.environ["RECOVERY_DATABASE"] = database
    os.environ.setdefault("RECOVERY_SECRET_KEY", secrets.token_urlsafe(32))
    os.environ["RECOVERY_BASE_URL"] = base_url
    os.environ["RECOVERY_SECURE_COOKIES"] = "1" if secure_cookies else "0"
    uvicorn.run(
        "recovery.serve.app:from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=app.log_config(),
        proxy_headers=True,
        server_header=False,
        # Bounds against slow or many clients: connections (and requests) at once per process,
        # beyond which uvicorn answers 503 and closes, so open files stay under the usual limit
        # of 1,024; how long an idle connection is kept; how long a stop waits for requests
        # under way (a client trickling a body then loses it, and SIGTERM stops the server).
        limit_concurrency=SERVE_LIMITS["connections"],
        timeout_keep_alive=SERVE_LIMITS["keep_alive_seconds"],
        timeout_graceful_shutdown=SERVE_LIMITS["shutdown_seconds"],
    )


@main.group(context_settings=CONTEXT)
def users() -> None:
    """Clinicians' accounts for `recovery serve`.

    \b
    Example:
      printf '%s' "$PASSWORD" | recovery users add ana@clinic.example --password-stdin
    """


def _password(store: Any, email: str) -> str:
    """The password given on standard input (one line), checked before any database is touched."""
    password = sys.stdin.read(store.MAX_PASSWORD + 2).rstrip("\r\n")
    store.check_user(email, password)
    return str(password)


@users.command("add", context_settings=CONTEXT)
@click.argument("email")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
@DATABASE
def users_add(email: str, password_stdin: bool, database: str) -> None:
    """Add a clinician who can log in (the password is kept only as an argon2 hash). A password
    has 12 to 1,024 characters and must not be easy to guess (common passwords, words, names,
    keyboard patterns and dates are refused).

    \b
    Example:
      printf '%s' "$PASSWORD" | recovery users add ana@clinic.example --password-stdin
    """
    _, store = _serving()
    password = _password(store, email)
    store.open_store(database).add_user(email, password)
    click.echo(f"added {email.strip().lower()}")


@users.command("list", context_settings=CONTEXT)
@DATABASE
def users_list(database: str) -> None:
    """List the clinicians: address, when added, open sessions.

    \b
    Example:
      recovery users list
    """
    _, store = _serving()
    found = store.open_store(database).users()
    for email, created, sessions in found:
        click.echo(f"{email}\tadded {created:%Y-%m-%d}\t{count(sessions, 'open session')}")
    if not found:
        click.echo("no users yet: recovery users add EMAIL --password-stdin", err=True)


@users.command("password", context_settings=CONTEXT)
@click.argument("email")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the new password from standard input.")
@DATABASE
def users_password(email: str, password_stdin: bool, database: str) -> None:
    """Give a clinician a new password; every session of theirs ends (a copied cookie too).

    \b
    Example:
      printf '%s' "$NEW_PASSWORD" | recovery users password ana@clinic.example --password-stdin
    """
    _, store = _serving()
    password = _password(store, email)
    store.open_store(database).set_password(email, password)
    click.echo(f"changed the password of {email.strip().lower()}; their sessions have ended")


@users.command("remove", context_settings=CONTEXT)
@click.argument("email")
@DATABASE
def users_remove(email: str, database: str) -> None:
    """Remove a clinician: they can no longer log in, and their sessions end now.

    \b
    Example:
      recovery users remove ana@clinic.example
    """
    _, store = _serving()
    store.open_store(database).remove_user(email)
    click.echo(f"removed {email.strip().lower()}")


@main.group("api-keys", context_settings=CONTEXT)
def api_keys() -> None:
    """Keys for clinic systems that use the JSON API.

    \b
    Example:
      recovery api-keys add clinic-ehr
    """


@api_keys.command("add", context_settings=CONTEXT)
@click.argument("name")
@DATABASE
def api_keys_add(name: str, database: str) -> None:
    """Make an API key and print it once (only its hash is kept).

    \b
    Example:
      recovery api-keys add clinic-ehr
    """
    _, store = _serving()
    store.check_key_name(name)
    key = store.open_store(database).add_api_key(name)
    click.echo(key)
    click.echo("Keep it now: it is not shown again. Send it as: Authorization: Bearer KEY", err=True)


@api_keys.command("list", context_settings=CONTEXT)
@DATABASE
def api_keys_list(database: str) -> None:
    """List the API keys by name: when made, and whether revoked (the keys themselves are not kept).

    \b
    Example:
      recovery api-keys list
    """
    _, store = _serving()
    found = store.open_store(database).api_keys()
    for name, created, revoked in found:
        state = f"revoked {revoked:%Y-%m-%d}" if revoked else "in use"
        click.echo(f"{name}\tmade {created:%Y-%m-%d}\t{state}")
    if not found:
        click.echo("no API keys yet: recovery api-keys add NAME", err=True)


@api_keys.command("revoke", context_settings=CONTEXT)
@click.argument("name")
@DATABASE
def api_keys_revoke(name: str, database: str) -> None:
    """Revoke an API key: it stops working now.

    \b
    Example:
      recovery api-keys revoke clinic-ehr
    """
    _, store = _serving()
    store.open_store(database).revoke_api_key(name)
    click.echo(f"revoked {name}")


@api_keys.command("rotate", context_settings=CONTEXT)
@click.argument("name")
@DATABASE
def api_keys_rotate(name: str, database: str) -> None:
    """Replace an API key with a new one under the same name, printed once; the old key stops working now.

    \b
    Example:
      recovery api-keys rotate clinic-ehr
    """
    _, store = _serving()
    key = store.open_store(database).rotate_api_key(name)
    click.echo(key)
    click.echo("Keep it now: it is not shown again. The old key no longer works.", err=True)


@main.group(context_settings=CONTEXT)
def db() -> None:
    """The server's database.

    \b
    Example:
      recovery db upgrade --database sqlite:///recovery.db
    """


@db.command("follow-protocols", context_settings=CONTEXT)
@DATABASE
def db_follow_protocols(database: str) -> None:
    """Give every live plan whose protocol file changed its new revision now, and list them.

    The server does this for each plan when the plan is next looked at (its feed, page or the
    API), so this is only for seeing at once which plans an edited protocol moves.

    \b
    Example:
      recovery db follow-protocols --database sqlite:///recovery.db
    """
    _, store = _serving()
    revised = store.open_store(database).refresh_protocols("command line")
    for made in revised:
        click.echo(f"{made.plan_id}\trevision {made.revision}")
    click.echo(f"{count(len(revised), 'plan')} with a new revision: their protocol file changed", err=True)


@db.command("upgrade", context_settings=CONTEXT)
@DATABASE
def db_upgrade(database: str) -> None:
    """Apply the database's migrations (`recovery serve` also does, on start).

    \b
    Example:
      recovery db upgrade --database postgresql+psycopg://recovery@localhost/recovery
    """
    _, store = _serving()
    store.open_store(database)
    click.echo("the database is up to date")
