"""The printable handout: one self-contained HTML page with a timeline picture of the course.

A writer: it reads only the Schedule, lays out the timeline (inline SVG) in Python, and renders
`templates/handout.html.j2` with Jinja2, which escapes every text from a protocol file. With
`dated=False` (a surgeon's preview of a protocol) it counts weeks instead of showing dates.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from recovery import pictures
from recovery.cache import Cache, digest
from recovery.language import Words, words
from recovery.records import record
from recovery.schedule.items import Schedule, Series, Span
from recovery.words import STAGE_CALL, clock

#: The timeline's drawing units. Printed, 720 units span the page's width (about 516 pt on A4 with
#: its margins), so a 13-unit label prints at 9.3 pt: no label of the picture is smaller.
WIDTH, LABEL, ROW, GAP = 720, 190, 25, 24
MAX_TICKS = 8
#: The box of an exercise picture in CSS pixels: printed, 1.46 by 0.46 inches; in large print,
#: where each exercise has the page's width, 3.3 by 1.25 inches.
PICTURE_BOX = (140, 44)
LARGE_PICTURE_BOX = (320, 120)


@record
class Bar:
    label: str
    x: float
    width: float
    y: float
    when: str


@dataclass
class Mark:
    number: int
    x: float
    width: float
    y: float
    title: str
    when: str
    kind: str  # "milestone" or "visit"
    detail: str = ""  # what to check first, or that a visit has a window


@record
class Tick:
    x: float
    label: str


@dataclass
class Timeline:
    height: float
    bars: list[Bar] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    today: float | None = None
    rows: dict[str, float] = field(default_factory=dict)


@record
class PhaseSection:
    phase: Span
    when: str
    routines: list[tuple[Series, str]]  # the routine and its times of day ("08:00, 19:00")


def to_handout(
    schedule: Schedule,
    dated: bool = True,
    today: date | None = None,
    cache: Cache | None = None,
    sources: bool = False,
    page_qr: str = "",
) -> str:
    """The handout as one HTML document (UTF-8 text); with a `cache`, the template is compiled once.
    The protocol's sources are a page for the clinician, added with `sources` (and to every
    undated preview, which is the surgeon's). `page_qr`, an SVG of a QR code to the patient's
    own page (the server's), goes on the wallet card."""
    import jinja2
    import markupsafe

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("recovery.writers", "templates"),
        bytecode_cache=_compiled_templates(cache) if cache is not None else None,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    day0 = schedule.plan.surgery_date
    w = words(schedule.plan.language)

    def when(first: date, last: date | None = None) -> str:
        if dated:
            if last is None or last == first:
                return w.long_date(first)
            start = w.short_date(first) if first.year == last.year else w.long_date(first)
            return f"{start} – {w.long_date(last)}"
        return _weeks((first - day0).days, w) + (
            "" if last is None or last == first else f" – {_weeks((last - day0).days, w)}"
        )

    def span(first: date, last: date, phase: Span) -> str:
        """A routine's days in a table, short: "02 Mar – 11 Apr" (its phase's heading has the years);
        nothing for a routine that runs for the whole phase (its first and last week)."""
        if (first - phase.start).days < 7 and (phase.last - last).days < 7:
            return ""
        if not dated:
            return when(first, last)
        return w.day_month(first) + ("" if last == first else f" – {w.day_month(last)}")

    sections = [
        PhaseSection(
            phase,
            w("from {day}").format(day=when(phase.start)) if phase.until_ready else when(phase.start, phase.last),
            [(group[0], ", ".join(clock(s.time) for s in group)) for group in schedule.routines_of(phase).values()],
        )
        for phase in schedule.phases
    ]
    side = schedule.plan.side
    box = LARGE_PICTURE_BOX if schedule.plan.large_print else PICTURE_BOX

    def picture(name: str) -> Any:
        return markupsafe.Markup(pictures.draw(name, side, box=box, language=schedule.plan.language))

    template = environment.get_template("handout.html.j2")
    return template.render(
        picture=picture,
        page_qr=markupsafe.Markup(page_qr),
        s=schedule,
        heading=w("Your plan")
        if schedule.plan.discreet
        else w("{title}: your recovery plan").format(title=schedule.protocol_title),
        _=w,
        w=w,
        dated=dated,
        when=when,
        span=span,
        sections=sections,
        timeline=_timeline(schedule, dated, today, when, w),
        sources=sources or not dated,
        width=WIDTH,
        surgeon_first=w(schedule.said.first),
        said=schedule.said,
        day_number=schedule.day_number,
    )


def _compiled_templates(cache: Cache) -> Any:
    """Jinja2's cache of compiled templates, kept in the program's cache (see `recovery.cache`):
    compiling the handout's template costs about 13 ms of every run. An entry's key names the
    template's source, Jinja2's version and Python's."""
    import jinja2
    import jinja2.bccache

    class Templates(jinja2.BytecodeCache):
        def _key(self, bucket: jinja2.bccache.Bucket) -> str:
            return digest(
                bucket.key.encode(), bucket.checksum.encode(), jinja2.__version__.encode(), sys.version.encode()
            )

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            data = cache.get_bytes(TEMPLATE_KIND, self._key(bucket))
            if data is not None:
                bucket.bytecode_from_string(data)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            cache.put_bytes(TEMPLATE_KIND, self._key(bucket), bucket.bytecode_to_string())

    return Templates()


#: The kind of the cache's entries that hold a compiled template.
TEMPLATE_KIND = "template"


def _timeline(schedule: Schedule, dated: bool, today: date | None, when: Callable[..., str], w: Words) -> Timeline:
    day0 = schedule.plan.surgery_date
    total = max((schedule.last_day - day0).days + 1, 7)
    scale = (WIDTH - LABEL - 20) / total

    def x(day: date) -> float:
        return round(LABEL + (day - day0).days * scale, 1)

    timeline = Timeline(height=0)
    y = 30.0
    for phase in schedule.phases:
        width = max(round((phase.end - phase.start).days * scale, 1), 2)
        timeline.bars.append(Bar(phase.title, x(phase.start), width, y, when(phase.start, phase.last)))
        y += ROW
    timeline.rows["milestones"] = y
    timeline.rows["visits"] = y + ROW
    # Milestones and visits are numbered in the order of their days, as the table lists them.
    on_days: list[tuple[date, date, str, str, str]] = [
        (
            m.date,
            m.date,
            m.title,
            " ".join(
                filter(
                    None,
                    [
                        w("Check first: {checks}").format(checks="; ".join(m.check)) if m.check else "",
                        w(STAGE_CALL).format(day=w.long_date(m.latest))
                        if m.criteria and m.waiting and m.latest
                        else "",
                    ],
                )
            ),
            "milestone",
        )
        for m in schedule.milestones
    ]
    on_days += [
        (a.first, a.last, a.title, w("visit window") if a.first != a.last else "", "visit")
        for a in schedule.appointments
    ]
    for number, (first, last, title, detail, kind) in enumerate(sorted(on_days, key=lambda d: (d[0], d[1])), 1):
        row = timeline.rows["milestones" if kind == "milestone" else "visits"]
        width = 0.0 if kind == "milestone" else max(round(((last - first).days + 1) * scale, 1), 3)
        timeline.marks.append(Mark(number, x(first), width, row, title, when(first, last), kind, detail))
    y += ROW
    y += ROW
    # A tick every week for a short course, else every 4 weeks or more: at most 8 labels, never crowded.
    step = 1 if total <= 70 else 4 * -(-(total // 7 + 1) // (4 * MAX_TICKS))
    for weeks in range(0, total // 7 + 1, step):
        day = day0 + timedelta(weeks * 7)
        label = w.day_month(day) if dated else w("wk {number}").format(number=weeks)
        timeline.ticks.append(Tick(x(day), label))
    if dated and today is not None and day0 <= today <= schedule.last_day:
        timeline.today = x(today)
    _spread(timeline.marks)
    timeline.height = y + 24
    return timeline


def _spread(marks: list[Mark]) -> None:
    """Marks of one row that would cover each other move right, so every number stays readable."""
    last: dict[float, float] = {}
    for mark in sorted(marks, key=lambda m: (m.y, m.x)):
        edge = last.get(mark.y)
        if edge is not None and mark.x < edge + GAP:
            mark.x = round(edge + GAP, 1)
        last[mark.y] = mark.x + max(mark.width - GAP, 0)


def _weeks(days: int, w: Words) -> str:
    weeks, rest = divmod(days, 7)
    if days == 0:
        return w("day 0")
    shown = w("week {number}").format(number=weeks) + (" + " + w("{number} d").format(number=rest) if rest else "")
    return shown + " " + w("(day {number})").format(number=days)
