"""Choosing a language explicitly: the choice then wins over detection for this contact."""

from dataclasses import replace

from bot.conversation import registry
from bot.conversation.language import LANGUAGES, Lang
from bot.conversation.registry import Flow
from bot.conversation.turn import Turn

FLOW = "language"


def start(turn: Turn) -> None:
    turn.state.enter(FLOW)
    turn.say("choose_language")


def step(turn: Turn) -> bool:
    choice = turn.text.strip(" .")
    if not (choice.isdigit() and 1 <= int(choice) <= len(LANGUAGES)):
        turn.state.leave()
        return False  # not an answer to "which language?": treat it as a new message
    chosen = LANGUAGES[int(choice) - 1]
    turn.contact.language = str(chosen)
    turn.state.leave()
    turn.understanding = replace(turn.understanding, language=Lang(chosen))
    turn.say("language_set")
    if turn.state.intake:
        turn.say("complaint_paused")
    return True


def _not_a_choice(state: object, text: str) -> bool:
    return not text.strip(" .").isdigit()  # anything else is a new message for the NLU


registry.register(Flow(FLOW, start=start, step=step, needs_nlu=_not_a_choice))
