"""32 concurrent clients booking over HTTP against gunicorn, and the same against the floor app.

    python bench/booking_load.py --db postgres [--clients 32] [--seconds 30] [--workers 4]

The service runs as `gunicorn wsgi:app` (--workers workers of --threads threads, gthread, as
gunicorn.conf.py runs it in service) on 127.0.0.1 with
DATABASE_URL, SECRET_KEY and SMS_ALLOW_TEST_NUMBERS=true. Each client (a thread with its own
connection and a sergeant's token) takes the next free slot from a shared list, earliest
first, so neighbouring clients race for the same slots as sergeants do, and POSTs
/api/v1/bookings, until --seconds have passed or --max-requests were sent.

Runs the service and then the floor, at least three times (--runs); reports the run with the
median ratio (its bookings per second, floor and ratio), the median p95 latency of the POSTs,
each with the spread (slowest to fastest run), and the number of double bookings after each
run, counted in SQL: (worker_id, starts_at) pairs holding two live bookings (must be 0).
The bookings made here are then deleted, so the data set can be used again.

Floor: bench/floor_app.py (Flask + SQLAlchemy, one row inserted per request) under the same
gunicorn settings, clients and time. Goals: bookings per second >= 0.5x the floor's rate, and
the POSTs' p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

common.fix_sys_path()

GOAL_RATIO = 0.5
GOAL_P95_MS = 50.0
MIN_RUNS = 3

# Also: no slot holds more live bookings than workers rostered on it.
OVER_CAPACITY = """
SELECT count(*) FROM bookings b
WHERE b.status <> 'cancelled' AND b.id > :first_id AND NOT EXISTS (
    SELECT 1 FROM shifts s
    WHERE s.worker_id = b.worker_id AND s.block_id = b.block_id
      AND s.starts_at <= b.starts_at AND s.ends_at >= b.ends_at
)
"""


def run_clients(
    url: str,
    path: str,
    bodies,
    tokens: list[str],
    clients: int,
    seconds: float,
    max_requests: int,
) -> dict:
    """`clients` threads POSTing bodies from the shared iterator until time or count runs out."""
    import requests

    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: list[str] = []
    sent = 0
    deadline = time.monotonic() + seconds
    start = threading.Barrier(clients + 1)

    def take():
        nonlocal sent
        with lock:
            if sent >= max_requests or time.monotonic() >= deadline:
                return None
            body = next(bodies, None)
            if body is not None:
                sent += 1
            return body

    def client(n: int) -> None:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}
        start.wait()
        while True:
            body = take()
            if body is None:
                return
            t0 = time.perf_counter()
            try:
                response = session.post(url + path, json=body, headers=headers, timeout=60)
                status = response.status_code
                if status >= 500 or status in (400, 401, 403, 422):
                    with lock:
                        if len(errors) < 5:
                            errors.append(f"{status}: {response.text[:300]}")
            except requests.RequestException as error:
                status = type(error).__name__
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join(timeout=seconds + 120)
    wall = time.perf_counter() - began
    created = statuses.get(201, 0)
    return {
        "wall_s": round(wall, 2),
        "requests": len(latencies),
        "created": created,
        "per_second": round(created / wall, 1) if wall else 0.0,
        "statuses": {str(k): v for k, v in statuses.items()},
        "latency": common.summary_ms(latencies) if latencies else {},
        "errors": errors,
    }


def remove_load_bookings(app, prefix: str = "LOAD/") -> None:
    """Leave the data set as it was: the bookings made by a load run (their custody record
    numbers start with `prefix`) go, with their rows.

    Children first, then the bookings, with the foreign-key checks off for this one
    transaction: the references to bookings from audit_events and bookings.follow_up_of_id
    have no index, so each deleted booking would otherwise cost a scan of millions of rows.
    """
    from sqlalchemy import text

    from booking.extensions import db

    if not re.fullmatch(r"[A-Z]+/", prefix):  # never a pattern that could match real records
        raise ValueError(f"not a load run's prefix: {prefix!r}")
    made = f"SELECT id FROM bookings WHERE custody_record LIKE '{prefix}%'"
    statements = [
        f"DELETE FROM {table} WHERE booking_id IN ({made})"
        for table in ("audit_events", "messages", "notices")
    ] + [f"DELETE FROM bookings WHERE custody_record LIKE '{prefix}%'"]
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for statement in statements:
                    conn.execute(text(statement))
        else:
            raw = db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("PRAGMA foreign_keys = OFF")
                cursor.execute("BEGIN IMMEDIATE")
                for statement in statements:
                    cursor.execute(statement)
                cursor.execute("COMMIT")
                cursor.execute("PRAGMA foreign_keys = ON")
            finally:
                raw.close()
        db.engine.dispose()


def warm_up(url: str, clients: int, seconds: float = 3.0) -> None:
    """Every gunicorn worker imports and connects before the clock starts."""
    import requests

    deadline = time.monotonic() + seconds

    def hit():
        session = requests.Session()
        while time.monotonic() < deadline:
            session.get(url + "/healthz", timeout=30)

    threads = [threading.Thread(target=hit) for _ in range(min(clients, 8))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_options(parser)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per worker (gthread, as in service)"
    )
    parser.add_argument("--runs", type=int, default=MIN_RUNS, help=f"at least {MIN_RUNS}")
    args = parser.parse_args()
    runs = max(args.runs, MIN_RUNS)
    url = common.database_url(args.db, args.database_url)
    app = common.make_app(url)
    meta = common.require_data(app)

    from sqlalchemy import delete, func, select, text

    from booking.accounts.users import issue_token
    from booking.appointments.slots import SlotRules, free_slots
    from booking.extensions import db
    from booking.models import ApiToken, Booking, User

    rules = SlotRules.from_config(app.config)
    notes = {"data": meta["counts"], "load_average_at_start": common.load_average()}
    setup_started = time.perf_counter()
    remove_load_bookings(app)  # any left by an interrupted run
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        # Free places, earliest first: each slot as many times as it has free workers (the
        # next week holds far more than a run can book).
        tickets = []
        week = now + dt.timedelta(days=7)
        for slot in free_slots(rules, now, before=week, limit=args.max_requests):
            tickets.extend([(slot.block.code, slot.starts_at)] * slot.free)
            if len(tickets) >= args.max_requests:
                break
        sergeants = db.session.scalars(
            select(User).where(User.role == "sergeant").order_by(User.id).limit(args.clients)
        ).all()
        tokens = [issue_token(user, now) for user in sergeants]
        db.session.commit()
        first_id = db.session.scalar(select(func.max(Booking.id))) or 0
        db.session.remove()
    notes["free_places_offered"] = len(tickets)
    print(
        f"{len(tickets)} free places to book, {args.clients} clients, {args.seconds:g} s"
        f" (set up in {time.perf_counter() - setup_started:.0f} s)",
        flush=True,
    )

    def booking_bodies():
        tested = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
        for n, (code, starts_at) in enumerate(tickets):
            yield {
                "block": code,
                "starts_at": starts_at.isoformat(),
                "custody_record": f"LOAD/{n:07d}",
                "person_name": f"Load Test {n}",
                "mobile": f"07700 900{n % 1000:03d}",
                "sms_consent": True,
                "requirement": "initial",
                "test_result": "cocaine",
                "tested_at": tested,
                "disputed": False,
                "arrest_block": code,
            }

    env = common.service_env(url)
    gunicorn_settings = {
        "workers": args.workers,
        "worker_class": "gthread" if args.threads > 1 else "sync",
        "threads": args.threads,
    }
    services, floors, doubled, over, made = [], [], 0, 0, 0
    for run in range(runs):
        with common.Gunicorn("wsgi:app", env, **gunicorn_settings) as server:
            warm_up(server.url, args.clients)
            service = run_clients(
                server.url,
                "/api/v1/bookings",
                booking_bodies(),
                tokens,
                args.clients,
                args.seconds,
                args.max_requests,
            )
        print(f"service, run {run + 1}:", service, flush=True)

        with app.app_context():
            doubled += db.session.scalar(text(common.DOUBLE_BOOKINGS))
            over += db.session.scalar(text(OVER_CAPACITY), {"first_id": first_id})
            made += db.session.scalar(select(func.count(Booking.id)).where(Booking.id > first_id))
            db.session.remove()
        remove_load_bookings(app)
        print(
            f"bookings made: {made}, double bookings: {doubled}, outside a shift: {over}",
            flush=True,
        )

        floor_env = common.service_env(url)
        with common.Gunicorn("bench.floor_app:app", floor_env, **gunicorn_settings) as server:
            warm_up(server.url, args.clients)
            floor = run_clients(
                server.url,
                "/insert",
                booking_bodies(),
                tokens,
                args.clients,
                args.seconds,
                args.max_requests,
            )
        print(f"floor, run {run + 1}:", floor, flush=True)
        with app.app_context():
            db.session.execute(text("DROP TABLE IF EXISTS bench_floor"))
            db.session.commit()
            db.session.remove()
        services.append(service)
        floors.append(floor)

    with app.app_context():
        db.session.execute(delete(ApiToken).where(ApiToken.created_at == now))
        db.session.commit()
        db.session.remove()

    # Each run's ratio is against the floor measured just after it: the run with the median
    # ratio is shown, with its own rate and floor, and the spread of all runs beside it.
    ratios = [
        s["per_second"] / f["per_second"] if f["per_second"] else 0.0
        for s, f in zip(services, floors, strict=True)
    ]
    middle = sorted(range(runs), key=lambda k: ratios[k])[runs // 2]
    ratio = ratios[middle]
    service_rate = services[middle]["per_second"]
    floor_rate = floors[middle]["per_second"]
    p95s = [s["latency"].get("p95_ms") for s in services]
    notes["services"] = services
    notes["floors"] = floors
    notes["gunicorn"] = gunicorn_settings | {"clients": args.clients, "seconds": args.seconds}
    measures = [
        common.measure(
            f"bookings/s, {args.clients} clients, gunicorn {args.workers} workers"
            f" x {args.threads} threads",
            service_rate,
            "bookings/s",
            goal=f">= {GOAL_RATIO}x floor",
            floor=floor_rate,
            floor_name="minimal Flask+SQLAlchemy one-row insert, rows/s, the same run",
            ratio=ratio,
            met=ratio >= GOAL_RATIO,
            runs=runs,
            spread=[min(s["per_second"] for s in services), max(s["per_second"] for s in services)],
            floor_spread=[
                min(f["per_second"] for f in floors),
                max(f["per_second"] for f in floors),
            ],
            ratio_spread=[round(min(ratios), 2), round(max(ratios), 2)],
            p95_ms=statistics.median(p95s),
            p95_spread_ms=[min(p95s), max(p95s)],
            p50_ms=statistics.median(s["latency"].get("p50_ms") for s in services),
            floor_p95_ms=statistics.median(f["latency"].get("p95_ms") for f in floors),
            requests=sum(s["requests"] for s in services),
            statuses=dict(sum((Counter(s["statuses"]) for s in services), Counter())),
        ),
        common.measure(
            "POST /api/v1/bookings p95, the same runs",
            statistics.median(p95s),
            "ms",
            goal=f"<= {GOAL_P95_MS:g} ms",
            floor=statistics.median(f["latency"].get("p95_ms") for f in floors),
            floor_name="the floor's p95, the same runs",
            ratio=statistics.median(p95s)
            / statistics.median(f["latency"].get("p95_ms") for f in floors),
            met=statistics.median(p95s) <= GOAL_P95_MS,
            runs=runs,
            spread=[min(p95s), max(p95s)],
        ),
        common.measure(
            "double bookings after the load",
            doubled,
            "pairs",
            goal="0",
            met=doubled == 0 and over == 0,
            bookings_made=made,
            bookings_outside_a_shift=over,
        ),
    ]
    common.save_results("booking_load", args.db, measures, notes)
    if doubled or over:
        sys.exit("DOUBLE BOOKINGS FOUND")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"took {time.perf_counter() - started:.0f} s")
