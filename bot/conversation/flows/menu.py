"""The numbered main menu, numbered choices between topics, topic answers and MORE."""

from collections.abc import Callable, Sequence
from typing import Any

from bot.content.store import Topic
from bot.conversation import registry
from bot.conversation.intents import ACTION_FOR_INTENT
from bot.conversation.registry import Flow
from bot.conversation.turn import Turn

FLOW = "choices"


def show_menu(turn: Turn) -> None:
    """The main menu; an unfinished complaint is paused, and the menu says how to go on."""
    turn.state.leave()
    if turn.state.intake:
        turn.say("complaint_paused")
    turn.say("menu")


def choose(turn: Turn, number: str) -> None:
    item = turn.content.menu[number]
    if item.action:
        registry.start(turn, item.action)
    elif len(item.topics) == 1:
        answer_topic(turn, turn.content.topics[item.topics[0]])
    else:
        offer(turn, [f"topic:{t}" for t in item.topics], header="choose_topic")


def offer(turn: Turn, options: list[str], *, header: str) -> None:
    """Numbered choices. An option is an intent name or "topic:<id>"."""
    options = [_as_target(turn, o) for o in options]
    lines = [f"{n} {_title(turn, target)}" for n, target in enumerate(options, start=1)]
    turn.state.enter(FLOW, options=options)
    turn.say(header)
    turn.parts[-1] += "\n" + "\n".join(lines) + "\n0 " + _title(turn, "action:menu")


def numbered_choice(turn: Turn, options: Sequence[Any], on_pick: Callable[[Any], None]) -> bool:
    """A reply to a numbered list: a valid number picks, another number is asked again, and
    anything else leaves the list (False: the engine treats it as a new message)."""
    choice = turn.text.strip(" .")
    if not choice.isdigit():
        turn.state.leave()
        return False
    if not 1 <= int(choice) <= len(options):
        turn.say("choice_invalid")
        return True
    on_pick(options[int(choice) - 1])
    return True


def step(turn: Turn) -> bool:
    return numbered_choice(turn, turn.state.data.get("options") or [], lambda o: _go(turn, o))


def _go(turn: Turn, option: str) -> None:
    turn.state.leave()
    kind, _, name = option.partition(":")
    if kind == "topic":
        answer_topic(turn, turn.content.topics[name])
    else:
        registry.start(turn, name)


def answer_topic(turn: Turn, topic: Topic) -> None:
    turn.say_topic(topic.id, turn.content.fill(topic.answer(turn.language, turn.channel)),
                   more=turn.content.fill(topic.continuation(turn.language, turn.channel)))


def more(turn: Turn) -> None:
    pending = turn.state.more
    if not pending:
        turn.say("no_more")
        return
    turn.state.more = ""
    turn.parts.append(pending)
    turn.keys.append("more")


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


def _saying(key: str, *then: str) -> Callable[[Turn], None]:
    def start(turn: Turn) -> None:
        turn.say(key)
        for following in then:
            turn.say(following)
    return start


def _not_digit(state: Any, text: str) -> bool:
    return not text.strip(" .").isdigit()


registry.register(Flow(FLOW, start=lambda turn: show_menu(turn), step=step, needs_nlu=_not_digit))
registry.register(Flow("menu", start=show_menu))
registry.register(Flow("welcome", start=_saying("welcome", "menu")))
registry.register(Flow("out_of_scope", start=_saying("out_of_scope", "menu")))
registry.register(Flow("goodbye", start=_saying("goodbye")))
registry.register(Flow("job_request", start=_saying("job_request")))
registry.register(Flow("anger", start=_saying("anger_offer")))
