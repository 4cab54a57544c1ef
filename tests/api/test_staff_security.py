"""Staff account hardening: throttling without an account oracle, password rules, TOTP and
recovery codes, idle sessions, and pages that read without SQLite's write lock."""

import logging
import sqlite3
import threading
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select, update

import bot.casework.staff as staff_module
from api.main import create_app
from bot.casework.passwords import common_passwords
from bot.casework.referrals import Referral
from bot.casework.second_factor import StaffRecoveryCode, replace_recovery_codes
from bot.casework.staff import (
    ACCOUNT_FREE_FAILURES,
    ADDRESS_FREE_FAILURES,
    SIGN_IN_REFUSED,
    LoginThrottle,
    Role,
    Staff,
    StaffError,
    StaffSession,
    add_staff,
    authenticate,
)
from bot.conversation.contacts import utcnow
from bot.db import session_scope
from tests.api.staff_helpers import (
    PASSWORD,
    TOTP_SECRET,
    browser,
    csrf_of,
    login,
    make_case,
    make_staff,
    signed_in,
)

EMAIL = "ayesha@mrc.example"


@pytest.fixture
def app(settings, bot, db, tmp_path):
    settings.evidence_dir = tmp_path / "evidence"
    return create_app(settings, bot)


class CountingHasher(PasswordHasher):
    """Cheap argon2 parameters (80 parallel verifications must not need 5 GB), and a count of
    the hashing work each path does: equal work is what makes equal timing."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified: list[str] = []
        self.hashed = 0

    def verify(self, hash, password):  # noqa: A002 - argon2's own parameter name
        self.verified.append(hash)
        return super().verify(hash, password)

    def hash(self, password, *, salt=None):
        self.hashed += 1
        return super().hash(password, salt=salt)


@pytest.fixture
def hasher(monkeypatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(staff_module, "_hasher", counting)
    staff_module._dummy_hash(counting)  # as the module does for the real hasher at import
    counting.hashed = 0
    return counting


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(staff_module, "utcnow", fake)
    return fake


def _try(db, password, email=EMAIL, address="10.0.0.1") -> bool:
    try:
        authenticate(db, email=email, password=password, address=address)
    except StaffError:
        return False
    return True


def _throttle_rows(db) -> dict[str, LoginThrottle]:
    with Session(db) as session:
        return {row.key: row for row in session.exec(select(LoginThrottle))}


# --- 8: parallel guesses are all counted -----------------------------------------------------

def test_parallel_wrong_guesses_cannot_slip_past_the_count(db, hasher):
    """80 guesses at once, each with its own connection (on PostgreSQL too): only the free
    attempts reach the real hash, and the right password is refused afterwards."""
    make_staff(db, EMAIL)
    hasher.verified.clear()
    real_hash = _stored(db, EMAIL).password_hash
    start = threading.Barrier(80)
    results: list[bool] = []

    def guess(n: int) -> None:
        start.wait()
        results.append(_try(db, f"wrong guess number {n}", address=f"10.1.0.{n}"))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(80)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [False] * 80
    assert hasher.verified.count(real_hash) == ACCOUNT_FREE_FAILURES
    account = [row for key, row in _throttle_rows(db).items() if key.startswith("account:")]
    assert [row.failures for row in account] == [ACCOUNT_FREE_FAILURES]
    assert not _try(db, PASSWORD, address="10.2.0.1")


# --- 9: throttling instead of lockout, and no account oracle -----------------------------------

def test_every_refusal_looks_and_costs_the_same(app, db, hasher, clock):
    make_staff(db, EMAIL)
    make_staff(db, "gone@mrc.example")
    with session_scope(db) as session:
        session.exec(update(Staff).where(col(Staff.email) == "gone@mrc.example")
                     .values(active=False))
    for _ in range(ACCOUNT_FREE_FAILURES):
        _try(db, "wrong password!", address="10.0.0.9")
    paths = {"unknown email": ("nobody@mrc.example", "wrong password!"),
             "wrong password": ("bilal@mrc.example", "wrong password!"),
             "switched off": ("gone@mrc.example", PASSWORD),
             "throttled, right password": (EMAIL, PASSWORD)}
    make_staff(db, "bilal@mrc.example")
    pages = {}
    for name, (email, password) in paths.items():
        hasher.verified.clear()
        hasher.hashed = 0
        response = login(browser(app), email, password)
        assert response.status_code == 401, name
        assert (len(hasher.verified), hasher.hashed) == (1, 0), name
        pages[name] = response.text.replace(csrf_of(response.text), "")
    assert SIGN_IN_REFUSED in pages["unknown email"]
    assert len(set(pages.values())) == 1  # the very same page, byte for byte


def test_the_delay_doubles_and_the_owner_gets_back_in(db, hasher, clock):
    make_staff(db, EMAIL)
    for _ in range(ACCOUNT_FREE_FAILURES):
        assert not _try(db, "wrong password!")
    assert not _try(db, PASSWORD)  # waiting: even the right password is refused
    clock.advance(seconds=59)
    assert not _try(db, PASSWORD)  # refused attempts do not lengthen the wait...
    clock.advance(seconds=2)
    assert not _try(db, "wrong password!")  # ...but another failure doubles it
    clock.advance(seconds=119)
    assert not _try(db, PASSWORD)
    clock.advance(seconds=2)
    assert _try(db, PASSWORD)
    assert not _try(db, "wrong password!")  # a success wiped the slate: no wait now
    assert _try(db, PASSWORD)


def test_a_success_drops_throttle_rows_an_hour_has_made_moot(db, hasher, clock):
    make_staff(db, EMAIL)
    _try(db, "wrong password!", email="typo@mrc.example", address="10.9.9.9")
    clock.advance(minutes=61)
    assert _try(db, PASSWORD, address="10.0.0.1")
    assert not [key for key in _throttle_rows(db) if key.endswith("10.9.9.9")]
    assert len(_throttle_rows(db)) == 2  # this sign-in's own account and address rows


def test_one_address_guessing_many_accounts_is_slowed_down(db, hasher, clock):
    make_staff(db, EMAIL)
    for n in range(ADDRESS_FREE_FAILURES):
        _try(db, "wrong password!", email=f"guess{n}@mrc.example", address="203.0.113.7")
    assert not _try(db, PASSWORD, address="203.0.113.7")
    assert _try(db, PASSWORD, address="198.51.100.2")  # the owner, elsewhere, is not held up


# --- 10: password and email rules --------------------------------------------------------------

@pytest.mark.parametrize("password", [
    "aaaaaaaaaa", "password12", "ayesha@mrc.example", "1234567890", "qwertyuiop",
    "abcabcabcabc", "Lahore786!!", "Pakistan Zindabad", "my rahnuma login", "ayesha khan 1990",
    "short", "x" * 129])
def test_weak_passwords_are_refused(db, password):
    with Session(db) as session, pytest.raises(StaffError):
        add_staff(session, email=EMAIL, name="Ayesha Khan", centre="mrc-lahore",
                  role=Role.CASEWORKER, password=password)


@pytest.mark.parametrize("email", [
    "ayesha", "ayesha@", "@mrc.example", "ayesha@@mrc.example", "ayesha@mrc", "ay esha@mrc.org",
    "ayesha@mrc.example.", "ayesha@.example", "a" * 190 + "@mrc.example"])
def test_bad_email_addresses_are_refused(db, email):
    with Session(db) as session, pytest.raises(StaffError, match="not a valid email address"):
        add_staff(session, email=email, name="Ayesha", centre="mrc-lahore",
                  role=Role.CASEWORKER, password=PASSWORD)


def test_a_good_passphrase_and_address_are_accepted(db):
    with session_scope(db) as session:
        staff = add_staff(session, email=" Ayesha.Khan@MRC.example ", name="Ayesha Khan",
                          centre="mrc-lahore", role=Role.CASEWORKER,
                          password="tea on the roof at nine")
    assert staff.email == "ayesha.khan@mrc.example"
    assert len(common_passwords()) > 3000  # the blocklist file is shipped in the package


def test_changing_to_a_common_password_is_refused(app, db):
    make_staff(db, EMAIL)
    client, csrf = signed_in(app, EMAIL)
    page = client.post("/staff/password", data={"csrf_token": csrf, "current": PASSWORD,
                                                "new": "password12"})
    assert "commonly used" in page.text
    assert login(browser(app), EMAIL).status_code == 303  # the old password still works


# --- 11: a second factor -----------------------------------------------------------------------

def test_a_supervisor_must_enrol_before_anything_else(app, db):
    make_staff(db, "sara@mrc.example", role=Role.SUPERVISOR, totp=False)
    case = make_case(db)
    client = browser(app)
    response = login(client, "sara@mrc.example")
    assert response.headers["location"] == "/staff/enrol"
    enrol = client.get("/staff/enrol").text
    csrf = csrf_of(enrol)
    pages = ("/staff/queue", f"/staff/cases/{case.reference}", "/staff/password",
             "/staff/accounts")
    for page in pages:
        blocked = client.get(page, follow_redirects=False)
        assert (blocked.status_code, blocked.headers["location"]) == (303, "/staff/enrol")
    client.post(f"/staff/cases/{case.reference}/claim", data={"csrf_token": csrf})
    with Session(db) as session:
        assert session.get(Referral, case.id).assignee_id is None
    assert "<svg" in enrol and "<script" not in enrol
    secret = enrol.split('name="secret" value="')[1].split('"')[0]
    wrong = client.post("/staff/enrol", data={"csrf_token": csrf, "secret": secret,
                                              "code": "000000"})
    assert "does not match" in wrong.text
    done = client.post("/staff/enrol", data={"csrf_token": csrf, "secret": secret,
                                             "code": pyotp.TOTP(secret).now()})
    assert done.text.count("<li><code>") == 10 and done.headers["cache-control"] == "no-store"
    assert client.get("/staff/queue", follow_redirects=False).status_code == 200
    with Session(db) as session:
        assert _stored(db, "sara@mrc.example").totp_secret == secret
        stored = session.exec(select(StaffRecoveryCode)).all()
    assert len(stored) == 10 and all(code.code_hash not in done.text for code in stored)


def test_a_caseworker_is_offered_enrolment_but_not_forced(app, db):
    make_staff(db, EMAIL)
    client, _ = signed_in(app, EMAIL)
    response = client.get("/staff/password")
    assert "<svg" in response.text and "Turn on two-step sign-in" in response.text
    assert response.headers["cache-control"] == "no-store"  # it holds the new secret


def test_half_signed_in_reaches_nothing_but_the_code_step(app, db):
    make_staff(db, EMAIL, totp=True)
    case = make_case(db)
    client = browser(app)
    page = client.get("/staff/login")
    first = client.post("/staff/login", data={"email": EMAIL, "password": PASSWORD,
                                              "csrf_token": csrf_of(page.text)},
                        follow_redirects=False)
    assert first.headers["location"] == "/staff/login/code"
    pending_cookie = client.cookies.get("rahnuma_staff")
    code_page = client.get("/staff/login/code").text
    csrf = csrf_of(code_page)
    for path in ("/staff/queue", f"/staff/cases/{case.reference}", "/staff/password",
                 "/staff/enrol"):
        answer = client.get(path, follow_redirects=False)
        assert answer.headers["location"] == "/staff/login/code", path
    client.post(f"/staff/cases/{case.reference}/claim", data={"csrf_token": csrf})
    with Session(db) as session:
        assert session.get(Referral, case.id).assignee_id is None
    assert client.post("/staff/login/code", data={"csrf_token": csrf, "code": "123456"}
                       ).status_code == 401
    right = client.post("/staff/login/code", data={
        "csrf_token": csrf, "code": pyotp.TOTP(TOTP_SECRET).now()}, follow_redirects=False)
    assert right.headers["location"] == "/staff/queue"
    assert client.cookies.get("rahnuma_staff") != pending_cookie  # a new token once complete
    assert client.get("/staff/queue").status_code == 200


def _password_step(client) -> str:
    page = client.get("/staff/login")
    client.post("/staff/login", data={"email": EMAIL, "password": PASSWORD,
                                      "csrf_token": csrf_of(page.text)})
    return csrf_of(client.get("/staff/login/code").text)


def test_a_code_is_good_only_once(app, db):
    make_staff(db, EMAIL, totp=True)
    code = pyotp.TOTP(TOTP_SECRET).now()
    first = browser(app)
    assert first.post("/staff/login/code", data={"csrf_token": _password_step(first),
                                                 "code": code}).status_code == 200
    replay = browser(app)
    answer = replay.post("/staff/login/code", data={"csrf_token": _password_step(replay),
                                                    "code": code})
    assert answer.status_code == 401 and "already used" in answer.text


def test_a_recovery_code_works_once_instead_of_the_app(app, db):
    make_staff(db, EMAIL)
    client, csrf = signed_in(app, EMAIL)
    page = client.get("/staff/password").text
    secret = page.split('name="secret" value="')[1].split('"')[0]
    done = client.post("/staff/enrol", data={"csrf_token": csrf_of(page), "secret": secret,
                                             "code": pyotp.TOTP(secret).now()}).text
    recovery = done.split("<li><code>")[1].split("</code>")[0]
    first = browser(app)
    assert first.post("/staff/login/code", data={
        "csrf_token": _password_step(first), "code": recovery.upper()},
        follow_redirects=False).headers["location"] == "/staff/queue"
    again = browser(app)
    assert again.post("/staff/login/code", data={
        "csrf_token": _password_step(again), "code": recovery}).status_code == 401
    assert "9 unused recovery codes" in first.get("/staff/password").text


def test_new_recovery_codes_need_a_current_code_and_replace_the_old(app, db):
    staff_id = make_staff(db, EMAIL, totp=True)
    with session_scope(db) as session:
        replace_recovery_codes(session, staff_id)
    client, csrf = signed_in(app, EMAIL)
    with Session(db) as session:
        before = {code.code_hash for code in session.exec(select(StaffRecoveryCode))}
    assert len(before) == 10
    refused = client.post("/staff/recovery-codes", data={"csrf_token": csrf, "code": "000000"})
    assert "That code is wrong" in refused.text and "<li><code>" not in refused.text
    page = client.post("/staff/recovery-codes", data={
        "csrf_token": csrf, "code": pyotp.TOTP(TOTP_SECRET).at(utcnow() + timedelta(seconds=30))})
    assert page.text.count("<li><code>") == 10
    with Session(db) as session:
        after = {code.code_hash for code in session.exec(select(StaffRecoveryCode))}
    assert len(after) == 10 and not after & before


def test_wrong_codes_count_toward_the_same_throttling(app, db):
    make_staff(db, EMAIL, totp=True)
    client = browser(app)
    csrf = _password_step(client)  # the password step counts too until the code is right
    for _ in range(ACCOUNT_FREE_FAILURES - 1):
        client.post("/staff/login/code", data={"csrf_token": csrf, "code": "000000"})
    right = client.post("/staff/login/code", data={
        "csrf_token": csrf, "code": pyotp.TOTP(TOTP_SECRET).now()})
    assert right.status_code == 401 and "too many failed attempts" in right.text


def test_the_totp_secret_never_reaches_the_logs(app, db, caplog):
    caplog.set_level(logging.DEBUG)
    make_staff(db, EMAIL)
    client, csrf = signed_in(app, EMAIL)
    page = client.get("/staff/password").text
    secret = page.split('name="secret" value="')[1].split('"')[0]
    client.post("/staff/enrol", data={"csrf_token": csrf_of(page), "secret": secret,
                                      "code": pyotp.TOTP(secret).now()})
    client.post("/staff/logout", data={"csrf_token": csrf_of(client.get("/staff/queue").text)})
    second = browser(app)
    second.post("/staff/login/code", data={"csrf_token": _password_step(second),
                                           "code": pyotp.TOTP(secret).now()})
    staff = _stored(db, EMAIL)
    assert staff.totp_secret == secret and secret not in repr(staff)
    assert staff.password_hash not in repr(staff)
    assert not [r for r in caplog.records if secret in r.getMessage()]


# --- 16a: idle sessions -----------------------------------------------------------------------

def _age_sessions(db, minutes: int) -> None:
    with session_scope(db) as session:
        session.exec(update(StaffSession).values(
            last_seen_at=utcnow() - timedelta(minutes=minutes)))


def _last_seen(db):
    with Session(db) as session:
        return session.exec(select(StaffSession.last_seen_at)).one()


def test_an_idle_session_ends(app, db):
    make_staff(db, EMAIL)
    client, _ = signed_in(app, EMAIL)
    _age_sessions(db, 31)
    response = client.get("/staff/queue", follow_redirects=False)
    assert response.headers["location"] == "/staff/login"


def test_activity_keeps_a_session_alive_without_a_write_per_page(app, db):
    make_staff(db, EMAIL)
    client, _ = signed_in(app, EMAIL)
    page = client.get("/staff/queue").text
    assert "signed out after 30 minutes without activity" in page
    seen = _last_seen(db)
    client.get("/staff/queue")
    assert _last_seen(db) == seen  # under a minute old: not written again
    _age_sessions(db, 29)
    assert client.get("/staff/queue", follow_redirects=False).status_code == 200
    assert utcnow() - _last_seen(db) < timedelta(minutes=1)  # refreshed


def test_the_idle_timeout_comes_from_the_settings(settings, bot, db):
    settings.session_idle_minutes = 5
    app = create_app(settings, bot)
    make_staff(db, EMAIL)
    client, _ = signed_in(app, EMAIL)
    assert "signed out after 5 minutes" in client.get("/staff/queue").text
    _age_sessions(db, 6)
    assert client.get("/staff/queue", follow_redirects=False).status_code == 303


# --- 22: pages that only read do not take SQLite's write lock ------------------------------------

def test_reading_pages_do_not_wait_for_the_write_lock(app, db, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's database-wide write lock")
    make_staff(db, EMAIL)
    case = make_case(db)
    client, _ = signed_in(app, EMAIL)
    writer = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a long write elsewhere (a webhook, an import)
    answers: list[int] = []

    def read_pages() -> None:
        for path in ("/staff/queue", f"/staff/cases/{case.reference}", "/staff/password"):
            answers.append(client.get(path).status_code)

    reader = threading.Thread(target=read_pages)
    try:
        reader.start()
        reader.join(timeout=10)
        assert answers == [200, 200, 200]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        reader.join()


def _stored(db, email) -> Staff:
    with Session(db) as session:
        return session.exec(select(Staff).where(Staff.email == email)).one()
