"""The Flow interface and the one registry of flows and actions.

A flow is started by an action name (from the menu, an intent or a command) and, if it waits for
the person's next message, gets that message through `step`. The engine's router and the NLU
prefetch both ask the registry, so the rule "does this message need the NLU?" exists once.

Flows register themselves when `bot.conversation.flows` is imported; this module imports none
of them, which keeps the menu (a flow that starts other flows) free of import cycles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.conversation.state import ConversationState
    from bot.conversation.turn import Turn


def _never(state: ConversationState, text: str) -> bool:
    return False


@dataclass(frozen=True)
class Flow:
    name: str
    start: Callable[[Turn], None]
    # The next message while this flow waits: True if taken, False to treat it as a new one.
    step: Callable[[Turn], bool] | None = None
    # Whether a message arriving while this flow waits may need the NLU (a free-text step can
    # be a question asked in passing); decides the prefetch before the contact is locked.
    needs_nlu: Callable[[ConversationState, str], bool] = _never
    accepts_media: bool = False


_FLOWS: dict[str, Flow] = {}


def register(flow: Flow) -> Flow:
    if flow.name in _FLOWS:
        raise ValueError(f"flow {flow.name!r} registered twice")
    _FLOWS[flow.name] = flow
    return flow


def get(name: str) -> Flow:
    return _FLOWS[name]


def names() -> frozenset[str]:
    return frozenset(_FLOWS)


def start(turn: Turn, name: str) -> None:
    _FLOWS[name].start(turn)


def waiting(state: ConversationState) -> Flow | None:
    """The flow that takes the next message, if any waits."""
    flow = _FLOWS.get(state.flow or "")
    return flow if flow and flow.step else None
