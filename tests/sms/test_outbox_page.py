"""The coordinators' outbox page: what went, what did not, and why."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from booking import clock
from booking.appointments import bookings
from booking.appointments.slots import SlotRules, free_slots
from booking.clock import LONDON
from booking.extensions import db
from booking.models import AuditEvent, Message, MessageStatus, Role
from booking.sms import texts
from booking.web.presentation import MESSAGE_KIND_NAMES
from tests.support import Page, book

PHONE = "0121 496 0000"  # the tests' SERVICE_PHONE


def _book(users, mobile, consent, days_ahead=0):
    now = clock.now()
    # Days ahead, from midday: reminders that fall outside the quiet hours.
    noon = dt.datetime.combine(now.astimezone(LONDON).date(), dt.time(12), tzinfo=LONDON)
    after = noon + dt.timedelta(days=days_ahead) if days_ahead else now
    slot = free_slots(SlotRules(), now, after=after, limit=1)[0]
    return book(
        users[Role.SERGEANT],
        slot.block.code,
        slot.starts_at,
        now,
        custody_record="20/1/27",
        person_name="Robin Example",
        mobile=mobile,
        sms_consent=consent,
        test_result="both",
        tested_at=now,
    )


def test_coordinator_sees_each_message_and_why_one_was_skipped(client, login, users, rostered):
    sent = _book(users, "07700 900321", True)
    skipped = _book(users, None, False)
    login(Role.COORDINATOR)
    page = client.get("/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert sent.reference in html and skipped.reference in html
    assert "No mobile number was given" in html
    assert "+447700900321" not in html  # the outbox shows no numbers

    problems = client.get("/outbox?status=problems").get_data(as_text=True)
    assert skipped.reference in problems
    waiting = client.get("/outbox?status=pending").get_data(as_text=True)
    assert sent.reference in waiting
    assert skipped.reference not in waiting


def test_outbox_is_for_coordinators_only(client, login, users):
    login(Role.SERGEANT)
    assert client.get("/outbox").status_code == 403


def test_each_message_shows_its_words_and_the_view_is_recorded(client, login, users, rostered):
    booking = _book(users, "07700 900321", True, days_ahead=3)
    login(Role.COORDINATOR)

    page = Page(client.get("/outbox").get_data(as_text=True))

    confirmation = texts.render("confirmation", booking, clock.now(), phone=PHONE)
    assert confirmation.startswith("Appointment booked: ")
    assert f"Confirmation {confirmation}" in page.text
    same_day = texts.render("same_day", booking, phone=PHONE)
    assert f"Reminder on the day {same_day}" in page.text and "Appointment today" in same_day
    viewed = db.session.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.booking_id == booking.id, AuditEvent.action == "viewed"
        )
    ).all()
    assert viewed == ["outbox"]


def test_a_moved_appointments_old_texts_keep_the_time_they_spoke_of(client, login, users, rostered):
    booking = _book(users, "07700 900321", True, days_ahead=3)
    old_words = texts.render("confirmation", booking, clock.now(), phone=PHONE)
    later = free_slots(SlotRules(), clock.now(), after=booking.ends_at, limit=1)[0]
    bookings.rearrange(
        booking,
        later.block.code,
        later.starts_at,
        by=users[Role.SERGEANT],
        now=clock.now(),
        rules=SlotRules(),
    )
    db.session.commit()
    login(Role.COORDINATOR)

    page = Page(client.get("/outbox").get_data(as_text=True))

    assert f"Confirmation {old_words}" in page.text
    moved_to = texts.when(later.starts_at, LONDON)
    assert f"Change of appointment Appointment changed to {moved_to}" in page.text


def test_messages_still_to_go_come_first_next_due_first_then_the_rest_latest_first(
    client, login, users, rostered
):
    now = clock.now()
    first = _book(users, "07700 900321", True, days_ahead=4)
    second = _book(users, "07700 900322", True, days_ahead=3)
    # The two confirmations went, the second booking's first: the first's is the latest.
    for booking, minutes in ((second, 2), (first, 5)):
        sent = next(m for m in booking.messages if m.kind == "confirmation")
        sent.status = MessageStatus.SENT
        sent.sent_at = sent.status_at = now + dt.timedelta(minutes=minutes)
    db.session.commit()
    login(Role.COORDINATOR)

    page = Page(client.get("/outbox").get_data(as_text=True))

    messages = db.session.scalars(select(Message)).all()
    to_go = sorted(
        (m for m in messages if m.status == MessageStatus.PENDING), key=lambda m: (m.due_at, m.id)
    )
    assert len(to_go) >= 2
    shown_to_go = page.table("Still to go, the next due first")[1:]
    assert [row[1] for row in shown_to_go] == [m.booking.reference for m in to_go]
    for row, message in zip(shown_to_go, to_go, strict=True):
        assert row[2].startswith(f"{MESSAGE_KIND_NAMES[message.kind]} "), row
    shown_done = page.table("Sent, failed or stopped, the latest first")[1:]
    assert [row[1] for row in shown_done[:2]] == [first.reference, second.reference]
    assert page.text.index("Still to go") < page.text.index("Sent, failed or stopped")
