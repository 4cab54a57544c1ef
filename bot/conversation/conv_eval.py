"""`make conv-eval`: scripted multi-turn conversations through the real engine and the real Rasa
model, judged turn by turn; the report goes to tests/conversations/REPORT.md.

Each conversation (tests/conversations/*.yml, format in the README there) runs from a fresh
phone number against a fresh database holding the sample licence list (list date 15-11-2026).
Besides what a turn's `expect` asks, every turn is checked for two things a basic phone needs:
every message fits the channel, and no numbered list is cut by a MORE page break.
"""

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, col, select

from bot.casework.referrals import Referral
from bot.conversation.channels import Channel, fits
from bot.conversation.contacts import Contact
from bot.conversation.engine import Engine, build_engine
from bot.conversation.inbox import receive
from bot.conversation.nlu_server import is_answering, start_rasa, stop, wait_until_ready
from bot.conversation.render import NUMBERED_LINE, is_list
from bot.conversation.state import ConversationState
from bot.conversation.turn import InboundMessage, OutboundMessage
from bot.db import get_engine, session_scope
from bot.migrate import upgrade
from bot.outreach import consent
from bot.outreach.consent import Topic
from bot.outreach.sources import Source
from bot.registry.licence_import import decode, import_licences
from bot.settings import PROJECT_ROOT, Settings

CONVERSATIONS = PROJECT_ROOT / "tests" / "conversations"
REPORT = CONVERSATIONS / "REPORT.md"
SAMPLE_LIST = PROJECT_ROOT / "content" / "samples" / "licences_sample.csv"
# Sources whose cards the conversations arrive by (tests/conversations/reach.yml).
SOURCES = [("SKT12", "changemaker", "Sialkot changemaker"), ("LHR7", "centre", "Lahore centre"),
           ("RADIO3", "story", "Radio story")]
LIST_DATE = date(2026, 11, 15)
RASA_PORT = 5099


def load(directory: Path = CONVERSATIONS) -> list[dict[str, Any]]:
    conversations = []
    for path in sorted(directory.glob("*.yml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            conversation["group"] = path.stem
            conversations.append(conversation)
    return conversations


class Run:
    """One database and one engine for every conversation (each has its own phone)."""

    def __init__(self, engine: Engine, database_url: str):
        self.engine = engine
        self.db = get_engine(database_url)
        upgrade(database_url)
        with session_scope(self.db) as session:
            import_licences(session, decode(SAMPLE_LIST.read_bytes()),
                            file_name=SAMPLE_LIST.name, list_date=LIST_DATE)
            session.add_all(Source(code=code, kind=kind, name=name) for code, kind, name in SOURCES)
        self.sids = 0

    def say(self, phone: str, channel: Channel, body: str) -> list[OutboundMessage]:
        self.sids += 1
        inbound = InboundMessage(phone=phone, channel=channel, body=body,
                                 sid=f"SM{self.sids:032x}")
        return receive(self.db, self.engine, inbound).replies

    def state(self, phone: str) -> ConversationState:
        with Session(self.db) as session:
            contact = session.exec(select(Contact).where(Contact.phone == phone)).first()
            return ConversationState.load(contact.state if contact else {})

    def contact(self, phone: str) -> dict[str, str]:
        """What the conversation left on the contact: first source's code, home district, and
        the latest answer about alerts (yes / no / none)."""
        with Session(self.db) as session:
            contact = session.exec(select(Contact).where(Contact.phone == phone)).first()
            if contact is None or contact.id is None:
                return {}
            source = session.get(Source, contact.source_id) if contact.source_id else None
            answer = consent.latest(session, contact_id=contact.id, topic=Topic.ALERTS)
            return {"source": source.code if source else "", "district": contact.district,
                    "alerts": "none" if answer is None else "yes" if answer.given else "no"}

    def referral(self, phone: str) -> Referral | None:
        with Session(self.db) as session:
            contact = session.exec(select(Contact).where(Contact.phone == phone)).first()
            if contact is None:
                return None
            return session.exec(select(Referral).where(Referral.contact_id == contact.id)
                                .order_by(col(Referral.id).desc())).first()


def check_turn(run: Run, conversation: dict, replies: list[OutboundMessage],
               expect: dict) -> list[str]:
    phone, channel = conversation["phone"], Channel(conversation["channel"])
    text = "\n".join(r.body for r in replies)
    keys = {k for r in replies for k in r.keys}
    problems = _channel_problems(replies, channel, run.engine.sms_max_segments)
    checks: dict[str, Callable[[Any], list[str]]] = {
        "language": lambda v: [] if replies and all(str(r.language) == v for r in replies)
        else [f"language {[str(r.language) for r in replies]} != {v}"],
        "says": lambda v: [f"does not say {k}" for k in v if k not in keys],
        "not_says": lambda v: [f"says {k}" for k in v if k in keys],
        "contains": lambda v: [f"lacks {s!r}" for s in v if str(s) not in text],
        "not_contains": lambda v: [f"has {s!r}" for s in v if str(s) in text],
    }
    for name, check in checks.items():
        if name in expect:
            problems += check(expect[name])
    state = run.state(phone)
    if "flow" in expect and (state.flow or "none") != expect["flow"]:
        problems.append(f"flow {state.flow or 'none'} != {expect['flow']}")
    if "step" in expect and (state.intake or {}).get("step") != expect["step"]:
        problems.append(f"step {(state.intake or {}).get('step')} != {expect['step']}")
    for field, wanted in (expect.get("stored") or {}).items():
        got = ((state.intake or {}).get("values") or {}).get(field)
        if str(got or "") != str(wanted or ""):
            problems.append(f"stored {field} {got!r} != {wanted!r}")
    if "referral" in expect:
        problems += _referral_problems(run.referral(phone), expect["referral"] or {})
    if "contact" in expect:
        held = run.contact(phone)
        problems += [f"contact {field} {held.get(field)!r} != {wanted!r}"
                     for field, wanted in expect["contact"].items()
                     if str(held.get(field, "")) != str(wanted)]
    return problems


def _channel_problems(replies: list[OutboundMessage], channel: Channel,
                      segments: int) -> list[str]:
    problems = []
    for reply in replies:
        if not fits(reply.body, channel, sms_max_segments=segments):
            problems.append("a message does not fit the channel")
        numbered = NUMBERED_LINE.findall(reply.body)
        if numbered and not is_list(reply.body) and reply is not replies[-1]:
            problems.append("a numbered list is split across messages")
    return problems


def _referral_problems(referral: Referral | None, wanted: dict) -> list[str]:
    if referral is None:
        return ["no referral"]
    problems = []
    for field, value in wanted.items():
        if field == "description_contains":
            if str(value) not in referral.description:
                problems.append(f"description lacks {value!r}")
        elif str(getattr(referral, field, None) or "") != str(value or ""):
            problems.append(f"referral {field} {getattr(referral, field, None)!r} != {value!r}")
    return problems


def play(run: Run, conversation: dict) -> list[str]:
    failures = []
    for number, turn in enumerate(conversation["turns"], start=1):
        replies = run.say(conversation["phone"], Channel(conversation["channel"]),
                          str(turn["user"]))
        for problem in check_turn(run, conversation, replies, turn.get("expect") or {}):
            failures.append(f"turn {number} ({str(turn['user'])[:40]!r}): {problem}")
    return failures


def report(results: list[tuple[dict, list[str]]], seconds: float) -> str:
    passed = sum(1 for _, failures in results if not failures)
    cells = Counter((c["form"], c["channel"]) for c, _ in results)
    forms = ["ur", "ur-Latn", "pa", "ps", "en"]
    lines = ["# Conversation evaluation", "",
             "Scripted conversations (tests/conversations/*.yml) played through the real engine "
             "and the real Rasa model by `make conv-eval`.", "",
             f"**{passed} of {len(results)} conversations pass** "
             f"({sum(len(c['turns']) for c, _ in results)} turns, {seconds:.0f} s).", "",
             "| form | sms | whatsapp |", "|---|---|---|",
             *[f"| {f} | {cells[(f, 'sms')]} | {cells[(f, 'whatsapp')]} |" for f in forms], "",
             "| group | conversations | pass |", "|---|---|---|"]
    for group in sorted({c["group"] for c, _ in results}):
        mine = [f for c, f in results if c["group"] == group]
        lines.append(f"| {group} | {len(mine)} | {sum(1 for f in mine if not f)} |")
    failing = [(c, f) for c, f in results if f]
    if failing:
        lines += ["", "## Failing", ""]
        for conversation, failures in failing:
            lines.append(f"- `{conversation['name']}`: " + "; ".join(failures[:3]))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="run the conversations whose name contains this")
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    conversations = [c for c in load() if not args.only or args.only in c["name"]]
    url = f"http://127.0.0.1:{RASA_PORT}"
    process = None if is_answering(url) else start_rasa(RASA_PORT)
    try:
        if process:
            wait_until_ready(url, process)
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(database_url=f"sqlite:///{tmp}/conv.db", rasa_url=url,
                                rate_limit_per_minute=1000, nlu_timeout_seconds=10)
            run = Run(build_engine(settings), settings.database_url)
            started = time.monotonic()
            results = [(c, play(run, c)) for c in conversations]
            seconds = time.monotonic() - started
    finally:
        if process:
            stop(process)
    text = report(results, seconds)
    if not args.no_report and not args.only:
        REPORT.write_text(text, encoding="utf-8")
    print(text)
    sys.exit(0 if all(not f for _, f in results) else 1)


if __name__ == "__main__":
    main()
