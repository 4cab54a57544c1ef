"""WhatsApp templates as content: `content/templates/<feature>.yml`.

Outside WhatsApp's 24-hour window only a template Meta has approved may be sent. Each one is
kept here like every other text, in all five languages, with its category and the names of its
numbered variables; `rahnuma templates sync` (bot/messaging/templates.py) creates them at
Twilio and asks for approval. The format:

    case_update:                        # the template key
      category: UTILITY                 # Meta's category: UTILITY or MARKETING
      variables: [reference, status]    # {{1}} = reference, {{2}} = status
      text:
        en: "Rahnuma: your complaint {{1}} is now: {{2}}. ..."
        ur: ...                          # and ur-Latn, pa, ps
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.conversation.language import LANGUAGES, Lang

CATEGORIES = ("UTILITY", "MARKETING")
# The key names the template at Meta too (with its language): lowercase, digits, underscores.
KEY = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_FIELDS = {"category", "variables", "text"}


@dataclass(frozen=True)
class Template:
    key: str
    category: str
    variables: tuple[str, ...]  # the name of {{1}}, {{2}}, ...
    text: dict[Lang, str]
    file: str  # templates/<feature>.yml, for messages

    def variables_for(self, values: dict[str, str]) -> dict[str, str]:
        """{"1": ..., "2": ...} from the variables' names, as Twilio's ContentVariables."""
        return {str(number): values[name] for number, name in enumerate(self.variables, 1)}


def load_templates(directory: Path) -> tuple[dict[str, Template], list[str]]:
    """Every template in `directory/templates`, and what is wrong with their form (the rules
    on the texts themselves are in bot/content/check.py)."""
    templates: dict[str, Template] = {}
    problems: list[str] = []
    for path in sorted((directory / "templates").glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        where_file = f"templates/{path.name}"
        if not isinstance(raw, dict):
            problems.append(f"{where_file}: not a mapping of template keys")
            continue
        for key, value in raw.items():
            where = f"{where_file} {key}"
            if key in templates:
                problems.append(f"{where}: defined twice")
            template = _template(str(key), value, where_file, problems)
            if template is not None:
                templates[template.key] = template
    return templates, problems


def _template(key: str, raw: object, file: str, problems: list[str]) -> Template | None:
    where = f"{file} {key}"
    if not KEY.match(key):
        problems.append(f"{where}: a key is lowercase letters, digits and _ (Meta's names)")
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected category, variables and text")
        return None
    problems += [f"{where}: unknown field {name!r}" for name in sorted(set(raw) - _FIELDS)]
    problems += [f"{where}: missing field {name!r}" for name in sorted(_FIELDS - set(raw))]
    category = str(raw.get("category", ""))
    if category not in CATEGORIES:
        problems.append(f"{where}: category {category!r} is not one of {list(CATEGORIES)}")
    variables = raw.get("variables") or []
    if not isinstance(variables, list) or len(set(map(str, variables))) != len(variables):
        problems.append(f"{where}: variables is a list of distinct names")
        variables = []
    texts = raw.get("text")
    if not isinstance(texts, dict):
        texts = {}
    text: dict[Lang, str] = {}
    for language in LANGUAGES:
        value = texts.get(str(language))
        if isinstance(value, str) and value.strip():
            text[language] = value.strip()
        else:
            problems.append(f"{where} [{language}]: missing language")
    problems += [f"{where}: unknown language {extra!r}"
                 for extra in sorted(set(map(str, texts)) - {str(lang) for lang in LANGUAGES})]
    return Template(key, category, tuple(map(str, variables)), text, file)


@lru_cache
def get_templates(directory: Path) -> dict[str, Template]:
    """The templates as loaded (a broken file is reported by `rahnuma content check`, which
    the app refuses to start without)."""
    return load_templates(directory)[0]
