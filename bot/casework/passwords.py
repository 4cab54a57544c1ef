"""Which staff passwords are refused, following NIST SP 800-63B 5.1.1.2.

Length, a blocklist of common passwords, words from the person's own context, and trivial
patterns. No composition rules ("one digit, one symbol"): they push people to `Password1!`
and do not make guessing harder.
"""

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

MIN_LENGTH = 10
# Long passphrases are welcome; the cap only stops megabyte "passwords" from being hashed.
MAX_LENGTH = 128
# Context words shorter than this ("ali", "mrc") occur inside ordinary words too often.
MIN_CONTEXT_WORD = 4
ALWAYS_CONTEXT = ("rahnuma",)

# Runs of characters people type without thinking: alphabet, digits, keyboard rows and columns.
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm",
              "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
              "qazwsxedcrfvtgbyhnujmikolp", "1q2w3e4r5t6y7u8i9o0p", "q1w2e3r4t5y6u7i8o9p0")
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@lru_cache
def common_passwords() -> frozenset[str]:
    text = resources.files("bot.casework").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, context: Iterable[str] = ()) -> str | None:
    """Why this password is refused (a sentence for the staff member), or None if it is fine."""
    if len(password) < MIN_LENGTH:
        return f"the password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"the password can have at most {MAX_LENGTH} characters"
    plain = _normal(password)
    if _is_trivial(plain):
        return "the password is a repeated character or a simple sequence: choose another"
    if _is_common(plain):
        return "the password is one of the commonly used ones that attackers try first"
    if any(word in plain.replace(" ", "") for word in _context_words(context)):
        return ("the password must not contain your name, your email address, your centre "
                "or the word Rahnuma")
    return None


def _normal(password: str) -> str:
    # NFKC folds look-alike forms (full-width letters, ligatures) into the plain ones.
    return unicodedata.normalize("NFKC", password).lower()


def _is_trivial(plain: str) -> bool:
    squashed = plain.replace(" ", "")
    if any(squashed == (squashed[:size] * len(squashed))[:len(squashed)] for size in range(1, 5)):
        return True  # "aaaaaaaaaa", "ababababab", "abcabcabca", "1212121212"
    return any(squashed in run * 3 or squashed in (run * 3)[::-1] for run in _SEQUENCES)


def _is_common(plain: str) -> bool:
    listed = common_passwords()
    squashed = plain.replace(" ", "")
    # "Lahore786!" and "password12" are a listed word dressed up with digits and symbols.
    return any(form in listed for form in (plain, squashed, _EDGES.sub("", squashed)))


def _context_words(context: Iterable[str]) -> set[str]:
    words: set[str] = set()
    for item in (*context, *ALWAYS_CONTEXT):
        item = _normal(item)
        local = item.split("@")[0]
        parts = re.split(r"[\W_]+", local) + [re.sub(r"[\W_]+", "", local)]
        words.update(part for part in parts if len(part) >= MIN_CONTEXT_WORD)
    return words
