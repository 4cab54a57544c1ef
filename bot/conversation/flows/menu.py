"""The numbered main menu, numbered choices between topics, topic answers and MORE."""

from collections.abc import Callable
from typing import Any

from bot.content.store import Topic
from bot.conversation.intents import ACTION_FOR_INTENT
from bot.conversation.turn import Turn


def choose(turn: Turn, number: str) -> None:
    item = turn.content.menu[number]
    if item.action:
        from bot.conversation.flows import run_action  # the dispatcher imports this module

        run_action(turn, item.action)
    elif len(item.topics) == 1:
        answer_topic(turn, turn.content.topics[item.topics[0]])
    else:
        offer(turn, [f"topic:{t}" for t in item.topics], header="choose_topic")


def offer(turn: Turn, options: list[str], *, header: str) -> None:
    """Numbered choices. An option is an intent name or "topic:<id>"."""
    options = [_as_target(turn, o) for o in options]
    lines = [f"{n} {_title(turn, target)}" for n, target in enumerate(options, start=1)]
    turn.set_state(flow="choices", options=options)
    turn.say(header)
    turn.parts[-1] += "\n" + "\n".join(lines) + "\n0 " + _title(turn, "action:menu")


def numbered_choice(turn: Turn, options: list, on_pick: Callable[[Any], None]) -> bool:
    """A reply to a numbered list: a valid number picks, another number is asked again, and
    anything else leaves the list (False: the engine treats it as a new message)."""
    choice = turn.text.strip(" .")
    if not choice.isdigit():
        turn.clear_flow()
        return False
    if not 1 <= int(choice) <= len(options):
        turn.say("choice_invalid")
        return True
    on_pick(options[int(choice) - 1])
    return True


def step(turn: Turn) -> bool:
    return numbered_choice(turn, turn.state.get("options") or [], lambda o: _go(turn, o))


def _go(turn: Turn, option: str) -> None:
    turn.clear_flow()
    kind, _, name = option.partition(":")
    if kind == "topic":
        answer_topic(turn, turn.content.topics[name])
    else:
        from bot.conversation.flows import run_action

        run_action(turn, name)


def answer_topic(turn: Turn, topic: Topic) -> None:
    turn.parts.append(turn.content.fill(topic.answer(turn.language, turn.channel)))
    turn.more = turn.content.fill(topic.more[turn.language])


def more(turn: Turn) -> None:
    pending = turn.state.get("more")
    if not pending:
        turn.say("no_more")
        return
    state = dict(turn.state)
    state.pop("more")
    turn.contact.state = state
    turn.parts.append(pending)


def _as_target(turn: Turn, option: str) -> str:
    if ":" in option:
        return option
    action = ACTION_FOR_INTENT.get(option)
    if action:
        return f"action:{action}"
    topic = turn.content.topic_for_intent(option)
    return f"topic:{topic.id}" if topic else "action:menu"


def _title(turn: Turn, target: str) -> str:
    kind, _, name = target.partition(":")
    if kind == "topic":
        return turn.content.topics[name].title[turn.language]
    return turn.content.text(f"title_{name}", turn.language)
