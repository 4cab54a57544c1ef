"""Imports every table module so SQLModel.metadata (and Alembic) knows them all."""

from bot.conversations import Contact, HandoffRequest, Message

__all__ = ["Contact", "HandoffRequest", "Message"]
