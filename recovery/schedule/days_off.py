"""Public holidays: the days a clinic is likely closed, so that visits are not placed on them.

A plan's country is the one it names (an ISO 3166 code such as US), else the country of its
time zone in the time zone database's own table (`zone.tab`: America/New_York is in the US); a
zone with no country (UTC) or the country "none" has no holidays. The dates come from the
`holidays` package, a well-kept calendar of national holidays for about 170 countries, and are
kept in the program's cache under that package's version, since working them out costs about a
tenth of a second a country.
"""

from __future__ import annotations

import importlib.util
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path

from recovery.cache import Cache, digest
from recovery.digests import sha256
from recovery.errors import PlanError, Problem

#: How many years after the surgery year a plan's visits can fall in.
YEARS_AHEAD = 2
#: The country that turns holidays off.
NO_COUNTRY = "none"


def country_of(plan_country: str | None, timezone: str) -> str:
    """The plan's country, or its zone's ("" when it has none, or the plan says none)."""
    if plan_country:
        return "" if plan_country == NO_COUNTRY else plan_country
    return _zone_countries().get(timezone, "")


@cache
def _zone_countries() -> dict[str, str]:
    """Zone name → ISO 3166 country code, from the zone database's `zone.tab`."""
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        return {}
    found = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#"):
            found[fields[2]] = fields[0]
    return found


def days_off(country: str, first_year: int, cache: Cache | None = None) -> dict[date, str]:
    """The public holidays of a country from `first_year` to YEARS_AHEAD years later: date →
    name. Unknown countries are a PlanError naming the field."""
    if not country:
        return {}
    key = digest(f"{country}-{first_year}-{YEARS_AHEAD}".encode(), _package_version().encode())
    kept = cache.get("holidays", key) if cache is not None else None
    if isinstance(kept, dict) and all(isinstance(name, str) and len(name) <= 200 for name in kept.values()):
        try:
            return {date.fromisoformat(day): name for day, name in kept.items()}
        except (TypeError, ValueError):
            pass  # not what this program keeps: worked out again
    found = _worked_out(country, first_year)
    if cache is not None:
        cache.put("holidays", key, {day.isoformat(): name for day, name in found.items()})
    return found


@cache
def _worked_out(country: str, first_year: int) -> dict[date, str]:
    import holidays

    try:
        found = holidays.country_holidays(country, years=range(first_year, first_year + YEARS_AHEAD + 1))
    except NotImplementedError:
        raise PlanError(
            [
                Problem(
                    f'"{country}" is not a country whose public holidays are known; '
                    f'give its ISO 3166 code (such as US or GB), or "{NO_COUNTRY}"',
                    field="country",
                )
            ]
        ) from None
    return {day: str(name) for day, name in sorted(found.items())}


@cache
def _package_version() -> str:
    """A digest of the `holidays` package's version file, without importing the package."""
    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return "none"
    try:
        return sha256((Path(spec.origin).parent / "version.py").read_bytes()).hexdigest()[:16]
    except OSError:
        return "unknown"
