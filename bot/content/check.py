"""Consistency checks over a loaded content base (`rahnuma content check`)."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content.templates import load_templates
from bot.conversation.channels import Channel, sms_segments
from bot.conversation.intents import ACTION_FOR_INTENT, ACTIONS, INTENTS
from bot.conversation.keys import TEXT_KEYS, declared
from bot.conversation.language import _ENGLISH_WORDS, LANGUAGES, Lang, detect

if TYPE_CHECKING:
    from bot.content.store import Content

PLACEHOLDER = re.compile(r"\{(\w+)\}")
NUMBERED_LINE = re.compile(r"(?m)^\d+ ")
TOPIC_SMS_SEGMENTS = 3
LONG_TEXT_CHARS = 1000
TITLE_CHARS = 40
UI_TEXT_CHARS = 1000
# Below this many words a text is too short for the detector to judge its language.
DETECTABLE_WORDS = 6


def check_consistency(content: Content) -> list[str]:
    return [
        *_placeholder_problems(content),
        *_key_problems(content),
        *_limit_problems(content),
        *_list_problems(content),
        *_routing_problems(content),
        *_language_problems(content),
        *_english_word_problems(content),
        *_example_number_problems(content),
        *_rule_number_problems(content),
        *_sms_reach_problems(content),
    ]


def _all_texts(content: Content):
    """(where, language, text) for every text a person may read."""
    for key, texts in content.ui.items():
        for language, text in texts.items():
            yield f"ui.yml {key} [{language}]", language, text
    for topic in content.topics.values():
        for part in ("title", "sms", "whatsapp", "more"):
            for language, text in getattr(topic, part).items():
                yield f"topics/{topic.id}.yml {part} [{language}]", language, text


def _placeholder_problems(content: Content) -> list[str]:
    """A placeholder is a contacts.yml entry or one the code fills for that key
    (bot/conversation/keys.py); topics are filled from contacts only."""
    problems = []
    for where, _, text in _all_texts(content):
        key = where.split()[1] if where.startswith("ui.yml") else ""
        known = set(content.contacts) | set(declared(key) or ())
        problems += [f"{where}: unknown reference {{{name}}}"
                     for name in PLACEHOLDER.findall(text) if name not in known]
    return problems


def _key_problems(content: Content) -> list[str]:
    """Code and content agree on the keys: every key the code asks for exists, every text is
    asked for by some code."""
    problems = [f"ui text {key!r}: the code asks for it (bot/conversation/keys.py) but content/ "
                f"has no such text" for key in TEXT_KEYS if key not in content.ui]
    problems += [f"ui.yml {key}: no code asks for this text (declare it in "
                 f"bot/conversation/keys.py or remove it)"
                 for key in content.ui if declared(key) is None]
    return problems


def _list_problems(content: Content) -> list[str]:
    """A numbered list must fit one SMS page on its own (its `_sms` version where it has one):
    on SMS a list is never split by a page break (bot/conversation/render.py)."""
    problems = []
    for key, texts in content.ui.items():
        if f"{key}_sms" in content.ui:
            continue  # the SMS version is the one sent by SMS
        for language, text in texts.items():
            if len(NUMBERED_LINE.findall(text)) >= 2 and sms_segments(text) > TOPIC_SMS_SEGMENTS:
                problems.append(f"ui.yml {key} [{language}]: a numbered list of "
                                f"{sms_segments(text)} SMS segments (max {TOPIC_SMS_SEGMENTS})")
    for target in content.routes:
        if target not in content.topics and declared(target) is None and \
                target not in ACTIONS:
            problems.append(f"routes.yml {target}: neither a topic, an action nor a text")
    return problems


def _limit_problems(content: Content) -> list[str]:
    problems = []
    hints = content.ui.get("more_hint", {})
    for topic in content.topics.values():
        where = f"topics/{topic.id}.yml"
        for language, text in topic.sms.items():
            sent = content.fill_contacts(text) + "\n" + hints.get(language, "")
            if sms_segments(sent) > TOPIC_SMS_SEGMENTS:
                problems.append(
                    f"{where} sms [{language}]: {sms_segments(sent)} SMS segments with the MORE "
                    f"hint (max {TOPIC_SMS_SEGMENTS}, {len(sent)} characters)"
                )
        for part, limit in (("whatsapp", LONG_TEXT_CHARS), ("more", LONG_TEXT_CHARS),
                            ("title", TITLE_CHARS)):
            for language, text in getattr(topic, part).items():
                length = len(content.fill_contacts(text))
                if length > limit:
                    problems.append(f"{where} {part} [{language}]: {length} characters "
                                    f"(max {limit})")
    for key, texts in content.ui.items():
        for language, text in texts.items():
            if len(text) > UI_TEXT_CHARS:
                problems.append(f"ui.yml {key} [{language}]: {len(text)} characters "
                                f"(max {UI_TEXT_CHARS})")
    return problems


def _routing_problems(content: Content) -> list[str]:
    problems = []
    for intent in INTENTS:
        if intent not in ACTION_FOR_INTENT and not content.topic_for_intent(intent):
            problems.append(f"intent {intent}: no topic lists it and no flow answers it")
    reached = {t for item in content.menu.values() for t in item.topics}
    for topic in content.topics.values():
        unknown = set(topic.intents) - set(INTENTS)
        if unknown:
            problems.append(f"topics/{topic.id}.yml: unknown intents {sorted(unknown)}")
        if not topic.intents and topic.id not in reached:
            problems.append(f"topics/{topic.id}.yml: no intent or menu item reaches it")
    for number, item in content.menu.items():
        for topic_id in item.topics:
            if topic_id not in content.topics:
                problems.append(f"menu.yml {number}: unknown topic {topic_id!r}")
        if item.action and item.action not in ACTIONS:
            problems.append(f"menu.yml {number}: unknown action {item.action!r}")
        if not item.action and not item.topics:
            problems.append(f"menu.yml {number}: leads nowhere")
    for language, text in content.ui.get("menu", {}).items():
        missing = [n for n in content.menu if not re.search(rf"(^|\n){n}\b", text)]
        if missing:
            problems.append(f"ui.yml menu [{language}]: numbers {missing} not in the menu text")
    return problems


def _language_problems(content: Content) -> list[str]:
    """A text declared Punjabi or Pashto that reads as Urdu (or any such mix-up) is a bug."""
    problems = []
    for where, language, text in _all_texts(content):
        text = _without_shared_lines(content, where, text)
        if language not in LANGUAGES or len(text.split()) < DETECTABLE_WORDS:
            continue
        detected = detect(PLACEHOLDER.sub(" ", text)).language
        if detected != language:
            problems.append(f"{where}: declared {language} but reads as {detected}")
    return problems


def _without_shared_lines(content: Content, where: str, text: str) -> str:
    """Drops lines that every language of a ui text shares (the list of language names)."""
    if not where.startswith("ui.yml "):
        return text
    texts = content.ui[where.split()[1]].values()
    shared = set.intersection(*(set(t.splitlines()) for t in texts))
    return "\n".join(line for line in text.splitlines() if line not in shared)


# Latin words that may stand inside Urdu, Punjabi and Pashto texts: names, acronyms, the
# commands people type, and rule references. Anything else in Latin letters is untranslated.
ALLOWED_LATIN = frozenset("""
    oep oeps be oe fia opf ilo fsa dg cwa protector whatsapp facebook sms more stop start menu
    state life er r eo s xviii xiii xvi vi vii viii a i ii iii iv gpog mrc roman urdu english
    rs pk www gov org mlk lhr khi pew rwp
""".split())
# English function words have no place in Roman Urdu either ("agent" and "visa" do).
ROMAN_URDU_ALLOWED_ENGLISH = frozenset({"i", "a", "do", "to", "me", "on", "or", "is", "us"})
# Proper names and fixed terms that stay in English whatever the language, and the masked
# phone number examples use (a real-looking one could be somebody's).
NAMES = re.compile(
    r"BE&OE|Protector of Emigrants|Migrant Resource Centres?|Community Welfare Attach\w*|"
    r"work permit|\bIT\b|r\.\d+[A-Z]?|\b03XX XXXXXXX\b", re.IGNORECASE)
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def _english_word_problems(content: Content) -> list[str]:
    problems = []
    for where, language, text in _all_texts(content):
        text = PLACEHOLDER.sub(" ", _without_shared_lines(content, where, text))
        text = NAMES.sub(" ", text)
        words = {w.lower() for w in _LATIN_WORD.findall(text)}
        if language in {Lang.UR, Lang.PA, Lang.PS}:
            stray = sorted(words - ALLOWED_LATIN)
        elif language == Lang.UR_LATN:
            stray = sorted((words & _ENGLISH_WORDS) - ROMAN_URDU_ALLOWED_ENGLISH)
        else:
            continue
        if stray:
            problems.append(f"{where}: English words left in a {language} text: {stray}")
    return problems


# An example in a text must not be anybody's: a licence number in the official format other
# than 1234/..., or a whole mobile number (mask it: 03XX XXXXXXX).
_REAL_LOOKING_LICENCE = re.compile(r"\b(?!1234/)\d{3,4}/[A-Z]{3}\b")
_REAL_LOOKING_MOBILE = re.compile(r"\b03\d{2}[ -]?\d{7}\b")


def _example_number_problems(content: Content) -> list[str]:
    problems = []
    for where, _language, text in _all_texts(content):
        text = PLACEHOLDER.sub(" ", text)
        found = _REAL_LOOKING_LICENCE.findall(text) + _REAL_LOOKING_MOBILE.findall(text)
        if found:
            problems.append(f"{where}: an example that could be somebody's: {found} "
                            "(use 1234/LHR or 03XX XXXXXXX)")
    return problems


# Rule numbers belong in a topic's `sources`, not in what a worker reads: "ER r.25(2)(xviii)"
# means nothing on a basic phone and crowds out the advice.
_RULE_NUMBER = re.compile(
    r"\br\.\s?\d+|\brules?\s+\d+|\bsection\s+\d+|\bs\.\s?\d+\b|\(\d+\)\([ivx]+\)"
    r"|(?:قاعدہ|قاعدے|رول|دفعہ|ماده|مادہ)\s*\d+", re.IGNORECASE)


def _rule_number_problems(content: Content) -> list[str]:
    return [f"{where}: a rule number in a text for workers: {found} (keep it in `sources`)"
            for where, _language, text in _all_texts(content)
            if (found := _RULE_NUMBER.findall(text))]


# A fact here is a number (Rs 15,000, 120 days, 6 months) or a contact placeholder.
_FACT = re.compile(r"\d[\d,]*|\{\w+\}")


def _facts(text: str) -> set[str]:
    return {fact.rstrip(",") for fact in _FACT.findall(text)}


def _sms_reach_problems(content: Content) -> list[str]:
    """Every fact of a topic's WhatsApp answer reaches an SMS reader: in the SMS answer or in
    what MORE sends after it."""
    problems = []
    for topic in content.topics.values():
        for language, text in topic.whatsapp.items():
            reached = _facts(topic.sms.get(language, "")) | _facts(
                topic.continuation(language, Channel.SMS))
            missing = sorted(_facts(text) - reached)
            if missing:
                problems.append(f"topics/{topic.id}.yml whatsapp [{language}]: {missing} "
                                "never reach an SMS reader (not in the SMS answer or its MORE)")
    return problems


# WhatsApp templates (content/templates/): Meta rejects a variable at either end of the text or
# two side by side, and a body over 1024 characters; Twilio fills exactly {{1}}..{{n}}.
TEMPLATE_CHARS = 1024
_TEMPLATE_VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_ADJACENT_VARIABLES = re.compile(r"\}\}[\s\W]*\{\{")


def template_problems(directory: Path, contacts: Collection[str]) -> list[str]:
    """Every template in all five languages, with exactly its declared numbered variables, each
    where Meta accepts it; a {contact} of contacts.yml is filled in when synced."""
    templates, problems = load_templates(directory)
    for template in templates.values():
        declared = {str(n) for n in range(1, len(template.variables) + 1)}
        for language, text in template.text.items():
            where = f"{template.file} {template.key} [{language}]"
            used = _TEMPLATE_VARIABLE.findall(text)
            if set(used) != declared:
                problems.append(f"{where}: uses {sorted(set(used))}, declares "
                                f"{sorted(declared)} ({', '.join(template.variables)})")
            bare = _TEMPLATE_VARIABLE.sub(" ", text).strip()
            if text.startswith("{{") or text.endswith("}}"):
                problems.append(f"{where}: a variable at the start or end (Meta rejects it)")
            if _ADJACENT_VARIABLES.search(text):
                problems.append(f"{where}: two variables with no word between (Meta rejects it)")
            if len(text) > TEMPLATE_CHARS:
                problems.append(f"{where}: {len(text)} characters (max {TEMPLATE_CHARS})")
            problems += [f"{where}: unknown reference {{{name}}}"
                         for name in PLACEHOLDER.findall(bare) if name not in contacts]
            if len(bare.split()) >= DETECTABLE_WORDS and \
                    (detected := detect(PLACEHOLDER.sub(" ", bare)).language) != language:
                problems.append(f"{where}: declared {language} but reads as {detected}")
    return problems
