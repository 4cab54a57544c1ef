"""Property tests: the text handling never breaks on what people (or attackers) send."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.conversation.amounts import parse_amount
from bot.conversation.language import LANGUAGES, clean, detect, normalize
from bot.registry.licences import LicenceRef, parse_licence_numbers

# Latin, Arabic script (Urdu, Pashto, presentation forms), digits of three systems, invisible
# marks and diacritics, emoji: what a WhatsApp message may hold.
ALPHABET = st.sampled_from(
    list("abcxyzABC ?.,!-/") + [chr(c) for c in range(0x0600, 0x06FF, 3)] +
    list("ټډړږښځڅګڼېۍیکہھے٠١٢۳۴۵") + ["\u200b", "\u200c", "\u200f", "\u0640", "\u064b",
                                       "\ufefb", "😀", "\n"])
TEXT = st.text(ALPHABET, max_size=200)
OFFICES = {"mlk": "MLK", "lhr": "LHR", "malakand": "MLK", "khi": "KHI"}


@given(TEXT)
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@given(TEXT)
def test_normalize_leaves_no_invisible_marks_or_foreign_digits(text):
    out = normalize(text)
    assert not re.search("[\u200b-\u200f\u0640\u064b-\u065f٠-٩۰-۹]", out)


@given(TEXT)
def test_clean_never_grows_the_text_much(text):
    assert len(clean(text)) <= len(text) + 2 * text.count("\ufefb")


@given(TEXT)
def test_detect_always_answers_one_of_five_or_none(text):
    result = detect(text)
    assert result.language is None or result.language in LANGUAGES


@given(TEXT)
def test_licence_parser_never_fails(text):
    for ref in parse_licence_numbers(text, OFFICES):
        assert ref.office in OFFICES.values() and ref.number >= 0


@given(st.integers(1, 99999), st.sampled_from(["MLK", "LHR", "KHI"]),
       st.sampled_from(["{n}/{o}", "{n} {o}", "{n}-{o}", "{n}{o}", "licence no. {n} {o}"]),
       st.booleans(), st.booleans())
def test_licence_parser_reads_every_typed_form(number, office, form, lower, urdu_digits):
    digits = str(number)
    if urdu_digits:
        digits = digits.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    text = form.format(n=digits, o=office.lower() if lower else office)
    assert parse_licence_numbers(text, OFFICES) == [LicenceRef(number, office)]


@given(TEXT)
def test_amount_parser_never_fails(text):
    amount = parse_amount(text)
    assert amount is None or amount >= 0


@settings(max_examples=200)
@given(st.integers(1, 99), st.sampled_from(["lakh", "لاکھ", "لکھ", "لکه", "lac"]))
def test_amount_parser_reads_lakhs_in_every_script(count, unit):
    assert parse_amount(f"{count} {unit}") == count * 100_000
