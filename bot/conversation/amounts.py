"""Money as people write it: "3 lakh", "300000", "Rs 2,50,000", "تین لاکھ", "دوه لکه"."""

import re

from bot.conversation.language import clean, fold, squeeze

_UNITS = {
    "lakh": 100_000, "lakhs": 100_000, "lac": 100_000, "lacs": 100_000, "lakh.": 100_000,
    "لاکھ": 100_000, "لکھ": 100_000, "لکه": 100_000, "لکھہ": 100_000,
    "hazar": 1_000, "hazaar": 1_000, "thousand": 1_000, "k": 1_000, "ہزار": 1_000,
    "زر": 1_000, "crore": 10_000_000, "کروڑ": 10_000_000,
}
_WORDS = {
    # Urdu / Roman Urdu / Punjabi / Pashto / English number words
    "ek": 1, "aik": 1, "one": 1, "ایک": 1, "اک": 1, "یو": 1, "يو": 1,
    "do": 2, "two": 2, "دو": 2, "دوه": 2,
    "teen": 3, "tin": 3, "three": 3, "تین": 3, "تن": 3, "درې": 3, "دری": 3,
    "char": 4, "chaar": 4, "four": 4, "چار": 4, "څلور": 4,
    "panch": 5, "paanch": 5, "five": 5, "پانچ": 5, "پنج": 5, "پنځه": 5,
    "chay": 6, "che": 6, "chhe": 6, "six": 6, "چھ": 6, "چھے": 6, "شپږ": 6,
    "saat": 7, "seven": 7, "سات": 7, "ست": 7, "اووه": 7,
    "aath": 8, "eight": 8, "آٹھ": 8, "اٹھ": 8, "اته": 8,
    "nau": 9, "nine": 9, "نو": 9, "نهه": 9,
    "das": 10, "ten": 10, "دس": 10, "لس": 10,
    "bees": 20, "twenty": 20, "بیس": 20, "شل": 20, "pachees": 25, "پچیس": 25,
    "tees": 30, "thirty": 30, "تیس": 30, "دېرش": 30, "chalees": 40, "forty": 40, "چالیس": 40,
    "pachas": 50, "pachaas": 50, "fifty": 50, "پچاس": 50, "پنځوس": 50,
    "saath": 60, "sixty": 60, "ساٹھ": 60, "sattar": 70, "ستر": 70, "assi": 80, "اسی": 80,
    "derh": 1.5, "dedh": 1.5, "ڈیڑھ": 1.5, "dhai": 2.5, "adhai": 2.5, "ڈھائی": 2.5,
    "اڑھائی": 2.5,
}
_HALF_MORE = {"saarhe", "sarhe", "sade", "ساڑھے", "ساڈھے", "سوا"}  # "saarhe 3" = 3.5
_FOLDED_UNITS = {fold(k): v for k, v in _UNITS.items()}
_FOLDED_WORDS = {fold(k): v for k, v in _WORDS.items()}
_FOLDED_HALF = {fold(w) for w in _HALF_MORE}
_QUARTER = fold("سوا")
_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?|[^\W\d_]+")


def parse_amount(text: str) -> int | None:
    """The amount of rupees (or the currency written) in `text`, or None if there is none."""
    tokens = [fold(t) for t in _TOKEN.findall(squeeze(clean(text).lower()))]
    for index, token in enumerate(tokens):
        value = _number(token)
        if value is None:
            continue
        if index and tokens[index - 1] in _FOLDED_HALF:
            value += 0.25 if tokens[index - 1] == _QUARTER else 0.5
        unit = _FOLDED_UNITS.get(tokens[index + 1]) if index + 1 < len(tokens) else None
        if unit:
            return int(round(value * unit))
        if token[0].isdigit() and value >= 1000:
            return int(value)
    return None


def _number(token: str) -> float | None:
    if token[0].isdigit():
        try:
            return float(token.replace(",", ""))
        except ValueError:
            return None
    return _FOLDED_WORDS.get(token)


_CURRENCY = {fold(w) for w in ("rs", "rs.", "rupees", "rupay", "rupaye", "pkr", "روپے", "روپیہ")}


def is_only_an_amount(text: str) -> bool:
    """"2.5 lakh", "300000", "تین لاکھ": an amount and nothing else (no name, no story)."""
    if parse_amount(text) is None:
        return False
    tokens = [fold(t) for t in _TOKEN.findall(squeeze(clean(text).lower()))]
    return all(t[0].isdigit() or t in _FOLDED_UNITS or t in _FOLDED_WORDS or t in _FOLDED_HALF
               or t in _CURRENCY for t in tokens)
