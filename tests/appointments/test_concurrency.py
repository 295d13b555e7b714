"""No slot is ever double-booked: real concurrent requests racing through the app, and a rival
booking that takes a worker between a claim's reading and its writing.

On PostgreSQL the requests really run in parallel, each in its own transaction; the unique
index on (worker, slot) decides who wins. On SQLite the same test runs with writes serialised.
The second half makes the race's losing side happen every time, for each write path that claims
a worker (booking, rearranging, the rota's hand-over): the loser must fall back to the next
worker, or be refused when there is none.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, insert, select

from booking.appointments import bookings, claims
from booking.appointments.slots import SlotRules
from booking.clock import LONDON
from booking.errors import SlotTaken
from booking.extensions import db
from booking.models import Block, Booking, BookingStatus, Role, Shift, Worker
from booking.rota.changes import needs_rearranging, record_absence
from tests import support
from tests.api_helpers import auth, booking_body
from tests.support import fill_rota

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


# A rival takes the worker first


RULES = SlotRules()
THURSDAY = dt.date(2027, 1, 14)


def thursday(hour: int) -> dt.datetime:
    return dt.datetime.combine(THURSDAY, dt.time(hour), tzinfo=LONDON).astimezone(dt.UTC)


@pytest.fixture
def thursday_rota(team, users, blocks) -> Worker:
    """The generated rota for Thursday 14 January 2027; Stechford's one worker that day."""
    fill_rota(THURSDAY, 1)
    (shift,) = db.session.scalars(
        select(Shift).where(Shift.block_id == blocks["stechford"].id, Shift.ends_at > thursday(0))
    ).all()
    return shift.worker


def add_cover(block: Block, workers: int, clock) -> list[Worker]:
    """More workers on site at the block all Thursday, taken from those with no shift that day."""
    busy = select(Shift.worker_id).where(
        Shift.ends_at > thursday(0), Shift.starts_at < thursday(23)
    )
    spare = db.session.scalars(
        select(Worker).where(Worker.id.not_in(busy)).order_by(Worker.id).limit(workers)
    ).all()
    for worker in spare:
        db.session.add(
            Shift(
                worker=worker,
                block=block,
                starts_at=thursday(7),
                ends_at=thursday(20),
                generated=False,
                updated_at=clock(),
            )
        )
    db.session.commit()
    return list(spare)


def sergeant_books(users, clock, starts_at: dt.datetime) -> Booking:
    """Jamie Testperson booked at Stechford through the one write path; the caller commits."""
    return support.book(users[Role.SERGEANT], "stechford", starts_at, clock(), commit=False)


def rival_books(worker_id: int, block: Block, starts_at: dt.datetime, now: dt.datetime) -> None:
    """Another sergeant's booking of this worker for this slot, in the database first."""
    row = dict(
        reference="RIVA-LBKG",
        status=BookingStatus.BOOKED,
        block_id=block.id,
        worker_id=worker_id,
        starts_at=starts_at,
        ends_at=starts_at + RULES.length,
        person_name="Rival Testperson",
        requirement="initial",
        test_result="cocaine",
        tested_at=now,
        arrest_block_id=block.id,
        created_at=now,
        updated_at=now,
    )
    if db.engine.dialect.name == "postgresql":
        # Its own transaction, committed while the claiming one is open: the race as it
        # happens in service.
        with db.engine.begin() as other:
            other.execute(insert(Booking), row)
    else:
        # SQLite gives a transaction the write lock at BEGIN, so no rival can commit inside the
        # claiming one; the rival's row goes in just ahead of the claim, where the unique index
        # meets it the same way.
        db.session.execute(insert(Booking), row)


def a_rival_takes_the_first_worker(monkeypatch, clock) -> list[list[int]]:
    """From now on each claim finds the first worker it tries already booked by a rival.

    Returns the workers each claim was offered, in the order it tries them.
    """
    offered = []
    real_claim = claims.claim

    def claim_after_a_rival(booking, candidates, *, block, starts_at, ends_at):
        offered.append(list(candidates))
        if candidates:
            rival_books(candidates[0], block, starts_at, clock())
        return real_claim(booking, candidates, block=block, starts_at=starts_at, ends_at=ends_at)

    monkeypatch.setattr(claims, "claim", claim_after_a_rival)
    return offered


def live_holders(starts_at: dt.datetime) -> set[tuple[str | None, int | None]]:
    """Who holds a live booking for the slot, and with which worker, as the database has it."""
    db.session.expire_all()
    rows = db.session.execute(
        select(Booking.person_name, Booking.worker_id).where(
            Booking.starts_at == starts_at, Booking.status == BookingStatus.BOOKED
        )
    )
    return {tuple(row) for row in rows}


def test_a_booking_that_loses_its_worker_to_a_rival_is_made_with_the_other_worker_on_site(
    thursday_rota, blocks, users, clock, monkeypatch
):
    on_site = {thursday_rota.id} | {w.id for w in add_cover(blocks["stechford"], 1, clock)}
    offered = a_rival_takes_the_first_worker(monkeypatch, clock)

    booking = sergeant_books(users, clock, thursday(10))
    db.session.commit()

    ((lost, won),) = offered
    assert {lost, won} == on_site
    assert booking.worker_id == won
    assert [n.version for n in booking.notices] == [1]
    assert live_holders(thursday(10)) == {("Jamie Testperson", won), ("Rival Testperson", lost)}


def test_a_booking_whose_only_worker_a_rival_took_is_refused_as_taken(
    thursday_rota, blocks, users, clock, monkeypatch
):
    offered = a_rival_takes_the_first_worker(monkeypatch, clock)

    with pytest.raises(SlotTaken) as taken:
        sergeant_books(users, clock, thursday(10))

    assert offered == [[thursday_rota.id]]
    alternatives = [(slot.block.code, slot.starts_at) for slot in taken.value.alternatives]
    assert alternatives
    assert ("stechford", thursday(10)) not in alternatives
    db.session.rollback()
    assert ("Jamie Testperson", thursday_rota.id) not in live_holders(thursday(10))


def test_a_rearrangement_that_loses_its_worker_to_a_rival_moves_to_the_other_worker_on_site(
    thursday_rota, blocks, users, clock, monkeypatch
):
    booking = sergeant_books(users, clock, thursday(9))
    db.session.commit()
    on_site = {thursday_rota.id} | {w.id for w in add_cover(blocks["stechford"], 1, clock)}
    offered = a_rival_takes_the_first_worker(monkeypatch, clock)

    bookings.rearrange(
        booking, "stechford", thursday(10), by=users[Role.SERGEANT], now=clock(), rules=RULES
    )
    db.session.commit()

    ((lost, won),) = offered
    assert {lost, won} == on_site
    assert (booking.starts_at, booking.worker_id, booking.notice_version) == (thursday(10), won, 2)
    assert live_holders(thursday(9)) == set()
    assert live_holders(thursday(10)) == {("Jamie Testperson", won), ("Rival Testperson", lost)}


def test_a_rearrangement_whose_only_worker_a_rival_took_is_refused_and_changes_nothing(
    thursday_rota, blocks, users, clock, monkeypatch
):
    booking = sergeant_books(users, clock, thursday(9))
    db.session.commit()
    offered = a_rival_takes_the_first_worker(monkeypatch, clock)

    with pytest.raises(SlotTaken):
        bookings.rearrange(
            booking, "stechford", thursday(10), by=users[Role.SERGEANT], now=clock(), rules=RULES
        )
    db.session.rollback()

    assert offered == [[thursday_rota.id]]
    assert (booking.starts_at, booking.worker_id, booking.notice_version) == (
        thursday(9),
        thursday_rota.id,
        1,
    )
    assert live_holders(thursday(9)) == {("Jamie Testperson", thursday_rota.id)}


def test_a_hand_over_that_loses_a_worker_to_a_rival_goes_to_the_next_worker_on_site(
    thursday_rota, blocks, users, clock, monkeypatch
):
    sick = thursday_rota
    booking = sergeant_books(users, clock, thursday(9))
    db.session.commit()
    cover = sorted(w.id for w in add_cover(blocks["stechford"], 2, clock))
    offered = a_rival_takes_the_first_worker(monkeypatch, clock)

    _, result = record_absence(
        sick, "sickness", thursday(0), thursday(23), now=clock(), by=users[Role.COORDINATOR]
    )
    db.session.commit()

    # The hand-over tries the free workers on site in order; the rival took the first.
    assert offered == [cover]
    assert result.reassigned == [booking]
    assert booking.worker_id == cover[1]
    assert live_holders(thursday(9)) == {
        ("Jamie Testperson", cover[1]),
        ("Rival Testperson", cover[0]),
    }


def test_a_hand_over_whose_only_free_worker_a_rival_took_leaves_the_booking_to_rearrange(
    thursday_rota, blocks, users, clock, monkeypatch
):
    sick = thursday_rota
    booking = sergeant_books(users, clock, thursday(9))
    db.session.commit()
    (cover,) = add_cover(blocks["stechford"], 1, clock)
    offered = a_rival_takes_the_first_worker(monkeypatch, clock)

    _, result = record_absence(
        sick, "sickness", thursday(0), thursday(23), now=clock(), by=users[Role.COORDINATOR]
    )
    db.session.commit()

    assert offered == [[cover.id]]
    assert result.reassigned == []
    assert result.needs_rearranging == [booking]
    assert booking.worker_id is None
    assert needs_rearranging() == [booking]
