"""Every waiting flow × every global command, then resuming: a command always works, and an
unfinished complaint survives everything but STOP (fake NLU, real database)."""

import pytest
from sqlmodel import Session, select

from bot.conversation.contacts import Contact
from bot.conversation.inbox import receive
from bot.conversation.state import ConversationState
from bot.db import session_scope
from bot.registry.licence_import import import_licences
from tests.factories import inbound

PHONE = "+923005550000"
# How to bring a new contact to each waiting flow (and whether a complaint is then open).
SETUPS = {
    "choices": ["1"],
    "language": ["8"],
    "licence_check": ["3"],
    "licence_choose": ["3", "ravi"],
    "danger": ["mera beta kamre mein band hai aur maarte hain"],
    "complaint": ["5", "haan", "1", "agent ne paise le liye"],
    "choices_over_complaint": ["5", "haan", "1", "agent ne paise le liye", "0", "1"],
    "licence_over_complaint": ["5", "haan", "1", "agent ne paise le liye", "0", "3"],
}
COMMANDS = ["menu", "more", "help", "language", "human", "stop"]


def say(db, bot, body):
    return receive(db, bot, inbound(body, phone=PHONE)).replies


def state(db) -> ConversationState:
    with Session(db) as session:
        contact = session.exec(select(Contact).where(Contact.phone == PHONE)).one()
        return ConversationState.load(contact.state)


@pytest.fixture
def registry(db):
    with session_scope(db) as session:
        import_licences(session, "licence_no,name,city,status\n0848/LHR,Ravi Manpower,Lahore,"
                        "valid\n0849/MUL,Ravi Overseas,Multan,valid\n", file_name="list.csv")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("setup", list(SETUPS))
def test_flow_command_then_resume(db, bot, registry, setup, command):
    for message in SETUPS[setup]:
        say(db, bot, message)
    had_intake = state(db).intake is not None
    replies = say(db, bot, command)
    assert replies, f"{command} in {setup} got no answer"
    after = state(db)
    if command == "stop":
        assert after.intake is None and after.flow is None
        say(db, bot, "start")
        keys = {k for r in say(db, bot, "5") for k in r.keys}
        assert "complaint_consent" in keys  # STOP forgot the unfinished complaint
        return
    assert (after.intake is not None) == had_intake, "a command dropped the complaint"
    if had_intake:
        say(db, bot, "0")
        keys = {k for r in say(db, bot, "5") for k in r.keys}
        assert "complaint_resumed" in keys and "complaint_agent" in keys


@pytest.mark.parametrize("setup", list(SETUPS))
def test_prefetch_and_router_agree_on_needing_the_nlu(db, bot, registry, fake_nlu, setup):
    """What the prefetch skips, the router must not ask for: one rule (Engine.needs_nlu)."""
    for message in SETUPS[setup]:
        say(db, bot, message)
    for follow_up in ["1", "what is the legal fee?", "agent ne 3 lakh liye"]:
        wanted = bot.needs_nlu(follow_up, state(db))
        fake_nlu.calls.clear()
        say(db, bot, follow_up)
        if not wanted:
            assert fake_nlu.calls == [], (setup, follow_up)
