"""Stages that begin when pain and function allow: the protocol's criteria, the calendar that
waits for them, the rule that reads a patient's check-ins, and a course whose day 0 is not surgery."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recovery import Plan, build, load
from recovery.errors import PlanError, RecoveryError
from recovery.schedule.response import MAX_CHECK_INS, CheckIn, moved, read_check_ins, verdict

from conftest import BUNDLED, RED_FLAG, occurrences, run

FIRST_VISIT = date(2027, 3, 1)
TENDINOPATHY = str(BUNDLED / "proximal-hamstring-tendinopathy.toml")
PLAN = ("--protocol", "proximal-hamstring-tendinopathy", "--start-date", "2027-03-01", "--timezone", "Europe/London")


def plan(**actuals: date) -> Plan:
    return Plan(FIRST_VISIT, timezone="Europe/London", actuals={k.replace("_", "-"): v for k, v in actuals.items()})


def schedule_of(p: Plan):
    return build(load(TENDINOPATHY), p, days_off={})


def calendar(tmp_path: Path, *args: str) -> bytes:
    out = tmp_path / "plan.ics"
    result = run("generate", *PLAN, *args, "-o", str(out), env={"SOURCE_DATE_EPOCH": "1795000000"})
    assert result.exit_code == 0, result.stderr
    return out.read_bytes()


def session(day: date, pain: int | None, morning: str | None = None, done: str = "yes", flag: str = "") -> CheckIn:
    return CheckIn(day, done if pain is not None else "no", pain, morning, flag)


def diary(first: date, pains: list[int | None], mornings: list[str | None] | None = None) -> list[CheckIn]:
    """A check-in each day from `first`: the pain of that day's session, and this morning's answer
    (about the session before); by default every morning is "same"."""
    mornings = mornings or ["same"] * len(pains)
    return [session(first + timedelta(n), pain, mornings[n] if n else None) for n, pain in enumerate(pains)]


# ---- the calendar of a course that waits on the patient


def test_the_bundled_tendinopathy_course_passes_strict_validation() -> None:
    result = run("validate", "--strict", TENDINOPATHY)
    assert result.exit_code == 0, result.stdout + result.stderr


def test_before_stage_2_the_calendar_holds_stage_1_and_one_checkpoint_and_no_made_up_dates(tmp_path: Path) -> None:
    data = calendar(tmp_path)
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    titles = [str(e["SUMMARY"]) for e in events]
    assert "Earliest day to move on: Stage 2: slow strength work" in titles
    # what comes after stage 2 has no day yet, so it is not in the calendar at all
    assert not [t for t in titles if "Stage 3" in t or "Stage 4" in t or "sport" in t.lower()]
    checkpoint = next(e for e in events if "Stage 2" in str(e["SUMMARY"]))
    assert checkpoint["DTSTART"].dt == date(2027, 3, 15)  # 2 weeks: the least time in stage 1
    text = str(checkpoint["DESCRIPTION"])
    assert "on 3 of your last 4 exercise days, pain during the exercises was 5 out of 10 or less" in text
    assert "Your physio decides when you move on." in text
    assert "If you are not ready by Tue 01 Jun 2027, call your care team." in text  # the latest day: 3 months
    stage_1 = next(e for e in events if str(e["SUMMARY"]).startswith("Stage 1"))
    assert "usually 2 to 13 weeks" in str(stage_1["DESCRIPTION"])
    # every reminder is stage 1's, and they go on to the latest day stage 2 is expected
    reminders = {s for s, start, _ in occurrences(data) if not isinstance(start, date) or hasattr(start, "hour")}
    assert reminders == {"Morning exercises · about 15 minutes", "Evening exercises · about 15 minutes"}
    last = max(start for s, start, _ in occurrences(data) if s.startswith("Evening exercises"))
    assert last.date() == date(2027, 6, 1)


def test_a_course_from_a_first_visit_never_speaks_of_surgery(tmp_path: Path) -> None:
    data = calendar(tmp_path).decode()
    unfolded = data.replace("\r\n ", "")
    assert "surg" not in unfolded.lower()
    assert "from your first visit on Mon 01 Mar 2027" in unfolded
    assert "Your care team's instructions come first." in unfolded
    agenda = run("agenda", *PLAN, "--on", "2027-03-24")
    assert agenda.exit_code == 0
    assert "day 23 (3 weeks and 2 days after your first visit)" in agenda.stdout
    assert "surg" not in agenda.stdout.lower()
    assert "Stage 1 · Holds without moving  (from day 0)" in agenda.stdout  # no made-up end, no "days left"
    spanish = run("agenda", *PLAN, "--on", "2027-03-24", "--language", "es")
    assert "3 semanas y 2 días después de su primera visita" in spanish.stdout
    assert "ciru" not in spanish.stdout.lower()


def test_recording_stage_2_starts_its_work_that_day_and_shows_the_next_checkpoint(tmp_path: Path) -> None:
    data = calendar(tmp_path, "--actual", "start-stage-2=2027-03-20")
    found = occurrences(data)
    strength = sorted(start.date() for s, start, _ in found if s == "Slow strength work · 20 min")
    assert strength[0] == date(2027, 3, 22)  # the first Monday from the day stage 2 began
    assert {d.weekday() for d in strength} == {0, 2, 4}
    holds = [start.date() for s, start, _ in found if s.startswith("Morning exercises")]
    assert max(holds) == date(2027, 3, 19)  # stage 1's holds end the day stage 2 begins
    titles = [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")]
    assert "Stage 2: slow strength work" in titles  # recorded: the day itself
    assert "Earliest day to move on: Stage 3: strength into more hip bend" in titles
    stage_3 = next(e for e in icalendar.Calendar.from_ical(data).walk("VEVENT") if "Stage 3" in str(e["SUMMARY"]))
    assert stage_3["DTSTART"].dt == date(2027, 4, 3)  # two weeks in stage 2 first


def test_a_stage_cannot_be_recorded_before_the_stage_it_follows() -> None:
    result = run("generate", *PLAN, "--actual", "start-stage-3=2027-04-20", "-o", "-")
    assert result.exit_code == 1
    assert '"Stage 3: strength into more hip bend" comes only after "Stage 2: slow strength work"' in result.stderr
    assert "Traceback" not in result.stderr


def test_the_start_date_is_one_name_of_day_0_in_every_front_end(tmp_path: Path) -> None:
    assert Plan.from_json({"start_date": "2027-03-01"}).surgery_date == FIRST_VISIT
    with pytest.raises(PlanError, match="same field"):
        Plan.from_json({"start_date": "2027-03-01", "surgery_date": "2027-03-02"})
    sheet = tmp_path / "plans.csv"
    sheet.write_text("protocol,start-date,timezone\nproximal-hamstring-tendinopathy,2027-03-01,Europe/London\n")
    done = run("batch", str(sheet), "--out-dir", str(tmp_path / "out"))
    assert done.exit_code == 0, done.stdout + done.stderr
    assert list((tmp_path / "out").glob("*.ics"))
    both = tmp_path / "both.csv"
    both.write_text("start-date,surgery-date\n2027-03-01,2027-03-01\n")
    refused = run("batch", str(both), "--out-dir", str(tmp_path / "out2"))
    assert refused.exit_code != 0
    assert "same column" in refused.stderr


# ---- what validate proves of such a course


def _protocol(tmp_path: Path, body: str, top: str = 'day_zero = "first-visit"') -> str:
    path = tmp_path / "clinic.toml"
    path.write_text(f'id = "clinic"\ntitle = "Clinic"\nversion = "1"\n{top}\n{body}\n{RED_FLAG}')
    return str(path)


STAGE_BODY = """
[[phases]]
id = "one"
title = "Stage 1"
start = "day 0"
end = "go"

[[phases]]
id = "two"
title = "Stage 2"
start = "go"
end = "20 weeks"

[[milestones]]
id = "go"
title = "Stage 2 begins"
clearance = "whether you may move on"
at = "2 weeks"
recordable = ["2 weeks", "8 weeks"]
criteria = { pain_at_most = 3, sessions = 3, of_last = 4 }

[[routines]]
id = "holds"
title = "Holds"
during = "one"
times = ["morning"]

[[routines]]
id = "strength"
title = "Strength"
start = "go"
end = "9 weeks"
times = ["morning"]

[[routines]]
id = "late"
title = "Late work"
start = "12 weeks"
end = "20 weeks"
times = ["morning"]
"""


def test_validate_finds_weeks_without_exercise_and_strict_refuses_them(tmp_path: Path) -> None:
    path = _protocol(tmp_path, STAGE_BODY)
    result = run("validate", path)
    assert result.exit_code == 0
    assert "have no exercise: the patient has nothing to do for" in result.stderr + result.stdout
    assert "routines[id=strength].end" in result.stderr + result.stdout
    assert "(for a first visit on 2027-" in result.stderr + result.stdout  # day 0 named as the course names it
    assert run("validate", "--strict", path).exit_code == 1


def test_validate_refuses_the_words_of_surgery_in_a_course_from_a_first_visit(tmp_path: Path) -> None:
    path = _protocol(tmp_path, STAGE_BODY.replace('title = "Holds"', 'title = "Holds, 9 weeks after surgery"'))
    result = run("validate", path)
    assert result.exit_code == 1
    assert (
        'routines[id=holds].title: says "after surgery", but day 0 of this course is the first visit' in result.stderr
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('recordable = ["2 weeks", "8 weeks"]\n', 'a stage with criteria needs "clearance"'),
        ("sessions = 3, of_last = 4", "sessions must be at most of_last"),
        ("pain_at_most = 3", "less than or equal to 10"),
    ],
)
def test_a_stage_s_criteria_are_checked_key_by_key(tmp_path: Path, change: str, message: str) -> None:
    replacement = {
        'recordable = ["2 weeks", "8 weeks"]\n': "",
        "sessions = 3, of_last = 4": "sessions = 5, of_last = 4",
        "pain_at_most = 3": "pain_at_most = 11",
    }[change]
    result = run("validate", _protocol(tmp_path, STAGE_BODY.replace(change, replacement)))
    assert result.exit_code == 1
    assert message in result.stderr
    assert "milestones[id=go]" in result.stderr


def test_an_unknown_day_zero_is_named_with_its_choices(tmp_path: Path) -> None:
    result = run("validate", _protocol(tmp_path, STAGE_BODY, 'day_zero = "first-vist"'))
    assert result.exit_code == 1
    assert "day_zero" in result.stderr
    assert "first-visit" in result.stderr


# ---- the rule: simulated patients


def test_an_improving_patient_is_proposed_the_next_stage_on_its_earliest_day_not_before() -> None:
    schedule = schedule_of(plan())
    check_ins = diary(FIRST_VISIT + timedelta(5), [3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1])
    early = verdict(schedule, check_ins, date(2027, 3, 12))
    assert early.action == "hold"
    assert "earliest day for the next stage is 2027-03-15" in early.reasons[-1]
    said = verdict(schedule, check_ins, date(2027, 3, 15))
    assert (said.action, said.to, said.proposes) == ("advance", "start-stage-2", True)
    assert said.met >= 3


def test_a_plateauing_patient_holds_then_is_sent_to_review_after_the_latest_day() -> None:
    schedule = schedule_of(plan())
    pains = [6, 2, 6, 6] * 30  # one good session in four
    check_ins = diary(FIRST_VISIT, pains)
    assert verdict(schedule, check_ins, date(2027, 4, 1)).action == "hold"
    late = verdict(schedule, check_ins, date(2027, 6, 2))
    assert late.action == "review"
    assert "2027-06-01" in late.reasons[-1]


def test_a_patient_who_never_checks_in_holds_and_is_reviewed_late() -> None:
    schedule = schedule_of(plan())
    assert verdict(schedule, [], date(2027, 4, 1)).action == "hold"
    assert verdict(schedule, [], date(2027, 6, 2)).action == "review"


def test_a_flare_in_a_stage_that_steps_back_proposes_going_back_and_stage_2_only_stays() -> None:
    in_3 = schedule_of(plan(start_stage_2=date(2027, 3, 20), start_stage_3=date(2027, 4, 10)))
    flare = diary(date(2027, 4, 12), [3, 7, 8, 7, 7, 6], ["same", "worse", "worse", "worse", "worse", "worse"])
    said = verdict(in_3, flare, date(2027, 4, 17))
    assert (said.action, said.to, said.proposes) == ("step-back", "start-stage-3", True)
    back = moved(in_3.plan, in_3, said, date(2027, 4, 17))
    assert "start-stage-3" not in back.actuals
    assert back.actuals["start-stage-2"] == date(2027, 4, 17)
    again = schedule_of(back)  # the plan after stepping back lays out, and stage 3 waits again
    assert any(d.id == "start-stage-3" and d.waiting for d in again.milestones)
    in_2 = schedule_of(plan(start_stage_2=date(2027, 3, 20)))
    assert verdict(in_2, replace_days(flare, -10), date(2027, 4, 7)).action == "hold"  # stage 2 says "stay"


def replace_days(check_ins: list[CheckIn], shift: int) -> list[CheckIn]:
    return [replace(c, day=c.day + timedelta(shift)) for c in check_ins]


def test_checking_in_twice_a_day_counts_once_and_the_last_answer_wins() -> None:
    schedule = schedule_of(plan())
    once = diary(date(2027, 3, 10), [2, 2, 2, 2, 2, 2])
    twice = [c for c in once for c in (replace(c, pain=9), c)]
    assert verdict(schedule, twice, date(2027, 3, 16)) == verdict(schedule, once, date(2027, 3, 16))


def test_a_red_flag_never_advances_a_plan_whatever_the_pain() -> None:
    schedule = schedule_of(plan())
    check_ins = diary(date(2027, 3, 8), [1] * 10)
    check_ins[-1] = replace(check_ins[-1], red_flag="calf-clot")
    said = verdict(schedule, check_ins, date(2027, 3, 17))
    assert (said.action, said.red_flag) == ("red-flag", "calf-clot")


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("2027-03-10,yes,11,same", "pain"),
        ("2027-03-10,yes,-1,same", "pain"),
        ("2027-03-10,yes,three,same", "pain"),
        ("2027-03-10,maybe,3,same", "done"),
        ("2027-02-30,yes,3,same", "day"),
        ("2027-03-10,yes,,same", "pain"),
        ("2027-03-10,no,4,same", "pain"),
        ("2027-03-10,yes,3,awful", "morning"),
        ("2027-03-10,yes,3;DROP TABLE plans,same", "pain"),
    ],
)
def test_hostile_check_ins_are_refused_naming_the_line_and_the_field(row: str, field: str) -> None:
    with pytest.raises(PlanError) as error:
        read_check_ins(f"day,done,pain,morning\n{row}\n".encode(), "diary.csv")
    assert [p.where for p in error.value.problems] == [f"line 2, {field}"]
    assert all(p.file == "diary.csv" for p in error.value.problems)


def test_a_file_of_check_ins_is_bounded_in_rows_and_bytes(tmp_path: Path) -> None:
    rows = "".join(f"{date(2000, 1, 1) + timedelta(n)},yes,1,same\n" for n in range(MAX_CHECK_INS * 2 + 1))
    with pytest.raises(PlanError, match="more than"):
        read_check_ins(("day,done,pain,morning\n" + rows).encode())
    big = tmp_path / "big.csv"
    big.write_bytes(b"day,done\n" + b"x" * 1_100_000)
    result = run("progress", *PLAN, "--check-ins", str(big))
    assert result.exit_code == 1
    assert "a file of check-ins may have at most" in result.stderr
    fifo = tmp_path / "pipe.csv"
    import os

    os.mkfifo(fifo)
    result = run("progress", *PLAN, "--check-ins", str(fifo))  # never waits on a pipe
    assert result.exit_code == 1
    assert "not a regular file" in result.stderr


def test_progress_tells_the_physio_what_to_record(tmp_path: Path) -> None:
    check_ins = tmp_path / "diary.csv"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "done", "pain", "morning"])
    for c in diary(date(2027, 3, 10), [3, 2, 4, 6, 2, 3, 2, 2]):
        writer.writerow([c.day, c.done, c.pain, c.morning or ""])
    check_ins.write_text(out.getvalue())
    result = run("progress", *PLAN, "--check-ins", str(check_ins), "--on", "2027-03-17")
    assert result.exit_code == 0, result.stderr
    assert "Rule: move on to the next stage (a clinician confirms)" in result.stdout
    assert "Next: Stage 2: slow strength work (earliest 2027-03-15, expected by 2027-06-01)" in result.stdout
    assert "To record it: --actual start-stage-2=2027-03-17" in result.stdout
    typo = tmp_path / "typo.csv"
    typo.write_text("day,done,pian\n")
    result = run("progress", *PLAN, "--check-ins", str(typo))
    assert result.exit_code == 1
    assert 'unknown column "pian"; did you mean "pain"?' in result.stderr


# ---- day by day: whatever the patient reports, the plan that follows the rule stays coherent

ANSWER = st.one_of(
    st.none(),  # no check-in that day
    st.tuples(
        st.sampled_from(["yes", "partly", "no"]), st.integers(0, 10), st.sampled_from(["better", "same", "worse"])
    ),
)


@given(st.lists(ANSWER, min_size=30, max_size=200), st.booleans())
def test_a_plan_that_follows_its_rule_day_by_day_always_lays_out_and_keeps_its_stages_in_order(
    answers: list, flare_flag: bool
) -> None:
    current = plan()
    check_ins: list[CheckIn] = []
    for n, answer in enumerate(answers):
        today = FIRST_VISIT + timedelta(n)
        if answer is not None:
            done, pain, morning = answer
            flag = "pop" if flare_flag and n == len(answers) // 2 else ""
            check_ins.append(CheckIn(today, done, pain if done != "no" else None, morning, flag))
        schedule = schedule_of(current)
        said = verdict(schedule, check_ins, today)
        if said.action == "red-flag":
            assert said.to == ""
            continue
        if said.action == "advance":
            upcoming = next(d for d in schedule.milestones if d.id == said.to)
            assert today >= upcoming.date
            assert said.met >= 3
        current = moved(current, schedule, said, today)
        recorded = sorted(current.actuals.items(), key=lambda kv: kv[1])
        assert [name for name, _ in recorded] == sorted(current.actuals, key=lambda k: k[-1])
        # every day of the plan that follows is one set of instructions (build refuses otherwise)
        try:
            schedule_of(current)
        except RecoveryError as error:  # pragma: no cover - a failure shows the problems
            pytest.fail(str(error.problems))


def test_an_improving_patient_walks_through_every_stage_day_by_day_and_the_calendar_follows() -> None:
    current = plan()
    check_ins: list[CheckIn] = []
    entered: dict[str, date] = {}
    for n in range(150):
        today = FIRST_VISIT + timedelta(n)
        check_ins.append(CheckIn(today, "yes", 2, "same" if n else None))
        schedule = schedule_of(current)
        said = verdict(schedule, check_ins, today)
        if said.action == "advance":
            entered[said.to] = today
        current = moved(current, schedule, said, today)
    assert entered == {
        "start-stage-2": date(2027, 3, 15),  # each on its earliest day: two weeks in every stage
        "start-stage-3": date(2027, 3, 29),
        "start-stage-4": date(2027, 4, 12),
    }
    final = schedule_of(current)
    sport = next(d for d in final.milestones if d.id == "return-to-sport")
    assert sport.waiting
    assert sport.date == date(2027, 4, 26)
    assert verdict(final, check_ins, date(2027, 5, 1)).action == "hold"  # the last stage: watched, not moved on
    running = [s for s in final.routines if s.id == "run"]
    assert running
    assert min(s.first for s in running) >= date(2027, 4, 12)


def test_a_step_back_past_the_stage_befores_latest_day_still_lays_out() -> None:
    """Found by the day-by-day property: stage 3 stepped back on day 95 begins stage 2 again on a
    day past the latest it was expected the first time (3 months); the clinician's confirmation
    of the step back confirms that day too, and the plan lays out."""
    current = plan(**{"start-stage-2": FIRST_VISIT + timedelta(14), "start-stage-3": FIRST_VISIT + timedelta(80)})
    schedule = schedule_of(current)
    back = FIRST_VISIT + timedelta(95)
    worse = [CheckIn(FIRST_VISIT + timedelta(n), "yes", 8, "worse") for n in range(81, 96)]
    said = verdict(schedule, worse, back)
    assert (said.action, said.to) == ("step-back", "start-stage-3")
    after = moved(current, schedule, said, back)
    assert after.actuals == {"start-stage-2": back}
    assert "start-stage-2" in after.confirmed
    assert [d.id for d in schedule_of(after).milestones if d.actual] == ["start-stage-2"]


def test_a_window_of_a_course_without_surgery_counts_from_the_first_visit() -> None:
    with pytest.raises(PlanError) as raised:
        schedule_of(plan(**{"start-stage-2": FIRST_VISIT + timedelta(120)}))
    assert "after your first visit" in str(raised.value.problems[0])
    assert "surgery" not in str(raised.value.problems[0])


def test_two_step_backs_in_a_row_leave_a_plan_that_lays_out() -> None:
    """Found by the day-by-day property: stage 4 stepped back (stage 3 begins again, confirmed),
    then stage 3 stepped back too: the confirmation of a stage no longer recorded goes with it."""
    current = plan(
        **{
            "start-stage-2": FIRST_VISIT + timedelta(14),
            "start-stage-3": FIRST_VISIT + timedelta(28),
            "start-stage-4": FIRST_VISIT + timedelta(42),
        }
    )
    day = FIRST_VISIT + timedelta(60)
    for back in ("start-stage-4", "start-stage-3"):
        schedule = schedule_of(current)
        worse = [CheckIn(day - timedelta(n), "yes", 8, "worse") for n in range(10, 0, -1)]
        said = verdict(schedule, worse, day)
        assert (said.action, said.to) == ("step-back", back)
        current = moved(current, schedule, said, day)
        schedule_of(current)  # lays out
        day += timedelta(14)
    assert set(current.actuals) == {"start-stage-2"}
    assert set(current.confirmed) <= set(current.actuals)
