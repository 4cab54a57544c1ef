"""The second step of a staff sign-in: TOTP codes (RFC 6238) and single-use recovery codes.

The secret itself lives on the Staff row (bot/casework/staff.py), which also remembers the last
time step used so that a code seen over someone's shoulder cannot be replayed.
"""

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from sqlmodel import Field, Session, SQLModel, col, delete, select, update

from bot.conversation.contacts import utcnow

ISSUER = "Rahnuma"
RECOVERY_CODE_COUNT = 10
# Unambiguous lower-case letters and digits (no 0/o, 1/l/i): read off paper, typed on a phone.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 12  # about 59 bits: with sign-in throttling, far beyond online guessing


class StaffRecoveryCode(SQLModel, table=True):
    """One single-use code for when the phone is lost; only its hash is kept."""

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = None


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as an inline <svg> element: no script, no request to fetch it."""
    return segno.make(uri, error="m").svg_inline(scale=4, light="#fff",
                                                 title="Authenticator QR code")


def matching_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """The time step whose code this is (one step of clock drift either way), or None."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now or utcnow())
    for candidate in (step - 1, step, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def looks_like_totp(code: str) -> bool:
    """Six digits; anything else is taken for a recovery code (twelve characters)."""
    code = "".join(code.split())
    return len(code) == 6 and code.isdigit()


def replace_recovery_codes(session: Session, staff_id: int) -> list[str]:
    """New codes, shown once; every earlier code stops working."""
    session.exec(delete(StaffRecoveryCode).where(col(StaffRecoveryCode.staff_id) == staff_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(StaffRecoveryCode(staff_id=staff_id, code_hash=_hash_code(staff_id, code))
                    for code in codes)
    return codes


def use_recovery_code(session: Session, staff_id: int, code: str) -> bool:
    """Spend one unused code; False if it is wrong or already used (even by a parallel sign-in)."""
    spent = session.exec(update(StaffRecoveryCode).where(
        col(StaffRecoveryCode.staff_id) == staff_id,
        col(StaffRecoveryCode.code_hash) == _hash_code(staff_id, code),
        col(StaffRecoveryCode.used_at).is_(None)).values(used_at=utcnow()))
    return spent.rowcount == 1


def unused_recovery_codes(session: Session, staff_id: int) -> int:
    return len(session.exec(select(StaffRecoveryCode.id).where(
        col(StaffRecoveryCode.staff_id) == staff_id,
        col(StaffRecoveryCode.used_at).is_(None))).all())


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, _RECOVERY_LENGTH, 4))


def _hash_code(staff_id: int, code: str) -> str:
    # A plain hash is enough: the codes are random and long, not chosen by a person, so there
    # is no dictionary to run against a stolen table. The staff id keeps equal codes apart.
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(f"{staff_id}:{normal}".encode()).hexdigest()
