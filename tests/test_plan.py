"""One plan schema: the library's Plan takes plain values or says which field is wrong, and the
command line, a batch file and the JSON form are the same plan with the same defaults."""

from dataclasses import dataclass
from datetime import date, time

import pytest

import recovery
from recovery import Plan, PlanError
from recovery.schedule.plan import FIELDS, default_output_name

from conftest import EPOCH, run


def problems_of(**values: object) -> list[str]:
    with pytest.raises(PlanError) as raised:
        Plan(**values)  # type: ignore[arg-type]
    return [str(problem) for problem in raised.value.problems]


def test_plain_values_make_the_same_plan_as_typed_ones() -> None:
    typed = Plan(
        surgery_date=date(2027, 3, 1),
        timezone="Europe/Berlin",
        side="left",
        overrides={"protection_weeks": "5", "walking_weight_bearing": "true"},
        slot_times={"morning": time(7, 30)},
        actuals={"brace-off": date(2027, 4, 8)},
        alarm_minutes=10,
        discreet=True,
        start_from=date(2027, 3, 10),
    )
    plain = Plan(
        surgery_date="2027-03-01",  # type: ignore[arg-type]
        timezone="Europe/Berlin",
        side="Left",
        overrides={"protection_weeks": 5, "walking_weight_bearing": True},
        slot_times={"morning": "07:30"},  # type: ignore[dict-item]
        actuals={"brace-off": "2027-04-08"},  # type: ignore[dict-item]
        alarm_minutes="10",  # type: ignore[arg-type]
        discreet="yes",  # type: ignore[arg-type]
        start_from="2027-03-10",  # type: ignore[arg-type]
    )
    assert plain == typed
    assert plain.slot_times == {"morning": time(7, 30), "midday": time(13), "evening": time(19)}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"surgery_date": "2027-02-30"}, 'surgery_date: "2027-02-30" is not a day of the calendar'),
        ({"surgery_date": "March 1"}, 'surgery_date: "March 1" is not a date; write it as YYYY-MM-DD'),
        ({"surgery_date": 20270301}, "surgery_date: 20270301 is not a date"),
        ({"timezone": "Berlin"}, 'timezone: unknown time zone "Berlin"; did you mean "Europe/Berlin"?'),
        ({"side": "banana"}, 'side: "banana" is not "left" or "right"'),
        ({"slot_times": {"lunch": "12:00"}}, 'slot_times: lunch=12:00: "lunch" is not a time of day'),
        ({"slot_times": {"morning": "7.30"}}, 'slot_times: morning=7.30: "7.30" is not a clock time'),
        ({"actuals": {"brace-off": "soon"}}, 'actuals: brace-off=soon: "soon" is not a date'),
        ({"actuals": ["brace-off"]}, 'actuals: "brace-off" should be MILESTONE=DATE'),
        ({"overrides": {"protection_weeks": None}}, "overrides: protection_weeks=None: None is not text"),
        ({"alarm_minutes": -5}, "alarm_minutes: -5 is not a number of minutes from 0 to 1440"),
        ({"discreet": "perhaps"}, 'discreet: "perhaps" is not yes or no'),
        ({"calendar_name": "a\x1b[31mb"}, "calendar_name: a control character (U+001B) at character 2"),
        ({"plan_id": "x" * 201}, "plan_id: 201 characters; at most 200"),
    ],
)
def test_a_value_a_field_cannot_take_is_a_plan_error_naming_the_field(values, expected) -> None:
    found = problems_of(**{"surgery_date": "2027-03-01", **values})
    assert len(found) == 1
    assert found[0].startswith(expected), found


def test_every_bad_field_is_reported_at_once() -> None:
    found = problems_of(surgery_date="2027-13-01", side="both", alarm_minutes=5000)
    assert [problem.split(":")[0] for problem in found] == ["surgery_date", "side", "alarm_minutes"]


def test_an_unknown_parameter_is_named_by_the_library_in_its_own_words() -> None:
    protocol = recovery.load("proximal-hamstring-repair")
    with pytest.raises(PlanError) as raised:
        recovery.build(protocol, Plan(surgery_date="2027-03-01", overrides={"protection_weks": 5}))  # type: ignore[arg-type]
    assert str(raised.value) == 'overrides: protection_weks: unknown parameter; did you mean "protection_weeks"?'


def test_a_frozen_subclass_of_plan_works() -> None:
    @dataclass(frozen=True)
    class ClinicPlan(Plan):
        ward: str = "B"

    plan = ClinicPlan(surgery_date="2027-03-01", ward="C")  # type: ignore[arg-type]
    assert plan.surgery_date == date(2027, 3, 1)
    assert plan.ward == "C"


def test_the_json_form_goes_back_and_forth_and_refuses_unknown_keys() -> None:
    plan = Plan(surgery_date=date(2027, 3, 1), timezone="Australia/Sydney", overrides={"protection_weeks": "5"})
    data = plan.to_json()
    assert data["surgery_date"] == "2027-03-01"
    assert data["set"] == {"protection_weeks": "5"}
    assert data["time"] == {"morning": "08:00", "midday": "13:00", "evening": "19:00"}
    assert Plan.from_json(data) == plan
    with pytest.raises(PlanError) as raised:
        Plan.from_json({"surgery_date": "2027-03-01", "timezon": "UTC", "name": "Jane"})
    assert [str(p) for p in raised.value.problems] == [
        'timezon: unknown field "timezon"; did you mean "timezone"?',
        'name: unknown field "name"',
    ]


def test_every_field_is_an_option_of_generate_and_a_column_of_batch() -> None:
    from recovery.batch import COLUMNS

    help_text = run("generate", "--help").stdout
    for field in FIELDS:
        assert f"--{field.name}" in help_text
        assert field.name in COLUMNS


def test_the_command_line_and_batch_agree_on_every_default(tmp_path) -> None:
    """A row with only a surgery date is the plan `generate --surgery-date` makes: same zone (this
    machine's), same protocol, same calendar."""
    (tmp_path / "plans.csv").write_text("surgery-date\n2027-03-01\n")
    env = {"SOURCE_DATE_EPOCH": EPOCH, "TZ": "America/Chicago"}
    assert run("batch", str(tmp_path / "plans.csv"), "--out-dir", str(tmp_path / "out"), env=env).exit_code == 0
    assert run("generate", "--surgery-date", "2027-03-01", "-o", str(tmp_path / "one.ics"), env=env).exit_code == 0
    (written,) = (path for path in (tmp_path / "out").iterdir() if path.name != "manifest.csv")
    assert written.name == "proximal-hamstring-repair-2027-03-01-line2.ics"
    assert written.read_bytes() == (tmp_path / "one.ics").read_bytes()


def test_a_default_name_never_leaves_the_folder() -> None:
    plan = Plan(surgery_date=date(2027, 3, 1))
    assert default_output_name("../escaped", plan, "ics") == "plan-2027-03-01.ics"
    assert default_output_name("hamstring", plan, "ics") == "hamstring-2027-03-01.ics"
