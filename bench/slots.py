"""The earliest 10 free slots across all blocks in the 28-day window: in process and over HTTP.

    python bench/slots.py --db sqlite [--runs 200] [--http-runs 200] [--profile]

In process: booking.appointments.slots.free_slots inside an app context, a fresh session each
run (as each request has). Over HTTP: GET /api/v1/slots?limit=10 with a sergeant's token, against
`gunicorn wsgi:app` (one sync worker) on 127.0.0.1. Reports p50 and p95.

Floor: the least reading that answers the same question, with no work in Python: the custody
blocks, then the shifts overlapping the span the answer lies in (from the window's start to the
end of the tenth slot found) and the live bookings starting in it, as plain indexed SELECTs with
the same session and column types. (The earlier floor, every shift of the 28-day window, was
more work than the search, which stops once it has ten slots; it is still reported beside it.)
For HTTP also GET /healthz (one SELECT 1 through the whole stack).
Goal: p95 <= 20 ms in process at national scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

common.fix_sys_path()

GOAL_MS = 20.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.add_common_options(parser)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--http-runs", type=int, default=200)
    parser.add_argument(
        "--repeats", type=int, default=3, help="times each series is run (median and spread)"
    )
    parser.add_argument("--max-seconds", type=float, default=90.0, help="per series")
    args = parser.parse_args()
    url = common.database_url(args.db, args.database_url)
    app = common.make_app(url)
    meta = common.require_data(app)

    from sqlalchemy import select

    from booking import places
    from booking.appointments.slots import SlotRules, earliest_allowed, free_slots, latest_allowed
    from booking.extensions import db
    from booking.models import Block, Booking, BookingStatus, Shift

    rules = SlotRules.from_config(app.config)
    measures = []
    notes = {"data": meta["counts"], "load_average_at_start": common.load_average()}

    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        window_start = earliest_allowed(rules, now)
        window_end = latest_allowed(rules, now)
        block_ids = list(db.session.scalars(select(Block.id)))

        def shifts_select(end=window_end):
            rows = db.session.execute(
                select(Shift.block_id, Shift.worker_id, Shift.starts_at, Shift.ends_at)
                .where(
                    Shift.block_id.in_(block_ids),
                    Shift.starts_at < end + rules.length,
                    # The bound an index range needs: no shift is longer than a day.
                    Shift.starts_at > window_start - dt.timedelta(hours=25),
                    Shift.ends_at > window_start,
                )
                .order_by(Shift.starts_at, Shift.worker_id)
            ).all()
            db.session.remove()
            return rows

        def answer_reads(span_end):
            """The rows the answer is made of, and nothing else: the floor."""
            blocks = db.session.execute(
                select(Block.id, Block.code, Block.timezone).where(places.CUSTODY)
            ).all()
            shifts = db.session.execute(
                select(Shift.block_id, Shift.worker_id, Shift.starts_at, Shift.ends_at)
                .where(
                    Shift.block_id.in_([row.id for row in blocks]),
                    *Shift.overlapping(window_start, span_end),
                )
                .order_by(Shift.starts_at, Shift.worker_id)
            ).all()
            booked = db.session.execute(
                select(Booking.worker_id, Booking.starts_at).where(
                    Booking.status != BookingStatus.CANCELLED,
                    Booking.worker_id.is_not(None),
                    Booking.starts_at >= window_start,
                    Booking.starts_at < span_end,
                )
            ).all()
            db.session.remove()
            return blocks, shifts, booked

        def in_process():
            found = free_slots(rules, dt.datetime.now(dt.UTC), limit=10)
            db.session.remove()
            return found

        sample = in_process()
        notes["first_slot"] = sample[0].starts_at.isoformat() if sample else None
        notes["last_of_10"] = sample[-1].starts_at.isoformat() if sample else None
        notes["window_shifts"] = len(shifts_select())

        answer_end = sample[-1].ends_at
        notes["answer_span_minutes"] = (answer_end - window_start).total_seconds() // 60

        def series(fn):
            return lambda: common.timed_runs(fn, args.runs, max_seconds=args.max_seconds)

        floor_s = common.repeated(series(lambda: answer_reads(answer_end)), args.repeats)
        window_s = common.repeated(series(shifts_select), args.repeats)
        day_s = common.repeated(
            series(lambda: shifts_select(window_start + dt.timedelta(days=1))), args.repeats
        )
        with common.maybe_profile(args.profile, f"{args.db}-slots-in-process"):
            run_s = common.repeated(series(in_process), args.repeats)

    measures.append(
        common.measure(
            "free_slots in process, p95",
            run_s["p95_ms"],
            "ms",
            goal=f"<= {GOAL_MS:g} ms",
            floor=floor_s["p95_ms"],
            floor_name="the answer's reads alone (blocks, shifts and bookings of its span), p95",
            ratio=run_s["p95_ms"] / floor_s["p95_ms"],
            met=run_s["p95_ms"] <= GOAL_MS,
            p50_ms=run_s["p50_ms"],
            cpu_p50_ms=run_s.get("cpu_p50_ms"),
            cpu_p95_ms=run_s.get("cpu_p95_ms"),
            n=run_s["n"],
            runs=run_s["runs"],
            spread=run_s["spread_ms"],
            floor_spread=floor_s["spread_ms"],
            floor_p50_ms=floor_s["p50_ms"],
            one_day_select_p95_ms=day_s["p95_ms"],
            old_floor_window_select_p95_ms=window_s["p95_ms"],
        )
    )

    import requests

    token = common.api_token(app)
    env = common.service_env(url)
    with common.Gunicorn("wsgi:app", env, workers=1) as server:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}"}

        def over_http():
            response = session.get(
                f"{server.url}/api/v1/slots", params={"limit": 10}, headers=headers, timeout=30
            )
            assert response.status_code == 200, response.text[:300]
            assert len(response.json()) == 10, response.text[:300]

        def health():
            assert session.get(f"{server.url}/healthz", timeout=30).status_code == 200

        health_s = common.repeated(
            lambda: common.timed_runs(health, args.http_runs, max_seconds=args.max_seconds),
            args.repeats,
        )
        http_s = common.repeated(
            lambda: common.timed_runs(over_http, args.http_runs, max_seconds=args.max_seconds),
            args.repeats,
        )
    measures.append(
        common.measure(
            "GET /api/v1/slots?limit=10 (gunicorn, 1 worker), p95",
            http_s["p95_ms"],
            "ms",
            goal="(none set; in-process goal + HTTP)",
            floor=floor_s["p95_ms"],
            floor_name="the same reads, p95",
            ratio=http_s["p95_ms"] / floor_s["p95_ms"],
            p50_ms=http_s["p50_ms"],
            n=http_s["n"],
            runs=http_s["runs"],
            spread=http_s["spread_ms"],
            healthz_p50_ms=health_s["p50_ms"],
            healthz_p95_ms=health_s["p95_ms"],
        )
    )
    common.save_results("slots", args.db, measures, notes)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"took {time.perf_counter() - started:.0f} s")
