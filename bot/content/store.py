"""The content base: topics, the bot's own texts, menu routing, command words and contacts.

Loaded once from `content/`, validated, and never patched over with English: a missing
translation is a problem `rahnuma content check` reports and the app refuses to start with.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from bot.content.check import check_consistency, template_problems
from bot.content.phrases import PhraseList, Route, prepare
from bot.content.places import Places, load_places
from bot.content.staff_texts import staff_text_problems
from bot.conversation.channels import Channel
from bot.conversation.language import LANGUAGES, Lang, normalize

PLACEHOLDER = re.compile(r"\{(\w+)\}")


class ContentError(Exception):
    """The content base is incomplete or inconsistent."""


Texts = dict[Lang, str]


@dataclass(frozen=True)
class Contact:
    key: str
    value: str
    verify: bool
    source: str


@dataclass(frozen=True)
class Topic:
    id: str
    intents: tuple[str, ...]
    title: Texts
    sms: Texts
    whatsapp: Texts
    more: Texts
    sources: tuple[str, ...]
    review: str
    reviewed_on: date

    def answer(self, language: Lang, channel: Channel) -> str:
        return (self.sms if channel == Channel.SMS else self.whatsapp)[language]

    def continuation(self, language: Lang, channel: Channel) -> str:
        """What MORE sends after the answer. The SMS answer is a summary, so on SMS MORE goes
        through the whole WhatsApp answer first: no fact is kept from a basic phone."""
        if channel == Channel.SMS:
            return f"{self.whatsapp[language]}\n\n{self.more[language]}"
        return self.more[language]


@dataclass(frozen=True)
class MenuItem:
    number: str
    topics: tuple[str, ...] = ()
    action: str | None = None


@dataclass(frozen=True)
class Centre:
    code: str
    name: str
    districts: frozenset[str]


@dataclass
class Content:
    ui: dict[str, Texts]
    topics: dict[str, Topic]
    menu: dict[str, MenuItem]
    commands: dict[str, frozenset[str]]
    contacts: dict[str, Contact]
    problems: list[str] = field(default_factory=list)
    answers: dict[str, frozenset[str]] = field(default_factory=dict)
    # content/signals.yml: urgent, relatives, passport_held, trapped (see is_urgent)
    signals: dict[str, PhraseList] = field(default_factory=dict)
    centres: dict[str, Centre] = field(default_factory=dict)
    default_centre: str = ""
    places: Places = field(default_factory=lambda: load_places({}, {}, {}))
    # content/routes.yml: phrases that send a message straight to a topic (or a ui text)
    routes: dict[str, Route] = field(default_factory=dict)
    _nothing_paid: PhraseList | None = field(default=None, repr=False, compare=False)

    def text(self, key: str, language: Lang, *, channel: Channel | None = None,
             **params: object) -> str:
        """A ui text; on SMS its shorter `<key>_sms` version where one exists."""
        if channel == Channel.SMS and f"{key}_sms" in self.ui:
            key = f"{key}_sms"
        return self.fill(self.ui[key][language], **params)

    def fill(self, text: str, **params: object) -> str:
        values = {k: c.value for k, c in self.contacts.items()} | {
            k: str(v) for k, v in params.items()
        }
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)

    def fill_contacts(self, text: str) -> str:
        """Contacts filled in, the code's own placeholders ({date}...) left visible."""
        return PLACEHOLDER.sub(lambda m: self.contacts[m.group(1)].value
                               if m.group(1) in self.contacts else m.group(0), text)

    def topic_for_intent(self, intent: str) -> Topic | None:
        return next((t for t in self.topics.values() if intent in t.intents), None)

    def command(self, normalized_text: str) -> str | None:
        """The global command this whole message is, if any."""
        phrase = normalized_text.strip(" .!?,")
        return next((name for name, words in self.commands.items() if phrase in words), None)

    def answer(self, normalized_text: str) -> str | None:
        """yes / no / skip / back / cancel, when the whole reply is one of those words."""
        phrase = normalized_text.strip(" .!?,")
        return next((name for name, words in self.answers.items() if phrase in words), None)

    def says_nothing_paid(self, text: str) -> bool:
        """"kuch nahi diya", "هیڅ نه": answers.yml `nothing`, matched anywhere in the reply."""
        if self._nothing_paid is None:  # compiled once, not per message
            self._nothing_paid = PhraseList(sorted(self.answers.get("nothing", frozenset())))
        return self._nothing_paid.found_in(prepare(text))

    def signal(self, name: str, text: str) -> bool:
        return self.signals.get(name, PhraseList(())).found_in(prepare(text))

    def is_urgent(self, text: str) -> bool:
        """Danger signs (FACTS.md s.6, s.8): violence, threats, locked in, no food, abuse, or
        not free to leave, which a passport held abroad is. A held passport alone is not: most
        are held by an agent at home, for a visa (content/signals.yml says how they differ)."""
        prepared = prepare(text)
        if any(self.signals[k].found_in(prepared) for k in ("urgent", "trapped")
               if k in self.signals):
            return True
        return self._found("passport_held", prepared) and self.country_in(text) is not None \
            and not self._agent_at_home(prepared)

    def _agent_at_home(self, prepared: str) -> bool:
        return self._found("passport_for_visa", prepared) or (
            self._found("agent", prepared) and not self._found("employer", prepared))

    def _found(self, name: str, prepared: str) -> bool:
        return name in self.signals and self.signals[name].found_in(prepared)

    def country_in(self, text: str) -> str | None:
        """The country abroad a message names (a country or one of its cities), if any."""
        return self.places.country_in(text)

    def district_in(self, text: str) -> str | None:
        """The Pakistani district a message names, in any script or common spelling."""
        return self.places.district_in(text)

    def route_in(self, text: str) -> str | None:
        """A topic (or ui text) a message asks for by its words, whatever the NLU says."""
        prepared = prepare(text)
        return next((target for target, route in self.routes.items()
                     if route.found_in(prepared)), None)

    def centre_for(self, district: str | None) -> str:
        return self.route(district)[0]

    def route(self, district: str | None) -> tuple[str, str]:
        """The centre a case goes to, and why (the case page shows the reason to staff)."""
        if not (district or "").strip():
            return self.default_centre, "no home district given: the default centre"
        key = self.district_in(district or "") or (district or "").strip().lower()
        centre = next((c for c in self.centres.values() if key in c.districts), None)
        if centre is None:
            return self.default_centre, (f"district {district!r} is not served by any "
                                         "centre's list: the default centre")
        return centre.code, f"home district {key} is served by {centre.name}"


def _read_yaml(path: Path) -> object:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _read_optional(path: Path) -> dict:
    raw = _read_yaml(path) if path.exists() else None
    return raw if isinstance(raw, dict) else {}


def _texts(raw: object, where: str, problems: list[str]) -> Texts:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected one text per language, got {type(raw).__name__}")
        return {}
    texts: Texts = {}
    for language in LANGUAGES:
        value = raw.get(str(language))
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: missing language {language}")
        else:
            texts[language] = value.strip()
    for extra in set(raw) - {str(lang) for lang in LANGUAGES}:
        problems.append(f"{where}: unknown language {extra!r}")
    return texts


def _load_topic(path: Path, problems: list[str]) -> Topic | None:
    raw = _read_yaml(path)
    where = f"topics/{path.name}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: not a mapping")
        return None
    known = {"id", "intents", "title", "sms", "whatsapp", "more", "sources", "review",
             "reviewed_on"}
    for key in sorted(set(raw) - known):
        problems.append(f"{where}: unknown key {key!r}")
    for key in sorted(known - set(raw) - {"intents"}):
        problems.append(f"{where}: missing key {key!r}")
    if raw.get("id") != path.stem:
        problems.append(f"{where}: id {raw.get('id')!r} does not match the file name")
    reviewed = raw.get("reviewed_on")
    return Topic(
        id=path.stem,
        intents=tuple(raw.get("intents") or ()),
        title=_texts(raw.get("title"), f"{where} title", problems),
        sms=_texts(raw.get("sms"), f"{where} sms", problems),
        whatsapp=_texts(raw.get("whatsapp"), f"{where} whatsapp", problems),
        more=_texts(raw.get("more"), f"{where} more", problems),
        sources=tuple(raw.get("sources") or ()),
        review=str(raw.get("review") or ""),
        reviewed_on=reviewed if isinstance(reviewed, date) else date.min,
    )


def _load_commands(raw: dict) -> dict[str, frozenset[str]]:
    # Stored normalized, as the engine compares them with normalized messages.
    return {name: frozenset(normalize(str(w)) for w in words) for name, words in raw.items()}


def load_content(directory: Path) -> Content:
    problems: list[str] = []
    ui: dict[str, Texts] = {}
    for path in [directory / "ui.yml", *sorted((directory / "ui").glob("*.yml"))]:
        for key, value in _read_optional(path).items():
            if key in ui:
                problems.append(f"{path.name} {key}: defined twice")
            ui[key] = _texts(value, f"ui.yml {key}", problems)
    topics = {}
    for path in sorted((directory / "topics").glob("*.yml")):
        topic = _load_topic(path, problems)
        if topic:
            topics[topic.id] = topic
    contacts = {
        key: Contact(key, str(v["value"]), bool(v.get("verify")), str(v.get("source", "")))
        for key, v in _read_optional(directory / "contacts.yml").items()
    }
    menu = {
        str(number): MenuItem(str(number), tuple(item.get("topics") or ()), item.get("action"))
        for number, item in _read_optional(directory / "menu.yml").items()
    }
    commands = _load_commands(_read_optional(directory / "commands.yml"))
    answers = _load_commands(_read_optional(directory / "answers.yml"))
    signals = {name: PhraseList(words or []) for name, words in
               _read_optional(directory / "signals.yml").items()}
    centres_raw = _read_optional(directory / "centres.yml")
    centres = {code: Centre(code, str(c["name"]), frozenset(str(d).lower() for d in
                                                              c.get("districts", [])))
               for code, c in (centres_raw.get("centres") or {}).items()}
    places = load_places(_read_optional(directory / "places.yml"),
                         _read_optional(directory / "districts.yml"),
                         _read_optional(directory / "countries.yml"))
    routes = {target: Route.parse(entries) for target, entries in
              (_read_optional(directory / "routes.yml").get("routes") or {}).items()}
    content = Content(ui, topics, menu, commands, contacts, problems, answers, signals, centres,
                      str(centres_raw.get("default", "")), places, routes)
    problems.extend(check_consistency(content))
    problems.extend(staff_text_problems(directory))
    problems.extend(template_problems(directory, contacts))
    return content


@lru_cache
def get_content(directory: Path) -> Content:
    """The validated content base; raises ContentError listing every problem."""
    content = load_content(directory)
    if content.problems:
        raise ContentError("content is not complete:\n  " + "\n  ".join(content.problems))
    return content
