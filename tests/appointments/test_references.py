"""Booking references: short, unique, easy to read out over the phone."""

import re

import pytest

from booking.appointments.references import ALPHABET, new_reference, normalise_reference


def test_alphabet_leaves_out_characters_that_are_misheard_or_misread():
    for confusable in "0O1I":
        assert confusable not in ALPHABET
    assert len(set(ALPHABET)) == len(ALPHABET) == 32


def test_a_reference_is_two_groups_of_four_from_the_alphabet():
    pattern = re.compile(f"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}")
    for _ in range(200):
        assert pattern.fullmatch(new_reference())


def test_references_do_not_repeat():
    made = {new_reference() for _ in range(2000)}
    assert len(made) == 2000


@pytest.mark.parametrize(
    "typed",
    ["K7PM-3QXR", "k7pm-3qxr", "K7PM3QXR", "k7pm3qxr", " k7pm 3qxr ", "K7PM–3QXR", "k7 pm-3q xr"],
)
def test_a_reference_is_found_however_it_was_typed(typed):
    assert normalise_reference(typed) == "K7PM-3QXR"


def test_a_reference_of_the_wrong_length_is_left_recognisably_wrong():
    assert normalise_reference(" k7pm-3qx ") == "K7PM-3QX"
