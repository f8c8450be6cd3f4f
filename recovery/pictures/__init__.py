"""Exercise pictures: a figure's joints as data (`figures.toml`), drawn as SVG line drawings.

No openly licensed set of pictures covers rehabilitation moves, so the project draws its own. Each
picture is one or two poses of one stick figure seen from the side (start, then end position),
with the few props the move needs (a ball, a chair, a band). A pose gives the hip's place and the
direction of each body segment in degrees (0 = the way the figure faces, 90 = up), so the
proportions stay right whatever the pose. The operated leg is the near leg, drawn black and
thicker; the other leg is grey, so the two stay apart printed in black and white. Given the
patient's side, the figure turns so that side faces the reader: seen from the right, a figure
faces right.

`figures.toml` states the pictures' licence (CC BY 4.0, the project's own) and alt text beside
each pose, in machine-readable form; a picture from elsewhere would carry its `source` and
`licence` there. This module knows nothing of protocols or schedules: the protocol names a
picture by id, validation asks `names()`, and the writers call `draw`.
"""

from __future__ import annotations

import math
import tomllib
from functools import cache
from importlib.resources import files
from typing import Any

from recovery.records import record

#: Segment lengths, in drawing units (about a tenth of a person's height each 17 units).
TORSO, NECK, HEAD = 46.0, 12.0, 8.5
UPPER_ARM, FOREARM = 24.0, 22.0
THIGH, SHIN, FOOT, HEEL = 40.0, 38.0, 13.0, 4.0
#: The operated leg, the rest of the body and the other leg; props are thinner and lighter.
INK, BODY, OTHER, PROP = "#000", "#3a3a3a", "#9a9a9a", "#6a6a6a"
MARGIN, PANEL_GAP = 10.0, 34.0


@record
class Picture:
    """One picture: its alt text, licence, and one or two poses with their props."""

    id: str
    alt: str
    licence: str
    author: str
    source: str
    poses: tuple[dict[str, Any], ...]
    #: The alt text in other languages, by language code ("es").
    alts: dict[str, str]

    def alt_in(self, language: str) -> str:
        """The alt text in `language`, or in English where the picture has none in it."""
        return self.alts.get(language, self.alt)


@cache
def catalogue() -> dict[str, Picture]:
    """Every bundled picture by id, read once from `figures.toml` (a file of the package)."""
    data = tomllib.loads(files(__package__).joinpath("figures.toml").read_text(encoding="utf-8"))
    licence, author = data.pop("licence"), data.pop("author")
    return {
        name: Picture(
            id=name,
            alt=entry["alt"],
            licence=entry.get("licence", licence),
            author=entry.get("author", author),
            source=entry.get("source", ""),
            poses=tuple(entry["poses"]),
            alts={key.removeprefix("alt_"): text for key, text in entry.items() if key.startswith("alt_")},
        )
        for name, entry in data.items()
    }


def names() -> frozenset[str]:
    """The ids a protocol may name in an exercise's `pictures`."""
    return frozenset(catalogue())


Point = tuple[float, float]


def _towards(point: Point, angle: float, length: float) -> Point:
    rad = math.radians(angle)
    return point[0] + length * math.cos(rad), point[1] + length * math.sin(rad)


def _reach(start: Point, end: Point, first: float, second: float, bend: str) -> tuple[float, float]:
    """The directions of two segments from `start` that put their far end on `end` (or as near
    as they reach), the middle joint bent `bend`: forward, back, up or down."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    span = min(math.hypot(dx, dy), first + second - 1e-6)
    towards = math.degrees(math.atan2(dy, dx))
    spread = math.degrees(math.acos(max(-1.0, min(1.0, (first**2 + span**2 - second**2) / (2 * first * span)))))
    choices = []
    for angle in (towards + spread, towards - spread):
        middle = _towards(start, angle, first)
        outer = math.degrees(math.atan2(start[1] + dy - middle[1], start[0] + dx - middle[0]))
        choices.append((middle, angle, outer))
    key = {
        "forward": lambda c: -c[0][0],
        "back": lambda c: c[0][0],
        "up": lambda c: -c[0][1],
        "down": lambda c: c[0][1],
    }
    _, angle, outer = min(choices, key=key[bend])
    return angle, outer


def joints(pose: dict[str, Any]) -> dict[str, Point]:
    """Where each joint of a pose is, in drawing units with y up (the floor is y = 0).

    A limb is written as the directions of its segments (`leg = [thigh, shin, foot]`, `arm =
    [upper arm, forearm]`) or by where it ends (`leg = {ankle = [x, y], foot = 0, bend = "up"}`,
    `arm = {hand = [x, y]}`), the joint between bent forward for a knee and down for an elbow
    unless `bend` says otherwise.
    """
    hip = (float(pose["hip"][0]), float(pose["hip"][1]))
    at = {"hip": hip}
    at["shoulder"] = _towards(hip, pose["torso"], TORSO)
    at["head"] = _towards(at["shoulder"], pose.get("head", pose["torso"]), NECK)
    for arm in ("arm", "far_arm"):
        spec = pose.get(arm, pose.get("arm", [-80, -60]))
        if isinstance(spec, dict):
            upper, fore = _reach(at["shoulder"], tuple(spec["hand"]), UPPER_ARM, FOREARM, spec.get("bend", "down"))
        else:
            upper, fore = spec
        at[f"{arm}.elbow"] = _towards(at["shoulder"], upper, UPPER_ARM)
        at[f"{arm}.hand"] = _towards(at[f"{arm}.elbow"], fore, FOREARM)
    for leg in ("leg", "other"):
        spec = pose[leg]
        if isinstance(spec, dict):
            thigh, shin = _reach(hip, tuple(spec["ankle"]), THIGH, SHIN, spec.get("bend", "forward"))
            foot = spec.get("foot", 0)
        else:
            thigh, shin, foot = spec
        at[f"{leg}.knee"] = _towards(hip, thigh, THIGH)
        at[f"{leg}.ankle"] = _towards(at[f"{leg}.knee"], shin, SHIN)
        at[f"{leg}.toe"] = _towards(at[f"{leg}.ankle"], foot, FOOT)
        at[f"{leg}.heel"] = _towards(at[f"{leg}.ankle"], foot + 180, HEEL)
    at["face"] = _towards(at["head"], pose.get("face", pose.get("head", pose["torso"]) - 90), HEAD + 3)
    return at


def _point(at: dict[str, Point], where: Any) -> Point:
    """A prop's place: a joint's name ("leg.heel"), a joint with an offset, or coordinates."""
    if isinstance(where, str):
        return at[where]
    if isinstance(where[0], str):
        x, y = at[where[0]]
        return x + where[1], y + where[2]
    return float(where[0]), float(where[1])


def _end(shape: dict[str, Any], at: dict[str, Point]) -> Point:
    if "to" in shape:
        return _point(at, shape["to"])
    return _towards(_point(at, shape["at"]), shape.get("angle", 0), shape.get("length", 18))


def _extent(pose: dict[str, Any]) -> tuple[float, float, float, float]:
    """The smallest box around a pose's figure and props: (left, bottom, right, top)."""
    at = joints(pose)
    points = list(at.values())
    hx, hy = at["head"]
    points += [(hx - HEAD, hy - HEAD), (hx + HEAD, hy + HEAD), (hx, 0.0)]
    for prop in pose.get("props", []):
        kind, start = prop["kind"], _point(at, prop["at"])
        if kind in ("circle", "ball", "pedals"):
            r = prop["r"]
            points += [(start[0] - r, start[1] - r), (start[0] + r, start[1] + r)]
        elif kind in ("arrow", "band", "line", "frame"):
            points += [start, _end(prop, at)]
        else:
            points += [start, (start[0] + prop["w"], start[1] + prop["h"])]
    return (
        min(x for x, _ in points),
        min(y for _, y in points),
        max(x for x, _ in points),
        max(y for _, y in points),
    )


def _xy(p: Point) -> str:
    return f"{p[0]:.1f},{-p[1]:.1f}"


def _polyline(points: list[Point], cls: str) -> str:
    return f'<polyline {LOOKS[cls]} points="{" ".join(_xy(p) for p in points)}"/>'


def _arrow(a: Point, b: Point, cls: str = "move") -> str:
    """A line from a to b with a filled head at b (y up, as every point here)."""
    angle = math.atan2(b[1] - a[1], b[0] - a[0])
    left = (b[0] - 8 * math.cos(angle - 0.5), b[1] - 8 * math.sin(angle - 0.5))
    right = (b[0] - 8 * math.cos(angle + 0.5), b[1] - 8 * math.sin(angle + 0.5))
    return _polyline([a, b], cls) + f'<polygon {LOOKS[cls + "-head"]} points="{_xy(b)} {_xy(left)} {_xy(right)}"/>'


def _prop(prop: dict[str, Any], at: dict[str, Point]) -> str:
    kind, start = prop["kind"], _point(at, prop["at"])
    if kind == "arrow":
        return _arrow(start, _end(prop, at))
    if kind in ("band", "line", "frame"):
        return _polyline([start, _end(prop, at)], "prop" if kind == "line" else kind)
    if kind in ("circle", "ball", "pedals"):
        return f'<circle {LOOKS["ball" if kind == "ball" else "prop"]} cx="{start[0]:.1f}" cy="{-start[1]:.1f}" r="{prop["r"]:.1f}"/>'
    if kind == "water":
        x, y = start
        waves = " ".join("q 5 -4 10 0 q 5 4 10 0" for _ in range(int(prop["w"] // 20)))
        return f'<path {LOOKS["water"]} d="M {x:.1f} {-y:.1f} {waves}"/>'
    x, y = start
    rounded = ' rx="3"' if kind in ("pillow", "ice", "strap") else ""
    cls = "ice" if kind == "ice" else "prop"
    return f'<rect {LOOKS[cls]} x="{x:.1f}" y="{-(y + prop["h"]):.1f}" width="{prop["w"]:.1f}" height="{prop["h"]:.1f}"{rounded}/>'


def _figure(pose: dict[str, Any]) -> list[str]:
    """One pose drawn in drawing units (the SVG's y axis flipped by `_xy`): props behind the
    figure, the far limbs grey, the operated leg black on top, motion arrows last."""
    at = joints(pose)
    props = pose.get("props", [])
    parts = [_prop(p, at) for p in props if p["kind"] not in ("arrow", "ice", "strap", "band")]
    parts.append(_polyline([at["shoulder"], at["far_arm.elbow"], at["far_arm.hand"]], "far"))
    parts.append(
        _polyline([at["hip"], at["other.knee"], at["other.ankle"], at["other.heel"], at["other.toe"]], "other")
    )
    parts.append(_polyline([at["hip"], at["shoulder"]], "body"))
    parts.append(_polyline([at["head"], at["face"]], "nose"))
    hx, hy = at["head"]
    parts.append(f'<circle {LOOKS["head"]} cx="{hx:.1f}" cy="{-hy:.1f}" r="{HEAD:.1f}"/>')
    parts.append(_polyline([at["hip"], at["leg.knee"], at["leg.ankle"], at["leg.heel"], at["leg.toe"]], "leg"))
    if pose.get("boot"):
        knee, ankle = at["leg.knee"], at["leg.ankle"]
        top = (ankle[0] + (knee[0] - ankle[0]) * 0.6, ankle[1] + (knee[1] - ankle[1]) * 0.6)
        boot = [top, ankle, at["leg.heel"], at["leg.toe"]]
        parts += [_polyline(boot, "boot-edge"), _polyline(boot, "boot")]
    parts.append(_polyline([at["shoulder"], at["arm.elbow"], at["arm.hand"]], "arm"))
    parts += [_prop(p, at) for p in props if p["kind"] in ("arrow", "ice", "strap", "band")]
    return parts


def _look(stroke: str, width: float, fill: str = "none", scaled: bool = False, dashes: str = "") -> str:
    """SVG presentation attributes: no style sheet, so a picture looks the same inline in any page
    (whatever its Content-Security-Policy allows), in a file, or printed. A line keeps its width
    in pixels however small the picture is drawn (`non-scaling-stroke`), so a picture in a
    handout's table reads as well as one on a phone; the boot is a shape and scales with the leg."""
    look = f'fill="{fill}" stroke="{stroke}" stroke-width="{width}" stroke-linecap="round" stroke-linejoin="round"'
    look += "" if scaled else ' vector-effect="non-scaling-stroke"'
    return look + (f' stroke-dasharray="{dashes}"' if dashes else "")


#: One look for every picture, by part.
LOOKS = {
    "body": _look(BODY, 3.4),
    "arm": _look(BODY, 2.6),
    "far": _look(OTHER, 2.2),
    "head": _look(BODY, 1.8, fill="#fff"),
    "nose": _look(BODY, 1.8),
    "leg": _look(INK, 4),
    "other": _look(OTHER, 2.6),
    "boot-edge": _look(INK, 14, scaled=True),
    "boot": _look("#d0d0d0", 10, scaled=True),
    "prop": _look(PROP, 1, fill="#f0f0f0"),
    "ball": _look(PROP, 1, fill="#e4e4e4"),
    "ice": _look(INK, 1, fill="#fff", dashes="2 1.5"),
    "band": _look(PROP, 1.2, dashes="3 2"),
    "water": _look(PROP, 1),
    "frame": _look(PROP, 2.4),
    "floor": _look(PROP, 1),
    "move": _look(INK, 1.4),
    "move-head": f'fill="{INK}" stroke="none"',
    "then": _look(PROP, 1.4),
    "then-head": f'fill="{PROP}" stroke="none"',
}


def draw(name: str, side: str | None = None, box: tuple[float, float] | None = None, language: str = "en") -> str:
    """Picture `name` as an SVG element: the figure faces right, or left for `side="left"`.
    With `box` (a width and height in CSS pixels), it has the width and height of the largest
    picture of its shape that fits the box: a row of pictures keeps one height.

    Each pose is a nested `<svg>` (which clips it to its panel) of the same size, one scale for
    all. The SVG holds its alt text as `aria-label` and `<title>`, and names no ids, so any number
    of pictures can sit inline in one page.
    """
    picture = catalogue()[name]
    boxes = [_extent(pose) for pose in picture.poses]
    crop = picture.poses[0].get("crop")
    if crop:
        left, bottom, right, top = crop
    else:
        left = min(b[0] for b in boxes) - MARGIN
        right = max(b[2] for b in boxes) + MARGIN
        top = max(b[3] for b in boxes) + MARGIN
        bottom = min(min(b[1] for b in boxes), 0.0) - 4
    width, height = right - left, top - bottom
    mirror = ' transform="scale(-1 1)"' if side == "left" else ""
    view_left = -right if side == "left" else left
    parts = []
    for index, pose in enumerate(picture.poses):
        x = index * (width + PANEL_GAP)
        floor = (
            f'<line {LOOKS["floor"]} x1="{left:.1f}" y1="0" x2="{right:.1f}" y2="0"/>'
            if pose.get("floor", True)
            else ""
        )
        parts.append(
            f'<svg x="{x:.1f}" y="0" width="{width:.1f}" height="{height:.1f}" '
            f'viewBox="{view_left:.1f} {-top:.1f} {width:.1f} {height:.1f}"><g{mirror}>{floor}'
            + "".join(_figure(pose))
            + "</g></svg>"
        )
        if index + 1 < len(picture.poses):
            y = height / 2
            parts.append(_arrow((x + width + 6, -y), (x + width + PANEL_GAP - 8, -y), "then"))
    total = len(picture.poses) * width + (len(picture.poses) - 1) * PANEL_GAP
    alt = _escaped(picture.alt_in(language))
    scale = min(box[0] / total, box[1] / height) if box else 0
    size = f'width="{total * scale:.0f}" height="{height * scale:.0f}" ' if box else ""
    return (
        f'<svg class="exercise-picture" xmlns="http://www.w3.org/2000/svg" {size}viewBox="0 0 {total:.1f} {height:.1f}" '
        f'role="img" aria-label="{alt}"><title>{alt}</title>{"".join(parts)}</svg>'
    )


#: Where a licence is named in a picture file: the Creative Commons licence's own address.
LICENCES = {"CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/"}


def standalone(name: str, side: str | None = None) -> str:
    """Picture `name` as an SVG file: 480 pixels wide, its licence, author and source inside as
    RDF metadata (the Creative Commons way, which Inkscape and image searches read)."""
    picture = catalogue()[name]
    svg = draw(name, side)
    total, height = (float(v) for v in svg.split('viewBox="0 0 ', 1)[1].split('"', 1)[0].split())
    size = f'width="480" height="{480 * height / total:.0f}" '
    licence = LICENCES.get(picture.licence, picture.licence)
    source = f"<dc:source>{_escaped(picture.source)}</dc:source>" if picture.source else ""
    metadata = (
        '<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:cc="http://creativecommons.org/ns#">'
        f'<cc:Work rdf:about=""><dc:title>{_escaped(name)}</dc:title>'
        f"<dc:description>{_escaped(picture.alt)}</dc:description>"
        f"<dc:creator>{_escaped(picture.author)}</dc:creator>{source}"
        f'<cc:license rdf:resource="{_escaped(licence)}"/></cc:Work></rdf:RDF></metadata>'
    )
    head, rest = svg.split("viewBox=", 1)
    body = head + size + "viewBox=" + rest
    title_end = body.index("</title>") + len("</title>")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body[:title_end] + metadata + body[title_end:] + "\n"


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
