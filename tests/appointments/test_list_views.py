"""Every list that shows people's names is a consultation of personal data: it is in the audit
trail, one "viewed" event per booking shown, naming where it was seen."""

from __future__ import annotations

import datetime as dt

import pytest

from booking.extensions import db
from booking.models import Role
from booking.rota import changes as rota_changes
from tests.support import ANOTHER_PERSON, book, local, signed_in, trail

FRIDAY_NINE = local(2027, 1, 15, 9)


@pytest.fixture
def two_bookings(rostered, users, clock):
    sergeant = users[Role.SERGEANT]
    first = book(sergeant, "oldbury", FRIDAY_NINE, clock())
    second = book(
        sergeant,
        "stechford",
        FRIDAY_NINE + dt.timedelta(hours=1),
        clock(),
        **{**ANOTHER_PERSON, "tested_at": clock() - dt.timedelta(hours=1)},
    )
    return first, second


def views() -> list[tuple[str, int, str]]:
    return [(e.reference, e.user_id, e.detail) for e in trail() if e.action == "viewed"]


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.WORKER, Role.COORDINATOR])
def test_the_appointments_list_records_who_saw_each_booking_on_it(
    client, users, two_bookings, role
):
    first, second = two_bookings
    page = signed_in(client, role).get("/bookings")

    assert page.status_code == 200
    assert first.person_name in page.get_data(as_text=True)
    assert views() == [
        (first.reference, users[role].id, "appointments list"),
        (second.reference, users[role].id, "appointments list"),
    ]


def test_the_needs_rearranging_list_records_who_saw_each_booking_on_it(
    client, users, two_bookings, clock
):
    first, _ = two_bookings
    rota_changes.record_absence(
        first.worker,
        "sickness",
        local(2027, 1, 15, 0),
        local(2027, 1, 16, 0),
        now=clock(),
        by=users[Role.COORDINATOR],
    )
    db.session.commit()
    waiting = rota_changes.needs_rearranging()
    page = signed_in(client, Role.SERGEANT).get("/rota/needs-rearranging")

    assert page.status_code == 200
    shown = [(ref, who, where) for ref, who, where in views() if where == "needs rearranging"]
    assert shown == [(b.reference, users[Role.SERGEANT].id, "needs rearranging") for b in waiting]
    assert shown, "the absence left a booking to rearrange"


def test_an_empty_list_records_nothing(client, users, rostered):
    signed_in(client, Role.SERGEANT).get("/bookings")
    assert views() == []


def test_the_check_for_a_persons_live_appointments_reads_its_indexes_not_every_booking(app):
    """Before each booking the check page looks for the same person's live appointments: by
    custody record number as compared and by mobile, through their indexes (a million
    bookings read one by one took about 100 ms a check)."""
    from booking.appointments import queries

    statement = queries.live_duplicates_query(
        dt.datetime(2027, 1, 14, tzinfo=dt.UTC), "20/123/27", "Alex Example", "+447700900123"
    )
    dialect = db.engine.dialect
    compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as connection:
        if dialect.name == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")  # as a big table would
            plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}"))
        else:
            plan = "\n".join(
                row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
            )
    assert "ix_bookings_custody_record_key" in plan, plan
    assert "ix_bookings_mobile" in plan, plan
