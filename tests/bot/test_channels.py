from bot.conversation.channels import Channel, is_gsm7, paginate, sms_segments


def test_sms_segments_gsm7_single_and_multipart():
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 306) == 2
    assert sms_segments("a" * 307) == 3


def test_sms_segments_ucs2_for_urdu_script():
    assert sms_segments("ا" * 70) == 1
    assert sms_segments("ا" * 71) == 2
    assert sms_segments("ا" * 201) == 3
    assert sms_segments("ا" * 202) == 4


def test_sms_segments_one_curly_quote_makes_the_whole_message_ucs2():
    assert not is_gsm7("don’t")
    assert sms_segments("a" * 100 + "’") == 2


def test_sms_segments_extension_characters_cost_two():
    assert sms_segments("€" * 80) == 1
    assert sms_segments("€" * 81) == 2


def test_paginate_leaves_short_text_alone():
    assert paginate("short", Channel.SMS, more_hint="MORE", sms_max_segments=3) == ("short", "")


def test_paginate_cuts_sms_at_a_boundary_and_ends_with_more_hint():
    text = ". ".join(f"Sentence number {i} about fees" for i in range(40))
    page, rest = paginate(text, Channel.SMS, more_hint="Reply MORE.", sms_max_segments=3)
    assert page.endswith("\nReply MORE.")
    assert sms_segments(page) <= 3
    assert rest and (page.removesuffix("\nReply MORE.") + " " + rest).split() == text.split()


def test_paginate_never_splits_a_word():
    text = " ".join(["لائسنس"] * 80)
    page, rest = paginate(text, Channel.SMS, more_hint="MORE", sms_max_segments=3)
    assert all(word in {"لائسنس", "MORE"} for word in page.split())
    assert all(word == "لائسنس" for word in rest.split())


def test_paginate_whatsapp_allows_1600_characters():
    text = "x " * 900
    page, rest = paginate(text, Channel.WHATSAPP, more_hint="MORE", sms_max_segments=3)
    assert len(page) <= 1600 and rest
