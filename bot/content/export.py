"""`rahnuma content export`: every text side by side in five languages, for native reviewers
(HTML), or the published texts written back in the `content/` format (`--yaml`)."""

import re
from html import escape
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from bot.content.store import Content, Texts
from bot.content.texts import Changes, TextRef
from bot.conversation.language import LANGUAGES, Lang

NAMES = {Lang.UR: "اردو", Lang.UR_LATN: "Roman Urdu", Lang.PA: "پنجابی", Lang.PS: "پښتو",
         Lang.EN: "English"}
STYLE = """
body { font-family: sans-serif; margin: 1.5rem; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; margin-bottom: 1rem; }
th, td { border: 1px solid #bbb; padding: .4rem; vertical-align: top; white-space: pre-wrap; }
td[dir=rtl] { font-family: "Noto Nastaliq Urdu", "Noto Naskh Arabic", serif; font-size: 1.1rem; }
.meta { color: #444; font-size: .9rem; }
"""


def _row(label: str, texts: Texts, content: Content) -> str:
    cells = "".join(
        f'<td lang="{lang}" dir="{"rtl" if lang.is_arabic_script else "ltr"}">'
        f"{escape(content.fill_contacts(texts[lang]))}"
        "</td>"
        for lang in LANGUAGES)
    return f"<tr><th>{escape(label)}</th>{cells}</tr>"


def _header() -> str:
    return "<tr><th></th>" + "".join(f"<th>{NAMES[lang]}</th>" for lang in LANGUAGES) + "</tr>"


def export_html(content: Content) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             "<title>Rahnuma content for review</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>Rahnuma: every text, five languages</h1>"]
    for topic in sorted(content.topics.values(), key=lambda t: t.id):
        parts.append(f"<h2 id='{topic.id}'>{escape(topic.title[Lang.EN])} "
                     f"<small>({topic.id})</small></h2>")
        parts.append(f"<p class='meta'>Reviewed on {topic.reviewed_on}. Intents: "
                     f"{escape(', '.join(topic.intents) or 'menu only')}. Sources: "
                     f"{escape('; '.join(topic.sources))}. To verify: {escape(topic.review)}</p>")
        parts.append("<table>" + _header())
        for part in ("title", "sms", "whatsapp", "more"):
            parts.append(_row(part, getattr(topic, part), content))
        parts.append("</table>")
    parts.append("<h2 id='ui'>The bot's own texts</h2><table>" + _header())
    parts += [_row(key, texts, content) for key, texts in content.ui.items()]
    parts.append("</table></body></html>")
    return "\n".join(parts)


def export_yaml(content_dir: Path, changes: Changes, out_dir: Path) -> list[Path]:
    """The published texts written back into the `content/` files (comments, order and quoting
    kept), so an edit made in the dashboard can be committed. Returns the files changed."""
    yaml = YAML()  # round trip
    yaml.width = 4096  # never fold a long line: the files keep one text per line
    yaml.allow_unicode = True
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)  # the layout of content/*.yml
    by_file: dict[Path, list[tuple[list[str], str]]] = {}
    for (key, language), text in changes.items():
        place = _place(content_dir, key)
        if place:
            path, keys = place
            by_file.setdefault(path, []).append(([*keys, str(language)], text))
    written = []
    for path, edits in sorted(by_file.items()):
        data = yaml.load(path.read_text(encoding="utf-8"))
        if not any([_set(data, keys, text) for keys, text in edits]):
            continue
        target = out_dir / path.relative_to(content_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8") as handle:
            yaml.dump(data, handle)
        written.append(target)
    return written


def _place(content_dir: Path, key: str) -> tuple[Path, list[str]] | None:
    """The file and the keys inside it that hold a text."""
    ref = TextRef(key)
    if ref.kind == "topic":
        return content_dir / "topics" / f"{ref.name}.yml", [ref.part]
    for path in [content_dir / "ui.yml", *sorted((content_dir / "ui").glob("*.yml"))]:
        if re.search(rf"(?m)^{re.escape(ref.name)}:", path.read_text(encoding="utf-8")):
            return path, [ref.name]
    return None


def _set(data: dict, keys: list[str], text: str) -> bool:
    *parents, last = keys
    for key in parents:
        data = data[key]
    old = data.get(last)
    if str(old or "").strip() == text:
        return False
    # The same scalar style as before: a block stays a block, a quoted line stays quoted.
    if isinstance(old, LiteralScalarString) or "\n" in text:
        data[last] = LiteralScalarString(text)
    elif isinstance(old, DoubleQuotedScalarString):
        data[last] = DoubleQuotedScalarString(text)
    else:
        data[last] = text
    return True
