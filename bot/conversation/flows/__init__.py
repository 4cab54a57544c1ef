"""Multi-turn conversations. Each module handles its own state in `contact.state`.

The state's "flow" names the module that gets the next message; a flow returns True from
`step` when it consumed the message, False to let the engine treat it as a new question.
"""

from bot.conversation.flows import (
    complaint,
    complaint_status,
    handoff,
    language,
    licence_check,
    menu,
    subscription,
)
from bot.conversation.turn import Turn

# Flows that may be waiting for the person's next message.
ACTIVE_FLOWS = {"choices": menu, "language": language, "licence_check": licence_check,
                "complaint": complaint}


def run_command(turn: Turn, command: str) -> bool:
    """Global commands work at every step. Digits that a waiting flow expects are not commands,
    except 0, which is the menu everywhere."""
    if turn.text.isdigit() and turn.text != "0" and turn.state.get("flow") in ACTIVE_FLOWS:
        return False
    if command == "menu":
        turn.clear_flow()
        turn.say("menu")
    elif command == "more":
        menu.more(turn)
    elif command in {"stop", "start"}:
        getattr(subscription, command)(turn)
    elif command == "help":
        turn.say("help")
    else:
        return run_action(turn, {"language": "language", "human": "handoff"}[command])
    return True


def run_action(turn: Turn, action: str) -> bool:
    if action == "language":
        language.start(turn)
    elif action == "handoff":
        handoff.request(turn)
    elif action == "complaint":
        complaint.start(turn, story=turn.inbound.body if turn.understanding.nlu else "")
    elif action == "licence_check":
        licence_check.start(turn)
    elif action == "complaint_status":
        complaint_status.answer(turn)
    elif action == "menu":
        turn.clear_flow()
        turn.say("menu")
    elif action == "welcome":
        turn.say("welcome")
        turn.say("menu")
    elif action == "out_of_scope":
        turn.say("out_of_scope")
        turn.say("menu")
    else:
        turn.say(action)  # goodbye: a fixed text of the same name
    return True


def accepts_media(turn: Turn) -> bool:
    """Only the complaint intake takes files (as evidence)."""
    return turn.state.get("flow") == "complaint"


def continue_active(turn: Turn) -> bool:
    flow = ACTIVE_FLOWS.get(turn.state.get("flow", ""))
    return bool(flow and flow.step(turn))
