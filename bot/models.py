"""Imports every table module so SQLModel.metadata (and Alembic) knows them all."""

from bot.casework.evidence import Evidence
from bot.casework.referrals import Referral, ReferralEvent
from bot.casework.staff import Staff, StaffSession
from bot.content.review import ContentVersion
from bot.conversation.contacts import Contact, Message
from bot.messaging.outbox import Outbox
from bot.registry.licences import Licence, LicenceImport

__all__ = ["Contact", "ContentVersion", "Evidence", "Licence", "LicenceImport", "Message",
           "Outbox", "Referral", "ReferralEvent", "Staff", "StaffSession"]
