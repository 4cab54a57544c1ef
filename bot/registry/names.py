"""Agency names compared across scripts and spellings.

The official list writes names in Latin letters; people type them in Urdu or Pashto script
("کریسنٹ اوورسیز"), in Roman Urdu ("kresent oversis") or with typos. Every name is brought to
one comparable form: transliterated to ASCII with `anyascii` (a maintained library with tables
for Arabic, Urdu and Pashto letters), then reduced to a consonant skeleton, because Urdu script
writes few vowels and Roman spellings differ mostly in vowels (crescent, kresent, کریسنٹ all
become "krsnt"). Words every agency name has (overseas, manpower, services...) carry no
identity and are left out of the comparison, so "golden gate overseas" is not a match for
"crescent overseas" just because both say "overseas".
"""

import re
from functools import lru_cache

from anyascii import anyascii
from rapidfuzz import fuzz

# Generic words of agency names (Latin spelling; their script forms are matched by skeleton).
GENERIC_WORDS = frozenset(
    """
    overseas oversea employment employments promoter promoters promoters manpower man power
    services service agency agencies recruiting recruitment recruiters international intl
    travel travels tours trading traders enterprise enterprises company co pvt private ltd
    limited and the of group associates consultants consultancy corporation corp human
    resource resources hr development sample oep solutions global
    """.split()
)

_DIGRAPHS = (("ph", "f"), ("sh", "s"), ("ch", "x"), ("kh", "k"), ("gh", "g"), ("th", "t"),
             ("dh", "d"), ("zh", "s"), ("ck", "k"), ("dz", "s"), ("ts", "s"))
_SOFT_C = re.compile(r"c(?=[eiy])")
# Urdu writes these as ی ہ ع or not at all. "w" stays: و is both v/w and o/u, and Latin
# v/w (Ravi, Silver) would otherwise vanish; Latin o/u are dropped on the other side anyway.
_VOWEL_LIKE = re.compile(r"[aeiouyh`']")
_REPEAT = re.compile(r"(.)\1+")


@lru_cache(maxsize=8192)
def skeleton(word: str, *, keep_w: bool = True) -> str:
    """The consonant skeleton of one word, whatever script it was typed in. With `keep_w`
    False, w goes too: Urdu writes o/u as و ("ہیومن" for human), Latin writes v/w as consonants
    ("Ravi"); names are compared both ways and the better reading counts."""
    latin = anyascii(word).lower()
    latin = re.sub(r"[^a-z`']", "", latin)
    latin = _SOFT_C.sub("s", latin).replace("c", "k")
    for digraph, single in _DIGRAPHS:
        latin = latin.replace(digraph, single)
    # ج is j; Latin writes the same sound as a soft g ("agency", "ایجنسی").
    latin = re.sub(r"g(?=[eiy])", "j", latin)
    latin = latin.replace("q", "k").replace("z", "s").replace("v", "w").replace("j", "g")
    shape = _VOWEL_LIKE.sub("", latin if keep_w else latin.replace("w", ""))
    return _REPEAT.sub(r"\1", shape)


# Compared without w too, so "ہیومن" and "اوورسیز" are known as generic; skeletons this short
# ("r" of "hr") would take real names with them ("Ravi"), so only exact words count there.
_GENERIC_SKELETONS = frozenset(skeleton(w, keep_w=False) for w in GENERIC_WORDS
                               if len(w) > 3) - {""}


Shape = tuple[str, str]  # distinctive skeletons with and without w


def distinctive(name: str, *, also_ignore: frozenset[str] = frozenset()) -> Shape:
    """The skeletons of a name's identifying words, joined: what two names are compared on."""
    words = re.findall(r"[^\W\d_]+", name.lower())
    with_w, without_w = [], []
    for word in words:
        if word in GENERIC_WORDS or word in also_ignore:
            continue
        shape, weak = skeleton(word), skeleton(word, keep_w=False)
        if weak and weak not in _GENERIC_SKELETONS and shape not in also_ignore:
            with_w.append(shape)
            without_w.append(weak)
    return " ".join(with_w), " ".join(without_w)


def similarity(query: Shape, candidate: Shape) -> float:
    """0-100: how alike two names are, on the better of the two readings."""
    return max(_similarity(query[0], candidate[0]), _similarity(query[1], candidate[1]))


def _similarity(query: str, candidate: str) -> float:
    if not query or not candidate:
        return 0.0
    whole = fuzz.ratio(query, candidate)
    # A query that names only the first words of the agency ("silver star" for "silver star
    # travels") is scored on the words it has.
    if len(query) >= 4 and len(query.split()) < len(candidate.split()):
        whole = max(whole, fuzz.ratio(query, " ".join(candidate.split()[:len(query.split())])))
    return float(whole)


def generic_part(name: str) -> frozenset[str]:
    """The generic words of a name, as skeletons ("overseas", "اوورسیز" -> one form): between
    several agencies with the same distinctive words, the one whose kind of agency the person
    also named ("crescent overseas", not "crescent recruiting agency") is the one meant."""
    shapes = set()
    for word in re.findall(r"[^\W\d_]+", name.lower()):
        weak = skeleton(word, keep_w=False)
        if (word in GENERIC_WORDS and len(word) > 3) or weak in _GENERIC_SKELETONS:
            shapes.add(weak)
    return frozenset(shapes)
