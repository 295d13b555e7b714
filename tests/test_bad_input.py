"""Bad input gets a clear refusal and changes nothing: never a 500, never a broken feed, and
never a statement's parameters (names, mobiles, password hashes) in a log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from booking.appointments import bookings
from booking.appointments.bookings import BookingDetails
from booking.appointments.slots import SlotRules, free_slots
from booking.errors import InvalidField
from booking.extensions import db
from booking.models import Booking, Role, User
from tests import support


@pytest.fixture
def coordinator(client, users, login):
    login(Role.COORDINATOR)
    return client


def details(**changes) -> BookingDetails:
    return support.details(dt.datetime(2027, 1, 13, 21, 0, tzinfo=dt.UTC), **changes)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("person_name", "Jamie\nTestperson"),
        ("person_name", "Jamie\x1b[2JTestperson"),
        ("custody_record", "20/123456\r\n/27"),
        ("custody_record", "20/1234\t56/27"),
    ],
)
def test_a_control_character_in_a_booking_is_refused_and_books_nothing(
    app, rostered, users, clock, field, value
):
    slot = free_slots(SlotRules(), clock())[0]
    with pytest.raises(InvalidField) as refusal:
        bookings.book(
            details(**{field: value}),
            slot.block.code,
            slot.starts_at,
            by=users[Role.SERGEANT],
            now=clock(),
            rules=SlotRules(),
            allow_test_numbers=True,
        )
    assert field in refusal.value.errors
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_a_cancellation_reason_with_a_control_character_is_refused(app, rostered, users, clock):
    slot = free_slots(SlotRules(), clock())[0]
    sergeant = users[Role.SERGEANT]
    booking = bookings.book(
        details(),
        slot.block.code,
        slot.starts_at,
        by=sergeant,
        now=clock(),
        rules=SlotRules(),
        allow_test_numbers=True,
    )
    db.session.commit()
    with pytest.raises(InvalidField) as refusal:
        bookings.cancel(booking, "Released\x00 without charge", by=sergeant, now=clock())
    assert "reason" in refusal.value.errors


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Kim\nNewcombe", "Enter a name on one line, up to 100 characters"),
        ("K" * 142, "Enter a name on one line, up to 100 characters"),
    ],
)
def test_a_user_name_that_cannot_be_kept_is_a_form_error(coordinator, name, message):
    before = db.session.scalar(select(func.count()).select_from(User))
    response = coordinator.post(
        "/users",
        data={
            "email": "kim.newcombe@example.test",
            "name": name,
            "role": "worker",
            "block": "oldbury",
            "password": "a long first password",
        },
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == before


@pytest.mark.parametrize(
    "path",
    [
        "/users/99999999999999999999",
        "/users/2147483648",
        "/users/0",
        "/rota/shifts/99999999999999999999",
    ],
)
def test_an_id_no_row_could_have_is_not_found(coordinator, path):
    assert coordinator.get(path).status_code == 404


def test_a_database_error_carries_no_statement_parameters(app, users):
    """A refused statement's error, which a log would print, holds none of the values it
    carried: here a password hash."""
    from sqlalchemy.exc import IntegrityError

    from booking.models import Role as Roles

    taken = users[Role.SERGEANT]
    secret_hash = "scrypt:32768:8:1$a-password-hash-that-must-not-leak"
    db.session.add(
        User(
            email=taken.email,
            name="Someone Else",
            role=Roles.SERGEANT,
            password_hash=secret_hash,
            created_at=taken.created_at,
        )
    )
    with pytest.raises(IntegrityError) as refused:
        db.session.flush()
    db.session.rollback()
    assert secret_hash not in str(refused.value)
    assert "parameters hidden" in str(refused.value)


# Times at the ends of the calendar ------------------------------------------------------------

EXTREME_TIMES = [
    "0001-01-01T00:00:00+00:00",
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "9999-12-30T00:00:00+00:00",
    "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
]


@pytest.mark.parametrize("at", EXTREME_TIMES)
@pytest.mark.parametrize(
    ("path", "name", "also"),
    [
        ("/api/v1/blocks/stechford/cover", "at", {}),
        ("/api/v1/slots", "after", {}),
        ("/api/v1/slots", "tested_at", {"disputed": "true"}),
    ],
)
def test_a_time_at_the_ends_of_the_calendar_is_a_bad_parameter(
    client, rostered, tokens, path, name, also, at
):
    response = client.get(
        path, query_string={name: at, **also}, headers=support.auth(tokens[Role.SERGEANT])
    )
    assert response.status_code == 400
    assert response.get_json()["errors"] == {name: "Use an ISO 8601 time with a UTC offset"}


@pytest.mark.parametrize("at", EXTREME_TIMES)
@pytest.mark.parametrize("field", ["tested_at", "starts_at"])
def test_a_booking_at_the_ends_of_the_calendar_is_refused_and_books_nothing(
    client, rostered, tokens, field, at
):
    sergeant = support.auth(tokens[Role.SERGEANT])
    slot = client.get("/api/v1/slots", headers=sergeant).get_json()[0]
    response = client.post(
        "/api/v1/bookings", json=support.booking_body(slot, **{field: at}), headers=sergeant
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {field: "Use a time between the years 1900 and 2999"}
    assert support.count(Booking) == 0


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-30", "9999-12-31"])
@pytest.mark.parametrize("name", ["start", "end"])
def test_a_report_date_at_the_ends_of_the_calendar_is_a_bad_parameter(
    client, blocks, tokens, name, day
):
    dates = {"start": "2027-01-01", "end": "2027-01-31"} | {name: day}
    response = client.get(
        "/api/v1/reports/kpi", query_string=dates, headers=support.auth(tokens[Role.ANALYST])
    )
    assert response.status_code == 400
    assert name in response.get_json()["errors"]


@pytest.mark.parametrize(
    "value",
    [
        "nosuch|2027-01-14T07:00:00+00:00",
        "stechford|garbage",
        "stechford|0001-01-01T00:00:00+00:00",
        "|",
    ],
)
def test_a_slot_value_changed_in_the_browser_is_a_form_error(client, rostered, users, value):
    support.signed_in(client, Role.SERGEANT)
    assert support.record_test(client).status_code == 302

    response = client.post("/bookings/new/slot", data={"slot": value})

    assert response.status_code == 400
    assert "Choose a time for the appointment from the list" in response.get_data(as_text=True)
    assert client.get("/bookings/new/check").status_code == 302, "no slot was kept"
