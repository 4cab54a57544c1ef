"""`rahnuma chat`: a terminal conversation with the engine, stored like any other."""

import uuid

import click

from bot.conversation.channels import Channel
from bot.conversation.engine import build_engine
from bot.conversation.inbox import receive
from bot.conversation.turn import InboundMessage
from bot.db import get_engine
from bot.migrate import upgrade
from bot.settings import Settings


def run_chat(settings: Settings, channel: Channel, phone: str) -> None:
    upgrade(settings.database_url)
    db = get_engine(settings.database_url)
    engine = build_engine(settings)
    click.echo(f"Chatting as {phone} over {channel}. Ctrl-D or Ctrl-C to leave.")
    while True:
        try:
            body = input("> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        inbound = InboundMessage(phone=phone, channel=channel, body=body,
                                 sid=f"CHAT{uuid.uuid4().hex}")
        for reply in receive(db, engine, inbound).replies:
            click.echo(reply.body + "\n")
