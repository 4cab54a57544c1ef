"""Normalize real-world text and tell which of the five language forms it is written in.

People type Urdu on Arabic keyboards (ي ك ه), add diacritics, tatweel and invisible joiners, mix
three digit systems, and stretch Roman words ("pleeease"). The engine, the NLU and the keyword
fallback all see the same normalized text, so one spelling of a word is one token.
"""

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Lang(StrEnum):
    UR = "ur"
    UR_LATN = "ur-Latn"
    PA = "pa"
    PS = "ps"
    EN = "en"

    @property
    def is_arabic_script(self) -> bool:
        return self in {Lang.UR, Lang.PA, Lang.PS}


LANGUAGES: tuple[Lang, ...] = (Lang.UR, Lang.UR_LATN, Lang.PA, Lang.PS, Lang.EN)

_DIGITS = {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")} | {
    ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")
}
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u00ad\u0640]")
# Harakat, superscript alef and Quranic marks: optional in everyday writing, so dropped.
_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")
_ARABIC_PUNCT = str.maketrans({"،": ",", "؟": "?", "۔": ".", "٪": "%", "؛": ";"})
_STRETCHED = re.compile(r"([a-z])\1{2,}")  # three or more of a letter: "pleeease" -> "please"
_SPACES = re.compile(r"\s+")

# Urdu/Punjabi keyboards: Arabic code points that stand for Urdu letters.
_TO_URDU = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ه": "ہ", "ة": "ہ"})
# Pashto keeps ي and ه as letters of its own; only Arabic kaf and alef maksura are foreign.
_TO_PASHTO = str.maketrans({"ك": "ک", "ى": "ی"})
# For comparing marker words whatever the keyboard: fold every heh and yeh to one form.
_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ہ": "ه", "ۂ": "ه", "ة": "ه"})

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# "ایف آئی اے" (FIA) ends in اے, which is otherwise Punjabi's "is".
_SPELLED_ACRONYMS = re.compile(r"(ایف|پی) آئی اے")

_PASHTO_LETTERS = frozenset("ټډړږښځڅګڼېۍ")
_URDU_ONLY_LETTERS = frozenset("ںےہھٹڈڑ")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# A complaint reference or licence number ("3ME4KA", "ab12cd") is a code, not words: its
# letters must not vote ("me", "ka"). Letters on both sides of a digit, or digits on both
# sides of a letter, mark a code; "5lakh" and "rs5000" stay words.
_CODE = re.compile(r"\w*(?:[^\W\d_]\d+[^\W\d_]|\d[^\W\d_]+\d)\w*", re.UNICODE)

# Marker words (FACTS.md s.7), compared after _FOLD. Only words that belong to one form.
_PASHTO_WORDS = frozenset(
    "زه زما ستا ده کې کښې کښی څه څنګه چېرته څومره غواړم ولې سره په یې وي شوی شوې "
    "کړم کړئ کړه ورکړ لري لرم نشته دلته هلته تاسو ستاسو موږ مونږ زموږ څوک کوم شي شم لکه "
    "راته ورته نو اوس ډېر ډیر وکړئ وکړم ووایه ووایئ ورور ته ما چې چی".translate(_FOLD).split()
)
_PUNJABI_WORDS = frozenset(
    "اے نیں دا دی دے نوں توں وچ وچوں تے نال کتھے کیویں نئیں ہن ہُن ایتھے اوتھے ساڈا ساڈی ساڈے تہاڈا "
    "تہاڈی تہاڈے تسی تسیں اسی سانوں مینوں تینوں اونہوں کیہڑا کیہ کنے گل دسو دس سی سن ہووے "
    "جاندا جاندی کردا کردی رہیا ریا لئی پتر پُتر ویکھ ویکھو پیا ہور اونے ایہہ اوہ ایہدا "
    "کراں جاواں دیندا دیندے لیندا وکھائے وکھاؤ نواں گھٹ دیو چنگا چنگی چنگے فیر اج ویر "
    "راکھا آہو".translate(_FOLD).split()
)
_SHARED_WITH_URDU = frozenset("دی دے تے".translate(_FOLD).split())
_URDU_WORDS = frozenset(
    "ہے ہیں کا کے کو سے نہیں کیا کیسے کہاں کتنی کتنا کتنے رہا رہی ہوں آپ اور لیکن چاہیے "
    "کریں کرنا ہوا تھا تھی یہ وہ مجھے ہمیں بتائیں بتاؤ ہوگا ہوگی گئی گئے دیا لیا کوئی کچھ "
    "جاتا جاتی".translate(_FOLD).split()
)
_ROMAN_URDU_WORDS = _words(
    """
    hai hy hain h ka ki ke ko se mein mai mera meri mere mujhe mjhe kya kia kaise kese kesy
    kitni kitna kitne nahi nai nhi ny kar karna karo krna kro sakta sakti skta sakte chahiye
    chahie agar aur bhai ji g ap aap apka apki kahan kab paisay paise pese tankhwah tankha
    shikayat wala wali raha rahi rha rhi gaya gya diya dia liya lia hoga hogi tha thi koi
    kuch kuchh bata batao btao batain batayen yeh woh wo hum humein ham kr ni abhi baat baad
    pehle lekin magar sab bohat bohot bht jata jati milegi mila mili dena lena hota hoti si
    nu vich kithe kiven tusi sanu mainu hun keh ae karni karne krdo krdi kiya liye liay
    likho likhen likhain pe par aya ayi aaya lagta lagti asli naqli kon kaun kis kisi wapis
    wapas milta milti rahe rhe hua hui hue tum tumhara ab phir aaj saal mahine mahina ghar
    beta beti behen ammi abbu shohar naukri kaam kam paisa rupay rupaye hazar lakh jaldi
    zaroor theek thik sahi galat kyun kyon kyu jao jana jane karwao chahta chahti mujhy muje
    hamein hamara hamari unka unki uska uski iska iski yahan wahan bahar sath saath bhi sirf
    bas jee han haan nahin na dikhao dikha dikhayen bhejo bhej bhejen
    """
)
_ENGLISH_WORDS = _words(
    """
    the are am was were what how my i can does of for an and with not you your she his her
    it this that there have has please where when which who why should would could will from
    get give want need about on at after before did be been any all much many money job work
    paid pay tell know legal son brother father mother husband took taken kept still since
    asking ask
    months year years help they them their our we us going abroad sent told said asked u cn
    thx thnx gud hlo rply wat wht hw
    """
)


# English content words: weaker evidence than function words, since Roman Urdu borrows them
# ("agent", "fees"), but they decide a message with no function words ("check licence 2214").
_ENGLISH_CONTENT = _words(
    """
    switch english urdu punjabi pashto check checking licence license registration register
    documents document human person people staff weather tomorrow today yesterday talk speak
    call phone number office status update reference complaint complain fraud fake scam
    company employer sponsor contract copy agreement salary wages wage passport visa visit
    work worker job jobs agent agency fee fees charge charges payment receipt bank cash
    money rupees legal illegal allowed protector insurance welfare fund embassy consulate
    government police help menu options language thanks thank hello bye goodbye good morning
    evening brother sister daughter wife son husband family home village city country abroad
    saudi dubai qatar oman kuwait bahrain malaysia new different changed less more still
    since months weeks days hours overtime food hotel driver electrician labour labor
    unpaid paid pay return returned back keep keeps kept holding held taken stolen cheated
    recruiter recruitment permission demand documents procedure process information details
    problem issue question answer real genuine original valid suspended cancelled expired
    list website online file report against urgent danger safe cricket match score recipe
    joke loan mobile package bill result exam weather rain hot cold tell show give send verify
    offer sir madam reply make now write read
    """
)


_ENGLISH_GREETINGS = _words("hello thanks thank bye goodbye you yes")
_NEUTRAL = _words("ok okay")


@dataclass(frozen=True)
class Detection:
    language: Lang | None  # None: no letters at all (digits, emoji)
    confident: bool  # False: too little to tell; the contact's language should win


def clean(text: str) -> str:
    """Script-independent clean-up: invisible marks, diacritics, digits, presentation forms."""
    text = _PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _DIACRITICS.sub("", text)
    text = text.translate(_DIGITS).translate(_ARABIC_PUNCT)
    return _SPACES.sub(" ", text).strip()


def _score(words: list[str], vocabulary: frozenset[str]) -> int:
    return sum(1 for word in words if word in vocabulary)


def detect(text: str) -> Detection:
    """Which language form `text` is in, from script, Pashto letters and marker words."""
    text = _CODE.sub(" ", clean(text))
    arabic = sum(1 for c in text if "\u0600" <= c <= "\u06ff")
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    if not arabic and not latin:
        return Detection(None, False)
    if arabic >= latin:
        return _detect_arabic_script(text)
    return _detect_latin(text)


def _detect_arabic_script(text: str) -> Detection:
    text = _SPELLED_ACRONYMS.sub(" ", text)
    words = _WORD.findall(text.translate(_FOLD))
    pashto = 2 * sum(1 for c in text if c in _PASHTO_LETTERS) + _score(words, _PASHTO_WORDS) \
        + 2 * words.count("د")  # the particle "of": never a word on its own in Urdu/Punjabi
    # دی، دے، تے are Urdu words too ("کر دی گئی", "دے دیا", "تے" as a typo): half a vote.
    punjabi = _score(words, _PUNJABI_WORDS) - _score(words, _SHARED_WITH_URDU) / 2
    urdu = _score(words, _URDU_WORDS)
    best = max(pashto, punjabi, urdu)
    if best == 0:
        # Pashto keyboards write h as ه; Urdu ones as ہ or ھ and have ں ے ٹ ڈ ڑ besides. A
        # short reply with ه and none of those ("هو", yes) leans Pashto, without certainty.
        if "\u0647" in text and not _URDU_ONLY_LETTERS & set(text):
            return Detection(Lang.PS, False)
        return Detection(Lang.UR, False)
    if pashto == best:
        return Detection(Lang.PS, pashto > max(punjabi, urdu))
    # A Punjabi marker (دا، نوں، وچ، اے) is rarer in Urdu than any Urdu word is in Punjabi,
    # which borrows ہے and کے freely: a tie goes to Punjabi.
    if punjabi > 0 and punjabi >= urdu:
        return Detection(Lang.PA, True)
    return Detection(Lang.UR, True)


def _detect_latin(text: str) -> Detection:
    """Grammar words decide (Roman Urdu always has hai/ka/ko/kaise, English the/is/my...); a
    message with neither is English only if several English content words say so."""
    words = _WORD.findall(squeeze(text.lower()))
    roman = _score(words, _ROMAN_URDU_WORDS)
    english = _score(words, _ENGLISH_WORDS)
    if roman or english:
        if roman == english:  # a tie: English content words lean it ("real agent ... asking")
            lean = Lang.EN if _score(words, _ENGLISH_CONTENT) >= 2 else Lang.UR_LATN
            return Detection(lean, False)
        return Detection(Lang.UR_LATN if roman > english else Lang.EN, True)
    if _score(words, _ENGLISH_CONTENT) >= 2:
        return Detection(Lang.EN, True)
    # "yes", "hello", "ok thanks": English, but too little to be sure ("ok" alone is anyone's).
    if set(words) - _NEUTRAL and set(words) <= _ENGLISH_GREETINGS | _NEUTRAL:
        return Detection(Lang.EN, False)
    # Too little to tell: Roman Urdu is how most people here write in Latin letters.
    return Detection(Lang.UR_LATN, False)


def fold(text: str) -> str:
    """One form for every heh and yeh, for comparing words whatever keyboard typed them."""
    return text.translate(_FOLD)


def squeeze(text: str) -> str:
    return _STRETCHED.sub(r"\1", text)


def normalize(text: str, language: Lang | None = None) -> str:
    """The form every later stage sees. `language` decides how Arabic-keyboard letters map."""
    text = clean(text)
    language = language or detect(text).language
    text = text.translate(_TO_PASHTO) if language == Lang.PS else text.translate(_TO_URDU)
    return squeeze(text.lower())


# Fewer words than this never change the language a person has been answered in: "ok", "1",
# "2.5 lakh", "Multan" or a licence number say nothing about the language they read.
MIN_WORDS_TO_SWITCH = 3


def choose_language(detection: Detection, *, chosen: str | None, previous: str | None,
                    words: int = MIN_WORDS_TO_SWITCH, previous_sure: bool = True) -> Lang:
    """The language to answer in. An explicit choice wins. A language the person has shown
    (`previous_sure`: chosen, or confidently detected before) is kept unless a confident
    detection of a message of three words or more says otherwise. A language that was only a
    guess (the first message was "5") gives way to any reading of the next message."""
    if chosen:
        return Lang(chosen)
    if previous and previous_sure:
        if detection.confident and detection.language and words >= MIN_WORDS_TO_SWITCH:
            return detection.language
        return Lang(previous)
    if detection.language:
        return detection.language
    return Lang(previous) if previous else Lang.UR_LATN


_GRAMMAR_WORDS = (_ROMAN_URDU_WORDS | _ENGLISH_WORDS | _URDU_WORDS | _PUNJABI_WORDS
                  | _PASHTO_WORDS)


def content_words(text: str, *, also_ignore: frozenset[str] = frozenset()) -> list[str]:
    """The words of `text` that are not grammar words of any of the five forms (numbers count):
    what tells a story apart from a bare request such as "I want to make a complaint"."""
    words = re.findall(r"[^\W_]+", fold(clean(text).lower()))
    return [w for w in words if w not in _GRAMMAR_WORDS and w not in also_ignore]
