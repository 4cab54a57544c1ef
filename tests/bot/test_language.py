import pytest

from bot.conversation.language import (
    Detection,
    Lang,
    choose_language,
    clean,
    detect,
    fold,
    normalize,
)


def test_normalize_maps_arabic_keyboard_letters_to_urdu():
    assert normalize("ايجنٹ كتنى فيس لے سكتا ہے") == normalize("ایجنٹ کتنی فیس لے سکتا ہے")


def test_normalize_maps_arabic_heh_to_urdu_heh_goal():
    assert normalize("شكايت كرنى ہے") == "شکایت کرنی ہے"
    assert "ہ" in normalize("يه ايجنٹ", Lang.UR)


def test_normalize_keeps_pashto_yeh_and_heh():
    assert normalize("زما ویزه سعودي ته ده", Lang.PS) == "زما ویزه سعودي ته ده"


def test_clean_strips_diacritics_tatweel_and_zero_width():
    assert clean("شِکایَت\u200c کـــرنی\u200b ہے\ufeff") == "شکایت کرنی ہے"


@pytest.mark.parametrize("raw,expected", [("۳ لاکھ", "3 لاکھ"), ("٣ لاکھ", "3 لاکھ"),
                                          ("۲۲۱۴/MLK", "2214/MLK"), ("٠٨٤٨", "0848")])
def test_clean_turns_both_arabic_digit_sets_into_ascii(raw, expected):
    assert clean(raw) == expected


def test_clean_maps_arabic_punctuation():
    assert clean("فیس؟") == "فیس?"


def test_normalize_lowercases_and_squeezes_stretched_letters():
    assert normalize("Pleeeease HELP") == "please help"
    assert normalize("fees") == "fees"  # a real double letter stays


def test_normalize_unfolds_presentation_forms():
    assert normalize("\ufefb") == normalize("لا")


@pytest.mark.parametrize("text,language", [
    ("ایجنٹ کتنی فیس لے سکتا ہے", Lang.UR),
    ("میرا پاسپورٹ ایجنٹ کے پاس ہے وہ واپس نہیں کر رہا", Lang.UR),
    ("ایجنٹ میرا پاسپورٹ واپس نئیں کر رہیا", Lang.PA),
    ("میرے پتر دی تنخواہ تن مہینیاں توں نئیں ملی", Lang.PA),
    ("زما پاسپورټ ایجنټ سره دی", Lang.PS),
    ("ایجنټ څومره فیس اخیستلی شي", Lang.PS),
    ("agent kitni fees le sakta hai", Lang.UR_LATN),
    ("mera passport agent ke pass hai wapis nahi kar raha", Lang.UR_LATN),
    ("how much can the agent charge me for a visa", Lang.EN),
    ("my brother salary not paid since 3 months what should we do", Lang.EN),
])
def test_detect_tells_the_five_forms_apart(text, language):
    assert detect(text).language == language
    assert detect(text).confident


def test_detect_pashto_without_special_letters_by_its_words():
    assert detect("زه غواړم چې شکایت وکړم").language == Lang.PS
    assert detect("زما تنخوا نه ده راکړې").language == Lang.PS


def test_detect_is_unsure_of_a_single_shared_word():
    assert detect("fees?") == Detection(Lang.UR_LATN, False)
    assert detect("123") == Detection(None, False)


def test_choose_language_prefers_explicit_choice():
    assert choose_language(detect("what is the fee"), chosen="ps", previous="en") == Lang.PS


def test_choose_language_keeps_previous_language_for_unclear_message_in_same_script():
    assert choose_language(detect("fees?"), chosen=None, previous="en") == Lang.EN
    assert choose_language(detect("فیس؟"), chosen=None, previous="pa") == Lang.PA


def test_choose_language_keeps_the_language_on_short_replies():
    for reply in ["فیس؟", "ok", "1", "2.5 lakh", "Multan", "0848/LHR"]:
        assert choose_language(detect(reply), chosen=None, previous="en",
                               words=len(reply.split())) == Lang.EN, reply


def test_choose_language_follows_a_confident_sentence_in_another_form():
    text = "وہاں پہنچ کر تنخواہ کم کر دی گئی"
    assert choose_language(detect(text), chosen=None, previous="en",
                           words=len(text.split())) == Lang.UR


def test_detect_short_urdu_with_shared_words_is_urdu_not_punjabi():
    assert detect("وہاں پہنچ کر تنخواہ کم کر دی گئی").language == Lang.UR
    assert detect("میرے پتر دی تنخواہ نئیں ملی").language == Lang.PA


def test_fold_unifies_heh_and_yeh():
    assert fold("ویزه") == fold("ویزہ")
    assert fold("سعودي") == fold("سعودی")


@pytest.mark.parametrize("text", ["status 3ME4KA", "status K3MEKA", "status ka4me9",
                                  "licence 12ab34 check"])
def test_a_reference_or_licence_code_is_not_read_as_words(text):
    """"3ME4KA" holds "me" and "ka": letters of a code must not vote for a language."""
    code = text.split()[1]
    assert detect(text) == detect(text.replace(code, ""))


def test_amounts_written_with_their_unit_still_count_as_words():
    assert detect("5lakh diye hain") == detect("5 lakh diye hain")
