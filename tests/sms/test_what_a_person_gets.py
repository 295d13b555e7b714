"""What a person is texted for a 07:00 appointment, by when it was booked: each text worded
for the moment it is sent ("today", "tomorrow"), and never two the night before."""

from __future__ import annotations

import datetime as dt

import pytest

from booking.clock import LONDON
from booking.models import Block, Booking, MessageKind
from booking.sms import texts
from booking.sms.reminders import ReminderPolicy, plan_reminders

SEVEN_ON_FRIDAY = dt.datetime(2027, 1, 15, 7, 0, tzinfo=LONDON)
PHONE = "0121 496 0000"


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


def texts_received(starts_at: dt.datetime, booked_at: dt.datetime) -> list[tuple[str, str]]:
    """(local send time, text) of every message that goes, the confirmation first."""
    block = Block(
        code="stechford",
        venue_label="Station Road reception",
        short_address="Stechford B33 8QR",
        timezone="Europe/London",
    )
    booking = Booking(reference="ABCD-EFGH", block=block, starts_at=starts_at.astimezone(dt.UTC))
    sent = [(booked_at, texts.render(MessageKind.CONFIRMATION, booking, booked_at, phone=PHONE))]
    for reminder in plan_reminders(booking.starts_at, booked_at, ReminderPolicy()):
        if reminder.skip_reason is None:
            sent.append(
                (
                    reminder.send_at,
                    texts.render(reminder.kind, booking, reminder.send_at, phone=PHONE),
                )
            )
    return [(f"{at.astimezone(LONDON):%a %H:%M}", text) for at, text in sent]


def test_booked_at_two_in_the_morning_the_confirmation_is_all():
    # 05:00 is quiet and the evening before is past: the confirmation says it all.
    received = texts_received(SEVEN_ON_FRIDAY, local(2027, 1, 15, 2, 0))

    assert [at for at, _ in received] == ["Fri 02:00"]
    assert received[0][1].startswith("Appointment booked: Fri 15 Jan 07:00, ")


def test_booked_the_afternoon_before_one_reminder_that_evening_says_tomorrow():
    received = texts_received(SEVEN_ON_FRIDAY, local(2027, 1, 14, 14, 0))

    assert [at for at, _ in received] == ["Thu 14:00", "Thu 18:00"]
    assert received[1][1].startswith("Appointment tomorrow: Fri 15 Jan 07:00, ")


def test_booked_three_days_before_one_reminder_the_evening_before():
    received = texts_received(SEVEN_ON_FRIDAY, local(2027, 1, 12, 11, 0))

    assert [at for at, _ in received] == ["Tue 11:00", "Thu 18:00"]
    assert "tomorrow" in received[1][1]


def test_a_ten_oclock_appointment_still_gets_both_reminders_each_on_its_own_day():
    received = texts_received(local(2027, 1, 15, 10, 0), local(2027, 1, 12, 11, 0))

    assert [at for at, _ in received] == ["Tue 11:00", "Thu 18:00", "Fri 08:00"]
    assert received[1][1].startswith("Appointment tomorrow: Fri 15 Jan 10:00, ")
    assert received[2][1].startswith("Appointment today: Fri 15 Jan 10:00, ")


@pytest.mark.parametrize(
    ("sent_at", "word"),
    [
        (local(2027, 1, 15, 8, 0), "today"),
        (local(2027, 1, 14, 20, 59), "tomorrow"),
        (local(2027, 1, 13, 23, 30), "reminder"),  # two days ahead: the date says when
    ],
)
def test_a_reminder_names_the_day_as_seen_when_it_is_sent(sent_at, word):
    assert texts.day_word(SEVEN_ON_FRIDAY, sent_at, LONDON) == word


def test_the_day_is_counted_on_the_local_calendar_across_the_spring_change():
    # 00:30 GMT on Sunday 28 March is still Sunday in London after 02:00 BST arrives.
    sunday_nine = local(2027, 3, 28, 9, 0)
    assert texts.day_word(sunday_nine, local(2027, 3, 28, 0, 30), LONDON) == "today"
    assert texts.day_word(sunday_nine, local(2027, 3, 27, 23, 30), LONDON) == "tomorrow"


def test_no_text_says_opt_out_which_could_be_read_as_dropping_the_appointment():
    for template in texts.TEMPLATES.values():
        assert "opt out" not in template.format(
            day="", when="", place="", ref="", phone="", opt_out=texts.OPT_OUT
        )
    assert texts.OPT_OUT == "Reply STOP to stop these texts."


def test_each_text_says_whom_to_call_and_names_the_street_once():
    (_, confirmation), (_, reminder) = texts_received(SEVEN_ON_FRIDAY, local(2027, 1, 14, 14, 0))
    for text in (confirmation, reminder):
        assert f"Call {PHONE}." in text
        assert text.count("Station R") == 1, text
