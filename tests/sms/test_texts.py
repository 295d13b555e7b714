"""The words of the text messages: one GSM-7 segment, the local time and place, nothing telling."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from booking.clock import LONDON
from booking.demo.load import BLOCKS
from booking.models import Block, Booking, MessageKind
from booking.sms import texts
from tests.support import DEMO_BLOCKS, demo_block

# The widest reference the alphabet allows, and the widest date: "Wed 29 Sep 10:00".
REFERENCE = "WWWW-WWWW"
PHONE = "0121 496 0000"
WIDEST_PHONE = "+44 121 496 0000"
WEDNESDAY_29_SEPTEMBER_TEN = dt.datetime(2027, 9, 29, 10, 0, tzinfo=LONDON).astimezone(dt.UTC)

# Words that must never show on a lock screen or a shared phone: at the start of a word, so
# "tests", "testing", "drugs", "arrested", "offences", "opiates" count, "latest" does not.
TELLING = re.compile(
    r"\b(drug|test|police|custod|arrest|offen[cs]e|cocaine|opiate|crack|heroin|detain)",
    re.IGNORECASE,
)


def booking_at(block: Block, starts_at: dt.datetime, reference: str = REFERENCE) -> Booking:
    return Booking(reference=reference, block=block, starts_at=starts_at)


@pytest.mark.parametrize("kind", list(MessageKind))
@pytest.mark.parametrize("code", list(DEMO_BLOCKS))
def test_every_text_at_every_demo_block_fits_one_segment_and_says_when_where_and_how_to_stop(
    code, kind
):
    block = demo_block(code)
    text = texts.render(kind, booking_at(block, WEDNESDAY_29_SEPTEMBER_TEN), phone=PHONE)

    assert texts.fits_one_segment(text), (len(text), text)
    assert texts.septets(text) <= 160
    assert "Wed 29 Sep 10:00" in text  # local (BST) time, not 09:00 UTC
    assert block.venue_label in text
    assert block.short_address in text
    assert REFERENCE in text
    assert f"Call {PHONE}." in text
    assert "STOP" in text


@pytest.mark.parametrize("kind", list(MessageKind))
@pytest.mark.parametrize("code", list(DEMO_BLOCKS))
def test_no_text_mentions_drugs_tests_police_custody_arrest_or_offences(code, kind):
    text = texts.render(kind, booking_at(demo_block(code), WEDNESDAY_29_SEPTEMBER_TEN), phone=PHONE)
    assert TELLING.search(text) is None, text


def test_the_telling_words_check_catches_what_it_should():
    for word in ["drugs", "Drug", "TEST", "tested", "Police", "custody", "arrested", "Offence",
                 "offenses", "cocaine", "Opiates"]:  # fmt: skip
        assert TELLING.search(f"Your {word} appointment"), word
    assert TELLING.search("the latest contest at Bartestone") is None


def test_the_demo_venue_labels_and_addresses_themselves_say_nothing_telling():
    for _code, _name, _address, venue, short_address, _high in BLOCKS:
        assert TELLING.search(venue) is None
        assert TELLING.search(short_address) is None


def test_each_demo_place_fits_the_texts_and_names_its_street_once():
    for code, _name, address, venue, short_address, _high in BLOCKS:
        assert len(f"{venue}, {short_address}") <= texts.PLACE_MAX, code
        street = venue.removesuffix(" reception")
        assert street in address and street not in short_address, code
        assert short_address.split()[-1] in address, "the postcode is the address's"


@pytest.mark.parametrize("kind", list(MessageKind))
def test_the_longest_place_and_phone_number_allowed_still_fit(kind):
    # The widest place the texts allow, split as evenly as the columns (String(30)) permit.
    venue = "W" * (texts.PLACE_MAX // 2)
    block = Block(
        code="wide",
        venue_label=venue,
        short_address="W" * (texts.PLACE_MAX - len(venue) - 2),
        timezone="Europe/London",
    )
    assert len(texts.place(block)) == texts.PLACE_MAX
    assert len(WIDEST_PHONE) == texts.PHONE_MAX
    text = texts.render(kind, booking_at(block, WEDNESDAY_29_SEPTEMBER_TEN), phone=WIDEST_PHONE)
    assert texts.fits_one_segment(text), (texts.septets(text), text)


@pytest.mark.parametrize(
    ("local", "shown"),
    [
        (dt.datetime(2027, 3, 29, 10, 0), "Mon 29 Mar 10:00"),  # BST: 09:00 UTC
        (dt.datetime(2027, 11, 1, 10, 0), "Mon 1 Nov 10:00"),  # GMT: 10:00 UTC
        (dt.datetime(2027, 3, 28, 3, 30), "Sun 28 Mar 03:30"),  # just after the spring gap
        (dt.datetime(2027, 1, 14, 7, 0), "Thu 14 Jan 07:00"),
    ],
)
def test_the_time_shown_is_the_local_wall_clock_time(local, shown):
    instant = local.replace(tzinfo=LONDON).astimezone(dt.UTC)
    assert texts.when(instant, LONDON) == shown
    text = texts.render(
        MessageKind.CONFIRMATION, booking_at(demo_block("oldbury"), instant), phone=PHONE
    )
    assert shown in text


def test_the_templates_are_plain_gsm_7():
    for template in texts.TEMPLATES.values():
        assert texts.fits_one_segment(template), template
    assert texts.fits_one_segment(texts.OPT_OUT)


def test_characters_outside_gsm_7_or_too_long_do_not_fit_one_segment():
    assert texts.fits_one_segment("A" * 160)
    assert not texts.fits_one_segment("A" * 161)
    # Extension characters take two septets each.
    assert texts.septets("€[") == 4
    assert not texts.fits_one_segment("A" * 159 + "€")
    # Curly quotes and emoji are not GSM-7 at all (they would force UCS-2: 70 a segment).
    assert not texts.fits_one_segment("Holford Drive \u2019reception\u2019")
    assert not texts.fits_one_segment("See you then \U0001f44d")
    with pytest.raises(UnicodeEncodeError):
        texts.septets("\u201cquoted\u201d")
