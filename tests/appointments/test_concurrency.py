"""No slot is ever double-booked: real concurrent requests racing through the app.

On PostgreSQL the requests really run in parallel, each in its own transaction; the unique
index on (worker, slot) decides who wins. On SQLite the same test runs with writes serialised.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from booking.extensions import db
from booking.models import Booking, BookingStatus, Shift
from tests.api_helpers import auth, booking_body

RACERS = 16


def race(app, token: str, bodies: list[dict], headers: dict | None = None) -> list[int]:
    """POST every body at once from its own thread; the status codes, in order."""
    # The test's own requests ran in the test's app context: end that transaction, or on
    # SQLite it would hold the write lock while the racers wait for it.
    db.session.commit()
    barrier = threading.Barrier(len(bodies))

    def attempt(body):
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/bookings", json=body, headers=auth(token) | (headers or {}))
        return response.status_code

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(attempt, bodies))


def first_slot(client, token, **params) -> dict:
    response = client.get("/api/v1/slots", query_string={"limit": 1, **params}, headers=auth(token))
    return response.get_json()[0]


def test_sixteen_sergeants_racing_for_a_one_worker_slot_book_it_once(app, client, tokens, rostered):
    slot = first_slot(client, tokens["sergeant"], block="bloxwich")
    bodies = [booking_body(slot, custody_record=f"20/{n:04d}/27") for n in range(RACERS)]
    codes = race(app, tokens["sergeant"], bodies)
    assert sorted(codes) == [201] + [409] * (RACERS - 1)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


def test_a_two_worker_slot_takes_exactly_two_under_a_race(
    app, client, tokens, rostered, team, clock
):
    slot = first_slot(client, tokens["sergeant"], block="coventry")
    # A second worker on site at Coventry for that morning.
    existing = db.session.scalars(
        select(Shift)
        .where(Shift.block.has(code="coventry"), Shift.ends_at > clock())
        .order_by(Shift.starts_at)
    ).first()
    busy = set(
        db.session.scalars(
            select(Shift.worker_id).where(
                Shift.starts_at < existing.ends_at, Shift.ends_at > existing.starts_at
            )
        )
    )
    spare = next(w for w in team if w.id not in busy)
    db.session.add(
        Shift(
            worker_id=spare.id,
            block_id=existing.block_id,
            starts_at=existing.starts_at,
            ends_at=existing.ends_at,
            generated=False,
        )
    )
    db.session.commit()
    slot = first_slot(client, tokens["sergeant"], block="coventry")
    assert slot["free"] == 2

    bodies = [booking_body(slot, custody_record=f"20/{n:04d}/27") for n in range(RACERS)]
    codes = race(app, tokens["sergeant"], bodies)
    assert sorted(codes) == [201, 201] + [409] * (RACERS - 2)
    db.session.expire_all()
    workers = db.session.scalars(select(Booking.worker_id)).all()
    assert len(workers) == len(set(workers)) == 2


def test_racing_retries_with_one_idempotency_key_book_once(app, client, tokens, rostered):
    slot = first_slot(client, tokens["sergeant"], block="perry-barr")
    body = booking_body(slot)
    codes = race(app, tokens["sergeant"], [body] * 8, headers={"Idempotency-Key": "retry-1"})
    assert codes == [201] * 8
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


def test_rearranging_into_a_slot_races_bookings_through_the_same_constraint(
    app, client, tokens, rostered
):
    token = tokens["sergeant"]
    slots = client.get(
        "/api/v1/slots", query_string={"block": "oldbury", "limit": 2}, headers=auth(token)
    ).get_json()
    target = slots[1]
    mover = client.post("/api/v1/bookings", json=booking_body(slots[0]), headers=auth(token))
    reference = mover.get_json()["reference"]
    db.session.commit()
    barrier = threading.Barrier(2)

    def move():
        c = app.test_client()
        barrier.wait()
        return c.post(
            f"/api/v1/bookings/{reference}/rearrange",
            json={"block": target["block"], "starts_at": target["starts_at"]},
            headers=auth(token),
        ).status_code

    def book():
        c = app.test_client()
        barrier.wait()
        return c.post(
            "/api/v1/bookings",
            json=booking_body(target, custody_record="20/5555/27"),
            headers=auth(token),
        ).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = sorted(f.result() for f in [pool.submit(move), pool.submit(book)])
    assert codes in ([200, 409], [201, 409])
    db.session.expire_all()
    target_start = dt.datetime.fromisoformat(target["starts_at"])
    holders = db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.status == BookingStatus.BOOKED, Booking.starts_at == target_start)
    )
    assert holders == 1
