"""Reading a departure's date and destination in the five forms, and what is not one."""

from datetime import date

import pytest

from bot.outreach.departure_dates import read_departure

TODAY = date(2026, 12, 3)


def read(content, text: str):
    return read_departure(text, today=TODAY, places=content.places.countries.by_spelling)


@pytest.mark.parametrize("text, day, country", [
    # en
    ("15 March, Riyadh", date(2027, 3, 15), "Saudi Arabia"),
    ("March 15th Dubai", date(2027, 3, 15), "United Arab Emirates"),
    ("I am leaving for Doha on the 15th of March", date(2027, 3, 15), "Qatar"),
    ("in 2 weeks, Kuala Lumpur", date(2026, 12, 17), "Malaysia"),
    ("next month Kuwait", date(2027, 1, 3), "Kuwait"),
    ("tomorrow Muscat", date(2026, 12, 4), "Oman"),
    ("15/03/2027 riyadh", date(2027, 3, 15), "Saudi Arabia"),
    ("2027-03-15 Jeddah", date(2027, 3, 15), "Saudi Arabia"),
    ("15 may kuwait", date(2027, 5, 15), "Kuwait"),
    ("abu dhabi 20 jan", date(2027, 1, 20), "United Arab Emirates"),
    # ur-Latn
    ("agle mahine Dubai", date(2027, 1, 3), "United Arab Emirates"),
    ("15 march ko riyadh ja raha hun", date(2027, 3, 15), "Saudi Arabia"),
    ("3 hafte baad qatar jana hai", date(2026, 12, 24), "Qatar"),
    ("10 din baad saudia", date(2026, 12, 13), "Saudi Arabia"),
    ("kal dubai ki flight hai", date(2026, 12, 4), "United Arab Emirates"),
    # ur
    ("۱۵ مارچ کو ریاض", date(2027, 3, 15), "Saudi Arabia"),
    ("دو ہفتے بعد دبئی جا رہا ہوں", date(2026, 12, 17), "United Arab Emirates"),
    ("اگلے مہینے سعودی عرب", date(2027, 1, 3), "Saudi Arabia"),
    ("20 جنوری کو ابو ظہبی", date(2027, 1, 20), "United Arab Emirates"),
    # pa
    ("میں 15 مارچ نوں ریاض جا رہیا واں", date(2027, 3, 15), "Saudi Arabia"),
    ("اگلے مہینے دوحہ جاواں گا", date(2027, 1, 3), "Qatar"),
    ("بھلکے دبئی جانا اے", date(2026, 12, 4), "United Arab Emirates"),
    # ps
    ("زه د مارچ په 15 ریاض ته ځم", date(2027, 3, 15), "Saudi Arabia"),
    ("دوه اونۍ وروسته دوبۍ ته ځم", date(2026, 12, 17), "United Arab Emirates"),
    ("سبا قطر ته ځم", date(2026, 12, 4), "Qatar"),
    ("بله میاشت مسقط ته ځم", date(2027, 1, 3), "Oman"),
])
def test_departure_dates_reads_date_and_place(content, text, day, country):
    reading = read(content, text)
    assert (reading.on, reading.country, reading.problem) == (day, country, None)


@pytest.mark.parametrize("text", ["15 March", "۱۵ مارچ", "agle hafte", "دوه اونۍ وروسته"])
def test_departure_dates_date_without_a_place(content, text):
    reading = read(content, text)
    assert reading.on is not None and reading.country is None


@pytest.mark.parametrize("text", ["Riyadh", "دبئی", "سعودي عربستان", "ras al khaimah"])
def test_departure_dates_place_without_a_date(content, text):
    reading = read(content, text)
    assert reading.said is None and reading.country is not None and not reading.leftover


@pytest.mark.parametrize("text, problem", [
    ("15 November Riyadh", "past"),  # a fortnight ago: not next November
    ("1-12-2026 dubai", "past"),
    ("15 March 2028 Riyadh", "far"),
    ("۱۵ مارچ ۲۰۲۸ ریاض", "far"),
])
def test_departure_dates_past_or_far_is_read_but_refused(content, text, problem):
    reading = read(content, text)
    assert reading.said is not None and reading.problem == problem and reading.on is None


def test_departure_dates_january_said_in_december_is_next_year(content):
    assert read(content, "15 January Riyadh").on == date(2027, 1, 15)


@pytest.mark.parametrize("text", [
    "3 mahine se tankhwah nahi mili saudi mein",  # a duration, not a date
    "2.5 lakh diye dubai ke visa ke liye",  # an amount
    "may i go to kuwait",  # "may" is a word here
    "March mein dubai",  # a month without a day
    "31-02 riyadh",  # no such day
])
def test_departure_dates_no_date(content, text):
    assert read(content, text).said is None


def test_departure_dates_since_a_date_is_marked(content):
    reading = read(content, "15 march se riyadh mein tankhwah nahi mili")
    assert reading.since and reading.leftover


def test_departure_dates_a_trip_already_made_is_marked(content):
    reading = read(content, "kal saudi gaya")
    assert reading.went and not reading.travel
