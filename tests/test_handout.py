"""`recovery handout` and `show --html`: valid, complete, escaped, self-contained, printable."""

import re
from datetime import date, datetime

import html5lib
import pytest

from recovery import Plan, build, load

from conftest import LEFT as PLAN
from conftest import protocol_file, run


def handout(tmp_path, *args: str) -> str:
    out = tmp_path / "plan.html"
    result = run("handout", *PLAN, *args, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out.read_text(encoding="utf-8")


def parse_strictly(page: str):
    """A real HTML5 parser in strict mode: any parse error fails the test."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)


@pytest.mark.parametrize("variant", [[], ["--variant", "accelerated"], ["--protocol", "achilles-tendon-repair"]])
def test_handout_is_valid_html_with_every_phase_dose_and_red_flag(tmp_path, variant: list[str]) -> None:
    page = handout(tmp_path, *variant)
    document = parse_strictly(page)
    text = " ".join(document.itertext())
    protocol = "achilles-tendon-repair" if "achilles-tendon-repair" in variant else "proximal-hamstring-repair"
    chosen = variant[1] if variant[:1] == ["--variant"] else None
    schedule = build(load(protocol), Plan(date(2027, 3, 1), side="left", variant=chosen))
    for phase in schedule.phases:
        assert phase.title in text
        for precaution in phase.precautions:
            assert precaution in text
    for series in schedule.routines:
        assert series.title in text
        if series.dose:
            assert series.dose in text
    for sign, action in schedule.red_flags:
        assert sign in text
        assert action in text
    assert "instructions come first" in text


def test_red_flags_come_before_the_course(tmp_path) -> None:
    page = handout(tmp_path)
    assert (
        page.index("Red flags: when to get help") < page.index("Your course at a glance") < page.index("Phase by phase")
    )


def test_hostile_text_from_a_protocol_file_is_escaped(tmp_path) -> None:
    page = handout(tmp_path, "--protocol", protocol_file("hostile-text"))
    document = parse_strictly(page)
    assert document.findall(".//script") == []
    assert document.findall(".//iframe") == []
    assert document.findall(".//img") == []
    assert len(document.findall(".//style")) == 1  # only the handout's own
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; &amp; co" in page
    assert "<script>alert(3)</script>" in " ".join(document.itertext())  # shown as text, not run
    assert not any(a.get("href", "").startswith("javascript:") for a in document.iter("a"))


def test_handout_is_self_contained(tmp_path) -> None:
    page = handout(tmp_path)
    document = parse_strictly(page)
    for element in document.iter():
        for attribute in ("src", "href"):
            assert not element.get(attribute), (element.tag, attribute)
    assert document.findall(".//link") == []
    assert document.findall(".//script") == []
    assert "@import" not in page
    assert "url(" not in page


def test_handout_fits_the_page_and_prints_in_sections(tmp_path) -> None:
    page = handout(tmp_path)
    svg = re.search(r"<svg[^>]*>", page).group(0)
    assert 'viewBox="0 0 720 ' in svg
    assert "width=" not in svg  # scaled by CSS to the page or phone width
    assert "svg { width: 100%; height: auto;" in page
    assert "@media print" in page
    # no section of the patient's copy is forced onto a new page (that left pages half empty);
    # only the clinician's page of sources, when asked for, starts on its own
    assert re.findall(r"([\w.]+) \{ break-before: page; \}", page) == ["section.clinician"]
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_today_is_marked_only_inside_the_course() -> None:
    from recovery.writers.handout import to_handout as render

    schedule = build(load("proximal-hamstring-repair"), Plan(date(2027, 3, 1)))
    assert 'class="today"' in render(schedule, today=date(2027, 3, 24))
    assert 'class="today"' not in render(schedule, today=date(2026, 11, 22))
    assert 'class="today"' not in render(schedule, today=date(2028, 6, 1))


def test_show_html_previews_a_protocol_in_weeks(tmp_path) -> None:
    out = tmp_path / "preview.html"
    result = run("show", "proximal-hamstring-repair", "--html", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    page = out.read_text()
    parse_strictly(page)
    assert "Protocol preview" in page
    assert "day 0 – week 5 + 6 d (day 41)" in page
    assert "wk 4" in page
    assert "2027" not in page
    assert "The plan in your phone" not in page


def test_show_output_without_html_is_a_usage_error() -> None:
    result = run("show", "proximal-hamstring-repair", "-o", "x.html")
    assert result.exit_code == 2
    assert "-o goes with --html" in result.stderr


def test_each_routine_is_listed_once_under_its_phase_and_dates_are_in_order(tmp_path) -> None:
    page = handout(tmp_path)
    document = parse_strictly(page)
    titles = [
        " ".join(td.find(".//strong").itertext()) for td in document.iter("td") if td.find(".//strong") is not None
    ]
    listed = ("Thigh and ankle exercises", "Ice the back of the thigh", "Hamstring sets", "Strength training")
    routines = [t for t in titles if t in listed]
    assert len(routines) == len(set(routines)) == 4
    table = document.findall(".//section[@aria-labelledby='course']//tbody/tr")
    assert [row[0].text for row in table] == [str(n) for n in range(1, len(table) + 1)]  # the picture's numbers
    # A window within one year names its year once, at its end: "Wed 03 Mar –\nMon 08 Mar 2027".
    firsts = [
        datetime.strptime(
            f"{row[1].text.split(' –')[0]} {row[1].text[-4:]}"[:15] if " –" in row[1].text else row[1].text,
            "%a %d %b %Y",
        ).date()
        for row in table
    ]
    assert firsts == sorted(firsts)
    assert len(table) == 13  # 8 milestones (4 of them the earliest days to ask for a clearance) and 5 visits
