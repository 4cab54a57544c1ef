"""What each channel can carry, and how a long answer is cut into a page and a rest.

An SMS in GSM-7 holds 160 characters alone or 153 per part; anything outside GSM-7 (all Urdu,
Punjabi and Pashto script, but also a curly quote) turns the whole message into UCS-2: 70 alone,
67 per part. WhatsApp takes up to 1,600 characters.
"""

import math
from enum import StrEnum

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")  # each costs two septets
WHATSAPP_MAX_CHARS = 1600


class Channel(StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def sms_segments(text: str) -> int:
    """How many SMS parts `text` costs."""
    if is_gsm7(text):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        single, multi = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / multi)


def fits(text: str, channel: Channel, *, sms_max_segments: int) -> bool:
    if channel == Channel.SMS:
        return sms_segments(text) <= sms_max_segments
    return len(text) <= WHATSAPP_MAX_CHARS


def paginate(
    text: str, channel: Channel, *, more_hint: str, sms_max_segments: int,
    continues: bool = False,
) -> tuple[str, str]:
    """Split `text` into a first page that fits the channel (ending with `more_hint`) and the rest.

    Cuts at a line break, else a sentence end, else a space, never inside a word; returns
    (text, "") when it already fits. `continues`: more follows from elsewhere, so the page
    ends with the hint even when `text` itself fits.
    """
    whole = f"{text}\n{more_hint}" if continues else text
    if fits(whole, channel, sms_max_segments=sms_max_segments):
        return whole, ""
    cut = _longest_fitting_prefix(text, channel, more_hint, sms_max_segments)
    for boundary in ("\n", ". ", "۔ ", "? ", " "):
        at = text.rfind(boundary, 0, cut)
        if at > cut // 3:
            cut = at + len(boundary)
            break
    page = text[:cut].rstrip()
    return f"{page}\n{more_hint}", text[cut:].lstrip()


def _longest_fitting_prefix(text: str, channel: Channel, hint: str, max_segments: int) -> int:
    low, high = 1, len(text)
    while low < high:  # binary search: fits() is monotonic in the prefix length
        mid = (low + high + 1) // 2
        if fits(f"{text[:mid]}\n{hint}", channel, sms_max_segments=max_segments):
            low = mid
        else:
            high = mid - 1
    return low
