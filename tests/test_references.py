"""The reference graph: long chains are dated without recursion, cycles are named, order is kept."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import get_args

from recovery import Plan, build, load
from recovery.protocol.model import SCALES, Scale, Weekday
from recovery.words import WEEKDAYS

from conftest import RED_FLAG, protocol_file, run


def chained_milestones(tmp_path: Path, links: int) -> Path:
    """A protocol whose milestones each come one day after the one before: a chain of `links` references."""
    lines = ['id = "chain"', 'title = "Chain"', 'version = "1"']
    lines += ["[[milestones]]", 'id = "m0"', 'title = "Step 0"', 'at = "day 1"']
    for n in range(1, links + 1):
        lines += ["[[milestones]]", f'id = "m{n}"', f'title = "Step {n}"', f'at = "m{n - 1} + 1 day"']
    path = tmp_path / "chain.toml"
    path.write_text("\n".join(lines) + "\n" + RED_FLAG)
    return path


def test_a_chain_of_2000_references_is_dated_without_recursion(tmp_path) -> None:
    protocol = load(chained_milestones(tmp_path, 2000))
    schedule = build(protocol, Plan(date(2027, 3, 1)))
    assert schedule.milestones[-1].date == date(2027, 3, 1) + timedelta(days=2001)
    assert run("validate", str(tmp_path / "chain.toml")).exit_code == 0


def test_an_actual_date_moves_the_rest_of_the_chain(tmp_path) -> None:
    protocol = load(chained_milestones(tmp_path, 5))
    schedule = build(protocol, Plan(date(2027, 3, 1), actuals={"m2": date(2027, 4, 1)}))
    assert [m.date for m in schedule.milestones][2:] == [date(2027, 4, n) for n in (1, 2, 3, 4)]


def test_the_graph_orders_every_point_after_the_ones_it_depends_on() -> None:
    graph = load("proximal-hamstring-repair").references_graph
    order = graph.order()
    position = {point: n for n, point in enumerate(order)}
    assert set(order) == set(graph.definitions)
    for point in graph.definitions:
        for anchor in graph.depends_on(point):
            assert position[anchor] < position[point], point


def test_later_of_is_the_latest_of_its_days_and_moves_with_each() -> None:
    """A phase that waits for two things starts on the later: strength not before 12 weeks, and
    not before the walking phase is over, however late the brace came off."""
    from datetime import date

    from recovery import Plan, build

    protocol = load(Path(protocol_file("later-of")))
    day0 = date(2027, 3, 1)
    on_time = {p.id: p for p in build(protocol, Plan(day0)).phases}
    assert on_time["strength"].start == date(2027, 5, 24)  # 12 weeks: both days agree
    late = {p.id: p for p in build(protocol, Plan(day0, actuals={"brace-off": date(2027, 4, 26)})).phases}
    assert late["walking"].end == late["strength"].start == date(2027, 6, 7)  # 14 weeks: walking decides
    early = {p.id: p for p in build(protocol, Plan(day0, actuals={"brace-off": date(2027, 3, 22)})).phases}
    assert early["strength"].start == date(2027, 5, 24)  # walking over at 9 weeks: 12 weeks decides


def test_a_cycle_through_later_of_is_found() -> None:
    from conftest import run

    result = run("validate", protocol_file("invalid/cycle-through-later-of"))
    assert result.exit_code == 1
    assert "these references form a cycle, so no date can be given" in result.stderr


def test_the_model_and_the_vocabulary_name_the_same_weekdays() -> None:
    assert get_args(Weekday) == WEEKDAYS


def test_the_scales_are_declared_once() -> None:
    # the type a file's keys are checked against, and the levels the coherence check compares
    assert get_args(Scale) == tuple(SCALES)
