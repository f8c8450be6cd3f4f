"""Clinical round 4: what a surgeon, a physiotherapist and a patient-education editor sent back.

Each test brings back one finding of the held-out review with the review's own command or plan,
and checks the real output (the calendar file read by icalendar and expanded by
recurring-ical-events, the JSON, the messages). The property test at the end is the review's
day-by-day checker in small: on random plans (every variant, parameters anywhere within their
bounds, recorded dates anywhere in their windows), it reads each day's instructions from the
laid-out plan, independently of the coherence check, and looks for a jump.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import icalendar
import pytest
import recurring_ical_events
from hypothesis import assume, given
from hypothesis import strategies as st

from recovery import Plan, build, load
from recovery.errors import RecoveryError
from recovery.protocol.model import SCALES

from conftest import BUNDLED, generate, run

HAMSTRING = load("proximal-hamstring-repair")
RED_FLAG = '[[red_flags]]\nsign = "Chest pain"\naction = "Call your local emergency number now."\nemergency = true\n'
ACHILLES = load("achilles-tendon-repair")
SURGERY = date(2027, 3, 1)


def schedule_json(*args: str) -> dict:
    result = run("generate", "--surgery-date", "2027-03-01", "--timezone", "UTC", "--format", "json", "-o", "-", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def refused(*args: str) -> str:
    result = run("generate", "--surgery-date", "2027-03-01", "--timezone", "UTC", "-o", "-", *args)
    assert result.exit_code == 1, result.stdout[:200]
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr


def days_of(data: dict) -> dict[str, int]:
    return {m["id"]: (date.fromisoformat(m["date"]) - SURGERY).days for m in data["milestones"]}


def phases_of(data: dict) -> dict[str, tuple[int, int]]:
    return {
        p["id"]: ((date.fromisoformat(p["start"]) - SURGERY).days, (date.fromisoformat(p["end"]) - SURGERY).days)
        for p in data["phases"]
    }


# ---- Critical: no jump in weight bearing


def test_no_parameter_jumps_from_toe_touch_to_full_weight_the_next_day() -> None:
    """The review's command gave "your two crutches take your weight" on day 41 and "you should
    not need crutches now" on day 42: every such choice is refused and says what to set instead."""
    message = refused("--set", "walking_weight_bearing=full", "--set", "crutch_weaning_weeks=0")
    assert "skips the weaning off the crutches" in message
    assert "set walking_weight_bearing=step-by-step, or early_weight_bearing=as-tolerated" in message
    for early in ("none", "partial"):
        assert "skips the weaning" in refused(
            "--set", f"early_weight_bearing={early}", "--set", "walking_weight_bearing=full",
            "--set", "crutch_weaning_weeks=0",
        )  # fmt: skip


def test_validate_finds_a_jump_that_no_conflict_refuses(tmp_path) -> None:
    """A clinic that drops the conflict: validate's proof finds the jump itself, with the choices
    that show it (the graded step is part of the proof)."""
    text = (BUNDLED / "proximal-hamstring-repair.toml").read_text()
    conflict = '[[conflicts]]\nset = { early_weight_bearing = ["none", "toe-touch", "partial"], walking_weight_bearing = "full" }'
    assert text.count(conflict) == 1
    path = tmp_path / "clinic.toml"
    path.write_text(text.replace(conflict, '[[conflicts]]\nset = { dressing = "waterproof", stitches = "removed" }'))
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert (
        'phases[id=walking].needs.weight_bearing: needs weight bearing "full" from day 28, straight after "toe-touch" '
        'the day before: steps[weight_bearing=full] comes only after at least 2 weeks of "step-by-step" or '
        '"as-tolerated" (with brace=true, early_weight_bearing=toe-touch, walking_weight_bearing=full'
    ) in result.stderr


def test_a_step_too_short_is_found_and_a_bad_step_is_named_precisely(tmp_path) -> None:
    protocol = tmp_path / "short.toml"
    protocol.write_text(
        'id = "short"\ntitle = "Short"\nversion = "1"\nreferences = ["X: a source"]\n'
        '[[steps]]\nscale = "weight_bearing"\nlevel = "full"\nafter = ["step-by-step"]\ndays = "2 weeks"\nsources = ["X"]\n'
        '[[phases]]\nid = "a"\ntitle = "A"\nstart = "day 0"\nend = "4 weeks"\nneeds = { weight_bearing = "toe-touch" }\n'
        '[[phases]]\nid = "b"\ntitle = "B"\nstart = "end of a"\nend = "5 weeks"\nneeds = { weight_bearing = "step-by-step" }\n'
        '[[phases]]\nid = "c"\ntitle = "C"\nstart = "end of b"\nend = "8 weeks"\nneeds = { weight_bearing = "full" }\n'
        + RED_FLAG
    )
    result = run("validate", str(protocol))
    assert result.exit_code == 1
    assert 'phases[id=c].needs.weight_bearing: needs weight bearing "full" from day 35, after only 7 days of ' in (
        result.stderr
    )
    broken = tmp_path / "broken.toml"
    broken.write_text(
        protocol.read_text()
        .replace('after = ["step-by-step"]', 'after = ["full", "step-by-stp"]')
        .replace('days = "2 weeks"', 'days = "b + 2 weeks"')
    )
    result = run("validate", str(broken))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any('steps[weight_bearing=full].after[0]: "full" is not below "full"' in line for line in lines)
    assert any(
        'steps[weight_bearing=full].after[1]: "step-by-stp" is not a weight_bearing level' in line for line in lines
    )
    assert any("did you mean" in line and "step-by-step" in line for line in lines)
    assert any('steps[weight_bearing=full].days: "b + 2 weeks" is not a length of time' in line for line in lines)


# ---- Major


def test_balance_on_one_leg_waits_for_full_weight() -> None:
    """Default plan: both legs while weaning, one leg from the day without crutches (day 56), never
    on day 42 still on crutches. Achilles longer-boot: no standing on one leg in the boot."""
    schedule = build(HAMSTRING, Plan(SURGERY, side="left"))
    days = {m.id: m.date for m in schedule.milestones}
    one_leg = [r for r in schedule.routines if r.id == "single-leg-balance"]
    assert one_leg
    assert min(r.first for r in one_leg) >= days["crutches-away"] == SURGERY + timedelta(56)
    both = [r for r in schedule.routines if r.id == "balance"]
    assert "one leg" not in both[0].description
    assert max(r.last for r in both) < days["crutches-away"]
    for variant in (None, "longer-boot"):
        boot = build(ACHILLES, Plan(SURGERY, variant=variant))
        for series in boot.routines:
            if series.phase == "boot":
                assert "Stand on" not in series.description, series


def test_no_weaning_day_and_an_early_brace_off_say_nothing_that_does_not_exist() -> None:
    """crutch_weaning_weeks=0 with step-by-step weight bearing would say "stop using the crutches
    by the day your calendar says" with no such day: refused. A brace off at 3 weeks ends only the
    brace (H7): protection, and the hamstring sets, wait for the 6 weeks."""
    assert "gives no such day" in refused("--set", "crutch_weaning_weeks=0", "--actual", "brace-off=2027-03-22")
    data = schedule_json("--actual", "brace-off=2027-03-22")
    phases = phases_of(data)
    assert phases["brace"] == (0, 21)
    assert phases["protection"] == (0, 42)
    assert phases["walking"][0] == 42
    sets = [r for r in data["routines"] if r["id"] == "hamstring-sets"]
    assert min((date.fromisoformat(r["first_day"]) - SURGERY).days for r in sets) >= 42
    short = schedule_json("--set", "protection_weeks=4")
    sets = [r for r in short["routines"] if r["id"] == "hamstring-sets"]
    assert min((date.fromisoformat(r["first_day"]) - SURGERY).days for r in sets) == 42  # H2, H4, H7: 6 weeks


def test_true_dates_that_come_late_move_what_depends_on_them() -> None:
    """The review's four real dates, refused before, now lay out: crutches at 13 weeks, slow-lowering
    cleared on day 136, Achilles A2's running at week 12, the boot off before the planned last wedge."""
    late = schedule_json("--actual", "crutches-away=2027-06-01")
    phases = phases_of(late)
    assert phases["strengthening"][0] >= 92 + 7  # a week without crutches first
    assert days_of(late)["cleared-for-slow-lowering"] == phases["strengthening"][0]
    lowering = schedule_json("--actual", "cleared-for-slow-lowering=2027-07-15")
    assert days_of(lowering)["walk-jog"] >= 136
    result = run(
        "generate", "--protocol", "achilles-tendon-repair", "--surgery-date", "2027-03-01", "--variant",
        "longer-boot", "--actual", "cleared-to-jog=2027-05-24", "--format", "json", "-o", "-",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr  # no --confirm needed: A2 runs at week 12
    jog = json.loads(result.stdout)
    assert phases_of(jog)["shoe"] == (63, 84)
    boot_off = run(
        "generate", "--protocol", "achilles-tendon-repair", "--surgery-date", "2027-03-01",
        "--actual", "boot-off=2027-04-11", "-o", "-",
    )  # fmt: skip
    assert boot_off.exit_code == 1
    (line,) = boot_off.stderr.splitlines()
    assert 'if "Last heel wedge out" happened earlier, record its day too (last-wedge-out)' in line
    both = run(
        "generate", "--protocol", "achilles-tendon-repair", "--surgery-date", "2027-03-01",
        "--actual", "boot-off=2027-04-11", "--actual", "last-wedge-out=2027-04-11", "-o", "-",
    )  # fmt: skip
    assert both.exit_code == 0, both.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--actual", "walk-jog=2027-05-01"),
        ("--actual", "return-to-sport=2027-06-01"),
        ("--set", "return_months=5", "--actual", "return-to-sport=2027-07-01"),
        ("--actual", "brace-off=2027-03-03"),
        ("--protocol", "achilles-tendon-repair", "--actual", "boot-off=2027-04-11"),
        ("--protocol", "achilles-tendon-repair", "--actual", "cleared-to-jog=2027-03-20"),
    ],
)
def test_messages_about_real_dates_fill_their_numbers_and_show_no_install_path(args) -> None:
    message = refused(*args)
    assert "{" not in message
    assert str(BUNDLED) not in message
    assert ".toml" not in message
    assert all(line.startswith("error: --actual ") for line in message.splitlines())


def test_sport_comes_weeks_after_running_and_never_without_it() -> None:
    """running_weeks=21 with return_months=5 put the sport question 6 days after the jogging one;
    a sport clearance was accepted with jogging never cleared."""
    data = schedule_json("--set", "running_weeks=21", "--set", "return_months=5")
    days = days_of(data)
    assert days["return-to-sport"] - days["walk-jog"] >= 4 * 7  # sport_after_running_weeks (H9, H4)
    message = refused("--actual", "return-to-sport=2027-09-01", "--confirm", "return-to-sport")
    assert (
        'error: --actual return-to-sport: "Return to sport, if your surgeon agrees" comes only after "Cleared for '
        'the walk-to-jog progression" (walk-jog): record that day too'
    ) in message
    cleared = schedule_json("--actual", "walk-jog=2027-06-21", "--actual", "return-to-sport=2027-09-01")
    running = phases_of(cleared)["running"]
    assert running == (days_of(cleared)["walk-jog"], days_of(cleared)["return-to-sport"])
    achilles = run(
        "generate", "--protocol", "achilles-tendon-repair", "--surgery-date", "2027-03-01",
        "--actual", "return-to-sport=2027-09-01", "-o", "-",
    )  # fmt: skip
    assert achilles.exit_code == 1
    assert '"Cleared to start jogging" (cleared-to-jog): record that day too' in achilles.stderr


def test_running_cleared_late_moves_the_sport_question_past_its_usual_last_day() -> None:
    data = schedule_json("--actual", "walk-jog=2028-02-20")  # H4's 12 months are 2028-03-01
    days = days_of(data)
    assert days["return-to-sport"] == days["walk-jog"] + 28
    assert max(date.fromisoformat(r["last_day"]) for r in data["routines"]) == date(2028, 3, 18)  # to the sport day


def test_the_driving_question_waits_for_the_brace_and_the_crutches() -> None:
    days = days_of(schedule_json("--set", "protection_weeks=10"))
    assert days["cleared-to-drive"] >= days["brace-off"] == 70
    assert days["cleared-to-drive"] >= days["crutches-away"] == 84


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (("--variant", "accelerated"), "brace"),
        (("--set", "brace_type=hip"), "knee as your brace"),
    ],
)
def test_brace_words_follow_the_brace(args, absent) -> None:
    data = schedule_json(*args)
    early = [r for r in data["routines"] if r["id"] == "early-exercises"]
    assert early
    assert absent not in early[0]["description"]


def test_knee_straight_in_bed_does_not_contradict_the_bed_advice() -> None:
    data = schedule_json("--set", "brace_type=knee-straight", "--set", "brace_in_bed=yes")
    protection = next(p for p in data["phases"] if p["id"] == "protection")
    bed = next(a for a in protection["advice"] if a.startswith("In bed"))
    assert "as your brace holds it" in bed


def alarms_by_day(data: bytes) -> dict[date, list[tuple[time, str]]]:
    """Each day's alarms, read from the file with icalendar and expanded by recurring-ical-events."""
    calendar = icalendar.Calendar.from_ical(data)
    found: dict[date, list[tuple[time, str]]] = defaultdict(list)
    for event in recurring_ical_events.of(calendar).between(date(2027, 1, 1), date(2029, 1, 1)):
        for alarm in event.walk("VALARM"):
            start = event["DTSTART"].dt
            if not isinstance(start, datetime):
                start = datetime.combine(start, time(0))
            rings = start.replace(tzinfo=None) + alarm["TRIGGER"].dt
            found[rings.date()].append((rings.time(), str(alarm["DESCRIPTION"])))
    return found


def test_at_most_four_alarms_a_day_and_never_two_at_one_minute(tmp_path) -> None:
    """Clot prevention and --alarm-minutes 10 rang five times on the busiest days, medicine and the
    evening session at the same minute."""
    medicine = "Aspirin as your surgeon prescribed"
    data = generate(
        tmp_path, "--surgery-date", "2027-03-01", "--timezone", "America/New_York",
        "--set", f"clot_prevention={medicine}", "--alarm-minutes", "10",
    )  # fmt: skip
    alarms = alarms_by_day(data)
    assert max(len(day) for day in alarms.values()) == 4
    for day, rings in alarms.items():
        assert len({at for at, _ in rings}) == len(rings), (day, rings)
    first_week = alarms[date(2027, 3, 3)]
    evening = [said for at, said in first_week if at == time(18, 50)]
    assert evening == [f"{medicine}, then Evening exercises · about 35 minutes"]
    # a morning session at 09:00 moves the booking reminder off its minute
    late = alarms_by_day(generate(tmp_path, "--surgery-date", "2027-03-01", "--time", "morning=09:00"))
    for rings in late.values():
        assert len({at for at, _ in rings}) == len(rings)
    assert any(at == time(9, 30) and said.startswith("Book:") for rings in late.values() for at, said in rings)


def test_two_times_of_day_at_one_clock_time_ring_once(tmp_path) -> None:
    alarms = alarms_by_day(generate(tmp_path, "--surgery-date", "2027-03-01", "--time", "morning=13:00"))
    assert len([at for at, _ in alarms[date(2027, 3, 3)]]) == 2


def test_a_protocol_that_rings_four_times_a_day_is_refused(tmp_path) -> None:
    path = tmp_path / "busy.toml"
    path.write_text(
        'id = "busy"\ntitle = "Busy"\nversion = "1"\n'
        '[[phases]]\nid = "a"\ntitle = "A"\nstart = "day 0"\nend = "2 weeks"\n'
        '[[routines]]\nid = "r"\ntitle = "R"\nstart = "day 1"\nend = "end of a"\n'
        'times = ["morning", "midday", "evening", "21:00"]\nminutes = 5\n' + RED_FLAG
    )
    result = run("generate", "--protocol", str(path), "--surgery-date", "2027-03-01", "-o", "-")
    assert result.exit_code == 1
    assert "4 reminders ring on 2027-03-02 (day 1: 08:00 morning, 13:00 midday, 19:00 evening, 21:00 21:00)" in (
        result.stderr
    )
    assert "at most 3 a day" in result.stderr


def test_achilles_reminders_go_on_until_sport_is_cleared() -> None:
    """The texts say "keep going until you are cleared": the reminders stopped at 6 months."""
    schedule = build(ACHILLES, Plan(SURGERY))
    strength = [r for r in schedule.routines if r.id == "calf-strength"]
    assert max(r.last for r in strength) >= date(2028, 2, 28)


# ---- Sources put right, and what a surgeon missed


def test_the_six_tags_are_right() -> None:
    hamstring, achilles = HAMSTRING.parameters, ACHILLES.parameters
    assert hamstring["running_weeks"].max == 26  # H4: running at 5-6 months
    assert build(HAMSTRING, Plan(SURGERY, overrides={"running_weeks": "26"}))
    assert achilles["first_wedge_weeks"].min == 4  # A4 puts the wedges on at 3 weeks
    assert achilles["last_wedge_weeks"].min == 6  # A1, A4
    assert "CLINIC" in hamstring["clot_prevention_weeks"].sources
    assert ACHILLES.variants["longer-boot"].set["shoe_weeks"] == 3  # A2 runs at week 12
    protection = next(p for p in HAMSTRING.phases if p.id == "protection")
    assert any("Do not tighten the muscles at the back of your thigh" in p for p in protection.precautions)
    assert not any("against force" in p for p in protection.precautions)
    trips = next(a for a in protection.advice if a.startswith("Trips"))
    assert trips == "Trips: no long-haul travel for 4 weeks. Tell your surgeon your plans."  # G20's own words
    assert "G20" in protection.sources
    assert protection.end.text == "later of brace-off, {protection_weeks} weeks"


def test_sitting_has_its_weeks_and_the_brace_off_knee_its_angle() -> None:
    schedule = build(HAMSTRING, Plan(SURGERY, overrides={"sitting_weeks": "6"}))
    protection = next(p for p in schedule.phases if p.id == "protection")
    assert any(a.startswith("Sitting: for 6 weeks, only when you must, never on the wound.") for a in protection.advice)
    brace = next(p for p in schedule.phases if p.id == "brace")
    assert "keep your knee bent while it is off" in brace.brace


def test_red_flags_do_not_fire_on_normal_recovery_and_foot_drop_is_now() -> None:
    flags = dict(build(HAMSTRING, Plan(SURGERY, side="right")).red_flags)
    assert "New or increasing pain, swelling, warmth or tenderness in the calf" in " ".join(flags)
    wound = next(sign for sign in flags if "wound" in sign)
    assert wound.startswith("The wound gets more red, warm or swollen")
    drop = next(sign for sign in flags if "drops" in sign)
    assert flags[drop].startswith("Call your surgical team now.")


def test_the_return_to_sport_day_keeps_the_red_flags(tmp_path) -> None:
    data = generate(
        tmp_path, "--surgery-date", "2027-03-01", "--timezone", "UTC", "--actual", "walk-jog=2027-06-21",
        "--actual", "return-to-sport=2027-09-01", "--actual", "cleared-to-drive=2027-05-01",
    )  # fmt: skip
    events = icalendar.Calendar.from_ical(data).walk("VEVENT")
    sport = next(e for e in events if str(e["SUMMARY"]).startswith("Return to sport"))
    assert "RED FLAGS: when to get help" in str(sport["DESCRIPTION"])


def test_visits_avoid_public_holidays_and_say_so() -> None:
    """Six months after a surgery on Sat 6 March 2027 is Labor Day in the US: the visit moves to
    the next clinic day and says why; --country none keeps it; GB has no holiday that day."""
    plan = Plan(date(2027, 3, 6), timezone="America/New_York")
    visits = {v.id: v for v in build(HAMSTRING, plan).appointments}
    assert visits["follow-up-6-months"].first == date(2027, 9, 7)
    assert "Moved from Mon 06 Sep 2027: Labor Day, a public holiday." in visits["follow-up-6-months"].description
    kept = {
        v.id: v
        for v in build(HAMSTRING, Plan(date(2027, 3, 6), timezone="America/New_York", country="none")).appointments
    }
    assert kept["follow-up-6-months"].first == date(2027, 9, 6)
    uk = {
        v.id: v
        for v in build(HAMSTRING, Plan(date(2027, 3, 6), timezone="America/New_York", country="gb")).appointments
    }
    assert uk["follow-up-6-months"].first == date(2027, 9, 6)
    with pytest.raises(RecoveryError, match='"XX" is not a country whose public holidays are known'):
        build(HAMSTRING, Plan(date(2027, 3, 6), country="XX"))
    assert (
        "not a two-letter country code"
        in run("generate", "--surgery-date", "2027-03-06", "--country", "USA", "-o", "-").stderr
    )


def test_every_visit_has_a_day_to_book_it() -> None:
    """A Friday surgery with the physio window from day 2: book_by was null."""
    data = run("generate", "--surgery-date", "2027-03-05", "--timezone", "UTC", "--format", "json", "-o", "-")
    visits = json.loads(data.stdout)["appointments"]
    assert all(v["book_by"] for v in visits)
    assert next(v for v in visits if v["id"] == "physiotherapy-start")["book_by"] == "2027-03-05"


# ---- The review's day-by-day checker, in small


@st.composite
def any_plan(draw: st.DrawFn) -> tuple[object, Plan]:
    protocol = draw(st.sampled_from([HAMSTRING, ACHILLES]))
    surgery = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)))
    variant = draw(st.sampled_from([None, *protocol.variants]))
    overrides = {}
    for name, parameter in protocol.parameters.items():
        if parameter.min is not None and parameter.max is not None and draw(st.booleans()):
            overrides[name] = str(draw(st.integers(parameter.min, parameter.max)))
        elif parameter.choices and draw(st.booleans()):
            overrides[name] = draw(st.sampled_from(list(parameter.choices)))
    values = protocol.values(variant, {n: protocol.parameters[n].parse(v) for n, v in overrides.items()})
    assume(not any(conflict.matches(values) for conflict in protocol.conflicts))
    plan = Plan(surgery, variant=variant, overrides=overrides)
    schedule = build(protocol, plan)
    actuals = {}
    for milestone in sorted(schedule.milestones, key=lambda m: m.date):
        if milestone.id in ("brace-off", "boot-off", "walk-jog", "cleared-to-jog") and draw(st.booleans()):
            actuals[milestone.id] = milestone.date + timedelta(draw(st.integers(0, 28)))
    return protocol, Plan(surgery, variant=variant, overrides=overrides, actuals=actuals)


@given(any_plan())
def test_no_day_of_any_plan_jumps_a_graded_step(drawn) -> None:
    """For every day, the highest weight bearing and impact that the day's items need; each first
    day of a graded level follows enough days of the levels that lead up to it."""
    protocol, plan = drawn
    try:
        schedule = build(protocol, plan)
    except RecoveryError as error:  # a recorded date outside its window: refused with a message
        refused = error
    else:
        refused = None
    if refused is not None:
        assert all(p.field == "actuals" for p in refused.problems), refused
        return
    values = schedule.values
    items = {item.id: item for _, item in protocol.items()}
    spans = [(p.id, p.start, p.end) for p in schedule.phases]
    spans += [(m.id, m.date, m.date + timedelta(1)) for m in schedule.milestones if not m.waiting]
    spans += [(r.id, r.first, r.last + timedelta(1)) for r in schedule.routines]
    for step in protocol.steps:
        levels = SCALES[step.scale]
        top = levels.index(step.level)
        leading = {levels.index(level) for level in step.after}
        need = {}
        for item_id, start, end in spans:
            declared = items[item_id].needs.get(step.scale)
            if declared is None:
                continue
            rank = levels.index(str(values[declared[1:-1]]) if declared.startswith("{") else declared)
            day = start
            while day < end:
                need[day] = max(need.get(day, -1), rank)
                day += timedelta(1)
        if not need:
            continue
        day, level, run = min(need), -1, 0
        length = int(step.days.terms[0].amount(values)) * (7 if step.days.terms[0].unit == "weeks" else 1)
        while day <= max(need):
            now = need.get(day, level)
            if now >= top > level and day > plan.surgery_date:
                assert run >= length, (
                    f"{step.place}: {protocol.id} day {(day - plan.surgery_date).days} after {run} days"
                )
            run = run + 1 if now in leading else 0
            level = now
            day += timedelta(1)


def test_the_hip_brace_angles_are_days_on_the_calendar(tmp_path) -> None:
    """H1's hip brace: 45° at first, 60° from week 2, up to 90° by week 6. Only with that brace."""
    data = schedule_json("--set", "brace_type=hip")
    days = days_of(data)
    assert (days["hip-brace-60"], days["hip-brace-90"]) == (7, 21)
    assert "hip-brace-60" not in days_of(schedule_json())
    assert "hip-brace-60" not in days_of(schedule_json("--variant", "accelerated"))
    walking = next(p for p in schedule_json()["phases"] if p["id"] == "walking")
    assert "Physio: 1 to 3 times a week, as your physio sets it." in walking["advice"]  # H3


def test_only_if_with_a_value_names_a_choice(tmp_path) -> None:
    text = (BUNDLED / "proximal-hamstring-repair.toml").read_text()
    path = tmp_path / "clinic.toml"
    path.write_text(
        text.replace('only_if = "brace_type=hip"\nat = "1 week"', 'only_if = "brace_type=hipp"\nat = "1 week"')
    )
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert 'milestones[id=hip-brace-60].only_if: "hipp" is not a choice of brace_type; did you mean "hip"?' in (
        result.stderr
    )


def test_a_confirmed_sport_clearance_sooner_than_planned_is_the_surgeons_call() -> None:
    """Unconfirmed, it is refused with what to do; confirmed, it lays out (the step yields to it)."""
    args = ("--actual", "walk-jog=2027-06-21", "--actual", "return-to-sport=2027-07-01")
    assert refused(*args).endswith("confirm it: --confirm return-to-sport\n")
    data = schedule_json(*args, "--confirm", "return-to-sport")
    assert phases_of(data)["running"] == (112, 122)
