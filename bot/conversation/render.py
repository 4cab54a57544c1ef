"""A turn's reply parts made into the messages sent, within the channel's limits.

On SMS a numbered list (consent, categories, summary, did-you-mean, licence candidates, menu) is
never split by a page break: when the whole reply does not fit one page, the text before the
list goes first as its own message (cut with the MORE hint if it must be) and the list follows
whole in a second message, with the sentence just before it where that still fits. TwiML sends
both in order. `rahnuma content check` verifies that every list fits a page on its own.
"""

import re
from dataclasses import dataclass

from bot.conversation.channels import Channel, fits, paginate

NUMBERED_LINE = re.compile(r"(?m)^\d+ ")


def is_list(part: str) -> bool:
    return len(NUMBERED_LINE.findall(part)) >= 2


@dataclass(frozen=True)
class Limits:
    channel: Channel
    sms_max_segments: int
    more_hint: str

    def fits(self, text: str) -> bool:
        return fits(text, self.channel, sms_max_segments=self.sms_max_segments)

    def paginate(self, text: str, *, continues: bool = False) -> tuple[str, str]:
        return paginate(text, self.channel, more_hint=self.more_hint,
                        sms_max_segments=self.sms_max_segments, continues=continues)


def with_optional(parts: list[str], optional: list[str], limits: Limits,
                  has_more: bool) -> list[str]:
    """The optional parts (hints) are added only where they fit on the answer's one page."""
    hint = "\n" + limits.more_hint if has_more else ""
    parts = list(parts)
    for extra in optional:
        if limits.fits("\n\n".join([*parts, extra]) + hint):
            parts.append(extra)
    return parts


def render(parts: list[str], limits: Limits, *, more: str = "") -> tuple[list[str], str]:
    """The messages to send now, and the text kept for MORE."""
    whole = "\n\n".join(parts)
    last_list = max((i for i, p in enumerate(parts) if is_list(p)), default=None)
    hint = "\n" + limits.more_hint if more else ""
    if last_list is None or limits.fits(whole + hint):
        page, rest = limits.paginate(whole, continues=bool(more))
        return [page], _join(rest, more)
    # The list and everything after it travel together; the sentence before it joins them
    # when it fits (it often introduces the list: "Please check your complaint:").
    start = last_list
    if start > 0 and limits.fits("\n\n".join(parts[start - 1:])):
        start -= 1
    before, chosen = parts[:start], "\n\n".join(parts[start:])
    messages: list[str] = []
    kept = more
    if before:
        page, rest = limits.paginate("\n\n".join(before), continues=bool(more))
        messages.append(page)
        kept = _join(rest, more)
    messages.append(chosen)
    return messages, kept


def _join(*texts: str) -> str:
    return "\n\n".join(t for t in texts if t)
