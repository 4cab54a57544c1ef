"""Reading when (and where) a worker leaves, as people write it, in the five forms.

"15 March, Riyadh", "March 15th", "15/03/2027", "۱۵ مارچ کو ریاض", "agle mahine Dubai", "in 2
weeks", "دو ہفتے بعد", "دوه اونۍ وروسته", "kal", "سبا". The place is read by the content's
gazetteer (countries and their cities, any script). A date is only read, never judged here
beyond its distance from today: `problem` says "past" or "far" (over a year ahead), and the
flow asks again rather than accepting it.

A lone duration is not a date: "3 mahine se tankhwah nahi mili" (for 3 months) has none; "3
mahine baad" (in 3 months) has one. A month name that is also a word ("may", "mar", "jan") or
an abbreviation counts only beside a day number.
"""

import re
from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bot.conversation.language import clean, fold, squeeze

# Reminders are for a departure within this; a later date is asked about again.
MAX_AHEAD = timedelta(days=365)
# A date said without a year and at most this far behind today was meant as said (and has
# passed); one further behind is next year's ("15 Jan", said in December).
RECENT_PAST = timedelta(days=31)
_TOKEN = re.compile(r"[^\W_]+")


def _key(word: str) -> str:
    """The form words are compared in: cleaned, lower-case, keyboard letters folded."""
    return squeeze(fold(clean(word).lower()))


def _set(words: str) -> frozenset[str]:
    return frozenset(_key(w) for w in words.split())


_MONTH_NAMES = (
    "january janwari janvari جنوری جنوري",
    "february farwari farvari febrwari فروری فبروري فیبروري فبروری",
    "march مارچ",
    "april aprail اپریل اپرېل",
    "mayi مئی مئ مۍ",
    "june joon جون",
    "july julai جولائی جولائ جولای",
    "august agust agast اگست اګست اګسټ",
    "september sitambar stamber ستمبر سپتمبر سېپټمبر سیپٹمبر",
    "october aktubar اکتوبر اکټوبر",
    "november navambar nowambar نومبر نوامبر",
    "december disambar دسمبر ډسمبر دسامبر",
)
# Also ordinary words or short forms: a month only beside a day ("15 may", "mar 3").
_MONTHS_BESIDE_A_DAY = (
    "jan", "feb", "mar", "apr", "may mai می", "jun", "jul", "aug", "sep sept", "oct", "nov",
    "dec")
MONTHS = {word: number for number, names in enumerate(_MONTH_NAMES, 1) for word in _set(names)}
SHORT_MONTHS = {word: number for number, names in enumerate(_MONTHS_BESIDE_A_DAY, 1)
                for word in _set(names)}

# Days from today.
_DAY_WORDS = {0: "today aaj aj آج اج نن", 1: "tomorrow kal کل بھلکے سبا", 2: "parson parso پرسوں"}
DAY_WORDS = {word: days for days, words in _DAY_WORDS.items() for word in _set(words)}
NEXT = _set("next agle aglay agla agli coming اگلے اگلا اگلی بله راتلونکې راتلونکی راتلونکي")
# Unit words -> days, or 0 for a calendar month.
_UNITS = {1: "day days din dino dinon دن دنوں دناں ورځ ورځې ورځو ورځي",
          7: "week weeks hafta hafte haftay hafton ہفتہ ہفتے ہفتوں ہفتیاں اونۍ اونی اونیو",
          0: "month months mahina mahine mahinay mahinon mahino مہینہ مہینے مہینوں مہینیاں "
             "میاشت میاشتې میاشتو میاشتي"}
UNITS = {word: days for days, words in _UNITS.items() for word in _set(words)}
_NUMBERS = {1: "a an one ek aik ik ایک اک یو یوه", 2: "two do دو دوه دوو",
            3: "three teen tin تین تن درې دری درېیو", 4: "four char chaar چار څلور",
            5: "five panch paanch پانچ پنج پنځه", 6: "six chhe che چھ شپږ",
            7: "seven saat سات ست اوه", 8: "eight aath آٹھ اٹھ اته", 9: "nine نهه",
            10: "ten das دس لس"}
NUMBER_WORDS = {word: n for n, words in _NUMBERS.items() for word in _set(words)}
# "2 weeks *baad*", "*in* 2 weeks", "2 ہفتے *بعد*", "دوه اونۍ *وروسته*", "*په* دوو اونیو *کې*".
AFTER = _set("baad bad later بعد وروسته پس mein میں وچ کې")
BEFORE_NUMBER = _set("in after within په")
# "since 15 March": a date something began, not a departure.
SINCE = _set("se say sy since from سے توں تو راهیسې راهیسی څخه")
BETWEEN_DAY_AND_MONTH = _set("of ki کی دی د په")

# Words of a departure: travelling (or a date that changed) decides that a date and a place
# are a departure; past tense ("gaya", "went") that they are not, unless a travel word says so.
TRAVEL = _set("""
    ja jaa jana jaana jaunga jaungi jaonga jaoonga jaenge jayenge jaoon rawana rawangi flight
    flights fly flying leave leaving depart departing departure going travel travelling
    traveling safar badal badli badla change changed moved postponed tabdeel
    جا جاؤں جاؤنگا جانا جانی جائیں روانگی روانہ فلائٹ فلائیٹ پرواز سفر جاواں جاونا بدل بدلی
    تبدیل ځم ځو ځي ځې تلل تګ روانېږم الوتکه خوځېږم بدله بدلون
""")
PAST = _set("""
    gaya gayi gaye gya gyi gye went left arrived reached pohancha pohanchi pahuncha aaya aya
    tha thi was were گیا گئی گئے پہنچا پہنچی پہنچ آیا تھا تھی اپڑیا لاړ لاړم ولاړم ورسېدم
    رسېدلی تللی
""")
# What else a bare departure says: "I am", "on", "to", "my date is", "inshallah".
FILLER = _set("""
    i im m am is are will be my me mai main mein ko to on the at for in of ki ka ke ji jee hai
    hain hun hoon ho hum ham we mera meri ab now date tareekh tarikh inshallah insha allah
    liye raha rahi rahe rha rhi new nayi naee
    میں کو ہے ہیں ہوں کی کا کے جی ہم میری میرا اب تاریخ انشاءاللہ ان شاء اللہ لیے رہا رہی
    رہے گا گی گے نئی نوں وچ اے آں واں تے دی دا دے ساں ہن رہیا لئی نویں
    زه زما مې ته په کې یم یو به دی ده د موږ اوس نیټه نېټه لپاره نوې نوی
""")


@dataclass(frozen=True)
class Reading:
    said: date | None = None  # the date read, also when it is refused
    problem: str | None = None  # "past" or "far": read but not accepted
    country: str | None = None  # a key of content/countries.yml
    leftover: tuple[str, ...] = ()  # words that are neither date, place nor departure words
    travel: bool = False  # a travel or date-change word
    went: bool = False  # past tense: they already went
    since: bool = False  # "since <date>"

    @property
    def on(self) -> date | None:
        return self.said if self.problem is None else None

    @property
    def has_date(self) -> bool:
        return self.said is not None


def read_departure(text: str, *, today: date, places: Mapping[str, str],
                   place_alone: bool = True) -> Reading:
    """The date and the destination in `text`, and what else it says. `places`: every
    spelling of a place abroad (normalized, folded) -> its country. `place_alone=False`: a text
    with no date is not read further (most messages are not departures)."""
    key = _key(text)
    tokens = _TOKEN.findall(key)
    said, used = _numeric_date(key, today)
    if said is None:
        said, used = _named_or_relative(tokens, today)
    if said is None and not place_alone:
        return Reading()
    country, named = _place(tokens, places)
    rest = [t for i, t in enumerate(tokens) if i not in used and i not in named]
    return Reading(
        said=said, problem=_problem(said, today), country=country,
        leftover=tuple(t for t in rest if t not in FILLER | TRAVEL | PAST | SINCE),
        travel=any(t in TRAVEL for t in rest), went=any(t in PAST for t in rest),
        since=said is not None and _after_date(tokens, used) in SINCE)


def _problem(said: date | None, today: date) -> str | None:
    if said is None:
        return None
    if said < today:
        return "past"
    return "far" if said - today > MAX_AHEAD else None


def _after_date(tokens: list[str], used: set[int]) -> str:
    following = max(used, default=-1) + 1
    return tokens[following] if 0 < following < len(tokens) else ""


# Day first, as in Pakistan: 15-3-2027, 15.03.27, 15/03; a dot only with a year ("2.5 lakh").
_FULL = re.compile(r"(?<![\d/.\-])(\d{1,2})([/\-.])(\d{1,2})\2(\d{4}|\d{2})(?![\d/\-]|\.\d)")
_SHORT = re.compile(r"(?<![\d/.\-])(\d{1,2})[/\-](\d{1,2})(?![\d/\-]|\.\d)")
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")


def _numeric_date(text: str, today: date) -> tuple[date | None, set[int]]:
    if match := _ISO.search(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _FULL.search(text):
        day, month, year = int(match.group(1)), int(match.group(3)), _year(match.group(4))
    elif match := _SHORT.search(text):
        day, month, year = int(match.group(1)), int(match.group(2)), None
    else:
        return None, set()
    start = len(_TOKEN.findall(text[:match.start()]))
    used = set(range(start, start + len(_TOKEN.findall(match.group()))))
    following = _TOKEN.findall(text[match.end():])[:1]
    if following and following[0] in UNITS:  # "2-3 din": a span of days, not 2 March
        return None, set()
    return _dated(day, month, year, today), used


def _year(digits: str) -> int:
    return int(digits) + (2000 if len(digits) == 2 else 0)


def _dated(day: int, month: int, year: int | None, today: date) -> date | None:
    """The date, with a missing year the one that makes sense (see RECENT_PAST)."""
    if not 1 <= month <= 12:
        return None
    try:
        if year is not None:
            return date(year, month, day)
        this_year = date(today.year, month, day)
    except ValueError:
        return None
    if this_year < today - RECENT_PAST:
        try:
            return date(today.year + 1, month, day)
        except ValueError:  # 29 February
            return None
    return this_year


# "15th", Urdu "15ویں", Pashto "15مه".
_DAY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|ویں|واں|مه)?$")


def _named_or_relative(tokens: list[str], today: date) -> tuple[date | None, set[int]]:
    for index, token in enumerate(tokens):
        month = MONTHS.get(token) or SHORT_MONTHS.get(token)
        if month is not None:
            found = _named(tokens, index, month, today)
            if found[0] is not None:
                return found
    return _relative(tokens, today)


def _named(tokens: list[str], index: int, month: int,
           today: date) -> tuple[date | None, set[int]]:
    """A month name with its day before it ("15 March", "15th of March") or after it ("March
    15", "march ki 15"), and a year after both when one is written."""
    places = [(index - 1, index - 1), (index - 2, index - 1), (index + 1, index + 1),
              (index + 2, index + 1)]
    for day_at, between in places:
        if not 0 <= day_at < len(tokens) or (between != day_at and
                                              tokens[between] not in BETWEEN_DAY_AND_MONTH):
            continue
        day = _DAY.match(tokens[day_at])
        if day is None:
            continue
        used = set(range(min(day_at, index), max(day_at, index) + 1))
        last = max(used) + 1
        year = None
        if last < len(tokens) and re.fullmatch(r"20\d\d", tokens[last]):
            year, used = int(tokens[last]), used | {last}
        return _dated(int(day.group(1)), month, year, today), used
    return None, set()  # a month alone ("March mein"): no day, so no date yet


def _relative(tokens: list[str], today: date) -> tuple[date | None, set[int]]:
    for index, token in enumerate(tokens):
        if token in DAY_WORDS:
            return today + timedelta(days=DAY_WORDS[token]), {index}
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token in NEXT and following in UNITS:
            return _ahead(today, 1, UNITS[following]), {index, index + 1}
        amount = NUMBER_WORDS.get(token) or (int(token) if token.isdigit() else None)
        said = _said_as_ahead(tokens, index)
        if amount and following in UNITS and said:
            return _ahead(today, amount, UNITS[following]), {index, index + 1} | said
    return None, set()


def _said_as_ahead(tokens: list[str], index: int) -> set[int]:
    """Where "in 2 weeks" / "2 weeks later" says it is ahead (empty for a duration: "for 2
    weeks", "2 hafte se")."""
    before, after = index - 1, index + 2
    return ({before} if before >= 0 and tokens[before] in BEFORE_NUMBER else set()) | \
        ({after} if after < len(tokens) and tokens[after] in AFTER else set())


def _ahead(today: date, amount: int, unit_days: int) -> date:
    if unit_days:
        return today + timedelta(days=amount * unit_days)
    month = today.month - 1 + amount
    year, month = today.year + month // 12, month % 12 + 1
    return date(year, month, min(today.day, monthrange(year, month)[1]))


def _place(tokens: list[str], places: Mapping[str, str]) -> tuple[str | None, set[int]]:
    """The destination, and which words named it: the longest spelling first ("saudi arab"
    before "saudi", "ras al khaimah")."""
    found: str | None = None
    used: set[int] = set()
    for size in (3, 2, 1):
        for start in range(len(tokens) - size + 1):
            span = set(range(start, start + size))
            country = places.get(" ".join(tokens[start:start + size]))
            if country and not span & used:
                found, used = found or country, used | span
    return found, used
