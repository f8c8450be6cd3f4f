"""The handout as a patient prints it: Chromium (Debian's package) prints it to PDF on US Letter
and on A4, and the pages are measured: at most four, none but the last less than half full, and
no label of the timeline smaller than 9 pt. In CI this test must run, not skip."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ARTIFACTS, blanks, run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOOLS = CHROMIUM is not None and shutil.which("pdfinfo") is not None and shutil.which("pdftoppm") is not None
needs_chromium = pytest.mark.skipif(
    not TOOLS and not os.environ.get("CI"), reason="Debian's chromium and poppler-utils are not installed"
)
#: Chromium started as the machine allows it: no sandbox (root), no network, nothing remembered.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-pdf-header-footer",
]  # fmt: skip
PAPER = {"Letter": (612.0, 792.0), "A4": (595.0, 842.0)}


def printed(html: Path, paper: str, folder: Path) -> Path:
    """The handout printed by Chromium on that paper, as a PDF."""
    assert CHROMIUM is not None, "CI must install Debian's chromium (see .ci/run)"
    page = folder / f"{html.stem}-{paper}.html"
    page.write_text(html.read_text().replace("</style>", f"@page {{ size: {paper}; }}</style>", 1))
    pdf = folder / f"{html.stem}-{paper}.pdf"
    profile = folder / f"profile-{paper}"
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", page.as_uri()]
    subprocess.run(command, capture_output=True, timeout=120, check=True)
    return pdf


def fullness(pdf: Path, folder: Path) -> list[float]:
    """How far down each page its content reaches (0 to 1), read from the pages as grey pictures."""
    prefix = folder / pdf.stem
    subprocess.run(["pdftoppm", "-r", "20", "-gray", str(pdf), str(prefix)], check=True, timeout=120)
    found = []
    for picture in sorted(folder.glob(f"{pdf.stem}-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1])):
        data = picture.read_bytes()
        _, width, height, _, pixels = re.match(rb"(P5)\s+(\d+)\s+(\d+)\s+(\d+)\s(.*)", data, re.S).groups()  # type: ignore[union-attr]
        width, height = int(width), int(height)
        rows = [pixels[y * width : (y + 1) * width] for y in range(height)]
        inked = [y for y, row in enumerate(rows) if min(row) < 200]
        found.append((max(inked) + 1) / height if inked else 0.0)
    return found


@needs_chromium
@pytest.mark.parametrize(
    "protocol",
    [
        "proximal-hamstring-repair",
        "achilles-tendon-repair",
        "proximal-hamstring-tendinopathy",
        "hamstring-syndrome",
        "proximal-hamstring-avulsion-nonoperative",
        "hamstring-strain",
    ],
)
@pytest.mark.parametrize("paper", ["Letter", "A4"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_printed_handout_is_at_most_four_full_pages(tmp_path, protocol: str, paper: str, language: str) -> None:
    """Four pages in English; Spanish says the same in about a fifth more words: at most five."""
    html = tmp_path / "plan.html"
    result = run("handout", "--surgery-date", "2027-03-01", "--protocol", protocol, "--side", "left",
                 "--language", language, "-o", str(html), *blanks(protocol))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    pdf = printed(html, paper, tmp_path)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())  # type: ignore[union-attr]
    assert (round(width), round(height)) == tuple(map(round, PAPER[paper]))
    assert pages <= (4 if language == "en" else 5), f"{pages} pages on {paper}"
    reach = fullness(pdf, tmp_path)
    assert len(reach) == pages
    if paper == "Letter":  # the pages kept to look at, pictures and wallet card included
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        prefix = ARTIFACTS / f"handout-{protocol}-{language}"
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(prefix)], check=True, timeout=120)
    assert all(filled >= 0.5 for filled in reach[:-1]), reach


def test_no_label_of_the_timeline_prints_smaller_than_9_pt() -> None:
    """The timeline is drawn 720 units wide and printed across the page; each font size in its
    units, times the printed width over 720, is the size on paper (A4 is the narrower paper)."""
    from recovery.writers.handout import WIDTH

    template = (Path(__file__).parent.parent / "recovery" / "writers" / "templates" / "handout.html.j2").read_text()
    sizes = [float(size) for size in re.findall(r"svg \.[\w-]+ \{[^}]*font-size: ([\d.]+)px", template)]
    margins = re.search(r"@page \{ margin: [\d.]+mm ([\d.]+)mm; \}", template)
    assert sizes
    assert margins
    printed_width = (210 - 2 * float(margins.group(1))) / 25.4 * 72
    assert min(sizes) * printed_width / WIDTH >= 9, (sizes, printed_width)


def test_the_patients_copy_has_dates_and_no_sources_unless_asked(tmp_path) -> None:
    html = tmp_path / "plan.html"
    run("handout", "--surgery-date", "2027-03-01", "-o", str(html))
    text = html.read_text()
    assert "Sources of this protocol" not in text
    assert "Read first" not in text
    glance = text[text.index('id="course"') : text.index('id="phases"')]
    assert not re.search(r"\bdays? \d", glance)  # the picture's table gives dates, not day numbers
    assert "Mon 26 Apr 2027" in glance
    run("handout", "--surgery-date", "2027-03-01", "--sources", "-o", str(html))
    assert "For your clinician: sources of this protocol" in html.read_text()
