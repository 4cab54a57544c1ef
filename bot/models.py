"""Imports every table module so SQLModel.metadata (and Alembic) knows them all."""

from bot.conversations import Contact, Message
from bot.evidence import Evidence
from bot.licences import Licence, LicenceImport
from bot.outbox import Outbox
from bot.referrals import Referral, ReferralEvent
from bot.staff import Staff, StaffSession

__all__ = ["Contact", "Evidence", "Licence", "LicenceImport", "Message", "Outbox", "Referral",
           "ReferralEvent", "Staff", "StaffSession"]
