"""Clearance before risk: running, sport and driving start only from a day the patient records."""

from __future__ import annotations

import json
from datetime import date

import icalendar
import pytest

from recovery import Plan, build, load

from conftest import generate, protocol_file, run

SURGERY = date(2027, 3, 1)


def schedule_json(*args: str) -> dict:
    result = run(
        "generate", "--surgery-date", "2027-03-01", "--timezone", "Europe/Berlin", "--format", "json", "-o", "-", *args
    )
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_before_clearance_the_calendar_has_a_checkpoint_and_nothing_of_running() -> None:
    data = schedule_json()
    walk_jog = next(m for m in data["milestones"] if m["id"] == "walk-jog")
    assert walk_jog["title"] == "Earliest day to ask whether you may start to walk and jog"
    assert walk_jog["date"] == "2027-06-21"
    assert walk_jog["clearance"] == "whether you may start to walk and jog"
    assert walk_jog["actual"] is False
    assert "running" not in {p["id"] for p in data["phases"]}
    assert "running-progression" not in {r["id"] for r in data["routines"]}


def test_after_clearance_running_starts_on_the_recorded_day() -> None:
    data = schedule_json("--actual", "walk-jog=2027-07-12")
    running = next(p for p in data["phases"] if p["id"] == "running")
    assert running["start"] == "2027-07-12"
    runs = [r for r in data["routines"] if r["id"] == "running-progression"]
    assert runs
    assert min(r["first_day"] for r in runs) >= "2027-07-12"
    walk_jog = next(m for m in data["milestones"] if m["id"] == "walk-jog")
    assert (walk_jog["title"], walk_jog["actual"]) == ("Cleared for the walk-to-jog progression", True)


def test_no_driving_never_just_vanishes(tmp_path) -> None:
    schedule = build(load("proximal-hamstring-repair"), Plan(SURGERY))
    no_driving = next(p for p in schedule.phases if p.id == "no-driving")
    assert no_driving.end > schedule.last_day  # in force to the end of the calendar until cleared
    cleared = build(load("proximal-hamstring-repair"), Plan(SURGERY, actuals={"cleared-to-drive": date(2027, 4, 27)}))
    assert next(p for p in cleared.phases if p.id == "no-driving").end == date(2027, 4, 27)
    data = generate(tmp_path, "--surgery-date", "2027-03-01", "--timezone", "UTC")
    titles = {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}
    assert "No driving until you are cleared" in titles
    assert "Earliest day to ask whether you may drive again" in titles


def test_a_late_clearance_is_a_fact_not_an_error() -> None:
    data = schedule_json("--actual", "walk-jog=2027-08-30")  # two days before the earliest return to sport
    assert next(m for m in data["milestones"] if m["id"] == "walk-jog")["date"] == "2027-08-30"


def test_gates_are_listed_where_clinics_look() -> None:
    text = run("show", "proximal-hamstring-repair", "--parameters").stdout
    assert "walk-jog: Cleared for the walk-to-jog progression  (a clearance: ask whether you may start" in text
    assert "cleared-for-slow-lowering: Cleared for slow-lowering exercises  (a clearance" in text
    listed = json.loads(run("show", "achilles-tendon-repair", "--parameters", "--json").stdout)
    assert listed["milestones"]["cleared-to-jog"]["clearance"] == "whether you may start jogging"


def test_validate_lays_out_what_waits_behind_a_clearance() -> None:
    result = run("validate", protocol_file("invalid/running-ends-before-walk-jog"))
    assert result.exit_code == 1
    assert "phases[id=running].end" in result.stderr


def test_visits_fall_on_clinic_days_with_a_reminder_to_book_them(tmp_path) -> None:
    data = schedule_json("--surgery-date", "2027-03-07")  # a Sunday: the end of protection is a Sunday too
    visits = {a["id"]: a for a in data["appointments"]}
    visit = visits["protection-visit"]
    assert (visit["first_day"], visit["last_day"]) == ("2027-04-19",) * 2
    assert visit["book_by"] == "2027-04-12"
    for visit in visits.values():
        for key in ("first_day", "last_day"):
            assert date.fromisoformat(visit[key]).weekday() < 5
    calendar = generate(tmp_path, "--surgery-date", "2027-03-07", "--timezone", "UTC")
    titles = {str(e["SUMMARY"]): e for e in icalendar.Calendar.from_ical(calendar).walk("VEVENT")}
    booking = titles["Book: Surgeon visit: end of protection"]
    assert booking["DTSTART"].dt == date(2027, 4, 12)
    assert "call your clinic now" in str(booking["DESCRIPTION"])


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (
            "brace-off=2027-01-13",
            "day 1 is outside the days this protocol expects it (from 3 weeks to 12 weeks after surgery",
        ),
        ("brace-off=2027-04-20", "day 98 is outside the days this protocol expects it"),
        ("cleared-to-drive=2027-01-20", "day 8 is before the earliest day to ask whether you may drive again (day 56"),
    ],
)
def test_a_recorded_date_outside_what_the_protocol_expects_is_refused_with_the_window(
    tmp_path, actual, expected
) -> None:
    """A mistyped brace-off (the day after surgery) must not silently end protection."""
    name = actual.split("=")[0]
    args = ("generate", "--surgery-date", "2027-01-12", "--actual", actual, "-o", str(tmp_path / "plan.ics"))
    result = run(*args)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: --actual {actual}: {expected}")
    assert line.endswith(f"check the date; if it is right, confirm it: --confirm {name}")
    assert not (tmp_path / "plan.ics").exists()
    confirmed = run(*args, "--confirm", name)
    assert confirmed.exit_code == 0, confirmed.stderr


def test_a_confirmation_without_its_date_is_refused() -> None:
    result = run("agenda", "--surgery-date", "2027-01-12", "--confirm", "brace-off")
    assert result.exit_code == 1
    assert "confirms no recorded date" in result.stderr


def exercise_days(schedule) -> set[date]:
    """The days on which some exercise (not a medicine) is due."""
    from datetime import timedelta

    days = set()
    for series in schedule.routines:
        day = series.first
        while day <= series.last:
            if series.occurs_on(day) and not series.medication:
                days.add(day)
            day += timedelta(1)
    return days


@pytest.mark.parametrize(
    "actuals",
    [
        {},  # not cleared for sport at 6 months: the work goes on
        {"walk-jog": date(2027, 6, 21), "return-to-sport": date(2027, 10, 11)},  # cleared at week 32
        {"walk-jog": date(2027, 9, 13), "return-to-sport": date(2027, 12, 20)},  # running cleared at week 28
    ],
    ids=["not-cleared", "sport-at-week-32", "running-at-week-28"],
)
def test_no_week_without_exercise_until_return_to_sport_whenever_it_is_cleared(actuals) -> None:
    from datetime import timedelta

    schedule = build(load("proximal-hamstring-repair"), Plan(date(2027, 3, 1), actuals=actuals))
    days = exercise_days(schedule)
    end = actuals.get("return-to-sport", date(2028, 3, 1))
    week = date(2027, 3, 2)
    while week + timedelta(7) <= end:
        assert days & {week + timedelta(n) for n in range(7)}, f"no exercise in the week from {week}"
        week += timedelta(7)
    if "walk-jog" in actuals:
        running = next(p for p in schedule.phases if p.id == "running")
        assert running.start == actuals["walk-jog"]
    if not actuals:
        strength = next(p for p in schedule.phases if p.id == "strengthening")
        assert any(text.startswith("This lasts until you are cleared") for text in strength.advice)
        training = next(s for s in schedule.routines if s.id == "strength-training")
        assert (
            "Keep going until you are cleared: ask your surgeon or physio whether you may return to sport."
            in training.description
        )


@pytest.mark.parametrize(
    ("brace_off", "confirm"),
    [(date(2027, 5, 17), ()), (date(2027, 6, 7), ("brace-off",))],  # week 11; week 14, outside the window
    ids=["week-11", "week-14-confirmed"],
)
def test_a_late_brace_off_moves_every_later_step_in_order(brace_off: date, confirm: tuple[str, ...]) -> None:
    """Phases follow the brace-off instead of their dates: phase 2 keeps its 6 weeks, strength
    starts when it ends, crutches go before strength work, ankle weights come after the brace."""
    from datetime import timedelta

    schedule = build(
        load("proximal-hamstring-repair"), Plan(date(2027, 3, 1), actuals={"brace-off": brace_off}, confirmed=confirm)
    )
    phases = {p.id: p for p in schedule.phases}
    days = {m.id: m.date for m in schedule.milestones}
    assert phases["protection"].end == phases["walking"].start == brace_off
    assert phases["walking"].end == brace_off + timedelta(weeks=6)
    assert phases["strengthening"].start == phases["walking"].end
    assert days["crutches-away"] < phases["strengthening"].start
    assert brace_off <= days["ankle-weights"] < phases["walking"].end
    assert days["cleared-for-slow-lowering"] >= phases["walking"].end
    assert days["walk-jog"] > phases["walking"].end
    training = next(s for s in schedule.routines if s.id == "strength-training")
    assert training.first >= phases["strengthening"].start


def test_achilles_steps_follow_the_splint_and_the_shoe() -> None:
    """A 4-week splint with the first wedge set for week 4: the wedge comes out in the boot, not
    in the splint. A boot that comes off late: the jogging question waits for the 6 weeks in a shoe."""
    from datetime import timedelta

    achilles = load("achilles-tendon-repair")
    surgery = date(2027, 3, 1)
    plan = Plan(surgery, overrides={"splint_weeks": 4, "first_wedge_weeks": 4})
    schedule = build(achilles, plan)
    splint = next(p for p in schedule.phases if p.id == "splint")
    wedge = next(m for m in schedule.milestones if m.id == "first-wedge-out")
    assert wedge.date >= splint.end
    late = build(achilles, Plan(surgery, actuals={"boot-off": surgery + timedelta(weeks=11)}))
    shoe = next(p for p in late.phases if p.id == "shoe")
    jog = next(m for m in late.milestones if m.id == "cleared-to-jog")
    assert jog.date >= shoe.end


@pytest.mark.parametrize(("first", "last", "boot"), [(7, 6, 6), (4, 8, 6), (4, 6, 6)])
def test_achilles_wedges_come_out_in_order_and_before_the_boot(first: int, last: int, boot: int) -> None:
    """A first wedge at week 7 with the last at week 6, or a last wedge at week 8 with the boot off
    at week 6: the wedges still come out one after the other, and before the boot does."""
    overrides = {"first_wedge_weeks": first, "last_wedge_weeks": last, "boot_weeks": boot}
    schedule = build(load("achilles-tendon-repair"), Plan(date(2027, 3, 1), overrides=overrides))
    days = {m.id: m.date for m in schedule.milestones}
    assert days["first-wedge-out"] < days["last-wedge-out"] <= days["boot-off"]
