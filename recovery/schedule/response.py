"""How the patient responds: their check-ins, and what a stage's rule makes of them.

A course without surgery moves on when pain and function allow. The patient checks in after
the day's exercises (done: yes, partly or no; pain during them, 0-10) and says how the morning
after was (better, the same or worse than usual). A stage's start in the protocol (a milestone
with `criteria`) says how many of the latest sessions must have stayed within the pain limit with
a settled next morning; its `at` and `recordable` give the earliest and latest day.

`verdict` reads a laid-out Schedule and the check-ins and says what the rule says today:
advance to the next stage, hold, step back one stage, call about a red flag, or have the care team
review a plan that is past its latest day. It decides nothing: a clinician (or, where the
protocol says the rule decides, the front end) records the stage's start like a milestone, and
`moved` gives the plan that does so. It knows no database, no HTTP and no calendar format: the
command line and the server ask it alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from recovery.errors import PlanError, Problem, did_you_mean
from recovery.records import record
from recovery.schedule.items import Day, Schedule
from recovery.schedule.plan import Plan, to_date

#: What the patient answers: were today's exercises done, and how was this morning.
DONE = ("yes", "partly", "no")
MORNING = ("better", "same", "worse")
#: The most check-ins a verdict reads (a year, twice a day): input from outside is bounded.
MAX_CHECK_INS = 800
#: A red flag reported within this many days holds the plan, whatever the other check-ins say.
RED_FLAG_DAYS = 7
#: What a verdict can say.
ACTIONS = ("advance", "hold", "step-back", "red-flag", "review", "none")


@record
class CheckIn:
    """What the patient reported on one day: whether the exercises were done, the pain during them
    (0-10; None when not done), how this morning was compared with usual (the answer about the
    day before's session), and a red flag's id when they reported a warning sign."""

    day: date
    done: str
    pain: int | None = None
    morning: str | None = None
    red_flag: str = ""

    @classmethod
    def of(cls, data: Mapping[str, Any], where: str = "") -> CheckIn:
        """A check-in from plain values (a CSV row, a form, JSON), or a PlanError naming each
        bad field (`where`: the row or line, for the message)."""
        problems = []

        def bad(field: str, why: str) -> None:
            problems.append(Problem(why, where=f"{where}, {field}" if where else field))

        day: date | None = None
        try:
            day = to_date(data.get("day"))
        except ValueError as error:
            bad("day", str(error))
        done = str(data.get("done") or "").strip().lower()
        if done not in DONE and (done or not data.get("morning")):  # a morning alone may leave it out
            bad("done", f"should be one of {', '.join(DONE)}")
        done = done or "no"
        pain_text = str(data.get("pain") if data.get("pain") is not None else "").strip()
        pain: int | None = None
        if pain_text:
            if not pain_text.isdigit() or not 0 <= int(pain_text) <= 10:
                bad("pain", "should be a whole number from 0 to 10")
            else:
                pain = int(pain_text)
        elif done in ("yes", "partly"):
            bad("pain", "missing: how much pain during the exercises, 0 to 10")
        if pain is not None and done == "no":
            bad("pain", "given for a day the exercises were not done")
        morning = str(data.get("morning") or "").strip().lower() or None
        if morning is not None and morning not in MORNING:
            bad("morning", f"should be one of {', '.join(MORNING)}")
        red_flag = str(data.get("red_flag") or "").strip()
        if len(red_flag) > 60:
            bad("red_flag", "should be a red flag's id")
        if problems:
            raise PlanError(problems)
        assert day is not None
        return cls(day, done, pain, morning, red_flag)


@record
class Verdict:
    """What a stage's rule says on a day. `action` is one of ACTIONS; `stage` the stage's start
    the patient is in ("" for the first stage), `to` the milestone to record (advance), or the one
    whose record is undone (step back); `proposes` whether a clinician must confirm; `reasons` in
    plain words; `met` and `looked_at` the sessions that counted and were read."""

    action: str
    stage: str = ""
    to: str = ""
    proposes: bool = True
    reasons: tuple[str, ...] = ()
    met: int = 0
    looked_at: int = 0
    red_flag: str = ""


def verdict(schedule: Schedule, check_ins: Iterable[CheckIn], today: date) -> Verdict:
    """What the rule says on `today`, from the check-ins up to it (see the module's docstring)."""
    stages = [day for day in schedule.milestones if day.criteria is not None]
    current = max((day for day in stages if day.actual and day.date <= today), key=lambda d: d.date, default=None)
    begun = current.date if current is not None else schedule.first_day
    upcoming = next((day for day in stages if day.waiting), None)
    reported = _one_a_day(c for c in check_ins if c.day <= today)
    flagged = [c for c in reported if c.red_flag and c.day >= max(begun, today - timedelta(RED_FLAG_DAYS))]
    stage = current.id if current is not None else ""
    if flagged:
        return Verdict(
            "red-flag",
            stage,
            reasons=(f"a warning sign was reported on {flagged[-1].day.isoformat()}: the plan does not move on",),
            red_flag=flagged[-1].red_flag,
        )
    rule = upcoming or current
    if rule is None or rule.criteria is None:
        return Verdict("none", stage, reasons=("no stage of this plan waits on check-ins",))
    criteria = rule.criteria
    sessions = _settled(reported, begun)[-criteria.of_last :]
    good = [
        s
        for s, morning in sessions
        if s.pain is not None and s.pain <= criteria.pain_at_most and _settles(morning, criteria.next_morning)
    ]
    worse = [
        s for s, morning in sessions if (s.pain is not None and s.pain > criteria.pain_at_most) or morning == "worse"
    ]
    counted = f"{len(good)} of the last {len(sessions)} sessions within the limits ({criteria.sessions} of {criteria.of_last} needed)"
    if current is not None and current.if_worse == "step-back" and len(worse) >= current.criteria.sessions:  # type: ignore[union-attr]
        return Verdict(
            "step-back",
            stage,
            to=current.id,
            proposes=True,
            reasons=(f"{len(worse)} of the last {len(sessions)} sessions went over the limits: back one stage",),
            met=len(good),
            looked_at=len(sessions),
        )
    if upcoming is None:
        return Verdict("hold", stage, reasons=(counted,), met=len(good), looked_at=len(sessions))
    if upcoming.latest is not None and today > upcoming.latest:  # a clinician looks at a late plan
        return Verdict(
            "review",
            stage,
            to=upcoming.id,
            reasons=(counted, f"past the latest day expected for the next stage, {upcoming.latest.isoformat()}"),
            met=len(good),
            looked_at=len(sessions),
        )
    if len(good) >= criteria.sessions and len(sessions) >= criteria.sessions:
        if today < upcoming.date:
            return Verdict(
                "hold",
                stage,
                to=upcoming.id,
                reasons=(counted, f"the earliest day for the next stage is {upcoming.date.isoformat()}"),
                met=len(good),
                looked_at=len(sessions),
            )
        return Verdict(
            "advance",
            stage,
            to=upcoming.id,
            proposes=upcoming.decides != "rule",
            reasons=(counted,),
            met=len(good),
            looked_at=len(sessions),
        )
    return Verdict("hold", stage, to=upcoming.id, reasons=(counted,), met=len(good), looked_at=len(sessions))


def moved(plan: Plan, schedule: Schedule, decided: Verdict, day: date) -> Plan:
    """The plan after a verdict is acted on, on `day`: an advance records the next stage's start
    on that day; a step back undoes the current stage's record and starts the stage before it
    again on that day (the first stage has no start to record: it simply goes on)."""
    actuals, confirmed = dict(plan.actuals), set(plan.confirmed)
    if decided.action == "advance" and decided.to:
        actuals[decided.to] = day
    elif decided.action == "step-back" and decided.to:
        actuals.pop(decided.to, None)
        confirmed.discard(decided.to)  # nothing recorded is left for it to confirm
        earlier = [d for d in schedule.milestones if d.criteria is not None and d.actual and d.id != decided.to]
        if earlier and (before := max(earlier, key=lambda d: d.date)).date < day:
            actuals[before.id] = day
            # the stage before begins again on a day the clinician chose by confirming the step
            # back, which may be past the latest day it was expected to begin the first time
            confirmed.add(before.id)
    else:
        return plan
    return replace(plan, actuals=actuals, confirmed=tuple(sorted(confirmed)))


def _one_a_day(check_ins: Iterable[CheckIn]) -> list[CheckIn]:
    """The check-ins in day order, the last of each day kept (a patient who checks in twice a day
    changes that day's answer, and counts once)."""
    by_day: dict[date, CheckIn] = {}
    for count, check_in in enumerate(check_ins):
        if count >= MAX_CHECK_INS * 2:
            raise PlanError([Problem(f"more than {MAX_CHECK_INS * 2:,} check-ins", field="check_ins")])
        by_day[check_in.day] = check_in
    return [by_day[day] for day in sorted(by_day)][-MAX_CHECK_INS:]


def _settled(reported: list[CheckIn], begun: date) -> list[tuple[CheckIn, str]]:
    """The sessions since the stage began whose next morning is known: (session, that morning)."""
    by_day = {c.day: c for c in reported}
    found = []
    for check_in in reported:
        if check_in.day < begun or check_in.done == "no":
            continue
        after = by_day.get(check_in.day + timedelta(1))
        if after is not None and after.morning is not None:
            found.append((check_in, after.morning))
    return found


def _settles(morning: str, wanted: str) -> bool:
    return morning == "better" if wanted == "better" else morning in ("better", "same")


def read_check_ins(content: bytes, name: str = "check-ins") -> list[CheckIn]:
    """Check-ins from a CSV file's bytes (a header of day, done, pain, morning and optionally
    red_flag; UTF-8, commas, semicolons or tabs), or a PlanError naming every bad row and field."""
    import csv
    import io

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PlanError([Problem(f"not UTF-8 text (byte {error.start + 1})", name)]) from None
    first = text.split("\n", 1)[0]
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=max((",", ";", "\t"), key=first.count))
    columns = ("day", "done", "pain", "morning", "red_flag")
    try:
        header = [column.strip() for column in reader.fieldnames or []]
    except csv.Error as error:
        raise PlanError([Problem(f"not a CSV file: {error}", name)]) from None
    unknown = [column for column in header if column not in columns]
    if unknown or "day" not in header or "done" not in header:
        hint = did_you_mean(unknown[0], columns) if unknown else ""
        why = f'unknown column "{unknown[0]}"{hint}' if unknown else 'the header needs "day" and "done" columns'
        raise PlanError([Problem(f"{why}; the columns are {', '.join(columns)}", name, "line 1")])
    reader.fieldnames = header
    found, problems = [], []
    try:
        for number, row in enumerate(reader):
            if number >= MAX_CHECK_INS * 2:
                raise PlanError([Problem(f"more than {MAX_CHECK_INS * 2:,} rows", name)])
            if not any((value or "").strip() for key, value in row.items() if key is not None):
                continue
            try:
                found.append(CheckIn.of(row, f"line {reader.line_num}"))
            except PlanError as error:
                problems += [replace(problem, file=name) for problem in error.problems]
    except csv.Error as error:
        raise PlanError([Problem(f"not a CSV file: {error}", name)]) from None
    if problems:
        raise PlanError(problems)
    return found


def waiting_stage(schedule: Schedule) -> Day | None:
    """The next stage's checkpoint, when the plan waits on one."""
    return next((day for day in schedule.milestones if day.criteria is not None and day.waiting), None)
