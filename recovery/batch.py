"""`recovery batch`: many patients' plans from one CSV file, written on every core.

One row is one plan, with the same options as `recovery generate`; the header names each column
after the long option without its dashes. Each row is checked with the same parameter types as
the command line, so a row gets the message a command would, prefixed with `FILE:LINE: column:`.
Good rows are written (each atomically) even when others fail. A protocol is loaded and
validated once per process, however many rows use it.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import io
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from recovery.cache import Cache, default_folder
from recovery.errors import OutputError, PlanError, Problem, ProtocolError, RecoveryError, did_you_mean
from recovery.output import write_file
from recovery.protocol import Protocol, loader
from recovery.records import record
from recovery.schedule import Plan, build
from recovery.schedule.build import holidays_of
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
#: Other names of a column ("start-date" for "surgery-date"), and the column each names.
ALIASES = {alias: f.name for f in FIELDS for alias in f.aliases}
MAX_ROWS = 100_000


@record
class Row:
    """One plan of the batch: where it is in the file, and its options as the command line takes them."""

    line: int
    options: dict[str, str]


@record
class Outcome:
    """What became of one row: the file written, or the problems."""

    line: int
    written: str = ""
    problems: tuple[Problem, ...] = ()
    plan_id: str = ""


#: A batch file larger than this is refused: 100,000 rows of a plan are about 10 MB.
MAX_FILE_BYTES = 50_000_000


@record
class Sheet:
    """A batch file as read: its plans, the separator its values use (the manifest uses it
    too), and the lines left out because every value on them was empty (a spreadsheet exports
    the blank rows below a table as rows of separators)."""

    rows: tuple[Row, ...]
    delimiter: str = ","
    blank_lines: tuple[int, ...] = ()


def read_sheet(path: Path) -> Sheet:
    """The rows of a batch file, as a spreadsheet saves it (see `read_rows`), without its blank rows."""
    text = _text_of(path)
    delimiter = _delimiter(text)
    rows, blank = [], []
    for row in read_rows(path, text):
        (blank.append(row.line) if not any(row.options.values()) else rows.append(row))
    return Sheet(tuple(rows), delimiter, tuple(blank))


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=first.count)


def read_rows(path: Path, text: str | None = None) -> Iterator[Row]:
    """The rows of a batch file, as a spreadsheet saves it: UTF-8 (with or without a byte-order
    mark) or UTF-16 ("Unicode text"), the values separated by commas, semicolons (the export in
    many countries) or tabs. A wrong header is a usage error naming the column."""
    text = _text_of(path) if text is None else text
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = reader.fieldnames or []
    except csv.Error as error:
        raise click.BadParameter(f"not a CSV file: {error}", param_hint=str(path)) from None
    for column in header:
        if column not in COLUMNS and column not in ALIASES:
            hint = did_you_mean(column, [*COLUMNS, *ALIASES])
            raise click.BadParameter(f'unknown column "{column}"{hint}', param_hint=f"{path}:1")
        if column in ALIASES and ALIASES[column] in header:
            raise click.BadParameter(
                f'"{column}" and "{ALIASES[column]}" are the same column: keep one', param_hint=f"{path}:1"
            )
    if "surgery-date" not in header and "start-date" not in header:
        raise click.BadParameter('the header has no "surgery-date" (or "start-date") column', param_hint=f"{path}:1")
    try:
        for number, record in enumerate(reader):
            if number >= MAX_ROWS:
                raise click.BadParameter(f"more than {MAX_ROWS:,} rows", param_hint=str(path))
            options = {ALIASES.get(k, k): (v or "").strip() for k, v in record.items() if k is not None}
            # empty cells past the header's columns are what a spreadsheet saves, not values
            if any((extra or "").strip() for extra in record.get(None) or ()):
                options["(extra)"] = "a row has more values than the header has columns"
            yield Row(reader.line_num, options)
    except csv.Error as error:
        raise click.BadParameter(f"not a CSV file: {error}", param_hint=str(path)) from None


def _text_of(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise click.BadParameter(
                f"{size:,} bytes; a batch file may have at most {MAX_FILE_BYTES:,}", param_hint=str(path)
            )
        data = path.read_bytes()
    except OSError as error:
        raise click.BadParameter(f"cannot be read ({error.strerror})", param_hint="PLANS") from None
    marks = {codecs.BOM_UTF16_LE: "utf-16", codecs.BOM_UTF16_BE: "utf-16", codecs.BOM_UTF8: "utf-8-sig"}
    encoding = next((name for mark, name in marks.items() if data.startswith(mark)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise click.BadParameter(
            f'not UTF-8 or UTF-16 text (byte {error.start + 1}); save it as "CSV UTF-8"', param_hint=str(path)
        ) from None


#: An output name a row may not give: the default names, which rows without an output take.
RESERVED = re.compile(r".*-line\d+\.(ics|json)")


def plan_of(row: Row, folder: Path | None = None) -> tuple[str, Plan, str]:
    """(protocol reference, Plan, output name) of a row, or a PlanError naming every bad column.
    A protocol given as a relative path is found from `folder` (the batch file's)."""
    options = row.options
    problems = [Problem(options["(extra)"])] if "(extra)" in options else []
    output = options.get("output", "")
    try:
        if output:
            to_text(output)
        if os.sep in output or "/" in output or output.startswith("."):
            raise BadValueError(f'"{output}" must be a file name inside the output folder, without a path')
        if RESERVED.fullmatch(output):
            raise BadValueError(f'"{output}": names ending in -line<N>.ics are kept for the rows without an output')
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
    protocol = options.get("protocol") or DEFAULT_PROTOCOL
    if folder is not None and loader.is_path(protocol) and not Path(protocol).expanduser().is_absolute():
        protocol = str(folder / protocol)
    return protocol, plan, output


@functools.cache
def _cache() -> Cache | None:
    """This process's cache (the main process has already warned about a folder it cannot use)."""
    return Cache.open(default_folder())[0]


_protocols: dict[str, Protocol] = {}  # per process: each protocol is loaded and validated once


def run_row(row: Row, out_dir: str, output_format: str, force: bool, folder: str = "") -> Outcome:
    """Write one row's plan; problems are data (Problem), so that they cross a process boundary."""
    plan_id = row.options.get("plan-id", "")
    try:
        reference, plan, output = plan_of(row, Path(folder) if folder else None)
        if reference not in _protocols:
            try:
                _protocols[reference] = loader.load(reference, cache=_cache())
            except ProtocolError as error:  # an unknown name is the column's problem; a bad file names itself
                raise ProtocolError([p if p.file else replace(p, field="protocol") for p in error.problems]) from None
        protocol = _protocols[reference]
        schedule = build(
            protocol, plan, days_off=holidays_of(plan, _cache()) if protocol.appointments else {}, cache=_cache()
        )
        if output_format == "json":
            from recovery.writers.schedule_json import to_json as write_json

            data = write_json(schedule)
        elif output_format == "html":
            from recovery.writers.handout import to_handout

            today = datetime.now(ZoneInfo(plan.timezone)).date()
            data = to_handout(schedule, dated=True, today=today, cache=_cache()).encode()
        else:
            from recovery.writers.ics import to_ics as write_ics

            data = write_ics(schedule)
        name = output or default_output_name(protocol.id, plan, output_format, suffix=f"-line{row.line}")
        target = Path(out_dir) / name
        write_file(target, data, force)
    except RecoveryError as error:  # a protocol, plan or output problem of this row
        return Outcome(row.line, plan_id=plan_id, problems=tuple(replace(p, line=row.line) for p in error.problems))
    return Outcome(row.line, plan_id=plan_id, written=str(target))


def column_name(attribute: str) -> str:
    """A plan's field as a batch file's header names it: overrides → set."""
    return BY_ATTRIBUTE[attribute].name if attribute in BY_ATTRIBUTE else attribute


class Run:
    """A batch being written: iterate over it for every row's outcome, in file order, computed by
    `jobs` processes (chunks of rows each). `stop()` (on Ctrl-C or SIGTERM) cancels the chunks not
    started, waits for those under way (each row writes its file whole or not at all) and returns
    the outcomes not yet taken, those of the chunk being taken included, so that nothing written
    goes unreported; the worker processes then end."""

    def __init__(
        self, rows: list[Row], out_dir: Path, output_format: str, force: bool, jobs: int, folder: Path | None = None
    ):
        self.arguments = (str(out_dir), output_format, force, str(folder) if folder is not None else "")
        self.rows = rows
        self.pool: ProcessPoolExecutor | None = None
        self.futures: list[Future[list[Outcome]]] = []
        self.taken = 0  # chunks whose outcomes have been (or are being) taken
        self.current: list[Outcome] = []  # the outcomes of the chunk being taken, not taken yet
        if jobs > 1 and len(rows) >= 20:
            size = max(1, min(50, len(rows) // (jobs * 4)))
            self.pool = ProcessPoolExecutor(max_workers=jobs, initializer=_ignore_interrupts)
            chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
            self.futures = [self.pool.submit(run_rows, chunk, *self.arguments) for chunk in chunks]

    def __iter__(self) -> Iterator[Outcome]:
        if self.pool is None:
            for row in self.rows:
                self.taken += 1
                yield run_row(row, *self.arguments)
            return
        for future in self.futures:
            self.current = list(future.result())
            self.taken += 1
            while self.current:
                yield self.current.pop(0)
        self.pool.shutdown()

    def stop(self) -> list[Outcome]:
        """Stop: the outcomes of the rows under way that had not been taken yet."""
        if self.pool is None:
            return []
        left = self.futures[self.taken :]
        for future in left:
            future.cancel()
        late = [*self.current, *(outcome for future in left if not future.cancelled() for outcome in future.result())]
        self.current = []
        self.pool.shutdown(wait=True, cancel_futures=True)
        return late


def run_rows(rows: list[Row], out_dir: str, output_format: str, force: bool, folder: str = "") -> list[Outcome]:
    """`run_row` for each of a chunk of rows (what one worker is given at a time)."""
    return [run_row(row, out_dir, output_format, force, folder) for row in rows]


def _ignore_interrupts() -> None:
    """A worker leaves Ctrl-C to the batch's own process, which stops the batch cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def manifest(outcomes: list[Outcome], delimiter: str = ",") -> bytes:
    """DIR/manifest.csv: one row per line of the batch file: line, plan id, output, status,
    message; its values separated as the batch file's are, so the spreadsheet that wrote one
    opens the other."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["line", "plan-id", "output", "status", "message"])
    for outcome in sorted(outcomes, key=lambda o: o.line):
        if outcome.problems:
            for problem in outcome.problems:
                writer.writerow([outcome.line, outcome.plan_id, "", "failed", problem.shown(column_name)])
        else:
            writer.writerow([outcome.line, outcome.plan_id, Path(outcome.written).name, "written", ""])
    return buffer.getvalue().encode()


#: How a batch was stopped, by the signal that stopped it.
STOPPED_BY = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


@contextlib.contextmanager
def _stop_requests() -> Iterator[list[str]]:
    """Ctrl-C and SIGTERM, while a batch is written, as a request that the batch checks after each
    row it takes: a signal raised as an exception could land between a row's outcome coming back
    and its being recorded, and a plan written then went missing from the manifest. Outside the
    main thread (where Python cannot take signals) nothing is installed."""
    asked: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield asked
        return
    before = {number: signal.getsignal(number) for number in STOPPED_BY}
    for number in STOPPED_BY:
        signal.signal(number, lambda signum, frame: asked.append(STOPPED_BY[signal.Signals(signum)]))
    try:
        yield asked
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


@record
class Report:
    """What `write_batch` did: every row's outcome, the rows of the file, the blank lines left
    out, and "interrupted" or "terminated" when it was stopped before the end."""

    outcomes: tuple[Outcome, ...]
    rows: int
    blank_lines: tuple[int, ...] = ()
    stopped: str = ""

    @property
    def written(self) -> int:
        """How many plans were written."""
        return sum(1 for outcome in self.outcomes if not outcome.problems)

    @property
    def problems(self) -> list[Problem]:
        """Every row's problems, in the order of the file's lines."""
        return sorted((p for outcome in self.outcomes for p in outcome.problems), key=lambda problem: problem.line)


def write_batch(
    path: Path,
    out_dir: Path,
    output_format: str = "ics",
    force: bool = False,
    jobs: int = 1,
    started: Callable[[int], None] | None = None,
    done: Callable[[Outcome], None] | None = None,
) -> Report:
    """Write the plans of a batch file into `out_dir`, with `jobs` processes, and its manifest.

    Rows whose outputs clash are refused; every other row is written or reported on its own.
    `started` is told how many rows will be written, `done` each outcome as it comes. A
    Ctrl-C or SIGTERM stops the batch (`_stop_requests`): the rows under way finish whole, the
    rest are not started, and the report says so. The file's own problems (a bad header, not
    text) are usage errors (click.BadParameter); a folder that cannot be made is an OutputError."""
    sheet = read_sheet(path)
    rows = list(sheet.rows)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot make the folder {out_dir}: {error.strerror}") from None
    seen: dict[str, int] = {}
    clashes: list[Outcome] = []
    for row in rows:
        output = row.options.get("output", "")
        if output and output in seen:
            problem = Problem(f'"{output}" is also the output of line {seen[output]}', field="output", line=row.line)
            clashes.append(Outcome(row.line, problems=(problem,), plan_id=row.options.get("plan-id", "")))
        seen.setdefault(output, row.line)
    clashing = {outcome.line for outcome in clashes}
    todo = [row for row in rows if row.line not in clashing]
    outcomes: list[Outcome] = list(clashes)
    stopped = ""
    if started is not None:
        started(len(todo))
    batch_run = Run(todo, out_dir, output_format, force, jobs, folder=path.parent)
    with _stop_requests() as asked:
        for outcome in batch_run:
            outcomes.append(outcome)
            if done is not None:
                done(outcome)
            if asked:
                break
        if asked:
            stopped = asked[0]
            outcomes += batch_run.stop()  # the rows not started are cancelled; those under way finish whole
    write_file(out_dir / "manifest.csv", manifest(outcomes, sheet.delimiter), force=True)
    return Report(tuple(outcomes), len(rows), sheet.blank_lines, stopped)
