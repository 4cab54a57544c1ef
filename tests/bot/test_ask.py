"""`Engine.ask`: stateless, same path as a message."""

from bot.conversation.language import Lang


def test_ask_answers_without_a_contact_or_database(bot, content, fake_nlu):
    fake_nlu.teach("agent kitni fees le sakta hai", "ask_fees", 0.9)
    understanding, reply = bot.ask("agent kitni fees le sakta hai")
    assert (understanding.language, understanding.intent) == (Lang.UR_LATN, "ask_fees")
    assert reply.startswith(content.fill(content.topics["fees"].whatsapp[Lang.UR_LATN])[:30])


def test_ask_unsure_names_the_likeliest_answer(bot, content, fake_nlu):
    fake_nlu.teach("passport ka masla", "passport_held", 0.3, ("ask_visa", 0.2))
    _, reply = bot.ask("passport ka masla")
    assert reply.startswith(content.fill(content.topics["passport"].whatsapp[Lang.UR_LATN])[:30])


def test_ask_human_request_records_nothing(bot, content, fake_nlu):
    fake_nlu.teach("kisi insaan se baat karwao", "human_handoff", 0.9)
    _, reply = bot.ask("kisi insaan se baat karwao")
    assert reply.startswith(content.text("handoff_received", Lang.UR_LATN))
