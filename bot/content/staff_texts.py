"""The staff pages' own words: `content/staff/*.yml`, one key, in English and Urdu.

Staff choose the language of their pages (`Staff.ui_language`); like every text a person reads,
these live in `content/`, and a key missing a language fails `rahnuma content check`."""

from functools import lru_cache
from pathlib import Path

import yaml

STAFF_LANGUAGES = ("en", "ur")
StaffTexts = dict[str, dict[str, str]]


def _read(directory: Path) -> tuple[StaffTexts, list[str]]:
    texts: StaffTexts = {}
    problems: list[str] = []
    for path in sorted((directory / "staff").glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in raw.items():
            where = f"staff/{path.name} {key}"
            if key in texts:
                problems.append(f"{where}: defined twice")
            if not isinstance(value, dict):
                problems.append(f"{where}: expected en and ur")
                continue
            texts[key] = {str(k): str(v).strip() for k, v in value.items()}
            problems += [f"{where}: missing language {lang}" for lang in STAFF_LANGUAGES
                         if not texts[key].get(lang)]
            problems += [f"{where}: unknown language {extra!r}"
                         for extra in set(texts[key]) - set(STAFF_LANGUAGES)]
    return texts, problems


def staff_text_problems(directory: Path) -> list[str]:
    return _read(directory)[1]


@lru_cache
def staff_texts(directory: Path) -> StaffTexts:
    return _read(directory)[0]


class Translator:
    """`t("key", name=...)` in a template: the text in the staff member's language."""

    def __init__(self, texts: StaffTexts, language: str) -> None:
        self.texts = texts
        self.language = language if language in STAFF_LANGUAGES else "en"

    def __call__(self, key: str, **params: object) -> str:
        text = self.texts[key][self.language]  # a missing key is a bug: fail loudly
        return text.format(**params) if params else text

    @property
    def direction(self) -> str:
        return "rtl" if self.language == "ur" else "ltr"
