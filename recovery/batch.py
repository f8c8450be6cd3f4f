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
from dataclasses import dataclass, replace
from pathlib import Path

import click

from recovery.cache import Cache, default_folder
from recovery.errors import PlanError, Problem, RecoveryError, did_you_mean
from recovery.output import write_file
from recovery.protocol import Protocol, loader
from recovery.schedule import Plan, build
from recovery.schedule.plan import (
    BY_ATTRIBUTE,
    BY_NAME,
    DEFAULT_PROTOCOL,
    FIELDS,
    BadValueError,
    default_output_name,
    to_text,
)

#: Every column a batch file may have, and what it holds (see docs/batch.md): the plan's fields,
#: the protocol, and the file to write.
COLUMNS = ("protocol", *(f.name for f in FIELDS), "output")
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
    problems: tuple[Problem, ...] = ()


def read_rows(path: Path) -> Iterator[Row]:
    """The rows of a batch file; a wrong header is a usage error naming the column."""
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
    """(protocol reference, Plan, output name) of a row, or a PlanError naming every bad column."""
    options = row.options
    problems = [Problem(options["(extra)"])] if "(extra)" in options else []
    output = options.get("output", "")
    try:
        if output:
            to_text(output)
        if os.sep in output or "/" in output or output.startswith("."):
            raise BadValueError(f'"{output}" must be a file name inside the output folder, without a path')
    except BadValueError as error:
        problems.append(Problem(str(error), field="output"))
    values = {BY_NAME[column].key: text for column, text in options.items() if column in BY_NAME and text}
    values.setdefault("surgery_date", "")
    try:
        plan = Plan.from_json(values, machine_zone=True)
    except PlanError as error:
        problems = error.problems + problems
    if problems:
        raise PlanError(problems)
    return options.get("protocol") or DEFAULT_PROTOCOL, plan, output


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
        name = output or default_output_name(protocol.id, plan, output_format, suffix=f"-line{row.line}")
        target = Path(out_dir) / name
        write_file(target, data, force)
    except RecoveryError as error:  # a protocol, plan or output problem of this row
        return Outcome(row.line, problems=tuple(replace(p, line=row.line) for p in error.problems))
    return Outcome(row.line, written=str(target))


def column_name(attribute: str) -> str:
    """A plan's field as a batch file's header names it: overrides → set."""
    return BY_ATTRIBUTE[attribute].name if attribute in BY_ATTRIBUTE else attribute


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
