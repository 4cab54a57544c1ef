"""The conversation state kept per contact between messages, typed, with explicit survival rules.

What survives what:
- `flow`, `step`, `data`: the flow waiting for the next message; replaced when another flow
  starts, emptied when it ends.
- `intake`: the complaint being taken. It outlives every other flow: the menu, `0`, a language
  change, a numbered list or a licence check *pause* it (the flow moves on, the intake stays),
  and `5` resumes it. Only filing, cancelling, declining, STOP or 24 hours without a touch end it.
- `more`: the text kept for MORE; every reply replaces it.
- `story`: the last message that told what happened; a complaint started next begins with it,
  and filing or cancelling the complaint forgets it.
- `last_answer`: what the previous reply answered and when, to notice a question asked twice.
- `rate_notice_at`: when the rate-limit notice was last sent (bot/conversation/inbox.py).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class ConversationState:
    flow: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    intake: dict[str, Any] | None = None
    more: str = ""
    # The last message that told what happened, kept so a complaint started next uses it.
    story: str = ""
    last_answer: dict[str, str] | None = None
    # The answering language was shown by the person (chosen or confidently detected), not
    # guessed from a digit or a greeting: only then do short replies keep it.
    language_sure: bool = False
    rate_notice_at: str | None = None

    @classmethod
    def load(cls, raw: dict[str, Any] | None) -> ConversationState:
        """From the JSON column; also reads the untyped shapes the first version stored."""
        # A deep copy: flows change the intake in place, and the JSON column notices a change
        # only by comparing the stored value with a *different* object.
        raw = copy.deepcopy(raw or {})
        data = dict(raw.get("data") or {})
        for legacy in ("options", "candidates"):  # first version: list fields at top level
            if legacy in raw:
                data[legacy] = raw[legacy]
        more = raw.get("more") or ""
        return cls(flow=raw.get("flow"), step=raw.get("step"), data=data,
                   intake=raw.get("intake"), more=more if isinstance(more, str) else "",
                   story=raw.get("story") or "",
                   last_answer=raw.get("last_answer"), rate_notice_at=raw.get("rate_notice_at"),
                   language_sure=bool(raw.get("language_sure")))

    def dump(self) -> dict[str, Any]:
        """A new dict (so the JSON column sees the change), without empty fields."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "", {}, False)}

    def enter(self, flow: str, step: str | None = None, **data: Any) -> None:
        """Another flow takes the next message; a complaint intake stays, paused."""
        self.flow, self.step, self.data = flow, step, dict(data)

    def leave(self) -> None:
        """No flow waits any more; a complaint intake stays, paused."""
        self.flow, self.step, self.data = None, None, {}

    def end_intake(self) -> None:
        self.intake = None
        self.story = ""
        if self.flow == "complaint":
            self.leave()

    def reset(self) -> None:
        """STOP: everything but the rate-limit bookkeeping is forgotten."""
        notice = self.rate_notice_at
        self.__dict__.update(ConversationState().__dict__)
        self.rate_notice_at = notice

    @property
    def paused_intake(self) -> bool:
        return bool(self.intake) and self.flow != "complaint"

    def answered(self, key: str, at: datetime) -> None:
        self.last_answer = {"key": key, "at": at.isoformat()}
