"""Storing and deduplicating messages."""

from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session, func, select

from bot.conversation.contacts import Contact, Message
from bot.conversation.inbox import receive
from bot.conversation.language import Lang
from tests.factories import inbound


def count(db, model, *where) -> int:
    with Session(db) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_inbox_repeated_sid_is_answered_once_with_the_same_reply(db, bot, fake_nlu):
    fake_nlu.teach("fees", "ask_fees")
    message = inbound("fees")
    first = receive(db, bot, message)
    second = receive(db, bot, message)
    assert second.duplicate and not first.duplicate
    assert [r.body for r in second.replies] == [r.body for r in first.replies]
    assert count(db, Message, Message.direction == "in") == 1
    assert count(db, Message, Message.direction == "out") == 1
    assert len(fake_nlu.calls) == 1


def test_inbox_concurrent_duplicates_store_one_message(db, bot, fake_nlu):
    fake_nlu.teach("fees", "ask_fees")
    message = inbound("fees")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: receive(db, bot, message), range(8)))
    assert sum(not r.duplicate for r in results) == 1
    assert len({tuple(r.body for r in result.replies) for result in results}) == 1
    assert count(db, Message, Message.direction == "in") == 1
    assert count(db, Message, Message.direction == "out") == 1


def test_inbox_first_messages_from_a_new_number_at_once_make_one_contact(db, bot):
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda i: receive(db, bot, inbound(f"hello {i}", phone="+923339999999")),
                      range(6)))
    assert count(db, Contact) == 1
    assert count(db, Message, Message.direction == "in") == 6


def test_inbox_engine_failure_keeps_the_message_and_answers_with_error(db, bot, content):
    def explode(*_args, **_kwargs):
        raise RuntimeError("a bug in a flow")

    bot.handle = explode
    result = receive(db, bot, inbound("agent kitni fees le sakta hai"))
    assert [r.body for r in result.replies] == [content.text("error", Lang.UR_LATN)]
    assert count(db, Message, Message.direction == "in") == 1
    assert count(db, Message, Message.direction == "out") == 1


def test_inbox_rate_limit_gives_one_notice_then_silence(db, bot, content):
    bot.rate_limit_per_minute = 3
    replies = [receive(db, bot, inbound(f"hello {i}")).replies for i in range(6)]
    assert all(replies[:3])
    assert [r.body for r in replies[3]] == [content.text("rate_limited", Lang.EN)]
    assert replies[4] == [] and replies[5] == []
    assert count(db, Message, Message.direction == "in") == 6  # nothing is lost
