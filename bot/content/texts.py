"""Every text a person reads, addressed by one key: `ui:<key>` or `topic:<id>:<part>`.

The editing dashboard, the XLSX round trip and `content export --yaml` all speak of texts this
way; `with_texts` lays edited texts over the content loaded from `content/`."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

from bot.content.check import LONG_TEXT_CHARS, TITLE_CHARS, TOPIC_SMS_SEGMENTS, UI_TEXT_CHARS
from bot.content.store import Content, Texts
from bot.conversation.language import LANGUAGES, Lang

TOPIC_PARTS = ("title", "sms", "whatsapp", "more")
Changes = Mapping[tuple[str, Lang], str]


@dataclass(frozen=True)
class TextRef:
    key: str

    @property
    def kind(self) -> str:
        return self.key.split(":")[0]

    @property
    def name(self) -> str:
        return self.key.split(":")[1]

    @property
    def part(self) -> str:
        """title / sms / whatsapp / more for a topic; "sms" for a ui text's SMS version."""
        if self.kind == "topic":
            return self.key.split(":")[2]
        return "sms" if self.name.endswith("_sms") else "text"

    def where(self, language: Lang | str) -> str:
        """How `rahnuma content check` names this text in its problems."""
        if self.kind == "topic":
            return f"topics/{self.name}.yml {self.part} [{language}]"
        return f"ui.yml {self.name} [{language}]"

    @property
    def limit(self) -> str:
        if self.part == "sms":
            return f"{TOPIC_SMS_SEGMENTS} SMS segments, with the MORE hint"
        if self.part == "title":
            return f"{TITLE_CHARS} characters"
        return f"{LONG_TEXT_CHARS if self.kind == 'topic' else UI_TEXT_CHARS} characters"


def parse_key(content: Content, key: str) -> TextRef | None:
    """The text a key names, if the content has it."""
    parts = key.split(":")
    if len(parts) == 2 and parts[0] == "ui" and parts[1] in content.ui:
        return TextRef(key)
    if len(parts) == 3 and parts[0] == "topic" and parts[1] in content.topics and \
            parts[2] in TOPIC_PARTS:
        return TextRef(key)
    return None


def all_keys(content: Content) -> Iterator[str]:
    for topic_id in sorted(content.topics):
        for part in TOPIC_PARTS:
            yield f"topic:{topic_id}:{part}"
    for key in content.ui:
        yield f"ui:{key}"


def text_of(content: Content, key: str, language: Lang) -> str:
    ref = TextRef(key)
    if ref.kind == "topic":
        return getattr(content.topics[ref.name], ref.part).get(language, "")
    return content.ui[ref.name].get(language, "")


def with_texts(content: Content, changes: Changes) -> Content:
    """A copy of `content` with these texts replaced; unknown keys are left out (a text removed
    from the repository since it was edited)."""
    ui = dict(content.ui)
    topics = dict(content.topics)
    for (key, language), text in changes.items():
        ref = parse_key(content, key)
        if ref is None or language not in LANGUAGES:
            continue
        if ref.kind == "ui":
            ui[ref.name] = {**ui[ref.name], language: text}
        else:
            topic = topics[ref.name]
            texts: dict[str, Texts] = {ref.part: {**getattr(topic, ref.part), language: text}}
            topics[ref.name] = replace(topic, **texts)  # type: ignore[arg-type]
    return replace(content, ui=ui, topics=topics, problems=[], _nothing_paid=None)
