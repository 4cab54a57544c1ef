"""Making a source and what it hands out: the click-to-chat link (whose prefilled text the
conversation side reads the code from), the SMS keyword, the QR code, and who may make or use
which source."""

import struct
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlmodel import Session

from bot.casework.staff import Role, Staff
from bot.outreach import source_cards as cards
from bot.outreach.sources import CODE_PATTERN, Source, SourceKind, code_in

WHATSAPP_FROM = "whatsapp:+14155238886"


def staff(name: str, role: Role, centre: str = "mrc-lahore") -> Staff:
    return Staff(email=f"{name}@mrc.example", name=name, centre=centre, role=role,
                 password_hash="x")


@pytest.fixture
def session(db):
    with Session(db) as session:
        yield session


@pytest.fixture
def people(session) -> dict[str, Staff]:
    made = {"supervisor": staff("sana", Role.SUPERVISOR),
            "changemaker": staff("shazia", Role.CHANGEMAKER),
            "caseworker": staff("ayesha", Role.CASEWORKER),
            "other_changemaker": staff("bilal", Role.CHANGEMAKER)}
    session.add_all(made.values())
    session.commit()
    return made


def make(session, content, people, **fields) -> Source:
    values = {"name": "Sialkot changemaker", "kind": SourceKind.CHANGEMAKER,
              "centre": "mrc-lahore", "created_by": people["supervisor"]} | fields
    return cards.make_source(session, content=content, **values)


def test_whatsapp_link_prefilled_text_round_trips_to_the_code():
    link = cards.whatsapp_link(WHATSAPP_FROM, "SKT12")
    [text] = parse_qs(urlsplit(link).query)["text"]
    assert text == "رہنما SKT12" and code_in(text) == "SKT12"


def test_whatsapp_link_opens_a_chat_with_the_sender_digits():
    link = cards.whatsapp_link(WHATSAPP_FROM, "SKT12")
    assert link == "https://wa.me/14155238886?text=" + quote("رہنما SKT12")


def test_whatsapp_link_none_without_a_whatsapp_number():
    assert cards.whatsapp_link(None, "SKT12") is None and cards.whatsapp_link("", "A1") is None


def test_sms_keyword_is_the_same_first_message():
    assert cards.prefilled_text("SKT12") == "RAHNUMA SKT12"
    assert code_in(cards.prefilled_text("SKT12")) == "SKT12"
    assert cards.display_number("+923001234567") == "+923001234567"


def test_qr_png_is_a_png_of_print_size():
    png = cards.qr_png(cards.whatsapp_link(WHATSAPP_FROM, "SKT12"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == height >= 200


def test_qr_codes_differ_by_code():
    one = cards.qr_svg(cards.whatsapp_link(WHATSAPP_FROM, "SKT12"))
    other = cards.qr_svg(cards.whatsapp_link(WHATSAPP_FROM, "SKT13"))
    assert one.lstrip().startswith("<?xml") and "<svg" in one and one != other


def test_qr_svg_inline_has_no_style_attribute_the_csp_would_block():
    svg = cards.qr_svg_inline(cards.whatsapp_link(WHATSAPP_FROM, "SKT12"), title="RAHNUMA SKT12")
    assert svg.startswith("<svg") and "style=" not in svg and "<script" not in svg


def test_suggest_code_from_district_letters(session):
    assert cards.suggest_code(session, district="sialkot") == "SLK1"
    assert cards.suggest_code(session, district="lahore") == "LHR1"


def test_suggest_code_takes_the_next_free_number(session, content, people):
    make(session, content, people, code="SLK1")
    assert cards.suggest_code(session, district="sialkot") == "SLK2"


def test_suggest_code_from_an_urdu_name_fits_the_pattern(session):
    assert CODE_PATTERN.fullmatch(cards.suggest_code(session, name="سیالکوٹ سینٹر"))


def test_make_source_suggests_a_code_from_the_district_in_any_script(session, content, people):
    source = make(session, content, people, district="سیالکوٹ")
    assert (source.code, source.district) == ("SLK1", "sialkot")


@pytest.mark.parametrize("code", ["S1", "SKT", "SKT12345", "12SKT", "SK-12"])
def test_make_source_refuses_a_code_off_the_pattern(session, content, people, code):
    with pytest.raises(cards.SourceError) as refused:
        make(session, content, people, code=code)
    assert refused.value.field == "code"


def test_make_source_refuses_a_taken_code_in_any_case(session, content, people):
    make(session, content, people, code="SKT12")
    with pytest.raises(cards.SourceError, match="already taken"):
        make(session, content, people, code="skt12")


def test_make_source_refuses_an_unknown_district(session, content, people):
    with pytest.raises(cards.SourceError) as refused:
        make(session, content, people, district="Atlantis")
    assert refused.value.field == "district"


def test_make_source_caseworker_not_for_another_centre(session, content, people):
    with pytest.raises(cards.NotAllowed):
        make(session, content, people, created_by=people["caseworker"], centre="mrc-peshawar")


def test_make_source_caseworker_may_not_give_it_to_a_changemaker(session, content, people):
    with pytest.raises(cards.NotAllowed):
        make(session, content, people, created_by=people["caseworker"], owner=people["changemaker"])


def test_make_source_owner_must_be_a_changemaker(session, content, people):
    with pytest.raises(cards.SourceError) as refused:
        make(session, content, people, owner=people["caseworker"])
    assert refused.value.field == "owner"


def test_may_use_a_changemaker_only_their_own_source(session, content, people):
    source = make(session, content, people, owner=people["changemaker"])
    assert cards.may_use(people["changemaker"], source)
    assert not cards.may_use(people["other_changemaker"], source)
    assert cards.usable_sources(session, people["other_changemaker"]) == []


def test_usable_sources_other_staff_their_centres_only(session, content, people):
    make(session, content, people, code="LHR1")
    peshawar = staff("gul", Role.CASEWORKER, centre="mrc-peshawar")
    assert [s.code for s in cards.usable_sources(session, people["caseworker"])] == ["LHR1"]
    assert cards.usable_sources(session, peshawar) == []
