"""Calendar feeds at national scale: a worker's feed over a year of shifts, and a block's feed.

    python bench/calendar.py --db sqlite [--runs 100] [--http-runs 100] [--profile]

In process: what GET /calendar/<token>.ics does (find the owner by token, build the feed with
booking.calendars.worker_feed or block_feed), a fresh session each run. Over HTTP: the same
URLs against `gunicorn wsgi:app` (one sync worker) on 127.0.0.1. Reports p50 and p95.

The worker is one of a high-activity block's team, with a year of shifts behind them and the
56-day look-ahead in front; the block is a high-activity one (weekends too).

Each event a feed shows is written once per process and kept by its content
(booking.calendars), so a feed polled again costs its queries and little more. The series
"events not yet written" empties that store before each run: the cost of a feed's first build in
a process (or after everything in it has changed); it has no goal of its own.

Floor: the two SELECTs the feed needs (the shifts and the appointments in the feed's window,
as plain columns), timed alone. Goal: p95 <= 50 ms.

SQLite: --db sqlite reads /tmp/booking-bench/national.sqlite; another file with
--database-url sqlite:////tmp/bench-national.sqlite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (also takes bench/ out of sys.path: this file is not `calendar`)

common.fix_sys_path()

GOAL_MS = 50.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_options(parser)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--http-runs", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=60.0, help="per series")
    args = parser.parse_args()
    url = common.database_url(args.db, args.database_url)
    app = common.make_app(url)
    meta = common.require_data(app)

    from sqlalchemy import func, inspect, or_, select

    from booking.calendars import feeds as calendars
    from booking.extensions import db
    from booking.models import Block, Booking, Shift, Worker

    base_url = app.config["PUBLIC_BASE_URL"]
    notes = {"data": meta["counts"], "load_average_at_start": common.load_average()}
    measures = []
    with app.app_context():
        worker = db.session.get(Worker, meta["calendar_worker_id"])
        block = db.session.get(Block, meta["calendar_block_id"])
        worker_token, block_token = worker.calendar_token, block.calendar_token
        worker_id, block_id = worker.id, block.id
        notes["worker_shifts_in_db"] = db.session.scalar(
            select(func.count(Shift.id)).where(Shift.worker_id == worker_id)
        )
        db.session.remove()
        # Whether the data set has the index the worker feed's appointments query needs.
        notes["bookings_indexes"] = sorted(
            index["name"] for index in inspect(db.engine).get_indexes("bookings")
        )

        def feed_rows(condition_shift, condition_booking):
            now = dt.datetime.now(dt.UTC)
            shifts = db.session.execute(
                select(Shift.id, Shift.block_id, Shift.worker_id, Shift.starts_at, Shift.ends_at)
                .where(
                    condition_shift,
                    Shift.ends_at > now - calendars.FEED_PAST,
                    Shift.starts_at < now + calendars.FEED_AHEAD,
                )
                .order_by(Shift.starts_at)
            ).all()
            bookings = db.session.execute(
                select(Booking.id, Booking.reference, Booking.starts_at, Booking.status)
                .where(
                    condition_booking,
                    Booking.starts_at >= now - calendars.FEED_PAST,
                    Booking.starts_at < now + calendars.FEED_AHEAD,
                    or_(
                        Booking.status != "cancelled",
                        Booking.cancelled_at >= now - calendars.KEEP_CANCELLED,
                    ),
                )
                .order_by(Booking.starts_at)
            ).all()
            db.session.remove()
            return len(shifts), len(bookings)

        def worker_floor():
            return feed_rows(Shift.worker_id == worker_id, Booking.worker_id == worker_id)

        def block_floor():
            return feed_rows(Shift.block_id == block_id, Booking.block_id == block_id)

        def worker_feed():
            owner = calendars.worker_for_token(worker_token)
            body = calendars.worker_feed(owner, dt.datetime.now(dt.UTC), base_url).body
            db.session.remove()
            return body

        def block_feed():
            owner = calendars.block_for_token(block_token)
            body = calendars.block_feed(owner, dt.datetime.now(dt.UTC), base_url).body
            db.session.remove()
            return body

        def first_build(feed):
            def build():
                calendars.forget_written_events()
                return feed()

            return build

        notes["worker_feed_rows"] = dict(
            zip(("shifts", "appointments"), worker_floor(), strict=False)
        )
        notes["block_feed_rows"] = dict(
            zip(("shifts", "appointments"), block_floor(), strict=False)
        )
        notes["worker_feed_bytes"] = len(worker_feed())
        notes["block_feed_bytes"] = len(block_feed())

        series = {}
        for name, fn in (
            ("worker floor", worker_floor),
            ("block floor", block_floor),
        ):
            series[name] = common.summary_ms(
                common.timed_runs(fn, args.runs, max_seconds=args.max_seconds)
            )
        for name, fn in (
            ("worker feed", worker_feed),
            ("block feed", block_feed),
            ("worker feed cold", first_build(worker_feed)),
            ("block feed cold", first_build(block_feed)),
        ):
            with common.maybe_profile(args.profile, f"{args.db}-{name.replace(' ', '-')}"):
                series[name] = common.summary_ms(
                    common.timed_runs(fn, args.runs, max_seconds=args.max_seconds)
                )

    import requests

    with common.Gunicorn("wsgi:app", common.service_env(url), workers=1) as server:
        session = requests.Session()
        for name, token in (("worker feed HTTP", worker_token), ("block feed HTTP", block_token)):

            def fetch(token=token):
                response = session.get(f"{server.url}/calendar/{token}.ics", timeout=30)
                assert response.status_code == 200, response.status_code

            series[name] = common.summary_ms(
                common.timed_runs(fetch, args.http_runs, max_seconds=args.max_seconds)
            )

    wheres = {
        "feed": "in process",
        "feed HTTP": "over HTTP (gunicorn, 1 worker)",
        "feed cold": "in process, events not yet written",
    }
    for kind in ("worker", "block"):
        floor = series[f"{kind} floor"]
        for suffix, where in wheres.items():
            name = f"{kind} {suffix}"
            s = series[name]
            has_goal = suffix != "feed cold"
            measures.append(
                common.measure(
                    f"{kind} feed {where}, p95",
                    s["p95_ms"],
                    "ms",
                    goal=f"<= {GOAL_MS:g} ms"
                    if has_goal
                    else "(none set; first build in a process)",
                    floor=floor["p95_ms"],
                    floor_name="the feed's two SELECTs (plain columns), p95",
                    ratio=s["p95_ms"] / floor["p95_ms"],
                    met=s["p95_ms"] <= GOAL_MS if has_goal else None,
                    p50_ms=s["p50_ms"],
                    cpu_p50_ms=None if "HTTP" in name else s.get("cpu_p50_ms"),
                    n=s["n"],
                    floor_p50_ms=floor["p50_ms"],
                )
            )
    notes["series"] = series
    common.save_results("calendar", args.db, measures, notes)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"took {time.perf_counter() - started:.0f} s")
