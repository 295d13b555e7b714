"""The custody sergeant's journey through the web pages: record the test, choose a slot, check,
confirm; the appointment page; rearranging and cancelling; the list and search.

The clock is Wednesday 13 January 2027, 21:00 in London: weekday cover ended at 20:00.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from booking.appointments import bookings
from booking.appointments.slots import SlotRules, find_slot
from booking.extensions import db
from booking.models import AuditEvent, Block, Booking, BookingDraft, Message, Notice, Role
from tests.support import (
    ANOTHER_PERSON,
    Page,
    book,
    book_through_pages,
    choose_first_slot,
    count,
    details_form,
    fill_rota,
    record_test,
    trail,
)

BOOKING_PAGES = [
    "/bookings/new",
    "/bookings/new/slot",
    "/bookings/new/check",
    "/bookings",
]


def book_directly(user, block_code: str, starts_at: dt.datetime, now: dt.datetime, **changes):
    """A booking made by another sergeant, straight through the domain's one write path."""
    changes = {**ANOTHER_PERSON, "tested_at": now - dt.timedelta(hours=1), **changes}
    return book(user, block_code, starts_at, now, **changes)


def checked_radios(html: str, name: str) -> list[str]:
    inputs = re.findall(rf'<input[^>]*name="{name}"[^>]*>', html)
    return [re.search(r'value="([^"]*)"', tag)[1] for tag in inputs if " checked" in tag]


def stored_draft() -> dict:
    """The one booking draft kept on the server (the cookie holds only its key)."""
    return json.loads(db.session.scalar(select(BookingDraft.data)))


@pytest.fixture
def sergeant(client, users, rostered, login):
    login(Role.SERGEANT)
    return client


# The whole journey -----------------------------------------------------------------------------


def test_sergeant_records_a_test_books_the_first_slot_prints_rearranges_and_cancels(sergeant):
    client = sergeant
    form = client.get("/bookings/new")
    assert form.status_code == 200
    assert "Record the test" in Page(form.get_data(as_text=True)).title

    recorded = record_test(client)
    assert recorded.status_code == 302
    assert recorded.headers["Location"] == "/bookings/new/slot"
    assert count(Booking) == 0, "recording the test writes nothing"

    slot_page = client.get("/bookings/new/slot").get_data(as_text=True)
    assert "No worker on site at Stechford: book an appointment" in slot_page
    assert "A worker is next on site there at 07:00 on Thursday 14 January 2027" in slot_page
    page = Page(slot_page)
    first = page.radios["slot"][0]
    assert first == "stechford|2027-01-14T07:00:00+00:00"
    assert page.radio_labels("slot")[0] == "Thursday 14 January, 07:00 – Stechford"
    assert len(page.radios["slot"]) == 10

    chosen = client.post("/bookings/new/slot", data={"slot": first})
    assert chosen.headers["Location"] == "/bookings/new/check"
    check = client.get("/bookings/new/check").get_data(as_text=True)
    assert "07:00 on Thursday 14 January 2027" in check
    assert "Station Road, Stechford, Birmingham" in check
    assert "Jamie Testperson" in check and "20/123456/27" in check
    assert "Confirm booking" in check
    assert count(Booking) == 0, "checking writes nothing"

    confirmed = client.post("/bookings/new/check")
    assert confirmed.status_code == 302
    booking = db.session.scalar(select(Booking))
    assert confirmed.headers["Location"] == f"/bookings/{booking.reference}"
    assert booking.person_name == "Jamie Testperson"
    assert booking.arrest_block.code == "stechford"
    assert booking.tested_at == dt.datetime(2027, 1, 13, 20, 15, tzinfo=dt.UTC)
    assert booking.mobile == "+447700900123"

    shown = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "Appointment booked" in shown
    assert booking.reference in shown
    assert "07:00 on Thursday 14 January 2027" in shown
    assert booking.worker.name in shown
    assert "Confirmation" in shown
    assert "Print notice" in shown and "Rearrange" in shown and "Cancel appointment" in shown
    again = client.get(f"/bookings/{booking.reference}").get_data(as_text=True)
    assert "Appointment booked" not in again, "the panel shows once, just after booking"

    notice = client.get(f"/bookings/{booking.reference}/notice").get_data(as_text=True)
    for expected in (
        "Jamie Testperson",
        "20/123456/27",
        "07:00 on Thursday 14 January 2027",
        "Station Road, Stechford, Birmingham",
        booking.reference,
        "Version 1",
        "Drugs Act 2005",
        "up to three months",
    ):
        assert expected in notice

    page = Page(client.get(f"/bookings/{booking.reference}/rearrange").get_data(as_text=True))
    new_slot = next(v for v in page.radios["slot"] if v.startswith("perry-barr|"))
    moved = client.post(f"/bookings/{booking.reference}/rearrange", data={"slot": new_slot})
    assert moved.status_code == 302
    after_move = client.get(moved.headers["Location"]).get_data(as_text=True)
    assert "Appointment moved: notice version 2" in after_move
    notice = client.get(f"/bookings/{booking.reference}/notice").get_data(as_text=True)
    assert "Version 2" in notice
    assert "Holford Drive, Perry Barr, Birmingham" in notice
    assert "replaces all earlier notices" in notice

    cancelled = client.post(
        f"/bookings/{booking.reference}/cancel", data={"reason": "Remanded in custody"}
    )
    assert cancelled.status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "cancelled"
    final = client.get(f"/bookings/{booking.reference}").get_data(as_text=True)
    assert "Cancelled" in final
    assert "Rearrange" not in final


# Recording the test ----------------------------------------------------------------------------


def test_the_form_starts_at_the_sergeants_block_and_the_time_now_in_london(sergeant, clock):
    clock.set_local(2027, 6, 10, 22, 40)  # British Summer Time: 21:40 UTC
    html = sergeant.get("/bookings/new").get_data(as_text=True)
    page = Page(html)
    assert re.search(r'<option value="stechford" selected', html)
    assert page.ids["tested_on-day"]["value"] == "10"
    assert page.ids["tested_on-month"]["value"] == "06"
    assert page.ids["tested_on-year"]["value"] == "2027"
    assert page.ids["tested_time"]["value"] == "22:40"
    assert page.ids["mobile"]["type"] == "tel"
    assert page.ids["mobile"]["autocomplete"] == "off"


def test_a_sergeant_is_offered_initial_and_voluntary_but_not_follow_up(sergeant):
    page = Page(sergeant.get("/bookings/new").get_data(as_text=True))
    assert page.radios["requirement"] == ["initial", "voluntary"]


def test_a_worker_is_offered_follow_up_too(client, users, rostered, login):
    login(Role.WORKER)
    page = Page(client.get("/bookings/new").get_data(as_text=True))
    assert page.radios["requirement"] == ["initial", "follow_up", "voluntary"]


def test_a_validation_error_shows_in_the_summary_with_a_link_to_the_field_and_writes_nothing(
    sergeant,
):
    response = record_test(sergeant, mobile="020 7946 0000", person_name="  ")
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert page.title.startswith("Error: ")
    assert page.error_links == [
        ("#person_name", "Enter the person's full name (up to 100 characters)"),
        ("#mobile", "Enter a UK mobile number starting 07 or +447"),
    ]
    assert "mobile" in page.ids and "mobile-error" in page.ids
    assert count(Booking) == count(Notice) == count(Message) == len(trail()) == 0
    assert sergeant.get("/bookings/new/slot").status_code == 302, "no draft was kept"


def test_the_domain_refuses_a_required_assessment_after_a_negative_test(sergeant):
    response = record_test(sergeant, test_result="negative")
    page = Page(response.get_data(as_text=True))
    assert page.error_links == [
        (
            "#test_result",
            "A required assessment needs a positive test: book a voluntary assessment instead",
        )
    ]
    assert count(Booking) == 0


def test_missing_answers_get_govuk_messages_in_form_order(sergeant):
    response = sergeant.post("/bookings/new", data={"tested_on": ["", "", ""]})
    page = Page(response.get_data(as_text=True))
    assert [href for href, _ in page.error_links] == [
        "#arrest_block",
        "#custody_record",
        "#person_name",
        "#test_result",
        "#tested_on-day",
        "#tested_time",
        "#disputed",
        "#requirement",
        "#sms_consent",
    ]
    assert ("#tested_on-day", "Enter the date of the test") in page.error_links
    assert "tested_on-day" in page.ids and page.ids["tested_on-day"]["tag"] == "input"


def test_a_date_without_a_year_or_that_does_not_exist_is_explained(sergeant):
    response = record_test(sergeant, tested_on=["13", "1", ""])
    assert ("#tested_on-day", "The date of the test must include a year") in Page(
        response.get_data(as_text=True)
    ).error_links
    response = record_test(sergeant, tested_on=["13", "1", "27"])
    assert ("#tested_on-day", "The year of the test must include 4 numbers") in Page(
        response.get_data(as_text=True)
    ).error_links
    response = record_test(sergeant, tested_on=["30", "2", "2027"])
    assert ("#tested_on-day", "The date of the test must be a real date, like 13 1 2027") in Page(
        response.get_data(as_text=True)
    ).error_links


@pytest.mark.parametrize("typed", ["20:15", "2015", "20.15"])
def test_the_time_of_the_test_may_be_typed_as_people_write_it(sergeant, typed):
    assert record_test(sergeant, tested_time=typed).status_code == 302
    assert stored_draft()["details"]["tested_at"] == "2027-01-13T20:15:00+00:00"


def test_a_time_that_is_not_a_time_is_explained(sergeant):
    response = record_test(sergeant, tested_time="25:00")
    assert Page(response.get_data(as_text=True)).error_links == [
        ("#tested_time", "Enter the time of the test on the 24-hour clock, like 21:30")
    ]


def test_a_test_time_in_the_spring_gap_is_refused(sergeant, clock):
    clock.set_local(2027, 3, 28, 9, 0)  # the clocks went forward at 01:00 that morning
    response = record_test(sergeant, tested_on=["28", "3", "2027"], tested_time="01:30")
    links = Page(response.get_data(as_text=True)).error_links
    assert len(links) == 1
    assert links[0][0] == "#tested_time"
    assert "01:30 did not happen on 28 March" in links[0][1]


def test_a_test_time_in_the_repeated_autumn_hour_is_its_first_occurrence(sergeant, clock):
    clock.set_local(2027, 10, 31, 9, 0)  # the clocks went back at 02:00 BST that morning
    response = record_test(sergeant, tested_on=["31", "10", "2027"], tested_time="01:30")
    assert response.status_code == 302
    check = sergeant.get("/bookings/new/slot")
    assert check.status_code == 200
    tested_at = stored_draft()["details"]["tested_at"]
    assert tested_at == "2027-10-31T00:30:00+00:00"  # 01:30 BST, not 01:30 GMT


def test_a_test_time_in_the_future_is_refused_on_the_date_of_the_test(sergeant):
    response = record_test(sergeant, tested_on=["14", "1", "2027"], tested_time="09:00")
    page = Page(response.get_data(as_text=True))
    assert page.error_links == [("#tested_on-day", "The time of the test must be in the past")]


def test_changing_an_answer_keeps_the_chosen_slot_and_returns_to_the_check_page(sergeant):
    record_test(sergeant)
    chosen = choose_first_slot(sergeant)
    page = Page(sergeant.get("/bookings/new?change=1").get_data(as_text=True))
    assert page.ids["person_name"]["value"] == "Jamie Testperson"
    changed = sergeant.post("/bookings/new?change=1", data=details_form(person_name="Jamie Other"))
    assert changed.headers["Location"] == "/bookings/new/check"
    check = sergeant.get("/bookings/new/check").get_data(as_text=True)
    assert "Jamie Other" in check
    slot = stored_draft()["slot"]
    assert f"{slot['block']}|{slot['starts_at']}" == chosen


def test_starting_a_new_booking_forgets_the_last_persons_details(sergeant):
    record_test(sergeant)
    started = sergeant.get("/bookings/new/start")
    assert started.headers["Location"] == "/bookings/new"
    page = Page(sergeant.get("/bookings/new").get_data(as_text=True))
    assert page.ids["person_name"].get("value") in (None, "")
    assert sergeant.get("/bookings/new/slot").headers["Location"] == "/bookings/new"
    assert count(BookingDraft) == 0


def test_the_home_page_and_the_menu_start_a_new_booking(sergeant):
    page = Page(sergeant.get("/").get_data(as_text=True))
    assert "/bookings/new/start" in [href for href, _ in page.links]
    assert "/bookings/new" not in [href for href, _ in page.links]


def test_the_details_page_shown_again_holds_the_draft_and_keeps_the_chosen_slot(sergeant):
    """Browser Back from the slot page, Forward, and reloading fetch the pages again (they are
    never cached): the draft on the server fills them, and nothing is thrown away."""
    record_test(sergeant, person_name="Jamie Backwards")
    html = sergeant.get("/bookings/new").get_data(as_text=True)
    page = Page(html)
    assert page.ids["person_name"]["value"] == "Jamie Backwards"
    assert page.ids["custody_record"]["value"] == "20/123456/27"
    assert page.ids["mobile"]["value"] == "+447700900123"
    assert page.values["tested_time"] == "20:15"
    assert "Start a new booking instead" in html
    chosen = choose_first_slot(sergeant)
    again = sergeant.get("/bookings/new/slot").get_data(as_text=True)
    assert checked_radios(again, "slot") == [chosen], "the slot page remembers the choice"
    assert sergeant.get("/bookings/new/check").status_code == 200
    assert stored_draft()["details"]["person_name"] == "Jamie Backwards"


# Choosing a slot -------------------------------------------------------------------------------


def test_when_a_worker_is_on_site_the_sergeant_is_told_to_take_the_person_to_them(sergeant, clock):
    clock.set_local(2027, 1, 14, 10, 0)  # Thursday morning: weekday cover at every block
    record_test(sergeant, tested_on=["14", "1", "2027"], tested_time="09:30")
    html = sergeant.get("/bookings/new/slot").get_data(as_text=True)
    assert "A worker is on site at Stechford now: take the person to them" in html
    page = Page(html)
    assert page.radios["slot"][0] == "stechford|2027-01-14T11:00:00+00:00", "an hour's lead"


def test_the_block_filter_works_without_javascript(sergeant):
    record_test(sergeant)
    html = sergeant.get("/bookings/new/slot?block=oldbury&block=coventry").get_data(as_text=True)
    page = Page(html)
    assert {value.split("|")[0] for value in page.radios["slot"]} == {"oldbury", "coventry"}
    assert re.search(r'name="block" type="checkbox" value="oldbury"\s+checked', html)
    assert "Show slots" in html


def test_a_disputed_result_is_offered_nothing_before_five_working_days(sergeant):
    record_test(sergeant, disputed="yes")
    page = Page(sergeant.get("/bookings/new/slot").get_data(as_text=True))
    # Tested on Wednesday 13 January: the fifth working day after is Wednesday 20 January.
    assert page.radios["slot"][0] == "stechford|2027-01-20T07:00:00+00:00"


def test_continuing_without_choosing_a_slot_asks_for_one(sergeant):
    record_test(sergeant)
    response = sergeant.post("/bookings/new/slot", data={})
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert page.error_links == [("#slot", "Choose a time for the appointment")]
    assert page.ids["slot"]["tag"] == "input"


def test_a_slot_taken_meanwhile_shows_the_message_and_fresh_choices(sergeant, users, clock):
    record_test(sergeant)
    chosen = choose_first_slot(sergeant)
    block_code, starts = chosen.split("|")
    starts_at = dt.datetime.fromisoformat(starts)
    block = db.session.scalar(select(Block).where(Block.code == block_code))
    taken = 0
    while find_slot(SlotRules(), clock(), block, starts_at) is not None:
        book_directly(users[Role.COORDINATOR], block_code, starts_at, clock())
        taken += 1
    assert taken >= 1

    response = sergeant.post("/bookings/new/check")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    page = Page(html)
    assert page.error_links == [("#slot", "That slot has just been taken. Choose another.")]
    assert chosen not in page.radios["slot"], "the choices are fresh"
    assert len(page.radios["slot"]) == 10
    assert count(Booking) == taken, "nothing half-written"

    retry = page.radios["slot"][0]
    sergeant.post("/bookings/new/slot", data={"slot": retry})
    assert sergeant.post("/bookings/new/check").status_code == 302
    assert count(Booking) == taken + 1


def test_details_that_went_stale_before_confirming_are_sent_back_to_the_details(sergeant, clock):
    # Tested 27 days 23 and a half hours ago: just inside the 28 days when recorded...
    record_test(sergeant, tested_on=["16", "12", "2026"], tested_time="21:30")
    choose_first_slot(sergeant)
    clock.set(clock() + dt.timedelta(hours=1))  # ...but not by the time it is confirmed.
    response = sergeant.post("/bookings/new/check")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    page = Page(html)
    assert page.error_links == [
        ("#tested_on-day", "The test must have been taken in the last 28 days")
    ]
    assert 'action="/bookings/new?change=1"' in html
    assert count(Booking) == 0


def test_a_slot_that_became_too_soon_is_refused_on_the_slot_page(sergeant, clock):
    record_test(sergeant)
    choose_first_slot(sergeant)  # Thursday 07:00
    clock.set_local(2027, 1, 14, 6, 30)
    response = sergeant.post("/bookings/new/check")
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert page.error_links == [("#slot", "Choose a slot at least 60 minutes from now")]
    assert page.radios["slot"][0] == "stechford|2027-01-14T07:30:00+00:00"
    assert count(Booking) == 0


def test_saturday_night_at_stechford_offers_sunday_morning_at_the_busy_blocks(sergeant, clock):
    clock.set_local(2027, 1, 16, 23, 0)  # Saturday night; Stechford has no weekend cover
    record_test(sergeant, tested_on=["16", "1", "2027"], tested_time="22:30")
    html = sergeant.get("/bookings/new/slot").get_data(as_text=True)
    assert "No worker on site at Stechford" in html
    assert "next on site there at 07:00 on Monday 18 January 2027" in html
    page = Page(html)
    offered = page.radios["slot"]
    # Nearest to Stechford first: Perry Barr, then Oldbury, then Coventry (not A to Z).
    assert offered[:3] == [
        "perry-barr|2027-01-17T07:00:00+00:00",
        "oldbury|2027-01-17T07:00:00+00:00",
        "coventry|2027-01-17T07:00:00+00:00",
    ]
    assert page.radio_labels("slot")[:3] == [
        "Sunday 17 January, 07:00 – Perry Barr",
        "Sunday 17 January, 07:00 – Oldbury",
        "Sunday 17 January, 07:00 – Coventry",
    ]
    assert {value.split("|")[0] for value in offered} <= {"perry-barr", "oldbury", "coventry"}
    assert not any(value.startswith("stechford|") for value in offered)

    stechford = Page(sergeant.get("/bookings/new/slot?block=stechford").get_data(as_text=True))
    assert stechford.radios["slot"][0] == "stechford|2027-01-18T07:00:00+00:00"
    assert stechford.radio_labels("slot")[0] == "Monday 18 January, 07:00 – Stechford"


def test_slots_starting_together_are_offered_nearest_the_arrest_block_first(sergeant, clock):
    clock.set_local(2027, 1, 16, 2, 0)  # Saturday, 2 a.m. at Stechford
    record_test(sergeant, tested_on=["16", "1", "2027"], tested_time="01:30")
    page = Page(sergeant.get("/bookings/new/slot").get_data(as_text=True))
    assert page.radio_labels("slot")[:3] == [
        "Saturday 16 January, 07:00 – Perry Barr",
        "Saturday 16 January, 07:00 – Oldbury",
        "Saturday 16 January, 07:00 – Coventry",
    ]
    record_test(
        sergeant, arrest_block="coventry", tested_on=["16", "1", "2027"], tested_time="01:30"
    )
    page = Page(sergeant.get("/bookings/new/slot").get_data(as_text=True))
    assert page.radios["slot"][0] == "coventry|2027-01-16T07:00:00+00:00"


def test_the_sergeant_chooses_the_day_to_show_slots_from(sergeant):
    record_test(sergeant)
    response = sergeant.get(
        "/bookings/new/slot", query_string={"day": ["18", "1", "2027"], "block": "stechford"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = Page(html)
    assert page.radios["slot"][0] == "stechford|2027-01-18T07:00:00+00:00"
    assert page.radio_labels("slot")[0] == "Monday 18 January, 07:00 – Stechford"
    assert "Showing slots from Monday 18 January 2027 at 1 of 6 blocks" in page.text
    assert page.values["day-day"] == "18"
    # Choosing one keeps the filter, and books the slot chosen.
    action = re.search(r'<form method="post" action="([^"]+)"', html)[1]
    assert "day=18" in action and "block=stechford" in action
    chosen = sergeant.post(action.replace("&amp;", "&"), data={"slot": page.radios["slot"][0]})
    assert chosen.headers["Location"] == "/bookings/new/check"


def test_a_day_chosen_across_the_spring_clock_change_starts_at_local_seven(sergeant, clock):
    clock.set_local(2027, 3, 26, 21, 0)  # Friday; the clocks go forward on Sunday 28 March
    fill_rota(dt.date(2027, 3, 26), 4)
    record_test(sergeant, tested_on=["26", "3", "2027"], tested_time="20:30")
    page = Page(
        sergeant.get(
            "/bookings/new/slot", query_string={"day": ["28", "3", "2027"], "block": "perry-barr"}
        ).get_data(as_text=True)
    )
    assert page.radios["slot"][0] == "perry-barr|2027-03-28T06:00:00+00:00"
    assert page.radio_labels("slot")[0] == "Sunday 28 March, 07:00 – Perry Barr"


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (["31", "2", "2027"], "The date to show slots from must be a real date, like 13 1 2027"),
        (["18", "", "2027"], "The date to show slots from must include a month"),
        (["12", "1", "2027"], "The date to show slots from must be today or later"),
        (
            ["11", "2", "2027"],
            "The date to show slots from must be 10 February 2027 or earlier: "
            "appointments are booked at most that far ahead",
        ),
    ],
)
def test_a_day_that_cannot_be_shown_is_an_error_in_the_summary(sergeant, day, message):
    record_test(sergeant)
    response = sergeant.get("/bookings/new/slot", query_string={"day": day})
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert page.error_links == [("#day-day", message)]
    assert page.title.startswith("Error: Choose an appointment")
    assert page.radios["slot"][0] == "stechford|2027-01-14T07:00:00+00:00", "the earliest instead"


# A person booked already -----------------------------------------------------------------------


def check_page_after_choosing(client, **changes):
    record_test(client, **changes)
    choose_first_slot(client)
    return client.get("/bookings/new/check")


def test_a_live_booking_with_the_same_custody_record_is_shown_before_confirming(
    sergeant, users, clock
):
    already = book_directly(
        users[Role.COORDINATOR],
        "oldbury",
        dt.datetime(2027, 1, 15, 9, 0, tzinfo=dt.UTC),
        clock(),
        custody_record="20/123456/27",
    )
    # Typed with other spacing and case, for another name: the same custody record.
    response = check_page_after_choosing(sergeant, custody_record=" 20/123456/27 ".upper())
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert "This person may already have an appointment" in page.text
    assert page.href(already.reference) == f"/bookings/{already.reference}"
    assert (
        f"{already.reference} at Oldbury, 09:00 on Friday 15 January 2027: booked for the same "
        "custody record number"
    ) in page.text
    assert "Book another appointment anyway" in page.text
    seen = [e for e in trail() if e.reference == already.reference and e.action == "viewed"]
    assert [e.detail for e in seen] == ["possible duplicate, on checking a booking"]
    assert seen[0].user_id == users[Role.SERGEANT].id


def test_confirming_despite_a_live_booking_needs_the_sergeant_to_say_so(sergeant, users, clock):
    book_directly(
        users[Role.COORDINATOR],
        "oldbury",
        dt.datetime(2027, 1, 15, 9, 0, tzinfo=dt.UTC),
        clock(),
        custody_record="20/123456/27",
    )
    check_page_after_choosing(sergeant)
    refused = sergeant.post("/bookings/new/check")
    assert refused.status_code == 400
    page = Page(refused.get_data(as_text=True))
    assert page.error_links == [
        (
            "#book_anyway",
            "Select that you want to book another appointment, or keep the one already booked",
        )
    ]
    assert count(Booking) == 1, "nothing more was booked"

    confirmed = sergeant.post("/bookings/new/check", data={"book_anyway": "y"})
    assert confirmed.status_code == 302
    assert count(Booking) == 2


def test_the_same_name_and_mobile_is_a_possible_duplicate_too(sergeant, users, clock):
    already = book_directly(
        users[Role.COORDINATOR],
        "coventry",
        dt.datetime(2027, 1, 15, 9, 0, tzinfo=dt.UTC),
        clock(),
        person_name="Jamie Testperson",
        mobile="07700 900123",
        sms_consent=True,
    )
    page = Page(
        check_page_after_choosing(sergeant, person_name="jamie testperson").get_data(as_text=True)
    )
    assert (
        f"{already.reference} at Coventry, 09:00 on Friday 15 January 2027: booked for the same "
        "name and mobile number"
    ) in page.text


def test_no_warning_for_cancelled_past_or_other_peoples_bookings(sergeant, users, clock):
    coordinator = users[Role.COORDINATOR]
    cancelled = book_directly(
        coordinator,
        "oldbury",
        dt.datetime(2027, 1, 15, 9, 0, tzinfo=dt.UTC),
        clock(),
        custody_record="20/123456/27",
    )
    bookings.cancel(cancelled, "Released without charge", by=coordinator, now=clock())
    # Same name, another mobile; same mobile, another name: another person.
    book_directly(
        coordinator,
        "oldbury",
        dt.datetime(2027, 1, 15, 9, 30, tzinfo=dt.UTC),
        clock(),
        person_name="Jamie Testperson",
        mobile="07700 900456",
        sms_consent=True,
    )
    book_directly(
        coordinator,
        "oldbury",
        dt.datetime(2027, 1, 15, 10, 0, tzinfo=dt.UTC),
        clock(),
        mobile="07700 900123",
        sms_consent=True,
    )
    past = book_directly(
        coordinator,
        "oldbury",
        dt.datetime(2027, 1, 14, 9, 0, tzinfo=dt.UTC),
        clock(),
        custody_record="20/123456/27",
    )
    db.session.commit()
    clock.set_local(2027, 1, 14, 10, 0)  # the last one is over
    response = check_page_after_choosing(
        sergeant, tested_on=["14", "1", "2027"], tested_time="09:30"
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "may already have" not in html
    assert past.reference not in html
    assert "Book another appointment anyway" not in html
    assert sergeant.post("/bookings/new/check").status_code == 302


# The appointment -------------------------------------------------------------------------------


def test_viewing_an_appointment_is_recorded_in_the_audit_trail(sergeant, users):
    reference = book_through_pages(sergeant)
    sergeant.get(f"/bookings/{reference}")
    sergeant.get(f"/bookings/{reference}/notice")
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.reference == reference).order_by(AuditEvent.id)
    ).all()
    assert actions == ["created", "viewed", "notice_printed"]
    users_recorded = set(
        db.session.scalars(select(AuditEvent.user_id).where(AuditEvent.reference == reference))
    )
    assert users_recorded == {users[Role.SERGEANT].id}


def test_the_cancel_page_records_that_it_showed_the_person(sergeant):
    reference = book_through_pages(sergeant)
    sergeant.get(f"/bookings/{reference}/cancel")
    details = db.session.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.reference == reference, AuditEvent.action == "viewed"
        )
    ).all()
    assert details == ["cancel page"]


def test_the_appointment_shows_why_a_text_was_not_sent(sergeant):
    record_test(sergeant, mobile="", sms_consent="no")
    choose_first_slot(sergeant)
    reference = sergeant.post("/bookings/new/check").headers["Location"].rsplit("/", 1)[1]
    html = sergeant.get(f"/bookings/{reference}").get_data(as_text=True)
    assert "Not sent" in html
    assert "No mobile number was given" in html


def test_a_failed_text_tells_the_sergeant_to_phone(sergeant):
    reference = book_through_pages(sergeant)
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    booking.messages[0].status = "failed"
    db.session.commit()
    html = sergeant.get(f"/bookings/{reference}").get_data(as_text=True)
    assert "Text not delivered: phone them" in html


def test_an_unknown_reference_is_not_found(sergeant):
    assert sergeant.get("/bookings/ABCD-EFGH").status_code == 404
    assert sergeant.get("/bookings/ABCD-EFGH/notice").status_code == 404


def test_rearranging_to_a_taken_slot_says_so_and_changes_nothing(sergeant, users, clock):
    reference = book_through_pages(sergeant)
    page = Page(sergeant.get(f"/bookings/{reference}/rearrange").get_data(as_text=True))
    target = next(v for v in page.radios["slot"] if v.startswith("coventry|"))
    block_code, starts = target.split("|")
    starts_at = dt.datetime.fromisoformat(starts)
    block = db.session.scalar(select(Block).where(Block.code == block_code))
    while find_slot(SlotRules(), clock(), block, starts_at) is not None:
        book_directly(users[Role.COORDINATOR], block_code, starts_at, clock())
    response = sergeant.post(f"/bookings/{reference}/rearrange", data={"slot": target})
    assert response.status_code == 409
    assert "That slot has just been taken. Choose another." in response.get_data(as_text=True)
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    db.session.refresh(booking)
    assert booking.notice_version == 1
    assert booking.block.code == "stechford"


def test_rearranging_to_the_same_time_and_place_is_refused(sergeant):
    reference = book_through_pages(sergeant)
    response = sergeant.post(
        f"/bookings/{reference}/rearrange", data={"slot": "stechford|2027-01-14T07:00:00+00:00"}
    )
    assert response.status_code == 400
    assert Page(response.get_data(as_text=True)).error_links == [
        ("#slot", "Choose a different slot")
    ]


def test_cancelling_needs_a_reason(sergeant):
    reference = book_through_pages(sergeant)
    response = sergeant.post(f"/bookings/{reference}/cancel", data={"reason": " "})
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert page.error_links == [
        ("#reason", "Enter why the appointment is cancelled (up to 500 characters)")
    ]
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert booking.status == "booked"


def test_a_cancelled_appointment_cannot_be_rearranged_or_cancelled_again(sergeant):
    reference = book_through_pages(sergeant)
    sergeant.post(f"/bookings/{reference}/cancel", data={"reason": "Charged and remanded"})
    for path in (f"/bookings/{reference}/rearrange", f"/bookings/{reference}/cancel"):
        response = sergeant.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/bookings/{reference}"


# The list and the search -----------------------------------------------------------------------


def test_the_list_shows_upcoming_live_appointments_in_time_order(sergeant, users, clock):
    now = clock()
    later = book_directly(
        users[Role.COORDINATOR], "oldbury", dt.datetime(2027, 1, 15, 9, 0, tzinfo=dt.UTC), now
    )
    sooner = book_directly(
        users[Role.COORDINATOR], "coventry", dt.datetime(2027, 1, 14, 8, 0, tzinfo=dt.UTC), now
    )
    gone = book_directly(
        users[Role.COORDINATOR], "bloxwich", dt.datetime(2027, 1, 14, 7, 0, tzinfo=dt.UTC), now
    )
    bookings.cancel(gone, "Released without charge", by=users[Role.COORDINATOR], now=now)
    db.session.commit()
    html = sergeant.get("/bookings?block=all").get_data(as_text=True)
    assert html.index(sooner.reference) < html.index(later.reference)
    assert gone.reference not in html
    assert "Thu 14 Jan, 08:00" in html


def listed(response) -> list[str]:
    """The references the appointments list shows, in order."""
    page = Page(response.get_data(as_text=True))
    if not page.captions:
        return []
    return [row[0] for row in page.table("Appointments")[1:]]


@pytest.fixture
def three_people(users, clock):
    """Appointments for three people: at Oldbury for someone arrested at Stechford, at
    Coventry for someone arrested at Coventry, and at Stechford on Friday."""
    coordinator, now = users[Role.COORDINATOR], clock()
    return {
        "jamie": book_directly(
            coordinator,
            "oldbury",
            dt.datetime(2027, 1, 14, 9, 0, tzinfo=dt.UTC),
            now,
            person_name="Jamie Testperson",
            custody_record="20/123456/27",
            arrest_block="stechford",
        ),
        "robin": book_directly(
            coordinator,
            "coventry",
            dt.datetime(2027, 1, 14, 10, 0, tzinfo=dt.UTC),
            now,
            person_name="Robin Example",
            custody_record="CV/55/27",
            arrest_block="coventry",
        ),
        "alex": book_directly(
            coordinator,
            "stechford",
            dt.datetime(2027, 1, 15, 9, 0, tzinfo=dt.UTC),
            now,
            person_name="Alex Jameson",
            custody_record="20/777777/27",
            arrest_block="oldbury",
        ),
    }


def test_the_list_starts_at_the_users_own_block_and_can_show_every_block(sergeant, three_people):
    jamie, robin, alex = (three_people[k].reference for k in ("jamie", "robin", "alex"))
    own = sergeant.get("/bookings")
    # Stechford's: an appointment there, and one of a person arrested there.
    assert listed(own) == [jamie, alex]
    page = Page(own.get_data(as_text=True))
    assert page.selected["block"] == "stechford"
    assert "At Stechford, or of people arrested there" in page.text
    assert page.cell("Appointments", jamie, "Arrested at") == "Arrested at: Stechford"
    assert listed(sergeant.get("/bookings?block=all")) == [jamie, robin, alex]
    assert listed(sergeant.get("/bookings?block=coventry")) == [robin]


def test_a_person_is_found_by_part_of_their_name_in_any_case(sergeant, three_people):
    response = sergeant.get("/bookings", query_string={"person": "JAM", "block": "all"})
    assert listed(response) == [three_people["jamie"].reference, three_people["alex"].reference]
    response = sergeant.get("/bookings", query_string={"person": " testperson ", "block": "all"})
    assert listed(response) == [three_people["jamie"].reference]


def test_a_person_is_found_by_their_custody_record_number_typed_loosely(sergeant, three_people):
    response = sergeant.get("/bookings", query_string={"person": "cv / 55/27", "block": "all"})
    assert listed(response) == [three_people["robin"].reference]
    # Part of a custody record number is not enough: it is a number, not a name.
    response = sergeant.get("/bookings", query_string={"person": "123456", "block": "all"})
    assert listed(response) == []
    assert "No appointments found." in response.get_data(as_text=True)


def test_a_name_search_treats_wildcards_as_letters(sergeant, three_people):
    response = sergeant.get("/bookings", query_string={"person": "%", "block": "all"})
    assert listed(response) == []


def test_a_day_shows_that_days_appointments_cancelled_ones_included(
    sergeant, users, three_people, clock
):
    robin = three_people["robin"]
    bookings.cancel(robin, "Released without charge", by=users[Role.COORDINATOR], now=clock())
    db.session.commit()
    response = sergeant.get("/bookings", query_string={"day": ["14", "1", "2027"], "block": "all"})
    assert listed(response) == [three_people["jamie"].reference, robin.reference]
    page = Page(response.get_data(as_text=True))
    assert "Appointments on Thursday 14 January 2027" in page.text
    assert page.cell("Appointments", robin.reference, "Status") == "Cancelled"


def test_a_day_is_a_london_day_across_the_autumn_clock_change(sergeant, users, clock):
    clock.set_local(2027, 10, 29, 12, 0)
    fill_rota(dt.date(2027, 10, 30), 2)
    coordinator = users[Role.COORDINATOR]
    # The clocks go back at 02:00 on Sunday 31 October: Saturday is still summer time.
    saturday_last = book_directly(
        coordinator, "perry-barr", dt.datetime(2027, 10, 30, 18, 30, tzinfo=dt.UTC), clock()
    )
    sunday_first = book_directly(
        coordinator, "perry-barr", dt.datetime(2027, 10, 31, 7, 0, tzinfo=dt.UTC), clock()
    )
    saturday = sergeant.get("/bookings", query_string={"day": ["30", "10", "2027"], "block": "all"})
    assert listed(saturday) == [saturday_last.reference]
    page = Page(saturday.get_data(as_text=True))
    assert page.cell("Appointments", saturday_last.reference, "When") == "When: Sat 30 Oct, 19:30"
    sunday = sergeant.get("/bookings", query_string={"day": ["31", "10", "2027"], "block": "all"})
    assert listed(sunday) == [sunday_first.reference]
    page = Page(sunday.get_data(as_text=True))
    assert page.cell("Appointments", sunday_first.reference, "When") == "When: Sun 31 Oct, 07:00"


@pytest.mark.parametrize(
    ("query", "link", "message"),
    [
        (
            {"day": ["30", "2", "2027"]},
            "#day-day",
            "The date of the appointments must be a real date, like 13 1 2027",
        ),
        ({"day": ["", "1", "2027"]}, "#day-day", "The date of the appointments must include a day"),
        ({"block": "atlantis"}, "#block", "Choose a block from the list"),
        (
            {"person": "x" * 101},
            "#person",
            "Enter a name or custody record number of up to 100 characters",
        ),
    ],
)
def test_a_search_that_cannot_be_run_is_an_error_in_the_summary(
    sergeant, three_people, query, link, message
):
    response = sergeant.get("/bookings", query_string=query)
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert page.error_links == [(link, message)]
    assert page.title.startswith("Error: Appointments")
    assert three_people["jamie"].reference not in page.text
    assert not [e for e in trail() if e.action == "viewed"], "nothing shown, nothing recorded"


def test_a_search_records_who_saw_each_appointment_it_listed(sergeant, users, three_people):
    sergeant.get("/bookings", query_string={"person": "jamie", "block": "all"})
    seen = [(e.reference, e.user_id, e.detail) for e in trail() if e.action == "viewed"]
    assert seen == [
        (
            three_people[k].reference,
            users[Role.SERGEANT].id,
            "appointments list, searched by person",
        )
        for k in ("jamie",)
    ]


def test_a_search_by_reference_finds_the_booking_however_it_is_typed(sergeant, users, clock):
    found = book_directly(
        users[Role.COORDINATOR], "oldbury", dt.datetime(2027, 1, 15, 9, 0, tzinfo=dt.UTC), clock()
    )
    typed = found.reference.replace("-", " ").lower()
    response = sergeant.get("/bookings", query_string={"reference": typed})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/bookings/{found.reference}"


def test_an_unknown_reference_is_an_error_in_the_summary(sergeant):
    response = sergeant.get("/bookings", query_string={"reference": "ZZZZ-ZZZZ"})
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert page.error_links == [("#reference", "No booking has that reference")]
    assert page.title.startswith("Error: Appointments")


# Who may see what ------------------------------------------------------------------------------


def test_analysts_cannot_see_booking_pages(client, users, rostered, login, clock):
    booked = book_directly(
        users[Role.SERGEANT], "oldbury", dt.datetime(2027, 1, 15, 9, 0, tzinfo=dt.UTC), clock()
    )
    login(Role.ANALYST)
    reference = booked.reference
    for path in BOOKING_PAGES + [
        f"/bookings/{reference}",
        f"/bookings/{reference}/notice",
        f"/bookings/{reference}/rearrange",
        f"/bookings/{reference}/cancel",
    ]:
        assert client.get(path).status_code == 403, path
    assert client.post("/bookings/new", data=details_form()).status_code == 403
    assert client.post(f"/bookings/{reference}/cancel", data={"reason": "x"}).status_code == 403
    assert client.get("/").status_code == 200
    assert len(trail()) == 1, "only the creation: no view was recorded"


def test_booking_pages_need_a_login(client, users):
    for path in BOOKING_PAGES:
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_the_home_page_offers_each_role_what_it_can_do(client, users, login):
    login(Role.SERGEANT)
    html = client.get("/").get_data(as_text=True)
    assert "Record a positive test and book" in html
    assert 'href="/bookings"' in html
    client.post("/logout")
    login(Role.ANALYST)
    html = client.get("/").get_data(as_text=True)
    assert "Record a positive test and book" not in html
    assert "aggregate figures only" in html


def test_the_home_page_says_when_the_next_worker_is_on_site_at_the_users_block(sergeant, clock):
    page = Page(sergeant.get("/").get_data(as_text=True))
    assert (
        "No worker on site at Stechford now: next cover at 07:00 on Thursday 14 January 2027."
        in page.text
    )
    clock.set_local(2027, 1, 14, 2, 0)
    page = Page(sergeant.get("/").get_data(as_text=True))
    assert "No worker on site at Stechford now: next cover at 07:00 today." in page.text


def test_the_home_page_says_until_when_a_worker_is_on_site(sergeant, clock):
    clock.set_local(2027, 1, 14, 10, 0)
    page = Page(sergeant.get("/").get_data(as_text=True))
    assert "A worker is on site at Stechford now until 20:00 today." in page.text
    assert "Take the person to them rather than book an appointment." in page.text


def test_cover_on_the_home_page_is_in_local_time_across_the_spring_clock_change(
    sergeant, users, blocks, clock
):
    users[Role.SERGEANT].block = blocks["perry-barr"]
    clock.set_local(2027, 3, 27, 21, 0)  # Saturday; the clocks go forward overnight
    fill_rota(dt.date(2027, 3, 27), 2)
    page = Page(sergeant.get("/").get_data(as_text=True))
    assert (
        "No worker on site at Perry Barr now: next cover at 07:00 on Sunday 28 March 2027."
        in page.text
    )
    clock.set_local(2027, 3, 28, 8, 0)
    page = Page(sergeant.get("/").get_data(as_text=True))
    assert "on site at Perry Barr now until 20:00 today." in page.text


def test_the_first_booking_page_shows_the_cover_before_anything_is_typed(sergeant, clock):
    clock.set_local(2027, 1, 14, 10, 0)
    page = Page(sergeant.get("/bookings/new").get_data(as_text=True))
    assert "A worker is on site at Stechford now until 20:00 today." in page.text
    clock.set_local(2027, 1, 14, 21, 0)
    page = Page(sergeant.get("/bookings/new").get_data(as_text=True))
    assert (
        "No worker on site at Stechford now: next cover at 07:00 on Friday 15 January 2027."
        in page.text
    )


def test_an_analyst_is_shown_no_cover(client, users, rostered, login):
    login(Role.ANALYST)
    assert "on site" not in client.get("/").get_data(as_text=True)


# The pages themselves --------------------------------------------------------------------------


def test_pages_have_unique_titles_no_inline_script_or_style_and_a_csrf_token(app, sergeant):
    reference = book_through_pages(sergeant)
    app.config["WTF_CSRF_ENABLED"] = True  # as outside tests: every form that posts has a token
    pages = {"/bookings/new": sergeant.get("/bookings/new").get_data(as_text=True)}
    # A draft with a chosen slot, so that the slot and check pages have something to show.
    app.config["WTF_CSRF_ENABLED"] = False
    record_test(sergeant)
    choose_first_slot(sergeant)
    app.config["WTF_CSRF_ENABLED"] = True
    for path in [
        "/",
        "/bookings/new/slot",
        "/bookings/new/check",
        "/bookings",
        f"/bookings/{reference}",
        f"/bookings/{reference}/notice",
        f"/bookings/{reference}/rearrange",
        f"/bookings/{reference}/cancel",
    ]:
        response = sergeant.get(path)
        assert response.status_code == 200, path
        pages[path] = response.get_data(as_text=True)
    titles = [Page(html).title for html in pages.values()]
    assert len(set(titles)) == len(titles), titles
    for path, html in pages.items():
        assert " style=" not in html, path
        for script in re.findall(r"<script[^>]*>", html):
            assert " src=" in script or " nonce=" in script, (path, script)
        for form in re.findall(r'<form method="post".*?</form>', html, re.S):
            assert 'name="csrf_token"' in form, path
    found = sergeant.get("/bookings", query_string={"reference": reference})
    assert found.status_code == 302, "the search by GET needs no token"
