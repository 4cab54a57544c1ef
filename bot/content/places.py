"""Places people name: countries abroad (and their cities), Pakistani districts, and what the
urgent reply needs to know of a country (its local emergency number, Pakistan's mission there).

Every spelling in every script maps to one name (content/places.yml, content/districts.yml,
content/countries.yml). One alternation regex per kind, longest spelling first, so "dera ghazi
khan" wins over a shorter name inside it and a message is scanned once, not once per spelling.
"""

import re
from dataclasses import dataclass, field

from bot.content.phrases import prepare
from bot.conversation.language import Lang, fold, normalize


def _spelling(text: str) -> str:
    return fold(normalize(str(text)))


class Gazetteer:
    """Spellings -> one canonical name."""

    def __init__(self, names: dict[str, list[str]]):
        self.by_spelling: dict[str, str] = {}
        for name, spellings in names.items():
            # The key is not a spelling by itself: some districts are ordinary words too
            # ("tank", "hub"); their lists give the forms that are safe to match.
            for spelling in spellings or [name]:
                key = _spelling(spelling)
                if key:
                    self.by_spelling.setdefault(key, str(name))
        ordered = sorted(self.by_spelling, key=len, reverse=True)
        self._pattern = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, ordered)) + r")(?!\w)") \
            if ordered else None

    def find(self, text: str) -> str | None:
        if self._pattern is None:
            return None
        match = self._pattern.search(prepare(text))
        return self.by_spelling[match.group(1)] if match else None

    def names(self) -> frozenset[str]:
        return frozenset(self.by_spelling.values())


@dataclass(frozen=True)
class Country:
    name: dict[Lang, str]
    emergency: str = ""  # the local emergency number, [verify] (FACTS.md s.8)
    mission: dict[Lang, str] = field(default_factory=dict)  # Pakistan's embassy/consulate
    # The IANA zone, for quiet hours abroad and check-ins sent in the morning there.
    timezone: str = ""


@dataclass
class Places:
    countries: Gazetteer
    districts: Gazetteer
    country_info: dict[str, Country]

    def country_in(self, text: str) -> str | None:
        return self.countries.find(text)

    def district_in(self, text: str) -> str | None:
        return self.districts.find(text)


def load_places(places: dict, districts: dict, countries: dict) -> Places:
    abroad: dict[str, list[str]] = {}
    for block in ("countries", "cities"):
        for country, spellings in (places.get(block) or {}).items():
            abroad.setdefault(str(country), []).extend(str(s) for s in spellings or [])
    info = {}
    for name, raw in (countries or {}).items():
        raw = raw or {}
        info[str(name)] = Country(
            name={Lang(k): str(v) for k, v in (raw.get("name") or {}).items()},
            emergency=str(raw.get("emergency") or ""),
            mission={Lang(k): str(v) for k, v in (raw.get("mission") or {}).items()},
            timezone=str(raw.get("timezone") or ""))
    return Places(Gazetteer(abroad), Gazetteer(districts.get("districts") or {}), info)
