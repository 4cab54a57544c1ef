"""Multi-turn conversations. Each module registers its flows in bot/conversation/registry.py;
importing this package registers them all. A flow's `step` returns True when it consumed the
message, False to let the engine treat it as a new one.
"""

from bot.conversation import registry
from bot.conversation.flows import (  # noqa: F401  (imported to register their flows)
    alerts,
    complaint,
    complaint_status,
    danger,
    handoff,
    journey,
    language,
    licence_check,
    menu,
    subscription,
)
from bot.conversation.turn import Turn


def run_command(turn: Turn, command: str) -> bool:
    """Global commands work at every step. Digits that a waiting flow expects are not commands,
    except 0, which is the menu everywhere."""
    if turn.text.isdigit() and turn.text != "0" and _digit_expected(turn):
        return False
    if command == "menu":
        menu.show_menu(turn)
    elif command == "more":
        menu.more(turn)
    elif command in {"stop", "start"}:
        getattr(subscription, command)(turn)
    elif command == "stop_reminders":
        journey.stop_reminders(turn)
    elif command in {"stop_alerts", "start_alerts"}:
        getattr(alerts, command.removesuffix("_alerts"))(turn)
    elif command == "help":
        turn.say("help")
    else:
        registry.start(turn, {"language": "language", "human": "handoff"}[command])
    return True


def _digit_expected(turn: Turn) -> bool:
    """A waiting numbered list takes digits; the complaint form only at its numbered steps (at a
    free-text step "8" is the language command, never an agent's name)."""
    waiting = registry.waiting(turn.state)
    if waiting is None:
        return False
    return waiting.name != "complaint" or complaint.expects_digit(turn.state)
