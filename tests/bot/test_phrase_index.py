"""The indexed phrase lists (PhraseList.found_in) answer exactly as their phrases' own regular
expressions (Phrase.found_in, the reference), on every real list and many texts."""

import random

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content.phrases import PhraseList, prepare
from bot.content.store import Content
from bot.settings import PROJECT_ROOT


def _reference(phrases: PhraseList, prepared: str) -> bool:
    return any(phrase.found_in(prepared) for phrase in phrases.phrases)


def _lists(content: Content) -> dict[str, PhraseList]:
    lists = dict(content.signals)
    for name, route in content.routes.items():
        lists[f"route {name}"], lists[f"unless {name}"] = route.phrases, route.unless
    return lists


def _real_texts() -> list[str]:
    texts = [case["text"] for case in yaml.safe_load(
        (PROJECT_ROOT / "nlu_data" / "tests" / "messages.yml").read_text())]
    for path in sorted((PROJECT_ROOT / "tests" / "conversations").glob("*.yml")):
        for scenario in yaml.safe_load(path.read_text()) or []:
            texts += [str(turn["user"]) for turn in scenario.get("turns", []) if "user" in turn]
    return texts


def _variants(entry: str, rng: random.Random) -> list[str]:
    """A phrase as people type it: inflected, punctuated, glued to other words, split."""
    words = entry.replace(" + ", " ").replace("*", "").split()
    glued = "".join(words)
    return [" ".join(words), f"({' '.join(words)}).", f"x{' '.join(words)}",
            f"{' '.join(words)}ing now", "-".join(words), glued, f"{words[0]} ... {words[-1]}",
            " ".join(rng.sample(words, len(words))), f"{' '.join(words)}'s",
            f"please   {'  '.join(words)}!!"]


def test_index_agrees_with_each_phrase_on_real_messages_and_variants(content: Content) -> None:
    rng = random.Random(3)
    real = _real_texts()
    found = 0
    for name, phrases in _lists(content).items():
        variants = [v for phrase in phrases.phrases for v in _variants(phrase.source, rng)]
        for text in real + variants:
            prepared = prepare(text)
            expected = _reference(phrases, prepared)
            assert phrases.found_in(prepared) == expected, (name, text)
            found += expected
    assert found > 1000  # the texts do hit the lists: the comparison is not of empty answers


@pytest.mark.parametrize("entries, text, expected", [
    (["beat*"], "he beaten me", True),
    (["beat*"], "upbeat", False),
    (["don't pay"], "i don't pay", True),
    (["don't pay"], "i don'tpay", False),
    (["don't pay"], "i don t pay", False),
    (["contract + airport"], "at the airport they gave a new contract", True),
    (["contract + airport"], "at the airport", False),
    (["locked in"], "locked-in", False),
    (["locked in"], "locked\n in.", True),
    ([], "anything", False),
])
def test_cases_that_separate_words_from_substrings(entries: list[str], text: str,
                                                   expected: bool) -> None:
    phrases = PhraseList(entries)
    assert phrases.found_in(prepare(text)) is expected
    assert _reference(phrases, prepare(text)) is expected


_PIECES = st.sampled_from(list("abt ے ہ'-.*+") + ["beat", "don't", " in ", "locked", " + "])
_TEXT = st.lists(_PIECES, max_size=14).map("".join)


@settings(max_examples=400, deadline=None)
@given(entries=st.lists(_TEXT, max_size=6), text=_TEXT)
def test_any_phrases_any_text(entries: list[str], text: str) -> None:
    phrases = PhraseList(entries)
    prepared = prepare(text)
    assert phrases.found_in(prepared) == _reference(phrases, prepared)
