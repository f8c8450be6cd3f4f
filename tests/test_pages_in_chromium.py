"""What a patient sees, looked at in Debian's Chromium: every exercise picture, the patient's page
at phone width with today's pictures and the phone's own text size, and the large-print handout
as printed. Screenshots go to test-artifacts/ (CI keeps them with its log).

The accessibility check is axe-core (tests/browser/package.json; `.ci/run` installs it with npm):
loaded into the page as it is, run, and no finding of serious or critical impact allowed.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from recovery import pictures

from conftest import ARTIFACTS, CHROMIUM, DRIVER, HERE, run, shot

AXE = HERE / "browser" / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.skipif(
    (CHROMIUM is None or DRIVER is None) and not os.environ.get("CI"),
    reason="Debian's chromium and chromium-driver are not installed",
)


def axe_findings(driver: object) -> list[dict[str, object]]:
    """axe-core's findings on the page in the browser, those of serious or critical impact."""
    if not AXE.is_file():
        if os.environ.get("CI"):
            pytest.fail("CI must install axe-core: npm ci --prefix tests/browser")
        pytest.skip("axe-core is not installed: npm ci --prefix tests/browser")
    driver.execute_script(AXE.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    result = driver.execute_async_script(  # type: ignore[attr-defined]
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations)));"
    )
    found: list[dict[str, object]] = json.loads(result)
    return [
        {"id": f["id"], "impact": f["impact"], "where": [n["html"][:120] for n in f["nodes"]][:3]}  # type: ignore[index,union-attr]
        for f in found
        if f.get("impact") in ("serious", "critical")
    ]


def test_every_picture_drawn_in_chromium_on_both_sides(browser: object, tmp_path: Path) -> None:
    """Each picture, drawn for a right and a left leg, has a visible box and ink inside it."""
    rows = []
    for name in sorted(pictures.catalogue()):
        cells = "".join(f"<td>{pictures.draw(name, side, box=(300, 110))}</td>" for side in ("right", "left"))
        rows.append(f"<tr><th>{name}</th>{cells}</tr>")
    page = tmp_path / "pictures.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Pictures</title></head>'
        f"<body><table>{''.join(rows)}</table></body></html>",
        encoding="utf-8",
    )
    driver = browser
    driver.get(page.as_uri())  # type: ignore[attr-defined]
    boxes = driver.execute_script(  # type: ignore[attr-defined]
        "return [...document.querySelectorAll('svg.exercise-picture')].map(s => {"
        "const r = s.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert len(boxes) == 2 * len(pictures.catalogue())
    assert all(w >= 30 and h >= 25 for w, h in boxes), boxes
    driver.set_window_size(1000, 400 + 120 * len(rows))  # type: ignore[attr-defined]
    path = shot(driver, "every-picture", prefix="pictures")
    from PIL import Image

    with Image.open(path) as image:
        grey = image.convert("L")
        dark = sum(1 for value in grey.getdata() if value < 100)
    assert dark > 20_000  # ink: the figures are drawn, not blank boxes


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_patient_page_at_phone_width_with_today_s_pictures_and_no_serious_accessibility_finding(
    server: str, browser: object, tmp_path: Path, language: str
) -> None:
    from selenium.webdriver.common.by import By

    from recovery.serve.store import Store, connect

    database = f"sqlite:///{tmp_path / 'recovery.db'}"
    key = Store(connect(database)).add_api_key("ehr")
    surgery = date.today() - timedelta(days=50)  # phase 2: bridges, heel slides, ball curls, the bike
    made = httpx.post(
        f"{server}/api/plans",
        json={
            "surgery_date": surgery.isoformat(),
            "timezone": "UTC",
            "side": "right",
            "plan_id": "P-1",
            "language": language,
        },
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    driver = browser
    driver.set_window_size(390, 844)  # type: ignore[attr-defined]
    driver.get(made["patient_url"])  # type: ignore[attr-defined]
    shown = driver.find_elements(By.CSS_SELECTOR, "svg.exercise-picture")  # type: ignore[attr-defined]
    assert len(shown) >= 4
    width = driver.execute_script("return document.documentElement.clientWidth")  # type: ignore[attr-defined]
    for svg in shown:
        box = svg.rect
        assert 0 < box["width"] <= width, box
        assert svg.get_attribute("aria-label")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 390  # type: ignore[attr-defined]
    driver.execute_script("document.getElementById('exercises').scrollIntoView()")  # type: ignore[attr-defined]
    assert driver.execute_script("return document.documentElement.lang") == language  # type: ignore[attr-defined]
    shot(driver, f"phone-todays-exercises-{language}", prefix="patient")
    assert axe_findings(driver) == []

    # The page follows the phone's text size: with a larger default font, the text grows.
    before = driver.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")  # type: ignore[attr-defined]
    driver.execute_script("document.documentElement.style.fontSize = '150%'")  # type: ignore[attr-defined]
    after = driver.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")  # type: ignore[attr-defined]
    assert after == pytest.approx(before * 1.5, rel=0.02)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 390, _widest(driver)  # type: ignore[attr-defined]
    shot(driver, f"phone-text-150-percent-{language}", prefix="patient")


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_large_print_handout_prints_every_text_at_18_pt_or_more_in_strong_contrast(
    browser: object, tmp_path: Path, language: str
) -> None:
    page = tmp_path / "large.html"
    result = run(
        "handout",
        "--surgery-date",
        "2027-03-01",
        "--side",
        "left",
        "--large-print",
        "--language",
        language,
        "-o",
        str(page),
    )
    assert result.exit_code == 0, result.output
    driver = browser
    driver.get(page.as_uri())  # type: ignore[attr-defined]
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})  # type: ignore[attr-defined]
    # Every element that holds text of its own, as printed: its font size in CSS px (18 pt = 24 px)
    # and the contrast of its colour on white.
    measured = driver.execute_script(  # type: ignore[attr-defined]
        "const out = [];"
        "for (const e of document.body.querySelectorAll('*')) {"
        "  if (e.closest('svg') || !e.getClientRects().length) continue;"
        "  const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());"
        "  if (!own) continue;"
        "  const s = getComputedStyle(e);"
        "  out.push([e.tagName, e.textContent.trim().slice(0, 40), parseFloat(s.fontSize), s.color]);"
        "}"
        "return out;"
    )
    assert len(measured) > 100
    small = [m for m in measured if m[2] < 24]
    assert not small, small[:5]
    faint = [m for m in measured if contrast_on_white(m[3]) < 7]
    assert not faint, faint[:5]
    assert axe_findings(driver) == []

    # Printed: pictures as large as the page allows, one column; the pages kept to look at.
    pdf = tmp_path / "large.pdf"
    subprocess.run(
        [CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--user-data-dir={tmp_path / 'print-profile'}", f"--print-to-pdf={pdf}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "50",
            "-png",
            "-f",
            "1",
            "-l",
            "3",
            str(pdf),
            str(ARTIFACTS / f"handout-large-print-{language}"),
        ],
        check=True,
        timeout=120,
    )
    assert len(list(ARTIFACTS.glob(f"handout-large-print-{language}-*.png"))) >= 3


def contrast_on_white(color: str) -> float:
    """The WCAG contrast ratio of an "rgb(r, g, b)" colour on white."""
    r, g, b = (int(part) for part in color[color.index("(") + 1 : color.index(")")].split(",")[:3])

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (luminance + 0.05)


def _widest(driver: object) -> list[object]:
    """What sticks out of a 390 px window: the elements with text beyond its right edge."""
    return driver.execute_script(  # type: ignore[attr-defined]
        "return [...document.querySelectorAll('main *')].filter(e => [...e.childNodes].some(n => {"
        "  if (n.nodeType !== 3) return false; const r = document.createRange(); r.selectNodeContents(n);"
        "  return r.getBoundingClientRect().right > 392; }))"
        ".slice(0, 5).map(e => [e.tagName, e.className, e.scrollWidth, e.clientWidth, e.textContent.slice(0, 60)])"
    )
