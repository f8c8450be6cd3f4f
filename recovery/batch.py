"""`recovery batch`: many patients' plans from one CSV file, written on every core.

One row is one plan, with the same options as `recovery generate`; the header names each column
after the long option without its dashes. Each row is checked with the same parameter types as
the command line, so a row gets the message a command would, prefixed with `FILE:LINE: column:`.
Good rows are written (each atomically) even when others fail. A protocol is loaded and
validated once per process, however many rows use it.
"""

from __future__ import annotations

import csv
import functools
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from recovery.cache import Cache, default_folder
from recovery.errors import PlanError, RecoveryError
from recovery.output import write_file
from recovery.protocol import Protocol, loader
from recovery.schedule import Plan, build
from recovery.words import SLOTS

#: Every column a batch file may have, and what it holds (see docs/batch.md).
COLUMNS = (
    "surgery-date", "protocol", "timezone", "side", "variant", "set", "time", "actual", "from",
    "alarm-minutes", "calendar-name", "discreet", "plan-id", "output",
)  # fmt: skip
#: Columns that hold several NAME=VALUE pairs, separated by spaces.
PAIRS = ("set", "time", "actual")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Row:
    """One plan of the batch: where it is in the file, and its options as the command line takes them."""

    line: int
    options: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    """What became of one row: the file written, or the problems."""

    line: int
    written: str = ""
    problems: tuple[str, ...] = ()


def read_rows(path: Path) -> Iterator[Row]:
    """The rows of a batch file; a wrong header is a usage error naming the column."""
    from recovery.errors import did_you_mean

    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise click.BadParameter(f"cannot be read ({error.strerror})", param_hint="PLANS") from None
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for column in header:
            if column not in COLUMNS:
                hint = did_you_mean(column, COLUMNS)
                raise click.BadParameter(f'unknown column "{column}"{hint}', param_hint=f"{path}:1")
        if "surgery-date" not in header:
            raise click.BadParameter('the header has no "surgery-date" column', param_hint=f"{path}:1")
        try:
            for number, record in enumerate(reader):
                if number >= MAX_ROWS:
                    raise click.BadParameter(f"more than {MAX_ROWS:,} rows", param_hint=str(path))
                options = {k: (v or "").strip() for k, v in record.items() if k is not None}
                if None in record:
                    options["(extra)"] = "a row has more values than the header has columns"
                yield Row(reader.line_num, options)
        except (csv.Error, UnicodeDecodeError) as error:
            raise click.BadParameter(f"not a CSV file: {error}", param_hint=str(path)) from None


def plan_of(row: Row) -> tuple[str, Plan, str]:
    """(protocol reference, Plan, output name) of a row, or a PlanError naming the column."""
    from recovery.options import ACTUAL, DATE, PATH_TEXT, SET, SLOT_TIME, TEXT, ZONE

    options = row.options
    if "(extra)" in options:
        raise PlanError(options["(extra)"])

    def convert(column: str, kind: click.ParamType[Any], text: str) -> Any:
        try:
            return kind.convert(text, None, None)
        except click.BadParameter as error:
            raise PlanError(f"{column}: {error.message}") from None

    def pairs(column: str, kind: click.ParamType[Any]) -> dict[str, Any]:
        return dict(convert(column, kind, pair) for pair in options.get(column, "").split())

    if not options.get("surgery-date"):
        raise PlanError("surgery-date: empty; write it as YYYY-MM-DD")
    side = options.get("side") or None
    if side not in (None, "left", "right"):
        raise PlanError(f'side: "{side}" is not "left" or "right"')
    discreet = options.get("discreet", "").lower()
    if discreet not in ("", "yes", "no", "true", "false"):
        raise PlanError(f'discreet: "{discreet}" is not yes or no')
    minutes = options.get("alarm-minutes") or "0"
    if not minutes.isdigit() or int(minutes) > 1440:
        raise PlanError(f'alarm-minutes: "{minutes}" is not a number of minutes from 0 to 1440')
    zone = options.get("timezone")
    plan = Plan(
        surgery_date=convert("surgery-date", DATE, options["surgery-date"]),
        timezone=convert("timezone", ZONE, zone) if zone else "UTC",
        side=side,
        variant=convert("variant", TEXT, options["variant"]) if options.get("variant") else None,
        overrides=pairs("set", SET),
        slot_times={**SLOTS, **pairs("time", SLOT_TIME)},
        alarm_minutes=int(minutes),
        calendar_name=convert("calendar-name", TEXT, options["calendar-name"])
        if options.get("calendar-name")
        else None,
        discreet=discreet in ("yes", "true"),
        start_from=convert("from", DATE, options["from"]) if options.get("from") else None,
        actuals=pairs("actual", ACTUAL),
        plan_id=convert("plan-id", TEXT, options.get("plan-id", "")),
    )
    protocol = convert("protocol", PATH_TEXT, options.get("protocol") or "proximal-hamstring-repair")
    output = options.get("output", "")
    if output and (os.sep in output or "/" in output or output.startswith(".")):
        raise PlanError(f'output: "{output}" must be a file name inside the output folder, without a path')
    return protocol, plan, output


@functools.cache
def _cache() -> Cache | None:
    """This process's cache (the main process has already warned about a folder it cannot use)."""
    return Cache.open(default_folder())[0]


_protocols: dict[str, Protocol] = {}  # per process: each protocol is loaded and validated once


def run_row(row: Row, out_dir: str, output_format: str, force: bool) -> Outcome:
    """Write one row's plan; every problem becomes text, so that it can cross a process boundary."""
    try:
        reference, plan, output = plan_of(row)
        if reference not in _protocols:
            _protocols[reference] = loader.load(reference, cache=_cache())
        protocol = _protocols[reference]
        schedule = build(protocol, plan)
        if output_format == "json":
            from recovery.writers.schedule_json import write as write_json

            data = write_json(schedule)
        else:
            from recovery.writers.ics import write as write_ics

            data = write_ics(schedule)
        name = (
            output or f"{'plan' if plan.discreet else protocol.id}-{plan.surgery_date}-line{row.line}.{output_format}"
        )
        target = Path(out_dir) / name
        write_file(target, data, force)
    except RecoveryError as error:  # a protocol, plan or output problem of this row
        return Outcome(
            row.line, problems=tuple(_column_first(p.message if not p.file else str(p)) for p in error.problems)
        )
    return Outcome(row.line, written=str(target))


def _column_first(message: str) -> str:
    """ "--set protection_weeks=20: …" becomes "set: protection_weeks=20: …": a column, as the CSV names it."""
    for option in ("--set ", "--time ", "--actual ", "--from "):
        if message.startswith(option):
            return f"{option[2:-1]}: {message[len(option) :]}"
    return message


def run(rows: list[Row], out_dir: Path, output_format: str, force: bool, jobs: int) -> Iterator[Outcome]:
    """Every row's outcome, in file order, using `jobs` processes."""
    if jobs <= 1 or len(rows) < 20:
        for row in rows:
            yield run_row(row, str(out_dir), output_format, force)
        return
    size = max(1, min(50, len(rows) // (jobs * 4)))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(
            run_row, rows, [str(out_dir)] * len(rows), [output_format] * len(rows), [force] * len(rows), chunksize=size
        )
