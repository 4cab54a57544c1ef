"""Choosing a language explicitly: the choice then wins over detection for this contact."""

from dataclasses import replace

from bot.conversation.language import LANGUAGES, Lang
from bot.conversation.turn import Turn


def start(turn: Turn) -> None:
    turn.set_state(flow="language")
    turn.say("choose_language")


def step(turn: Turn) -> bool:
    choice = turn.text.strip(" .")
    if not (choice.isdigit() and 1 <= int(choice) <= len(LANGUAGES)):
        turn.clear_flow()
        return False  # not an answer to "which language?": treat it as a new message
    chosen = LANGUAGES[int(choice) - 1]
    turn.contact.language = str(chosen)
    turn.clear_flow()
    turn.understanding = replace(turn.understanding, language=Lang(chosen))
    turn.say("language_set")
    return True
