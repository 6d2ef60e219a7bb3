"""The time zones an organiser can choose: canonical IANA zones only, never a deprecated alias.

The list comes from the tz database's own ``zone.tab`` (one line per zone and country, shipped by the
``tzdata`` package and by the system's zoneinfo): it names Europe/Kyiv, never Europe/Kiev, Europe/Zaporozhye
or Europe/Uzhgorod, nor backward links such as US/Eastern. An alias an event was stored with before is
shown and edited as its canonical zone (CLDR's alias table, through Babel).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import available_timezones

from babel.core import get_global

SYSTEM_ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")


def _zone_tab() -> str:
    try:
        return resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return SYSTEM_ZONE_TAB.read_text(encoding="utf-8")


@cache
def canonical_zones() -> tuple[str, ...]:
    """Every zone of zone.tab that zoneinfo can load, sorted."""
    known = available_timezones()
    names = {line.split("\t")[2] for line in _zone_tab().splitlines()
             if line and not line.startswith("#") and len(line.split("\t")) >= 3}
    return tuple(sorted(names & known))


def canonical(zone: str) -> str:
    """The canonical name of a zone: Europe/Kiev -> Europe/Kyiv; a canonical or unknown name as it is."""
    if zone in canonical_zones():
        return zone
    aliases = get_global("zone_aliases")
    return str(aliases.get(zone, zone))


def zone_choices() -> list[tuple[str, str]]:
    return [(zone, zone) for zone in canonical_zones()]
