"""Checking a recruiter: a licence number however it is typed, or an agency's name in any script.

Entered from the check_licence intent, menu 3, or any message that carries a licence number. A
name sent with the request ("silver star ka license check karo") is used at once. The answer
gives the status in plain words, the registered name, office and phone, the official list's own
date, and advice that fits the status. A name that is not on the list is never answered with
another agency: close names are shown only as "similar names, check the licence number".
Every answer is remembered (bot/outreach/licence_alerts.py), and a valid licence's answer offers
to tell the person if the licence changes: a suspension later reaches them before they pay.
"""

from datetime import date

from sqlalchemy import select as core_select

from bot.content.store import Content
from bot.conversation import registry
from bot.conversation.flows.menu import numbered_choice
from bot.conversation.language import content_words
from bot.conversation.registry import Flow
from bot.conversation.state import ConversationState
from bot.conversation.turn import Turn
from bot.outreach import licence_alerts
from bot.registry.licences import (
    Licence,
    LicenceRef,
    LicenceStatus,
    find_by_ref,
    format_licence_no,
    known_offices,
    list_date,
    name_query,
    parse_licence_numbers,
    parse_number_alone,
    search_by_name,
)
from bot.registry.names import generic_part

FLOW = "licence_check"
# Waiting for the answer to "shall we tell you if this licence changes? 1 yes 2 no".
ALERT_STEP = "alert"
# Measured on nlu_data/tests/licence_names.yml (make nlu-eval): a name this close is the agency
# meant; between SIMILAR and SURE it is only "a similar name"; below SIMILAR, nothing is shown.
SURE_NAME_SCORE = 88
SIMILAR_NAME_SCORE = 75
# The best match must lead the next by this much to be answered without a choice.
SURE_LEAD = 6
MIN_NUMBER_DIGITS = 3
# Fewer consonants than this left of a request ("... چیک کر دیو جی") is no agency's name.
MIN_NAME_CONSONANTS = 4
# Candidates shown at most: four short lines still fit one SMS page.
MAX_CANDIDATES = 4
MAX_NAME_WORDS = 7
# Words of a request around a name ("... ka license check karo"): never part of the name.
REQUEST_WORDS = frozenset(
    """
    licence license lisence laisens licenced licensed lic check checking verify tasdeeq karo
    kro karen karein krein kar do den dein please plz agent agency company ka ki ke ko hai is
    the of a an my mera meri hamara valid real asli fake naqli sahi ya ye yeh wo woh batao
    btao bataen batayen dekho dekhen number no nmbr name naam wala wale wali walay waliyan
    kya krna karna karni chahiye hai check-kar والا والے والی والیاں والیان کرنا کرنی کرنے
    لائسنس لایسنس چیک تصدیق کریں کرو کرو جی کا کی کے ہے اے دا دی دے دی ایجنٹ ایجنټ ایجنسی
    کمپنی نام ناں نوم دیکھیں ویکھو وګورئ بتائیں دسو اصلی اصل جعلی د چې دی ده
    """.split()
)


def mentions_licence(turn: Turn) -> bool:
    """A message that is (or contains) a licence number: checked before asking the NLU."""
    if turn.session is None or not _has_registry(turn):
        return False
    if parse_licence_numbers(turn.text, known_offices(turn.db)):
        return True
    number = parse_number_alone(turn.text)
    return turn.text.strip().isdigit() and number is not None and \
        len(turn.text.strip()) >= MIN_NUMBER_DIGITS


def start(turn: Turn) -> None:
    if turn.session is None or not _has_registry(turn):
        turn.say("licence_no_list")
        _offer_topic(turn)
        return
    if _answer_number(turn):
        return
    # A name in the request itself is used only if it finds something: "is my agent
    # licensed?" has no name, and must be asked for one rather than told "not found".
    name = name_of(turn.inbound.body, turn.content)
    if len(name_query(name, turn.db).replace(" ", "")) >= MIN_NAME_CONSONANTS and \
            search_by_name(turn.db, name, min_score=SIMILAR_NAME_SCORE):
        _answer_name(turn, name)
        return
    turn.state.enter(FLOW, step="ask")
    turn.say("licence_ask")


def step(turn: Turn) -> bool:
    if turn.state.step == ALERT_STEP:
        return _alert_answer(turn)
    if turn.state.step == "choose" and turn.text.strip(" .").isdigit():
        return _choose(turn)
    if _answer_number(turn):
        return True
    if len(turn.text.split()) > MAX_NAME_WORDS or turn.text.rstrip().endswith("?"):
        turn.state.leave()  # a new question, not an agency's name
        return False
    # A new name while a candidate list is open is a new search.
    _answer_name(turn, name_of(turn.inbound.body, turn.content) or turn.inbound.body.strip())
    return True


def name_of(body: str, content: Content | None = None) -> str:
    """The agency's name in a request: without the request's words and the city ("falcon
    کوئٹہ"), which the list keeps apart from the name."""
    words = [w for w in body.replace("?", " ").split() if w.lower().strip(".,!") not in
             REQUEST_WORDS and content_words(w)]
    # A city after the name ("sunrise pindi"), not one inside it ("Khyber Recruiting").
    while content and len(words) > 1 and content.district_in(words[-1]):
        words.pop()
    return " ".join(words)


def judge(matches: list[tuple[Licence, float]], query: str = "") -> tuple[str, list[Licence]]:
    """What a name search amounts to: "licensed" (one agency, sure), "choose" (the same words
    in several names), "similar" (close names only) or "none"."""
    sure = [m for m, score in matches if score >= SURE_NAME_SCORE]
    asked_kind = generic_part(query)
    same_kind = [m for m in sure if asked_kind and asked_kind <= generic_part(m.name)]
    if len(sure) > 1 and same_kind:  # "crescent overseas": not the Crescent Recruiting Agency
        sure = same_kind
        matches = [(m, score) for m, score in matches if m in same_kind]
    top = matches[0][1] if matches else 0.0
    if len(sure) == 1 and (len(matches) == 1 or top - matches[1][1] >= SURE_LEAD):
        return "licensed", sure
    if len(sure) > 1:
        return "choose", sure
    if matches:
        return "similar", [m for m, _ in matches]
    return "none", []


def _has_registry(turn: Turn) -> bool:
    # Asked for most messages (mentions_licence): a Core statement built once, not the ORM.
    return turn.db.connection().execute(_ANY_LICENCE).first() is not None


_ANY_LICENCE = core_select(Licence.__table__.c.id).limit(1)  # type: ignore[attr-defined]


def _answer_number(turn: Turn) -> bool:
    refs = parse_licence_numbers(turn.text, known_offices(turn.db))
    if refs:
        _answer_records(turn, find_by_ref(turn.db, refs[0]),
                        query=format_licence_no(refs[0].number, refs[0].office or ""))
        return True
    number = parse_number_alone(turn.text)
    if number is not None:
        _answer_records(turn, find_by_ref(turn.db, LicenceRef(number, None)),
                        query=str(number))
        return True
    return False


def _answer_name(turn: Turn, name: str) -> None:
    if not name_query(name, turn.db):  # only "overseas", a city...: nothing to look for
        turn.state.enter(FLOW, step="ask")
        turn.say("licence_ask")
        return
    matches = search_by_name(turn.db, name, min_score=SIMILAR_NAME_SCORE,
                             limit=MAX_CANDIDATES)
    outcome, records = judge(matches, name)
    if outcome == "licensed":
        answer(turn, records[0])
    elif outcome == "choose":  # the same words in several names: "crescent"
        _offer(turn, records, header="licence_choose")
    elif outcome == "similar":
        _offer(turn, records, header="licence_similar", query=name)
    else:
        turn.state.leave()
        turn.say("licence_name_not_found", query=name, date=_list_day(turn))
        _offer_topic(turn)


def _answer_records(turn: Turn, records: list[Licence], *, query: str) -> None:
    if len(records) == 1:
        answer(turn, records[0])
    elif records:
        _offer(turn, records, header="licence_choose")
    else:
        turn.state.leave()
        turn.say("licence_not_found", query=query, date=_list_day(turn))
        _offer_topic(turn)


def _offer(turn: Turn, records: list[Licence], *, header: str, **params: object) -> None:
    turn.state.enter(FLOW, step="choose", candidates=[r.id for r in records])
    lines = [f"{n} {_short(r.name)} ({r.licence_no})" for n, r in enumerate(records, 1)]
    turn.say(header, date=_list_day(turn), **params)
    turn.parts.append("\n".join(lines))  # its own part: on SMS the list travels whole


def _short(name: str) -> str:
    """Names on SMS lists: the sample list's marker and long tails cost a whole segment."""
    return name.replace("(SAMPLE)", "").strip()[:40]


def _choose(turn: Turn) -> bool:
    return numbered_choice(turn, turn.state.data.get("candidates") or [],
                           lambda id_: _answer_id(turn, id_))


def _answer_id(turn: Turn, licence_id: int) -> None:
    licence = turn.db.get(Licence, licence_id)
    if licence is None:  # replaced by a re-import while the list was open: search again
        turn.state.enter(FLOW, step="ask")
        turn.say("licence_ask")
        return
    answer(turn, licence)


def answer(turn: Turn, licence: Licence) -> None:
    turn.state.leave()
    status = LicenceStatus(licence.status)
    key = f"licence_status_{status}"
    if status == LicenceStatus.VALID and not licence.valid_until:
        key = "licence_status_valid_no_date"
    turn.say(key, name=licence.name, licence_no=licence.licence_no,
             valid_until=_day(licence.valid_until))
    turn.say("licence_details", city=licence.city or "-", phone=licence.phone or "-",
             date=_list_day(turn))
    turn.say("licence_advice_valid" if status == LicenceStatus.VALID else "licence_advice_stop")
    if turn.session is not None:  # `rahnuma ask` records nothing, so it offers nothing
        licence_alerts.record_check(turn.db, contact_id=turn.contact_id, licence=licence)
        if status == LicenceStatus.VALID:
            _offer_alerts(turn, licence.licence_no)


def _offer_alerts(turn: Turn, licence_no: str) -> None:
    """Only for a valid licence: that is the one a person may still pay, and whose suspension
    they must hear of. After a stop-status answer, "reply 5" must stay the only next step."""
    if licence_alerts.asked_already(turn.db, contact_id=turn.contact_id,
                                    licence_no=licence_no):
        return
    turn.say("licence_alert_offer", licence_no=licence_no)
    # The words as shown, kept until the answer: consent is recorded with them.
    turn.state.enter(FLOW, step=ALERT_STEP, licence_no=licence_no, wording=turn.parts[-1])


def _alert_answer(turn: Turn) -> bool:
    """1 (or yes) and 2 (or no) answer the offer; anything else is a new message ("5" after
    the advice is a complaint, a question is a question)."""
    answer = turn.content.answer(turn.text)
    data = turn.state.data
    turn.state.leave()
    if answer not in {"yes", "no"}:
        return False
    licence_alerts.answer_offer(turn.db, contact_id=turn.contact_id,
                                licence_no=data["licence_no"], given=answer == "yes",
                                wording=data["wording"], channel=turn.channel)
    turn.say("licence_alert_on" if answer == "yes" else "licence_alert_off",
             licence_no=data["licence_no"])
    return True


def _offer_topic(turn: Turn) -> None:
    """How to check an agent yourself: kept for MORE."""
    topic = turn.content.topics.get("licence_check")
    if topic:
        turn.more = turn.content.fill(topic.whatsapp[turn.language])


def _list_day(turn: Turn) -> str:
    return _day(list_date(turn.db))


def _day(value: date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else "-"


def _needs_nlu(state: ConversationState, text: str) -> bool:
    if state.step == ALERT_STEP:  # 1 or 2, else a new message the NLU may have to read
        return not text.strip(" .").isdigit()
    return len(text.split()) > MAX_NAME_WORDS or text.rstrip().endswith("?")


registry.register(Flow(FLOW, start=start, step=step, needs_nlu=_needs_nlu))
