"""Prepares the Rasa training data: every example passes through the app's own normalizer.

The app normalizes a message before asking Rasa (Urdu digits to ASCII, Arabic keyboard letters
to Urdu ones, lower case...). Training on the same normalized text means the model never learns
a token it will not see at run time. Writes nlu_data/build/, which `rasa train` reads.
"""

import re
import shutil
import sys
from pathlib import Path

import yaml

from bot.conversation.language import Lang, normalize
from bot.settings import PROJECT_ROOT

SOURCE = PROJECT_ROOT / "nlu_data" / "data"
BUILD = PROJECT_ROOT / "nlu_data" / "build"
PLACES = PROJECT_ROOT / "content" / "places.yml"
EXAMPLE = re.compile(r"^(\s*- )(.*)$")


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings as `|` blocks, the way Rasa's own files look."""


_BlockDumper.add_representer(
    str, lambda dumper, value: dumper.represent_scalar(
        "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


def normalize_examples(examples: str, language: Lang | None) -> str:
    lines = []
    for line in examples.splitlines():
        match = EXAMPLE.match(line)
        lines.append(match.group(1) + normalize(match.group(2), language) if match else line)
    return "\n".join(lines) + "\n"


def build(source: Path = SOURCE, target: Path = BUILD) -> list[Path]:
    shutil.rmtree(target, ignore_errors=True)
    (target / "data").mkdir(parents=True)
    written = []
    for path in sorted(source.glob("*.yml")):
        language = Lang(path.stem) if path.stem in {str(lang) for lang in Lang} else None
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if language is not None:
            for item in data.get("nlu", []):
                if "intent" in item:
                    item["examples"] = normalize_examples(item["examples"], language)
        out = target / "data" / path.name
        out.write_text(yaml.dump(data, Dumper=_BlockDumper, allow_unicode=True,
                                 sort_keys=False, width=1000), encoding="utf-8")
        written.append(out)
    written.append(_country_lookup(target / "data" / "countries.yml"))
    return written


def _country_lookup(out: Path) -> Path:
    """content/places.yml's spellings as Rasa's `country` lookup table, normalized."""
    places = yaml.safe_load(PLACES.read_text(encoding="utf-8"))
    names = sorted({normalize(str(n)) for spellings in places["countries"].values()
                    for n in spellings})
    data = {"version": "3.1", "nlu": [{"lookup": "country",
                                       "examples": "".join(f"- {n}\n" for n in names)}]}
    out.write_text(yaml.dump(data, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False),
                   encoding="utf-8")
    return out


if __name__ == "__main__":
    files = build()
    print(f"normalized training data: {len(files)} files in {BUILD}", file=sys.stderr)
