"""Time expressions: one meaning for each form, and clear words for what is wrong."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recovery.protocol.timeexpr import TimeExpr, TimeExprError
from recovery.schedule.dates import apply

SURGERY = date(2027, 3, 1)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("day 0", 0),
        ("day 10", 10),
        ("6 weeks", 42),
        ("week 6", 42),  # "week N" is "N weeks": day 7N, never "the Nth week"
        ("2 weeks 3 days", 17),
        ("6 weeks - 3 days", 39),
        ("1 day", 1),
    ],
)
def test_offsets_from_the_surgery_day(text: str, day: int) -> None:
    assert (apply(TimeExpr.parse(text), SURGERY, {}) - SURGERY).days == day


def test_week_n_and_n_weeks_are_the_same_day() -> None:
    for n in range(60):
        assert apply(TimeExpr.parse(f"week {n}"), SURGERY, {}) == apply(TimeExpr.parse(f"{n} weeks"), SURGERY, {})


@pytest.mark.parametrize(
    ("surgery", "text", "expected"),
    [
        (date(2027, 1, 31), "1 month", date(2027, 2, 28)),  # month end clips to the shorter month
        (date(2028, 1, 31), "1 month", date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), "12 months", date(2029, 2, 28)),  # leap day, a year on
        (date(2027, 1, 31), "1 month 2 weeks", date(2027, 3, 14)),  # months first, then days
        (date(2027, 8, 31), "6 months", date(2028, 2, 29)),
    ],
)
def test_months_are_calendar_months(surgery: date, text: str, expected: date) -> None:
    assert apply(TimeExpr.parse(text), surgery, {}) == expected


def test_parameters_fill_in_amounts() -> None:
    expr = TimeExpr.parse("{brace_weeks} weeks")
    assert expr.parameters == {"brace_weeks"}
    assert (apply(expr, SURGERY, {"brace_weeks": 4}) - SURGERY).days == 28


def test_references_name_an_item_and_its_end() -> None:
    expr = TimeExpr.parse("end of protection - 3 days")
    assert (expr.anchor, expr.anchor_end) == ("protection", True)
    assert apply(expr, date(2027, 4, 12), {}) == date(2027, 4, 9)
    assert TimeExpr.parse("brace-off + 2 weeks").anchor == "brace-off"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("6 fortnights", 'unknown unit "fortnights"; expected days, weeks or months'),
        ("6 wekes", 'did you mean "weeks"?'),
        ("6", "a number needs a unit"),
        ("", "is empty"),
        ("brace-off +", "ends too early"),
        ("end protection", '"end" must be followed by "of ITEM"'),
        ("6 weeks 2", "a number needs a unit"),
        ("{Brace} weeks", "is not a parameter name"),
        ("day -3", 'expected a number or a {parameter}, found "-"'),
        ("- 3 days", 'cannot start with "-"'),
    ],
)
def test_bad_expressions_say_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(TimeExprError) as caught:
        TimeExpr.parse(text)
    assert message in str(caught.value)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.integers(0, 30),
    st.integers(0, 60),
    st.integers(0, 400),
)
def test_combined_offsets_are_months_then_days(surgery: date, months: int, weeks: int, days: int) -> None:
    from dateutil.relativedelta import relativedelta

    expr = TimeExpr.parse(f"{months} months {weeks} weeks {days} days")
    assert apply(expr, surgery, {}) == surgery + relativedelta(months=months) + relativedelta(days=7 * weeks + days)
    assert apply(expr, surgery, {}) >= surgery


def test_what_the_docs_say_about_spaces_holds() -> None:
    from recovery.protocol.timeexpr import TimeExpr

    assert TimeExpr.parse("brace-off+2weeks").terms == TimeExpr.parse("brace-off + 2 weeks").terms
    assert TimeExpr.parse("6weeks").terms == TimeExpr.parse("6 weeks").terms
    assert TimeExpr.parse("brace-off - 2 weeks").anchor == "brace-off"


def test_an_amount_in_words_says_to_write_it_in_digits() -> None:
    from recovery.protocol.timeexpr import TimeExpr, TimeExprError

    with pytest.raises(TimeExprError, match=r'"six weeks": write the amount in digits, as in "6 weeks"'):
        TimeExpr.parse("six weeks")
