"""Resource-centre staff: accounts, passwords, sessions, and who may see which case."""

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Field, Session, SQLModel, select

from bot.casework.referrals import Referral
from bot.conversation.contacts import stored_id, utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


class Role(StrEnum):
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class StaffError(Exception):
    """A staff operation was refused (the message says why, for the staff member)."""


class Staff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=200, unique=True, index=True)
    name: str = Field(max_length=200)
    centre: str = Field(max_length=64)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=200)
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class StaffSession(SQLModel, table=True):
    """Server-side sessions: logging out (or a password change) really ends them."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    csrf_token: str = Field(max_length=64)
    expires_at: datetime


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_staff(session: Session, *, email: str, name: str, centre: str, role: Role,
              password: str) -> Staff:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    email = email.strip().lower()
    if session.exec(select(Staff).where(Staff.email == email)).first():
        raise StaffError(f"{email} already has an account")
    staff = Staff(email=email, name=name, centre=centre, role=Role(role),
                  password_hash=_hasher.hash(password))
    session.add(staff)
    session.flush()
    return staff


def authenticate(session: Session, *, email: str, password: str) -> Staff:
    """The staff member, or StaffError; repeated failures lock the account for a while."""
    staff = session.exec(select(Staff).where(Staff.email == email.strip().lower())).first()
    now = utcnow()
    if staff is None or not staff.active:
        _hasher.hash(password)  # same work either way: no hint that the email is unknown
        raise StaffError("wrong email or password")
    if staff.locked_until and staff.locked_until > now:
        raise StaffError("too many failed attempts: try again in 15 minutes")
    try:
        _hasher.verify(staff.password_hash, password)
    except (VerificationError, InvalidHashError):
        staff.failed_logins += 1
        if staff.failed_logins >= MAX_FAILED_LOGINS:
            staff.locked_until, staff.failed_logins = now + LOCKOUT, 0
        raise StaffError("wrong email or password") from None
    staff.failed_logins, staff.locked_until = 0, None
    return staff


def change_password(session: Session, staff: Staff, *, current: str, new: str) -> None:
    try:
        _hasher.verify(staff.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise StaffError("the current password is wrong") from None
    if len(new) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    staff.password_hash = _hasher.hash(new)
    for old in session.exec(select(StaffSession).where(StaffSession.staff_id == staff.id)):
        session.delete(old)  # every other device is logged out


def start_session(session: Session, staff: Staff) -> tuple[str, StaffSession]:
    token = secrets.token_urlsafe(32)
    record = StaffSession(token_hash=_hash_token(token), staff_id=stored_id(staff),
                          csrf_token=secrets.token_urlsafe(24),
                          expires_at=utcnow() + SESSION_LIFETIME)
    session.add(record)
    return token, record


def session_for(session: Session, token: str | None) -> tuple[Staff, StaffSession] | None:
    if not token:
        return None
    record = session.exec(select(StaffSession).where(
        StaffSession.token_hash == _hash_token(token))).first()
    if record is None or record.expires_at < utcnow():
        return None
    staff = session.get(Staff, record.staff_id)
    return (staff, record) if staff and staff.active else None


def end_session(session: Session, token: str | None) -> None:
    if token:
        for record in session.exec(select(StaffSession).where(
                StaffSession.token_hash == _hash_token(token))):
            session.delete(record)


def can_see(staff: Staff, referral: Referral) -> bool:
    """Admins see every case; everyone else only their own centre's."""
    return staff.role == Role.ADMIN or referral.centre == staff.centre


def can_assign(staff: Staff, referral: Referral) -> bool:
    return staff.role == Role.ADMIN or (staff.role == Role.SUPERVISOR and
                                        referral.centre == staff.centre)
