"""The coordinators' outbox page: what went, what did not, and why."""

from __future__ import annotations

from booking import clock
from booking.appointments.slots import SlotRules, free_slots
from booking.models import Role
from tests.support import book


def _book(users, mobile, consent):
    now = clock.now()
    slot = free_slots(SlotRules(), now, limit=1)[0]
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
