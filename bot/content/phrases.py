"""Word lists from content/ turned into matchers: danger signs, routes inside topics, places.

An entry is a word or phrase matched as whole words in normalized, folded text. A word ending
in `*` matches every word it begins ("beat*": beat, beats, beaten, beating), so inflections need
not be listed one by one; parts joined by " + " must all be present, in any order
("contract + airport").
"""

import re
from dataclasses import dataclass

from bot.conversation.language import fold, normalize


def prepare(text: str) -> str:
    """The form every matcher compares: normalized, every heh and yeh folded to one."""
    return f" {fold(normalize(text))} "


def _part_pattern(part: str) -> str:
    words = []
    for word in fold(normalize(part)).split():
        if word.endswith("*") and len(word) > 1:
            words.append(re.escape(word[:-1]) + r"\w*")
        else:
            words.append(re.escape(word))
    return r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"


@dataclass(frozen=True)
class Phrase:
    source: str
    parts: tuple[re.Pattern[str], ...]

    @classmethod
    def parse(cls, entry: str) -> "Phrase":
        return cls(entry, tuple(re.compile(_part_pattern(p)) for p in entry.split(" + ")
                                if p.strip()))

    def found_in(self, prepared: str) -> bool:
        return bool(self.parts) and all(p.search(prepared) for p in self.parts)


class PhraseList:
    """Any of several phrases."""

    def __init__(self, entries: list[str] | tuple[str, ...]):
        self.phrases = tuple(Phrase.parse(str(e)) for e in entries if str(e).strip())
        # The danger list alone has ~500 phrases, checked on every message: one alternation
        # searched in C instead of a Python call per phrase (the check was a fifth of the
        # app's CPU per message). Phrases of several parts ("a + b") keep their own test.
        singles = [p.parts[0].pattern for p in self.phrases if len(p.parts) == 1]
        self._any_single = re.compile("|".join(f"(?:{s})" for s in singles)) if singles \
            else None
        self._several_parts = tuple(p for p in self.phrases if len(p.parts) > 1)

    def found_in(self, prepared: str) -> bool:
        if self._any_single is not None and self._any_single.search(prepared):
            return True
        return any(p.found_in(prepared) for p in self._several_parts)

    def first_in(self, prepared: str) -> Phrase | None:
        return next((p for p in self.phrases if p.found_in(prepared)), None)

    def __len__(self) -> int:
        return len(self.phrases)


@dataclass(frozen=True)
class Route:
    """Phrases that send a message to one answer, unless one of the `unless` words is there
    ("shikayat karni hai" is the complaint; "shikayat kahan karni hai" asks for the channels)."""

    phrases: PhraseList
    unless: PhraseList

    @classmethod
    def parse(cls, raw: object) -> "Route":
        if isinstance(raw, dict):
            return cls(PhraseList(raw.get("phrases") or []), PhraseList(raw.get("unless") or []))
        return cls(PhraseList(raw if isinstance(raw, list) else []), PhraseList(()))

    def found_in(self, prepared: str) -> bool:
        return self.phrases.found_in(prepared) and not self.unless.found_in(prepared)
