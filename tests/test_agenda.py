"""`recovery agenda`: what a patient may do on a day, tried on the days patients ask about."""

from datetime import date

import pytest

from recovery import Plan, build, load
from recovery.writers.agenda import agenda as render

from conftest import LEFT as PLAN
from conftest import run


def agenda(*args: str) -> str:
    result = run("agenda", *PLAN, *args)
    assert result.exit_code == 0, result.stderr
    assert "\033[" not in result.stdout  # plain when piped
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    return result.stdout


def test_day_of_surgery() -> None:
    text = agenda("--on", "2027-03-01")
    assert text.startswith("Mon 2027-03-01 · day 0, the day of surgery\n")
    assert "Phase 1 · Protection  (day 0 to 41; 42 days left)" in text
    assert "Today\n  No reminders.\n" in text  # exercises start the day after
    assert "in 2 days    Wed 2027-03-03  First physio session" in text
    assert "in 10 days   Thu 2027-03-11  First surgeon visit: wound check" in text
    assert "· After a nerve block, your leg may be numb for up to a day." in text


def test_day_23_shows_the_phase_its_precautions_and_todays_doses() -> None:
    text = agenda("--on", "2027-03-24")
    assert text.startswith("Wed 2027-03-24 · day 23 (3 weeks and 2 days after surgery)\n")
    assert "Weight bearing: Toes down for balance only. Do not lean on the leg." in text
    assert "Brace: A knee brace that keeps your knee bent. Your surgeon sets the angle." in text
    assert "! Do not bend forward at the hips with your left knee straight." in text
    assert "· Sitting: for 3 weeks, only when you must, never on the wound. A foam block\n" in text
    for clock in ("08:00", "13:00", "19:00"):  # ice ended after 2 weeks
        assert f"  {clock}  Thigh and ankle exercises (15 min)\n" in text
    assert "in 19 days   Mon 2027-04-12  Brace off, if your surgeon agrees" in text
    assert (
        "! Chest pain, or sudden shortness of breath or trouble breathing: Call your\n    local emergency number now"
        in text
    )
    assert "instructions come first" in text


def test_day_100_is_in_strengthening() -> None:
    text = agenda("--on", "2027-06-09")
    assert "day 100 (14 weeks and 2 days after surgery)" in text
    assert "Phase 3 · Strength  (day 84 to 366; 267 days left)" in text  # until cleared for sport, 12 months at most
    assert "19:00  Strength training (30 min)" in text  # a Wednesday
    assert "Nordic" not in text  # slow lowering waits for its clearance
    assert "Phase 1" not in text
    assert "in 12 days   Mon 2027-06-21  Earliest day to ask whether you may" in text


def test_after_the_course_ends() -> None:
    text = agenda("--on", "2028-04-01")
    assert "The planned course ended on Wed 2028-03-01 (day 366)." in text
    assert "Today" not in text
    assert "Coming up" not in text
    assert "Red flags" in text


def test_before_surgery() -> None:
    text = agenda("--on", "2027-02-26")
    assert text.startswith("Fri 2027-02-26 · 3 days before surgery\n")
    assert "Your surgery is on Mon 2027-03-01." in text
    assert "in 3 days    Mon 2027-03-01  Phase 1 · Protection begins" in text


def test_accelerated_variant_has_no_brace() -> None:
    text = agenda("--on", "2027-03-05", "--variant", "accelerated")
    assert "Weight bearing: Put as much weight on the leg as feels OK. Use two crutches" in text
    assert "Brace" not in text


def test_week_lists_each_day_and_a_phase_that_starts_during_it() -> None:
    text = agenda("--on", "2027-05-20", "--week")
    for day in (
        "Thu 2027-05-20 · day 80",
        "Sun 2027-05-23 · day 83",
        "Mon 2027-05-24 · day 84",
        "Wed 2027-05-26 · day 86",
    ):
        assert day in text
    assert "Phase 3 · Strength  (day 84 to 366; starts Mon 24 May)" in text
    assert "Tue 2027-05-25 · day 85\n  19:00  Bike, cross-trainer or pool running (20 min)\n" in text


def test_colour_only_when_asked() -> None:
    schedule = build(load("proximal-hamstring-repair"), Plan(date(2027, 3, 1)))
    day = date(2027, 3, 24)
    assert "\033[1m" in render(schedule, day, color=True)
    assert "\033[" not in render(schedule, day, color=False)


@pytest.mark.parametrize("args", [["--on", "2027-13-01"], ["--on", "tomorrow"]])
def test_bad_day_is_a_usage_error(args: list[str]) -> None:
    result = run("agenda", *PLAN, *args)
    assert result.exit_code == 2
    assert "--on" in result.stderr
