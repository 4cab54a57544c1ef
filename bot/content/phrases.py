"""Word lists from content/ turned into matchers: danger signs, routes inside topics, places.

An entry is a word or phrase matched as whole words in normalized, folded text. A word ending
in `*` matches every word it begins ("beat*": beat, beats, beaten, beating), so inflections need
not be listed one by one; parts joined by " + " must all be present, in any order
("contract + airport").
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.conversation.language import fold, normalize


@lru_cache(maxsize=256)
def prepare(text: str) -> str:
    """The form every matcher compares: normalized, every heh and yeh folded to one. Cached:
    each message meets several matchers (danger, routes, places, answers)."""
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


_TOKEN = re.compile(r"\w+")
_WORD_GAP = " "  # in a compiled part: "any run of whitespace" between two words


@lru_cache(maxsize=64)
def _tokens(prepared: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words (runs of \\w) of a prepared text, and the gap after each but the last.
    Cached: one message is checked against a dozen lists (danger, trapped, routes, ...)."""
    words: list[str] = []
    gaps: list[str] = []
    end = 0
    for match in _TOKEN.finditer(prepared):
        if words:
            gaps.append(prepared[end:match.start()])
        words.append(match.group())
        end = match.end()
    return tuple(words), tuple(gaps)


# A part as steps: (word, word is a prefix, gap before it: None first, _WORD_GAP, or the
# literal punctuation inside a word, "don't" = don ' t).
_Step = tuple[str, bool, str | None]


def _steps(part: str) -> tuple[_Step, ...] | None:
    """A part as token steps, exactly what its regex (_part_pattern) matches; None when a
    word begins or ends with punctuation (the regex alone says what that means)."""
    steps: list[_Step] = []
    for word in fold(normalize(part)).split():
        prefix = word.endswith("*") and len(word) > 1
        runs = re.split(r"(\W+)", word[:-1] if prefix else word)
        if not runs[0] or not runs[-1]:
            return None
        for index in range(0, len(runs), 2):
            gap = runs[index - 1] if index else (_WORD_GAP if steps else None)
            steps.append((runs[index], prefix and index == len(runs) - 1, gap))
    return tuple(steps) or None


def _steps_at(steps: tuple[_Step, ...], words: tuple[str, ...], gaps: tuple[str, ...],
              start: int) -> bool:
    if start + len(steps) > len(words):
        return False
    for offset, (word, prefix, gap) in enumerate(steps):
        token = words[start + offset]
        if not (token.startswith(word) if prefix else token == word):
            return False
        if offset and not (gaps[start + offset - 1].isspace() if gap == _WORD_GAP
                           else gaps[start + offset - 1] == gap):
            return False
    return True


class PhraseList:
    """Any of several phrases.

    Checked on every message (the danger list alone has ~500 phrases), so the phrases are
    indexed by their first word: the text's words are looked up one by one, and only phrases
    starting with one of them are tried. This cut the check from ~2 ms a message (one regex
    alternation of every phrase) to tens of microseconds; `Phrase.found_in`, the plain regex,
    stays the reference the index is tested against."""

    def __init__(self, entries: list[str] | tuple[str, ...]):
        self.phrases = tuple(Phrase.parse(str(e)) for e in entries if str(e).strip())
        self._parts: list[tuple[_Step, ...]] = []
        self._by_word: dict[str, list[int]] = {}
        self._by_prefix: dict[str, list[int]] = {}
        self._by_regex: list[tuple[re.Pattern[str], int]] = []
        # Per phrase, the numbers of its parts: found when every one of them is.
        self._phrase_parts: list[tuple[int, ...]] = []
        for phrase in self.phrases:
            numbers = []
            for part_text, pattern in zip(_part_texts(phrase.source), phrase.parts, strict=True):
                numbers.append(self._add_part(part_text, pattern))
            self._phrase_parts.append(tuple(numbers))
        self._prefix_lengths = sorted({len(prefix) for prefix in self._by_prefix})

    def _add_part(self, text: str, pattern: re.Pattern[str]) -> int:
        number = len(self._parts)
        steps = _steps(text)
        self._parts.append(steps or ())
        if steps is None:
            self._by_regex.append((pattern, number))
        else:
            word, prefix, _gap = steps[0]
            (self._by_prefix if prefix else self._by_word).setdefault(word, []).append(number)
        return number

    def _parts_found(self, prepared: str) -> set[int]:
        words, gaps = _tokens(prepared)
        found = {number for pattern, number in self._by_regex if pattern.search(prepared)}
        for start, token in enumerate(words):
            candidates = list(self._by_word.get(token, ()))
            for length in self._prefix_lengths:
                if length > len(token):
                    break
                candidates += self._by_prefix.get(token[:length], ())
            found.update(number for number in candidates if number not in found
                         and _steps_at(self._parts[number], words, gaps, start))
        return found

    def found_in(self, prepared: str) -> bool:
        found = self._parts_found(prepared)
        return bool(found) and any(parts and all(n in found for n in parts)
                                   for parts in self._phrase_parts)

    def first_in(self, prepared: str) -> Phrase | None:
        return next((p for p in self.phrases if p.found_in(prepared)), None)

    def __len__(self) -> int:
        return len(self.phrases)


def _part_texts(entry: str) -> list[str]:
    """An entry's parts as Phrase.parse splits them."""
    return [part for part in entry.split(" + ") if part.strip()]


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
