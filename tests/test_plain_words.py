"""Plain words: what a patient reads is at about reading grade 6-8.

Measured with the Flesch-Kincaid grade (textstat), item by item: each phase, milestone, visit,
exercise and warning sign is read as one passage (its title and texts, each a sentence). For
every bundled protocol and variant, before and after its clearances: median at most 7, no
passage above 10. Grades on a few words are rough, so the bar is on passages, not on single
titles.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import date

import icalendar
import pytest
import textstat

from recovery import Plan, Schedule, build, load
from recovery.schedule.trial import blanks_filled

from conftest import blanks, generate

SURGERY = date(2027, 3, 1)
CASES = [
    ("proximal-hamstring-repair", None),
    ("proximal-hamstring-repair", "accelerated"),
    ("achilles-tendon-repair", None),
    ("achilles-tendon-repair", "longer-boot"),
    ("proximal-hamstring-tendinopathy", None),
    ("hamstring-syndrome", None),
    ("proximal-hamstring-avulsion-nonoperative", None),
    ("hamstring-strain", None),
]


def sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def passages(schedule: Schedule) -> Iterator[tuple[str, str]]:
    """(what, text) for every passage a patient reads about the plan."""
    for p in schedule.phases:
        yield p.id, [p.title, p.description, p.weight_bearing, p.brace, *p.precautions, *p.goals, *p.advice]
    for m in schedule.milestones:
        yield m.id, [m.title, m.description, *m.check]
    for a in schedule.appointments:
        yield a.id, [a.title, a.description]
    for r in {r.id: r for r in schedule.routines}.values():
        yield r.id, [r.title, r.description]
    for i, (sign, action) in enumerate(schedule.red_flags):
        yield f"red flag {i}", [sign, action]
    for term, meaning in schedule.words:
        yield f"word {term}", [meaning]


def grades(texts: Iterator[tuple[str, list[str]]]) -> dict[str, float]:
    return {what: textstat.flesch_kincaid_grade(" ".join(sentence(t) for t in parts if t)) for what, parts in texts}


def test_the_meter_tells_plain_from_clinical_words() -> None:
    clinical = (
        "Eccentric hamstring work (single-leg bridge lowering, assisted Nordics), elliptical, a walking progression."
    )
    plain = "Lower slowly while the muscle works. Do not drop down fast."
    assert textstat.flesch_kincaid_grade(clinical) > 10
    assert textstat.flesch_kincaid_grade(plain) <= 7


@pytest.mark.parametrize(("name", "variant"), CASES)
@pytest.mark.parametrize("cleared", [False, True], ids=["waiting", "cleared"])
def test_patient_texts_read_at_grade_6_to_8(name: str, variant: str | None, cleared: bool) -> None:
    protocol = load(name)
    filled = blanks_filled(protocol)
    schedule = build(protocol, Plan(SURGERY, side="left", variant=variant, overrides=filled))
    if cleared:
        gates = {m.id: m.date for m in schedule.milestones if m.waiting}
        schedule = build(protocol, Plan(SURGERY, side="left", variant=variant, overrides=filled, actuals=gates))
    measured = grades(passages(schedule))
    assert statistics.median(measured.values()) <= 7
    too_hard = {what: grade for what, grade in measured.items() if grade > 10}
    assert not too_hard


@pytest.mark.parametrize(("name", "variant"), CASES)
def test_calendar_descriptions_read_at_grade_6_to_8(tmp_path, name: str, variant: str | None) -> None:
    args = ["--variant", variant] if variant else []
    data = generate(
        tmp_path,
        "--surgery-date",
        "2027-03-01",
        "--timezone",
        "Europe/Berlin",
        "--protocol",
        name,
        *args,
        *blanks(name),
    )
    texts = []
    for event in icalendar.Calendar.from_ical(data).walk("VEVENT"):
        lines = [line.lstrip("- ").strip() for line in str(event.get("DESCRIPTION", "")).splitlines()]
        texts.append((str(event["SUMMARY"]), [line for line in lines if line]))
    measured = grades(iter(texts))
    assert statistics.median(measured.values()) <= 7
    assert not {what: grade for what, grade in measured.items() if grade > 10}
