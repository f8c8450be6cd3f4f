"""Exercise pictures: every bundled exercise has one, each drawing is sound SVG with its alt text
and licence, the figure turns to the patient's side, and the handout, the patient's page and
`recovery pictures` show them (issue: pictures, large print, a second language)."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from recovery import pictures
from recovery.cli import main
from recovery.protocol import loader
from recovery.schedule.build import build
from recovery.schedule.plan import Plan
from recovery.writers.handout import to_handout

from conftest import HERE

SVG = "{http://www.w3.org/2000/svg}"
BUNDLED = ("proximal-hamstring-repair", "achilles-tendon-repair")
NAMES = sorted(pictures.catalogue())


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


# ---------------------------------------------------------------- the drawings


@pytest.mark.parametrize("protocol", BUNDLED)
def test_every_exercise_of_a_bundled_protocol_has_a_picture_that_exists(protocol: str) -> None:
    loaded = loader.load(protocol)
    exercises = [r for r in loaded.routines if not r.medication]
    assert exercises
    for routine in exercises:
        assert routine.pictures, routine.id
        assert set(routine.pictures) <= set(NAMES), routine.id
    assert all(not r.pictures for r in loaded.routines if r.medication)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("side", [None, "left", "right"])
def test_a_picture_is_svg_with_its_alt_text_and_nothing_that_could_clash_with_a_page(
    name: str, side: str | None
) -> None:
    svg = pictures.draw(name, side, box=(140, 44))
    root = parsed(svg)
    alt = pictures.catalogue()[name].alt
    assert root.get("role") == "img"
    assert root.get("aria-label") == alt
    assert root.find(f"{SVG}title").text == alt  # type: ignore[union-attr]
    # no ids (many pictures sit in one page), no style sheet or script (the page's policy forbids them)
    assert all(element.get("id") is None for element in root.iter())
    assert not [e for e in root.iter() if e.tag in (f"{SVG}style", f"{SVG}script", f"{SVG}image", f"{SVG}a")]
    assert float(root.get("width")) <= 140.5
    assert float(root.get("height")) <= 44.5
    panels = root.findall(f"{SVG}svg")
    assert len(panels) == len(pictures.catalogue()[name].poses) in (1, 2)
    # the operated leg: one black line, thicker than every other line of the figure
    for panel in panels:
        black = [e for e in panel.iter(f"{SVG}polyline") if e.get("stroke") == "#000" and e.get("stroke-width") == "4"]
        assert len(black) == 1
        widths = [float(e.get("stroke-width", 0)) for e in panel.iter(f"{SVG}polyline") if e.get("vector-effect")]
        assert max(widths) == 4


@pytest.mark.parametrize("name", NAMES)
def test_no_part_of_a_figure_goes_through_the_floor_and_every_limb_keeps_its_length(name: str) -> None:
    for pose in pictures.catalogue()[name].poses:
        at = pictures.joints(pose)
        for joint, (_x, y) in at.items():
            assert y >= -1.0, f"{name}: {joint} is below the floor ({y:.1f})"
        for leg in ("leg", "other"):
            assert math.dist(at["hip"], at[f"{leg}.knee"]) == pytest.approx(pictures.THIGH)
            assert math.dist(at[f"{leg}.knee"], at[f"{leg}.ankle"]) == pytest.approx(pictures.SHIN)
        assert math.dist(at["hip"], at["shoulder"]) == pytest.approx(pictures.TORSO)


@given(
    st.floats(-60, 60),
    st.floats(5, 120),
    st.floats(0, 2 * math.pi),
    st.floats(5, 77),
    st.sampled_from(["forward", "back", "up", "down"]),
)
def test_a_limb_given_by_where_it_ends_ends_there(x: float, y: float, angle: float, reach: float, bend: str) -> None:
    """The two-segment reach puts the ankle on its target whenever the leg is long enough."""
    target = [x + reach * math.cos(angle), y + reach * math.sin(angle)]
    pose = {"hip": [x, y], "torso": 90, "leg": {"ankle": target, "bend": bend}, "other": [-90, -90, 0]}
    at = pictures.joints(pose)
    assert math.dist(at["leg.ankle"], target) < 1e-6
    knee, mirror = at["leg.knee"], _mirrored_knee((x, y), target, at["leg.knee"])
    # of the two ways the knee could bend, the one asked for
    e = 1e-6  # a tie (the target straight ahead, say) is either way
    chosen = {
        "forward": knee[0] >= mirror[0] - e,
        "back": knee[0] <= mirror[0] + e,
        "up": knee[1] >= mirror[1] - e,
        "down": knee[1] <= mirror[1] + e,
    }
    assert chosen[bend]


def _mirrored_knee(hip: tuple[float, float], ankle: list[float], knee: tuple[float, float]) -> tuple[float, float]:
    """The knee reflected across the line from hip to ankle: the other way the leg could bend."""
    dx, dy = ankle[0] - hip[0], ankle[1] - hip[1]
    length = dx * dx + dy * dy
    t = ((knee[0] - hip[0]) * dx + (knee[1] - hip[1]) * dy) / length
    foot = (hip[0] + t * dx, hip[1] + t * dy)
    return 2 * foot[0] - knee[0], 2 * foot[1] - knee[1]


def test_the_figure_faces_the_patient_s_side() -> None:
    """Seen from the right, a figure faces right; given the left side, it is mirrored."""
    views = {}
    for side, expected in ((None, None), ("right", None), ("left", "scale(-1 1)")):
        panel = parsed(pictures.draw("stand-on-one-leg", side)).find(f"{SVG}svg")
        assert panel is not None
        assert panel.find(f"{SVG}g").get("transform") == expected  # type: ignore[union-attr]
        views[side] = [float(v) for v in panel.get("viewBox", "").split()]
    assert views[None] == views["right"]
    left, right = views["left"], views["right"]
    assert left[0] == pytest.approx(-(right[0] + right[2]))
    assert left[1:] == right[1:]


def test_a_picture_file_states_its_licence_and_author_in_machine_readable_form(tmp_path: Path) -> None:
    out = tmp_path / "heel-slide.svg"
    result = CliRunner().invoke(main, ["pictures", "heel-slide", "--side", "left", "-o", str(out)])
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()
    rdf = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
    work = root.find(f"{SVG}metadata/{rdf}RDF/{{http://creativecommons.org/ns#}}Work")
    assert work is not None
    licence = work.find("{http://creativecommons.org/ns#}license")
    assert licence is not None
    assert licence.get(f"{rdf}resource") == "https://creativecommons.org/licenses/by/4.0/"
    assert work.find("{http://purl.org/dc/elements/1.1/}creator").text == "The recovery project contributors"  # type: ignore[union-attr]
    assert root.get("width") == "480"
    # the catalogue itself says it, for every picture
    assert {p.licence for p in pictures.catalogue().values()} == {"CC-BY-4.0"}
    assert all(p.alt.endswith(".") and len(p.alt) > 20 for p in pictures.catalogue().values())


def test_recovery_pictures_lists_every_picture_and_refuses_an_unknown_one() -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["pictures"])
    assert listed.exit_code == 0
    assert all(f"{name} " in listed.output for name in NAMES)
    assert f"{len(NAMES)} pictures; licence CC-BY-4.0" in listed.output
    wrong = runner.invoke(main, ["pictures", "heel-slid"])
    assert wrong.exit_code == 2
    assert 'did you mean "heel-slide"' in wrong.output
    assert "Traceback" not in wrong.output
    assert runner.invoke(main, ["pictures", "-o", "x.svg"]).exit_code == 2


# ---------------------------------------------------------------- what validate says


def _file(tmp_path: Path, pictures_line: str, medication: bool = False) -> Path:
    path = tmp_path / "clinic.toml"
    path.write_text(
        'id = "clinic"\ntitle = "Clinic"\nversion = "1"\nreferences = ["CLINIC: a clinic default"]\n'
        '[[phases]]\nid = "early"\ntitle = "Early"\nstart = "day 0"\nend = "day 20"\nsources = ["CLINIC"]\n'
        '[[routines]]\nid = "slides"\ntitle = "Heel slides"\nduring = "early"\ntimes = ["morning"]\n'
        f'minutes = 5\nsources = ["CLINIC"]\n{pictures_line}\n'
        + ("medication = true\n" if medication else "")
        + '[[red_flags]]\nsign = "Chest pain"\naction = "Call your local emergency number now."\nemergency = true\n'
    )
    return path


def test_an_exercise_without_a_picture_is_a_warning_and_an_error_when_strict(tmp_path: Path) -> None:
    path = _file(tmp_path, "")
    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 0
    assert "routines[id=slides].pictures: an exercise without a picture" in result.stderr
    strict = runner.invoke(main, ["validate", "--strict", str(path)])
    assert strict.exit_code == 1
    assert f"error: {path}: routines[id=slides].pictures: an exercise without a picture" in strict.stderr
    # a calendar is still made: the surgeon's file is the surgeon's decision
    made = runner.invoke(
        main, ["generate", "--protocol", str(path), "--surgery-date", "2027-03-01", "-o", str(tmp_path / "a.ics")]
    )
    assert made.exit_code == 0, made.output


def test_an_unknown_picture_is_an_error_that_offers_the_nearest_name(tmp_path: Path) -> None:
    path = _file(tmp_path, 'pictures = ["heel-slides", "bike"]')
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert (
        f'error: {path}: routines[id=slides].pictures[0]: "heel-slides" is not a picture; did you mean "heel-slide"?'
        in result.stderr
    )
    assert "pictures[1]" not in result.stderr
    assert not list(tmp_path.glob("*.ics"))


def test_a_medicine_shows_no_exercise_picture(tmp_path: Path) -> None:
    path = _file(tmp_path, 'pictures = ["bike"]', medication=True)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "routines[id=slides].pictures: a medicine reminder shows no exercise picture" in result.stderr


# ---------------------------------------------------------------- where the pictures appear


@pytest.mark.parametrize("protocol", BUNDLED)
def test_the_handout_shows_each_exercise_s_pictures_beside_it_on_the_patient_s_side(protocol: str) -> None:
    schedule = build(loader.load(protocol), Plan(date(2027, 3, 1), side="left"))
    page = to_handout(schedule)
    expected = sum(
        len(group[0].pictures) for phase in schedule.phases for group in schedule.routines_of(phase).values()
    )
    assert page.count('class="exercise-picture"') == expected > 5
    for series in schedule.routines:
        for name in series.pictures:
            assert f'aria-label="{pictures.catalogue()[name].alt}"' in page
    assert page.count('transform="scale(-1 1)"') >= expected  # drawn with the left side toward the reader


def test_a_dose_reads_as_plain_words(tmp_path: Path) -> None:
    path = tmp_path / "dosed.toml"
    path.write_text(
        (HERE / "protocols" / "dose-without-a-source.toml")
        .read_text()
        .replace("reps = 10 }", "reps = 10, hold_seconds = 5 }")
    )
    schedule = build(loader.load(path), Plan(date(2027, 3, 1)))
    assert schedule.routines[0].dose == "3 sets of 10, hold each 5 seconds"
    assert "3 sets of 10, hold each 5 seconds" in to_handout(schedule)


def test_with_no_number_to_call_the_handout_leaves_a_line_to_write_it_and_a_wallet_card(tmp_path: Path) -> None:
    schedule = build(loader.load("proximal-hamstring-repair"), Plan(date(2027, 3, 1), side="right"))
    assert not schedule.contact
    page = to_handout(schedule)
    assert 'call your surgical team. Their number: <span class="blank"' in page
    card = page[page.index('<section class="card"') : page.index("</section>", page.index('<section class="card"'))]
    assert "Cut out and keep with you" in card
    assert "Proximal hamstring repair, right side" in card
    assert "Surgery: Mon 01 Mar 2027" in card
    assert '<strong>My surgical team:</strong> <span class="blank">' in card
    assert "Call your local emergency number</strong> for: chest pain" in card
    with_contact = to_handout(
        build(loader.load("proximal-hamstring-repair"), Plan(date(2027, 3, 1), contact="Ward 7: 555-0177"))
    )
    assert "Their number" not in with_contact
    assert "<strong>My surgical team:</strong> Ward 7: 555-0177" in with_contact


def test_the_patient_page_shows_today_s_exercises_with_their_pictures(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from recovery.serve.app import create_app

    base = "https://recovery.clinic.example"
    client = TestClient(create_app(f"sqlite:///{tmp_path / 'r.db'}", secret_key="s", base_url=base), base_url=base)
    store = client.app.state.store  # type: ignore[attr-defined]
    key = {"Authorization": f"Bearer {store.add_api_key('ehr')}"}
    surgery = date.today() - timedelta(days=50)  # phase 2: bridges, heel slides, ball curls, the bike
    made = client.post(
        "/api/plans",
        json={"surgery_date": surgery.isoformat(), "timezone": "UTC", "side": "left", "plan_id": "P-1"},
        headers=key,
    ).json()
    page = client.get(str(made["patient_url"]).removeprefix(base)).text
    assert "Today&#39;s exercises" in page
    assert "the black leg is your left leg, the one operated on" in page
    assert page.count('class="exercise-picture"') >= 4
    assert f'aria-label="{pictures.catalogue()["heel-slide"].alt}"' in page
    assert "<style" not in page.split("<body", 1)[1]  # the page's policy forbids inline style
    # the feed's exercise sessions point to the page for their pictures, without its secret link
    feed = client.get(str(made["feed_url"]).removeprefix(base)).text.replace("\r\n ", "")
    assert "Pictures of these exercises: on your plan's page" in feed
    assert token_of_link(str(made["patient_url"])) not in feed
    handout = client.get(str(made["patient_url"]).removeprefix(base) + "/handout")
    assert handout.status_code == 200
    assert 'class="card-qr"' in handout.text  # the wallet card leads back to the page


def test_a_batch_writes_handouts_and_a_row_may_ask_for_large_print(tmp_path: Path) -> None:
    (tmp_path / "plans.csv").write_text("surgery-date,side,large-print\n2027-03-01,left,no\n2027-03-08,right,yes\n")
    result = CliRunner().invoke(
        main, ["batch", str(tmp_path / "plans.csv"), "--out-dir", str(tmp_path / "out"), "--format", "html"]
    )
    assert result.exit_code == 0, result.output
    normal = (tmp_path / "out" / "proximal-hamstring-repair-2027-03-01-line2.html").read_text()
    large = (tmp_path / "out" / "proximal-hamstring-repair-2027-03-08-line3.html").read_text()
    assert '<html lang="en">' in normal
    assert '<html lang="en" class="large">' in large
    assert normal.count('class="exercise-picture"') == large.count('class="exercise-picture"') > 5
    assert "left side" in normal
    assert "right side" in large


def token_of_link(url: str) -> str:
    return url.rsplit("/", 1)[1]
