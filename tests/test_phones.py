"""UK mobile numbers: what a sergeant may type, and what is kept (E.164)."""

import pytest

from booking.phones import InvalidMobile, display_mobile, normalise_mobile


@pytest.mark.parametrize(
    "typed",
    [
        "07400 123456",
        "07400123456",
        " 07400 123 456 ",
        "07400-123-456",
        "(07400) 123456",
        "+447400123456",
        "+44 7400 123456",
        "+44 (0)7400 123456",
        "0044 7400 123456",
    ],
)
def test_a_uk_mobile_is_kept_in_e164_however_it_was_typed(typed):
    assert normalise_mobile(typed) == "+447400123456"


@pytest.mark.parametrize("typed", ["07011 123456", "+44 7011 123456", "07624 123456"])
def test_personal_numbers_and_pagers_starting_070_or_076_are_not_mobiles(typed):
    with pytest.raises(InvalidMobile, match="070 or 076"):
        normalise_mobile(typed, allow_test_numbers=True)


@pytest.mark.parametrize("typed", ["0121 496 0000", "+44 121 496 0000", "0800 123456"])
def test_a_landline_or_freephone_number_is_refused(typed):
    with pytest.raises(InvalidMobile, match="07 or \\+447"):
        normalise_mobile(typed)


@pytest.mark.parametrize("typed", ["+33 6 12 34 56 78", "+1 202 555 0123", "+353 85 123 4567"])
def test_a_number_from_another_country_is_refused(typed):
    with pytest.raises(InvalidMobile):
        normalise_mobile(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "hello",
        "07400 12345",
        "074001234567",
        "07400 123456 / 07400 654321",
        "07400 123456#",
    ],
)
def test_junk_is_refused(typed):
    with pytest.raises(InvalidMobile):
        normalise_mobile(typed, allow_test_numbers=True)


@pytest.mark.parametrize(
    "typed", ["07400 FLOWER", "0740O 123456", "07700 9OO123", "07400 123456 ext 5"]
)
def test_letters_are_refused_rather_than_read_as_a_keypad_would(typed):
    # libphonenumber turns "FLOWER" into 356937 and drops extensions: a typo would be texted
    # to a stranger.
    with pytest.raises(InvalidMobile, match="digits only"):
        normalise_mobile(typed, allow_test_numbers=True)


@pytest.mark.parametrize("typed", ["07700 900000", "07700 900123", "+44 7700 900999"])
def test_ofcom_drama_numbers_are_accepted_only_when_test_numbers_are_allowed(typed):
    with pytest.raises(InvalidMobile, match="reserved test number"):
        normalise_mobile(typed)
    assert normalise_mobile(typed, allow_test_numbers=True).startswith("+447700900")


def test_the_drama_range_ends_at_900999():
    with pytest.raises(InvalidMobile):
        normalise_mobile("07700 901000", allow_test_numbers=True)


def test_a_mobile_is_shown_the_way_people_say_it():
    assert display_mobile("+447700900123") == "07700 900123"
    assert display_mobile(None) == ""
