import pytest

from bot.conversation.amounts import parse_amount


@pytest.mark.parametrize("text,amount", [
    ("3 lakh", 300_000), ("300000", 300_000), ("Rs 2,50,000", 250_000), ("3.5 lakh", 350_000),
    ("تین لاکھ", 300_000), ("۳ لاکھ", 300_000), ("دوه لکه", 200_000), ("درې لکه", 300_000),
    ("ڈھائی لاکھ", 250_000), ("saarhe 3 lakh", 350_000), ("50 hazar", 50_000),
    ("تن لکھ روپے", 300_000), ("maine agent ko 2 lakh diye", 200_000), ("ڈیڑھ لاکھ", 150_000),
    ("پچاس ہزار", 50_000), ("pachas hazar", 50_000), ("ساڑھے تین لاکھ", 350_000),
])
def test_parse_amount_as_people_write_it(text, amount):
    assert parse_amount(text) == amount


@pytest.mark.parametrize("text", ["skip", "2 mahine", "bohat zyada", "", "15"])
def test_parse_amount_none_without_money(text):
    assert parse_amount(text) is None
