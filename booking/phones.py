"""UK mobile numbers: validated with libphonenumber and kept in E.164."""

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

# Ofcom's numbers for drama, 07700 900000-900999: libphonenumber calls them invalid.
DRAMA_PREFIX = "7700900"


class InvalidMobile(ValueError):
    pass


def normalise_mobile(raw: str, allow_test_numbers: bool = False) -> str:
    """A UK mobile in E.164 (+447…), or InvalidMobile with a message a sergeant can act on."""
    # libphonenumber reads letters as a keypad would ("07400 FLOWER") and drops extensions:
    # a typo must be refused, not texted to a stranger.
    if any(c.isalpha() for c in raw):
        raise InvalidMobile("Enter a UK mobile number using digits only, like 07700 900123")
    try:
        number = phonenumbers.parse(raw, "GB")
    except NumberParseException:
        raise InvalidMobile("Enter a UK mobile number, like 07700 900123") from None
    national = phonenumbers.national_significant_number(number)
    if number.country_code != 44 or not national.startswith("7"):
        raise InvalidMobile("Enter a UK mobile number starting 07 or +447")
    if national.startswith(("70", "76")):
        raise InvalidMobile("Numbers starting 070 or 076 are not mobiles: enter a mobile number")
    if national.startswith(DRAMA_PREFIX) and len(national) == 10:
        if allow_test_numbers:
            return f"+44{national}"
        raise InvalidMobile("That is a reserved test number: enter a real mobile number")
    if (
        not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != PhoneNumberType.MOBILE
    ):
        raise InvalidMobile("Enter a UK mobile number, like 07700 900123")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_mobile(e164: str | None) -> str:
    """07xxx xxxxxx, as people say it."""
    if not e164:
        return ""
    national = e164.removeprefix("+44")
    return f"0{national[:4]} {national[4:]}"
