"""`rahnuma content export`: every text side by side in five languages, for native reviewers."""

from html import escape

from bot.content.store import Content, Texts
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
