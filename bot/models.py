"""Imports every table module so SQLModel.metadata (and Alembic) knows them all."""

from bot.conversations import Contact, HandoffRequest, Message
from bot.licences import Licence, LicenceImport

__all__ = ["Contact", "HandoffRequest", "Licence", "LicenceImport", "Message"]
