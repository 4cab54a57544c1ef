"""Imports every table module so SQLModel.metadata (and Alembic) knows them all."""

from bot.casework.evidence import Evidence
from bot.casework.referrals import Referral, ReferralEvent
from bot.casework.staff import Staff, StaffSession
from bot.content.review import ContentVersion
from bot.conversation.contacts import Contact, Message
from bot.messaging.outbox import Outbox
from bot.messaging.rate import SendingRate
from bot.messaging.scheduler import Job
from bot.messaging.templates import WhatsAppTemplate
from bot.outreach.broadcasts import Alert, AlertEvent
from bot.outreach.consent import Consent
from bot.outreach.journeys import CheckIn, Journey
from bot.outreach.licence_watch import LicenceWatch
from bot.outreach.sources import OutreachSession, Source, SourceTouch
from bot.registry.licences import Licence, LicenceImport

__all__ = ["Alert", "AlertEvent", "CheckIn", "Consent", "Contact", "ContentVersion", "Evidence",
           "Job", "Journey", "Licence", "LicenceImport", "LicenceWatch", "Message",
           "OutreachSession", "Outbox", "Referral", "ReferralEvent", "SendingRate", "Source",
           "SourceTouch", "Staff", "StaffSession", "WhatsAppTemplate"]
