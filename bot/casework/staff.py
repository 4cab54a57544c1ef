"""Resource-centre staff: accounts, passwords, the second factor, sessions, sign-in throttling,
and who may see which case."""

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col, delete, or_, select, update

from bot.casework import second_factor
from bot.casework.passwords import password_problem
from bot.casework.referrals import Referral
from bot.conversation.contacts import stored_id, utcnow

SESSION_LIFETIME = timedelta(hours=12)
# Between the password and the code (or the forced enrolment): long enough to find the phone.
PENDING_LIFETIME = timedelta(minutes=10)
# A session's last-seen time is written at most this often: not one write per page view.
TOUCH_EVERY = timedelta(minutes=1)

# Throttling (per account and per client address, in the database so every app process
# shares it). After FREE failures each further attempt waits for a delay that doubles.
ACCOUNT_FREE_FAILURES = 5
# Higher: a resource centre's whole office may sign in through one address.
ADDRESS_FREE_FAILURES = 20
FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)  # a quiet hour wipes the slate

# One answer for every refusal: which of them it was would tell an attacker the account exists.
SIGN_IN_REFUSED = ("Wrong email or password, or too many failed attempts: check both, and if "
                   "it keeps failing wait a few minutes before trying again.")
CODE_REFUSED = ("That code is wrong or was already used, or there were too many failed "
                "attempts: wait for the next code, or a few minutes, and try again.")
EMAIL_MAX_LENGTH = 200
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_TOTP_SECRET = re.compile(r"[A-Z2-7]{32}")
_hasher = PasswordHasher()


class Role(StrEnum):
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    # A community changemaker: their own sources' figures and referrals from their sessions;
    # never a case, a phone number or a message.
    CHANGEMAKER = "changemaker"


class ContentRole(StrEnum):
    """An editor proposes changes to texts; a reviewer (another person) publishes or sends
    them back, and may propose too."""

    NONE = ""
    EDITOR = "editor"
    REVIEWER = "reviewer"


# They can reassign cases, switch accounts off and replace the licence list.
SECOND_FACTOR_REQUIRED = frozenset({Role.ADMIN, Role.SUPERVISOR})


class Stage(StrEnum):
    """How far a session got: only FULL opens any page beyond the sign-in steps."""

    CODE = "code"  # password right; the authenticator or recovery code is still to come
    ENROL = "enrol"  # password right; must set up an authenticator before anything else
    FULL = "full"


class StaffError(Exception):
    """A staff operation was refused (the message says why, for the staff member)."""


class Staff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=200, unique=True, index=True)
    name: str = Field(max_length=200)
    centre: str = Field(max_length=64)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=200, repr=False)
    active: bool = True
    # Set once enrolment is confirmed. repr=False: a logged Staff object must not carry it.
    totp_secret: str | None = Field(default=None, max_length=64, repr=False)
    # The time step of the last accepted code: a code is good once, not for its 90 seconds.
    totp_last_step: int | None = None
    # Content work is separate from casework: a caseworker may also be the Pashto reviewer.
    content_role: str = Field(default="", max_length=16)
    ui_language: str = Field(default="en", max_length=8)  # the staff pages' language: en or ur
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None


class StaffSession(SQLModel, table=True):
    """Server-side sessions: logging out (or a password change) really ends them."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    csrf_token: str = Field(max_length=64)
    stage: str = Field(default=Stage.FULL, max_length=8)
    expires_at: datetime
    last_seen_at: datetime = Field(default_factory=utcnow)


class LoginThrottle(SQLModel, table=True):
    """Sign-in attempts not yet followed by a success, per account or per client address.

    An attempt is counted *before* its password is checked, under a row lock, so parallel
    guesses cannot slip past the count; a success clears the account's count."""

    key: str = Field(primary_key=True, max_length=80)
    failures: int = 0
    last_failure_at: datetime = Field(default_factory=utcnow)
    blocked_until: datetime | None = None


# --- accounts and passwords ---------------------------------------------------------------

def add_staff(session: Session, *, email: str, name: str, centre: str, role: Role,
              password: str) -> Staff:
    email = email.strip().lower()
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL.fullmatch(email):
        raise StaffError(f"{email!r} is not a valid email address (like name@centre.org)")
    if problem := password_problem(password, context=(email, name, centre)):
        raise StaffError(problem)
    if session.exec(select(Staff).where(Staff.email == email)).first():
        raise StaffError(f"{email} already has an account")
    staff = Staff(email=email, name=name, centre=centre, role=Role(role),
                  password_hash=_hasher.hash(password))
    session.add(staff)
    session.flush()
    return staff


def change_password(session: Session, staff: Staff, *, current: str, new: str) -> None:
    if not _password_matches(staff.password_hash, current):
        raise StaffError("the current password is wrong")
    if problem := password_problem(new, context=(staff.email, staff.name, staff.centre)):
        raise StaffError(problem)
    staff.password_hash = _hasher.hash(new)
    for old in session.exec(select(StaffSession).where(StaffSession.staff_id == staff.id)):
        session.delete(old)  # every other device is logged out


def needs_enrolment(staff: Staff) -> bool:
    return staff.role in SECOND_FACTOR_REQUIRED and not staff.has_second_factor


# --- signing in ------------------------------------------------------------------------------

def authenticate(engine: Engine, *, email: str, password: str, address: str) -> Staff:
    """The staff member whose password this is, or StaffError(SIGN_IN_REFUSED).

    Every refusal (unknown email, switched-off account, wrong password, throttled) gives the
    same message after exactly one argon2 verification, so neither the answer nor its timing
    says whether the account exists. The argon2 work runs outside any transaction: on SQLite a
    transaction holds the database's write lock."""
    email = email.strip().lower()
    account = _account_key(email)
    with Session(engine, expire_on_commit=False) as session:
        staff = session.exec(select(Staff).where(Staff.email == email)).first()
        admitted = _admit(session, [account, _address_key(address)])
        session.commit()
    usable = staff if staff is not None and staff.active and admitted else None
    stored = usable.password_hash if usable else _dummy_hash(_hasher)
    if not _password_matches(stored, password) or usable is None:
        raise StaffError(SIGN_IN_REFUSED)
    if not usable.has_second_factor:
        _forgive(engine, account)  # the password alone proves who this is
    return usable


def check_second_factor(engine: Engine, staff: Staff, *, code: str, address: str) -> None:
    """Accept an authenticator code (each at most once) or an unused recovery code; failures
    count toward the same throttling as passwords."""
    account = _account_key(staff.email)
    with Session(engine) as session:
        if not _admit(session, [account, _address_key(address)]):
            session.commit()
            raise StaffError(CODE_REFUSED)
        accepted = _spend_code(session, staff, code)
        session.commit()
    if not accepted:
        raise StaffError(CODE_REFUSED)
    _forgive(engine, account)


def _spend_code(session: Session, staff: Staff, code: str) -> bool:
    staff_id = stored_id(staff)
    if not second_factor.looks_like_totp(code):
        return second_factor.use_recovery_code(session, staff_id, code)
    fresh = session.get(Staff, staff_id)
    if fresh is None or fresh.totp_secret is None:
        return False
    step = second_factor.matching_step(fresh.totp_secret, code)
    if step is None:
        return False
    # Conditional UPDATE: of two sign-ins racing with the same code, only one moves the step.
    moved = session.exec(update(Staff).where(
        col(Staff.id) == staff_id,
        or_(col(Staff.totp_last_step).is_(None), col(Staff.totp_last_step) < step),
    ).values(totp_last_step=step))
    return moved.rowcount == 1


def renew_recovery_codes(engine: Engine, staff: Staff, *, code: str,
                         address: str) -> list[str]:
    """A fresh set of recovery codes, for a current authenticator or recovery code."""
    check_second_factor(engine, staff, code=code, address=address)
    with Session(engine) as session:
        codes = second_factor.replace_recovery_codes(session, stored_id(staff))
        session.commit()
    return codes


def enable_second_factor(session: Session, staff: Staff, *, secret: str, code: str) -> list[str]:
    """Store the authenticator once it has shown a right code; returns the recovery codes."""
    if not _TOTP_SECRET.fullmatch(secret):
        raise StaffError("the enrolment form is out of date: reload the page")
    step = second_factor.matching_step(secret, code)
    if step is None:
        raise StaffError("that code does not match: check the phone's clock and type the "
                         "newest code")
    staff.totp_secret, staff.totp_last_step = secret, step
    return second_factor.replace_recovery_codes(session, stored_id(staff))


def _password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash nobody knows the password of, made with the same parameters as real ones, so that
    verifying against it costs what verifying a real one does."""
    return hasher.hash(secrets.token_urlsafe(24))


# Made now, not at the first unknown email: that one answer would otherwise take twice as long.
_dummy_hash(_hasher)


# --- throttling ------------------------------------------------------------------------------

def _account_key(email: str) -> str:
    # Hashed: the table also holds every unknown email someone typed, which is nobody's business.
    return "account:" + hashlib.sha256(email.encode()).hexdigest()


def _address_key(address: str) -> str:
    return f"address:{address or 'unknown'}"[:80]


def _free_failures(key: str) -> int:
    return ACCOUNT_FREE_FAILURES if key.startswith("account:") else ADDRESS_FREE_FAILURES


def _admit(session: Session, keys: list[str]) -> bool:
    """Count one attempt against every key, or none while any of them is waiting out a delay.

    Rows are locked in key order (no deadlock between two sign-ins); on SQLite the transaction's
    write lock (BEGIN IMMEDIATE) serializes the same way."""
    now, keys = utcnow(), sorted(keys)
    _create_missing(session, keys, now)
    rows = session.exec(select(LoginThrottle).where(col(LoginThrottle.key).in_(keys))
                        .order_by(col(LoginThrottle.key)).with_for_update()).all()
    if any(row.blocked_until and row.blocked_until > now for row in rows):
        return False  # refused attempts are not counted: they must not lengthen the wait
    for row in rows:
        if row.last_failure_at < now - FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        free = _free_failures(row.key)
        if row.failures >= free:
            row.blocked_until = now + min(FIRST_DELAY * 2 ** min(row.failures - free, 10),
                                          MAX_DELAY)
        session.add(row)
    return True


def _create_missing(session: Session, keys: list[str], now: datetime) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.exec(insert(LoginThrottle).values(
        [{"key": key, "failures": 0, "last_failure_at": now} for key in keys]
    ).on_conflict_do_nothing(index_elements=["key"]))


def _forgive(engine: Engine, key: str) -> None:
    """Clear an account's count after a success, and drop rows a quiet hour has made moot (every
    unknown email typed leaves one)."""
    with Session(engine) as session:
        session.exec(update(LoginThrottle).where(col(LoginThrottle.key) == key)
                     .values(failures=0, blocked_until=None))
        session.exec(delete(LoginThrottle).where(
            col(LoginThrottle.last_failure_at) < utcnow() - FORGET_AFTER))
        session.commit()


# --- sessions --------------------------------------------------------------------------------

def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, staff: Staff,
                  stage: Stage = Stage.FULL) -> tuple[str, StaffSession]:
    """A new token for every step up: a token seen before the second factor is worth nothing."""
    token = secrets.token_urlsafe(32)
    lifetime = SESSION_LIFETIME if stage == Stage.FULL else PENDING_LIFETIME
    record = StaffSession(token_hash=_hash_token(token), staff_id=stored_id(staff),
                          csrf_token=secrets.token_urlsafe(24), stage=stage,
                          expires_at=utcnow() + lifetime)
    session.add(record)
    return token, record


def session_for(session: Session, token: str | None,
                idle: timedelta) -> tuple[Staff, StaffSession] | None:
    """The session of this token at any stage, unless it expired or sat idle too long."""
    if not token:
        return None
    record = session.exec(select(StaffSession).where(
        StaffSession.token_hash == _hash_token(token))).first()
    now = utcnow()
    if record is None or record.expires_at < now or record.last_seen_at + idle < now:
        return None
    staff = session.get(Staff, record.staff_id)
    return (staff, record) if staff and staff.active else None


def touch_session(engine: Engine, record: StaffSession) -> bool:
    """Move the idle timer on, in a short transaction of its own, at most once a minute."""
    now = utcnow()
    if now - record.last_seen_at < TOUCH_EVERY:
        return False
    with Session(engine) as session:
        session.exec(update(StaffSession).where(col(StaffSession.id) == record.id)
                     .values(last_seen_at=now))
        session.commit()
    record.last_seen_at = now
    return True


def end_session(session: Session, token: str | None) -> None:
    if token:
        for record in session.exec(select(StaffSession).where(
                StaffSession.token_hash == _hash_token(token))):
            session.delete(record)


# --- who sees what ---------------------------------------------------------------------------

def can_see(staff: Staff, referral: Referral) -> bool:
    """Admins see every case; everyone else only their own centre's."""
    return staff.role == Role.ADMIN or referral.centre == staff.centre


def can_assign(staff: Staff, referral: Referral) -> bool:
    return staff.role == Role.ADMIN or (staff.role == Role.SUPERVISOR and
                                        referral.centre == staff.centre)
